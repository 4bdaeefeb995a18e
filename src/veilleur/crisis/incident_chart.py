"""The chart of an incident page: the watch's mentions around the incident, by sentiment.

The window runs from six hours before the incident opened (the calm before, for
comparison) to its resolution, or to now while it is ongoing. Buckets are 5 minutes
for a window of up to 12 hours, hours up to a week, days beyond, so the chart never
has more than ~170 bars. Counts come from one grouped query (``values`` + ``Count``
per minute, hour or local day and sentiment), so the cost does not grow with the
number of mentions; 5-minute buckets are summed here from the per-minute rows. Bar
heights are CSS percentages computed here as strings with a dot decimal (templates
would localise floats, which CSS does not read), as in ``sentiment.charts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import Trunc
from django.utils import timezone

from veilleur.crisis.models import Incident
from veilleur.monitoring.models import Mention
from veilleur.sentiment.charts import STACK, Segment, SentimentCounts, stack

BEFORE = timedelta(hours=6)
MINUTES_UP_TO = timedelta(hours=12)
HOURS_UP_TO = timedelta(days=7)
FIVE_MINUTES = 300
HOUR = 3600
DAY = 86400
# At most about this many bars carry a time label under them; the others a tooltip.
LABELS = 12
# Label steps, in buckets, that fall on round times (10, 15, 30 minutes, 1, 2 hours...).
NICE_STEPS = (1, 2, 3, 6, 12, 24, 48)


@dataclass(frozen=True)
class Bar(SentimentCounts):
    """One bucket: ``start`` (aware, UTC) to ``start + seconds``; ``segments`` bottom up."""

    start: datetime
    counts: dict[str, int]
    total: int
    segments: list[Segment]
    labelled: bool
    # The bucket in which the incident opened (or was resolved): marked on the chart.
    opened: bool
    resolved: bool

@dataclass(frozen=True)
class IncidentChart(SentimentCounts):
    """What the template draws; ``total`` 0 means no mention in the window."""

    start: datetime
    end: datetime
    bucket_seconds: int
    bars: list[Bar]
    counts: dict[str, int]  # the whole window, by sentiment label
    total: int

    @property
    def unit(self) -> str:
        """``minutes``, ``hours`` or ``days``: how the template labels the bars."""
        return {FIVE_MINUTES: "minutes", HOUR: "hours"}.get(self.bucket_seconds, "days")


def bucket_seconds_for(span: timedelta) -> int:
    """5 minutes up to 12 hours, hours up to a week, days beyond."""
    if span <= MINUTES_UP_TO:
        return FIVE_MINUTES
    if span <= HOURS_UP_TO:
        return HOUR
    return DAY


def _floor(moment: datetime, seconds: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def _bucket_starts(start: datetime, end: datetime, seconds: int) -> list[datetime]:
    """Bucket starts (UTC) covering ``start``..``end``; days are local days."""
    if seconds == DAY:
        first, last = timezone.localdate(start), timezone.localdate(end)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        zone = timezone.get_current_timezone()
        return [datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC) for d in days]
    first = _floor(start, seconds)
    count = int((end - first).total_seconds() // seconds) + 1
    return [first + timedelta(seconds=i * seconds) for i in range(count)]


def _round_time(start: datetime, seconds: int, index: int) -> int:
    """A bucket's position in local time units, so labels fall on round local times."""
    if seconds == DAY:
        return index
    local = timezone.localtime(start)
    return (local.hour * 3600 + local.minute * 60) // seconds


def incident_chart(incident: Incident, now: datetime) -> IncidentChart:
    """Mentions of the incident's watch per bucket and sentiment, around the incident."""
    start = incident.opened_at - BEFORE
    end = max(incident.resolved_at or now, incident.opened_at)
    seconds = bucket_seconds_for(end - start)
    starts = _bucket_starts(start, end, seconds)
    stop = (starts[-1] + timedelta(seconds=seconds)) if seconds != DAY else (
        datetime.combine(timezone.localdate(end) + timedelta(days=1), datetime.min.time(),
                         tzinfo=timezone.get_current_timezone()))
    # Per minute for 5-minute buckets (summed below): SQL has no portable 5-minute trunc.
    kind = {FIVE_MINUTES: "minute", HOUR: "hour"}.get(seconds, "day")
    zone = timezone.get_current_timezone() if seconds == DAY else UTC
    rows = (
        Mention.objects.filter(workspace_id=incident.workspace_id, watches=incident.watch_id,
                               published_at__gte=starts[0], published_at__lt=stop)
        .order_by()
        .values("sentiment", slot=Trunc("published_at", kind, tzinfo=zone))
        .annotate(n=Count("id"))
    )
    counts: list[dict[str, int]] = [dict.fromkeys(STACK, 0) for _ in starts]
    by_day: dict[date, int] = {}
    if seconds == DAY:
        by_day = {timezone.localdate(s): i for i, s in enumerate(starts)}
    for row in rows:
        slot: datetime = row["slot"]
        if seconds == DAY:
            index = by_day.get(timezone.localtime(slot, zone).date(), -1)
        else:
            index = int((slot.astimezone(UTC) - starts[0]).total_seconds() // seconds)
        if not 0 <= index < len(starts):  # cannot happen with the window's bounds; be safe
            continue
        sentiment = row["sentiment"] if row["sentiment"] in STACK else ""
        counts[index][sentiment] += row["n"]
    highest = max((sum(c.values()) for c in counts), default=0) or 1
    every = next((n for n in NICE_STEPS if n * LABELS >= len(starts)), NICE_STEPS[-1])
    opened_at, resolved_at = incident.opened_at, incident.resolved_at
    bars = []
    for i, (bucket, bucket_counts) in enumerate(zip(starts, counts, strict=True)):
        following = starts[i + 1] if i + 1 < len(starts) else stop
        segments = stack(bucket_counts, highest)
        bars.append(Bar(
            start=bucket, counts=bucket_counts, total=sum(bucket_counts.values()),
            segments=segments, labelled=_round_time(bucket, seconds, i) % every == 0,
            opened=bucket <= opened_at < following,
            resolved=resolved_at is not None and bucket <= resolved_at < following,
        ))
    totals = {s: sum(c[s] for c in counts) for s in STACK}
    return IncidentChart(start=starts[0], end=stop, bucket_seconds=seconds, bars=bars,
                         counts=totals, total=sum(totals.values()))
