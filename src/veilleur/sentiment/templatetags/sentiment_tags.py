"""Template helpers of the sentiment badge: its tooltip, language names and role checks."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from veilleur.accounts.models import Role
from veilleur.monitoring.filters import language_label
from veilleur.monitoring.models import Mention, Sentiment

register = template.Library()

HUMAN = "human"


@register.filter
def sentiment_title(mention: Mention) -> str:
    """The badge's tooltip: each label's probability, and who decided (plain text)."""
    scores: Any = mention.sentiment_scores or {}
    parts = []
    if isinstance(scores, dict):
        for value, label in Sentiment.choices:
            score = scores.get(value)
            if isinstance(score, int | float):
                parts.append(_("%(label)s %(percent)d %%") % {
                    "label": label, "percent": round(100 * score),
                })
    if mention.sentiment_model == HUMAN:
        decided = _("Corrected by a member of the workspace.")
    elif mention.sentiment_model:
        decided = _("Scored by %(model)s.") % {"model": mention.sentiment_model}
    else:
        decided = ""
    return " · ".join(parts) + (" — " if parts and decided else "") + decided


@register.filter
def is_corrected(mention: Mention) -> bool:
    """True when a person set this mention's sentiment."""
    return mention.sentiment_model == HUMAN


@register.filter
def language_name(code: str) -> str:
    """A language code's name in the interface language ("Other" for ``other``)."""
    return language_label(code) if code else ""


@register.filter
def role_at_least(role: Role | str | None, minimum: str) -> bool:
    """``{% if role|role_at_least:"responder" %}``: the page's role is high enough."""
    if not role:
        return False
    return Role(role).at_least(Role(minimum))


@register.filter
def percent(value: float | None) -> str:
    """0.8123 -> "81.2 %" in the interface language's number format; None -> "—"."""
    if value is None:
        return "—"
    # Rounded here: number_format cuts extra decimals off (94.87 would read 94.8).
    return f"{number_format(round(100 * value, 1), 1)}\u00a0%"
