"""``veilleur createuser``: create a user and, optionally, give them a workspace role."""

from __future__ import annotations

import getpass
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from veilleur.accounts.models import Role, User, Workspace
from veilleur.accounts.services import add_member, create_workspace


class Command(BaseCommand):
    help = "Create a user; with --workspace, add them to it (created if missing) with --role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password",
            help="the password (default: prompt, or generate and print with --generate-password)",
        )
        parser.add_argument("--generate-password", action="store_true")
        parser.add_argument(
            "--workspace", help="workspace slug or name to join (created if missing)"
        )
        parser.add_argument("--role", choices=[r.value for r in Role], default=Role.OWNER.value)
        parser.add_argument("--language", choices=["en", "fr"], default="")
        parser.add_argument("--superuser", action="store_true", help="also a Django superuser")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} already exists")
        password = options["password"]
        generated = False
        if not password:
            if options["generate_password"]:
                password, generated = secrets.token_urlsafe(12), True
            else:
                password = getpass.getpass("Password: ")
                if password != getpass.getpass("Password (again): "):
                    raise CommandError("the passwords differ")
        user = User(username=username, email=options["email"], language=options["language"])
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(problems) from None
        with transaction.atomic():
            user.set_password(password)
            user.is_staff = user.is_superuser = options["superuser"]
            user.save()
            if options["workspace"]:
                name = options["workspace"]
                workspace = (
                    Workspace.objects.filter(slug=name).first()
                    or Workspace.objects.filter(name=name).first()
                    or create_workspace(name)
                )
                add_member(workspace, user, options["role"])
                self.stdout.write(
                    f"{username} is {options['role']} of {workspace.name} ({workspace.slug})"
                )
        self.stdout.write(self.style.SUCCESS(f"created user {username}"))
        if generated:
            self.stdout.write(f"password: {password}")
