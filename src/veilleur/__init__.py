"""Veilleur: self-hosted reputation monitoring and crisis response."""

__version__ = "0.1.0"
