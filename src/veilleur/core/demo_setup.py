"""What ``veilleur demo`` puts in its fresh database: a workspace replaying Fibrelune's week."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from veilleur.accounts.models import User, Workspace
from veilleur.accounts.services import create_workspace
from veilleur.connectors.replay import load_scenario
from veilleur.demo import SCENARIO_PATH
from veilleur.monitoring.models import Source, Watch
from veilleur.monitoring.sources import create_source

DEMO_USER = "demo"
DEMO_WORKSPACE = "Fibrelune (demo)"
DEMO_QUERY = "Fibrelune OR #fibrelune OR @fibrelune"
# The simulated week plays in about this many real seconds by default.
DEMO_WALL_SECONDS = 600
DEMO_POLL_SECONDS = 1


@dataclass(frozen=True)
class Demo:
    """The demo's workspace, its login and the replay's pace."""

    workspace: Workspace
    username: str
    password: str
    source: Source
    speed: float
    duration_s: float
    crisis_start_s: float | None

    @property
    def wall_seconds(self) -> float:
        """Real seconds the whole scenario takes to play."""
        return self.duration_s / self.speed

    @property
    def crisis_after_s(self) -> float | None:
        """Real seconds from the first poll to the crisis arc's first mention."""
        return None if self.crisis_start_s is None else self.crisis_start_s / self.speed


def default_speed(duration_s: float) -> float:
    """The replay speed that plays ``duration_s`` in about DEMO_WALL_SECONDS."""
    return max(1.0, duration_s / DEMO_WALL_SECONDS)


@transaction.atomic
def create_demo(speed: float | None = None) -> Demo:
    """Create the demo user, workspace, watch and replay source; return the login."""
    scenario = load_scenario(SCENARIO_PATH)
    speed = speed or default_speed(scenario.duration_s)
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(DEMO_USER, password=password)
    workspace = create_workspace(
        DEMO_WORKSPACE, owner=user, languages=["fr", "en"], slug="fibrelune-demo"
    )
    Watch.objects.create(
        workspace=workspace, name="Fibrelune", query=DEMO_QUERY, languages=["fr", "en"],
        owned_accounts=["fibrelune@fibrelune.example", "fibrelune.bsky.example"],
    )
    source = create_source(
        workspace, "replay", "Fibrelune week (fictional scenario)",
        {"scenario": "demo", "speed": speed, "batch_size": 500},
        from_shell=True,
    )
    # create_source keeps real sources at >= 10 s; a local replay can go faster, so
    # that mentions appear live.
    Source.objects.filter(pk=source.pk).update(poll_interval=DEMO_POLL_SECONDS)
    crisis = scenario.header.get("crisis")
    crisis_start = crisis.get("start_s") if isinstance(crisis, dict) else None
    if crisis_start is None:
        crisis_start = next(
            (float(i["offset_s"]) for i in scenario.items if i.get("kind") == "crisis"), None
        )
    return Demo(
        workspace=workspace, username=DEMO_USER, password=password, source=source,
        speed=speed, duration_s=scenario.duration_s,
        crisis_start_s=float(crisis_start) if crisis_start is not None else None,
    )
