"""WSGI entry point for ``veilleur web`` and external servers (gunicorn, uwsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veilleur.settings")
application = get_wsgi_application()
