from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    """Watches, sources, authors, mentions and the ingestion pipeline."""

    name = "veilleur.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring")
