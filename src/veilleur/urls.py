"""Top-level URL map: the REST API, language switching and the apps' pages."""

from django.urls import include, path

from veilleur.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("veilleur.accounts.urls")),
    path("", include("veilleur.monitoring.urls")),
    path("", include("veilleur.sentiment.urls")),
    path("incidents/", include("veilleur.crisis.urls")),
    path("alerts/", include("veilleur.crisis.alert_urls")),
    path("hooks/", include("veilleur.hooks.urls")),
]
