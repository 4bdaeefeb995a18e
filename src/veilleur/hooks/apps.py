from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HooksConfig(AppConfig):
    """Inbound webhooks: the signed endpoint and the deliveries it accepted.

    Named ``hooks`` rather than ``inbox``: DESIGN.md keeps ``inbox`` for the response
    inbox (triage, assignment, SLA clocks) of the roadmap's second step.
    """

    name = "veilleur.hooks"
    label = "hooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"
