from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Process commands (run, web, worker, scheduler, demo, config) and base templates."""

    name = "veilleur.core"
    label = "core"
