from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SentimentConfig(AppConfig):
    """Enrichment (language, sentiment, embedding), corrections and workspace heads."""

    name = "veilleur.sentiment"
    label = "sentiment"
    verbose_name = _("Sentiment")
