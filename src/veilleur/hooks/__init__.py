"""Inbound webhooks: JSON pushed to Veilleur, kept until the webhook connector reads it."""
