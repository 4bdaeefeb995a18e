from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Users, workspaces, memberships with roles, API tokens."""

    name = "veilleur.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
