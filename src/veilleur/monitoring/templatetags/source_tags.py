"""``{% sources_needing_attention as attention %}``: the dashboard's banner data.

One query: the current workspace's sources that are not healthy (degraded, failing
or disabled), worst first. The mentions page shows them as a banner linking to the
sources' pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.db.models import Case, IntegerField, Value, When

from veilleur.monitoring.models import Health, Source

register = template.Library()

SHOWN = 5


@dataclass(frozen=True)
class Attention:
    sources: list[dict[str, Any]]  # pk, name, health (the first SHOWN)
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.sources)


@register.simple_tag(takes_context=True)
def sources_needing_attention(context: template.Context) -> Attention | None:
    request = context.get("request")
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return None
    severity = Case(
        When(health=Health.FAILING, then=Value(0)),
        When(health=Health.DISABLED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    found = (
        Source.objects.for_workspace(workspace)
        .exclude(health=Health.OK)
        .annotate(severity=severity)
        .order_by("severity", "name")
        .values_list("pk", "name", "health")
    )
    labels = dict(Health.choices)
    rows = [{"pk": pk, "name": name, "health": health, "label": labels.get(health, health)}
            for pk, name, health in found]
    if not rows:
        return None
    return Attention(rows[:SHOWN], len(rows))


@register.filter
def kind_label(kind: str) -> str:
    """The connector's name for a kind, in the active language (the kind itself if unknown)."""
    from veilleur.connectors.registry import UnknownKind, get_connector

    try:
        return str(get_connector(kind).label)
    except (UnknownKind, ImportError):
        return kind
