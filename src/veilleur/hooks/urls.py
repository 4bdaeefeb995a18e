"""The inbound webhook endpoint, under /hooks/ (see veilleur.urls)."""

from django.urls import re_path

from veilleur.hooks import views

app_name = "hooks"

urlpatterns = [
    # No trailing slash needed (a POST cannot follow APPEND_SLASH's redirect); one is
    # tolerated.
    re_path(r"^(?P<source_id>[0-9]{1,18})/(?P<token>[A-Za-z0-9_-]{1,128})/?$",
            views.receive, name="delivery"),
]
