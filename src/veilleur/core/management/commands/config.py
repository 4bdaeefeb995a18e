"""``veilleur config``: print the effective configuration, secrets masked."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from veilleur.config import PREFIX, SETTINGS


class Command(BaseCommand):
    help = "Print the effective configuration (secrets masked) and where each value came from."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args: Any, **options: Any) -> None:
        config = settings.CONFIG
        values = config.masked()
        rows = []
        for setting in SETTINGS:
            key = setting.name.lower()
            rows.append((PREFIX + setting.name, values[key], config.sources.get(setting.name, "")))
        if options["json"]:
            import json

            self.stdout.write(json.dumps({name: value for name, value, _ in rows}, indent=2))
            return
        width = max(len(name) for name, _, _ in rows)
        for name, value, origin in rows:
            self.stdout.write(f"{name:<{width}}  {value}  ({origin})")
