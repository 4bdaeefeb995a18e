from django.apps import AppConfig


class CrisisConfig(AppConfig):
    """Crisis detection: detectors over a watch's series (incidents and alerts to come)."""

    name = "veilleur.crisis"
    label = "crisis"
    # Not shown anywhere yet (no admin); make it translatable with the first page.
    verbose_name = "Crisis"
