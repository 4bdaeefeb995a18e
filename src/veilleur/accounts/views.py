"""Login, logout, and the header's workspace and language switchers."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from veilleur.accounts.forms import LanguageForm, WorkspaceSwitchForm
from veilleur.accounts.middleware import SESSION_KEY
from veilleur.accounts.models import Workspace

# Django keeps the language cookie for the browser session by default; a choice
# made on purpose should outlive closing the browser.
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


class LoginView(auth_views.LoginView):
    """Django's login view with our template; a logged-in visitor goes straight in."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, as in Django 5), then back to the login page."""


def safe_next(request: HttpRequest, target: str, keep_query: bool = True) -> str:
    """``target`` when it is a path on this site, else the mentions page."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        if keep_query:
            return target
        return urlsplit(target).path or resolve_url("mentions")
    return resolve_url("mentions")


@login_required
@require_POST
def switch_workspace(request: HttpRequest) -> HttpResponse:
    """Work in another of the user's workspaces; an outsider's request is refused (403)."""
    form = WorkspaceSwitchForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown workspace."))
    workspace = Workspace.objects.filter(
        pk=form.cleaned_data["workspace"], members__user=request.user.pk
    ).first()
    if workspace is None:
        raise PermissionDenied
    request.session[SESSION_KEY] = workspace.pk
    # Filters in the old URL name ids of the old workspace: keep the page, drop them.
    return redirect(safe_next(request, form.cleaned_data["next"], keep_query=False))


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Save the interface language on the user (when logged in) and in the cookie."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown language."))
    code = form.cleaned_data["language"]
    user = request.user
    if user.is_authenticated and getattr(user, "language", None) != code:
        user.language = code  # type: ignore[union-attr]
        user.save(update_fields=["language"])  # type: ignore[union-attr]
    response = redirect(safe_next(request, form.cleaned_data["next"]))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE or LANGUAGE_COOKIE_SECONDS,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
