"""Source health: the transition table and the backoff schedule.

``ok`` -> ``degraded`` on a first transient failure, ``failing`` from the third in
a row, ``disabled`` on a permanent failure (bad credentials, feed gone) or by a
user. Any success returns to ``ok``; only a user re-enables a disabled source.
"""

from __future__ import annotations

from dataclasses import dataclass

from veilleur.monitoring.models import Health

FAILING_AFTER = 3
MAX_BACKOFF_SECONDS = 6 * 3600
# Retry-After values above this are treated as "come back much later", not obeyed blindly.
MAX_RETRY_AFTER_SECONDS = 24 * 3600

# (from, event) -> to. Events: success, transient, permanent, disable, enable.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Health.OK, "success"): Health.OK,
    (Health.DEGRADED, "success"): Health.OK,
    (Health.FAILING, "success"): Health.OK,
    (Health.OK, "transient"): Health.DEGRADED,
    (Health.DEGRADED, "transient"): Health.DEGRADED,
    (Health.FAILING, "transient"): Health.FAILING,
    (Health.OK, "permanent"): Health.DISABLED,
    (Health.DEGRADED, "permanent"): Health.DISABLED,
    (Health.FAILING, "permanent"): Health.DISABLED,
    (Health.OK, "disable"): Health.DISABLED,
    (Health.DEGRADED, "disable"): Health.DISABLED,
    (Health.FAILING, "disable"): Health.DISABLED,
    (Health.DISABLED, "enable"): Health.OK,
}


class IllegalTransition(ValueError):
    pass


@dataclass(frozen=True)
class Outcome:
    health: str
    failures: int
    delay: float  # seconds until the next poll


def next_state(
    health: str, event: str, failures: int, interval: float, retry_after: float | None = None
) -> Outcome:
    """Apply ``event`` to a source in ``health`` with ``failures`` failures in a row."""
    try:
        to = TRANSITIONS[(health, event)]
    except KeyError:
        raise IllegalTransition(f"a {health} source cannot take {event!r}") from None
    if event == "success":
        failures = 0
        delay = interval
    elif event == "transient":
        failures += 1
        if failures >= FAILING_AFTER:
            to = Health.FAILING
        # Exponential backoff from the poll interval, capped; never earlier than asked.
        delay = min(interval * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
    else:
        failures = failures + 1 if event == "permanent" else 0
        delay = interval
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return Outcome(health=to, failures=failures, delay=delay)
