"""The ``veilleur`` console script.

Every sub-command is a Django management command (``veilleur migrate``,
``veilleur demo``...), so there is one way to add a command and ``veilleur help``
lists them all. Configuration errors are reported here, before Django starts,
as one line naming the variable.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else ["veilleur", *argv])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veilleur.settings")
    from veilleur.config import ConfigError, load_config, load_dotenv_file

    if args[1:2] == ["demo"]:
        # The demo runs on a throw-away data directory: point the configuration at it
        # before anything reads it (or writes a secret key where the user stands).
        from veilleur.core.demo_env import prepare_demo_environment

        prepare_demo_environment(args)
    load_dotenv_file()
    try:
        load_config()
    except ConfigError as exc:
        sys.stderr.write(f"veilleur: configuration error: {exc}\n")
        raise SystemExit(2) from None
    from django.core.management import execute_from_command_line

    if len(args) == 1:
        args.append("help")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
