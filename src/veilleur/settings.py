"""Django settings, derived entirely from :mod:`veilleur.config`.

Do not add literal deployment values here: add a variable to ``config.SETTINGS``
so it is validated, printed by ``veilleur config`` and documented.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from veilleur.config import load_config, load_dotenv_file

load_dotenv_file()
CONFIG = load_config()

BASE_DIR = CONFIG.data_dir
SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins
# Links in alerts are absolute only when the public address is known.
BASE_URL = CONFIG.base_url

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # The API docs page and its bundled Swagger assets (otherwise ninja loads them from a CDN).
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "veilleur.core",
    "veilleur.accounts",
    "veilleur.monitoring",
    "veilleur.search",
    "veilleur.sentiment",
    "veilleur.crisis",
    "veilleur.hooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "veilleur.accounts.middleware.UserLanguageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "veilleur.accounts.middleware.CurrentWorkspaceMiddleware",
]

ROOT_URLCONF = "veilleur.urls"
WSGI_APPLICATION = "veilleur.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "mentions"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "veilleur.accounts.context_processors.workspace",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web server read while the scheduler writes; IMMEDIATE transactions
    # take the write lock up front so two writers queue instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS: dict[str, dict[str, object]]
if CONFIG.task_backend == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif CONFIG.task_backend == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": CONFIG.redis_url}}

# Sentiment of new mentions: the shipped model head or the faster lexicon head.
SENTIMENT_MODE = CONFIG.sentiment_mode

LANGUAGE_CODE = CONFIG.language
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [Path(__file__).parent / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = CONFIG.time_zone

STATIC_URL = "static/"
STATIC_ROOT = CONFIG.data_dir / "static"
# Whitenoise warns on every request when STATIC_ROOT is missing, even though it serves
# from the apps (finders) in this set-up; `collectstatic` fills it for external servers.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the installed apps: no collectstatic step for the embedded mode.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Apprise logs recipients' addresses and, for an unreadable URL, the URL with its
        # token; its errors are captured (scrubbed) on each delivery row instead.
        "apprise": {"level": "CRITICAL"},
        # httpx logs every request's full URL at INFO, query string included, where
        # some APIs (YouTube, GDELT...) take their key. Connectors report failures
        # themselves, without query strings (veilleur.connectors.http).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
