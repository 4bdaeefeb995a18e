"""Run a watch's detectors over the buckets it has not seen yet, and record signals.

Called by the scheduler every few seconds for the watches whose last bucket is behind
(``due_watch_ids``); a lease makes two schedulers safe. The volume detectors (mentions,
stories, authors) keep their learned state in ``DetectorState`` and see every bucket
once; the content detectors look at the last hour against the week before it. The
slow-rise detector follows the mentions series too, against the larger of the spike
detector's expectation and its own seasonal median, and fires once when a rise has
held long enough (``analysis.detection.slow_rise``). A watch seen for the first time
replays its last week to learn its baselines, without raising signals for that history.

``DetectorState.state`` holds ``{"volume": ..., "slow_rise": ...}``; a state saved
before the slow-rise detector existed is the volume part alone, and the slow-rise
detector then learns the week before its first bucket, silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from veilleur.analysis.detection import VolumeScore, WatchVolume
from veilleur.analysis.detection.content import (
    Finding,
    crisis_vocabulary,
    emerging_story,
    high_reach_negative,
    negative_shift,
)
from veilleur.analysis.detection.explain import explain
from veilleur.analysis.detection.mentions import MentionRecord
from veilleur.analysis.detection.severity import severity
from veilleur.analysis.detection.slow_rise import SlowRiseDetector, SlowRiseScore
from veilleur.crisis.incidents import Recorded, SignalData, record_signal
from veilleur.crisis.models import DetectorState, Signal, SignalKind
from veilleur.monitoring.models import Mention, Source, Watch
from veilleur.monitoring.series import volume_series

log = logging.getLogger(__name__)
BUCKET = timedelta(minutes=5)
CONTENT_WINDOW = timedelta(hours=1)
BASELINE = timedelta(days=7)
MAX_BASELINE_MENTIONS = 5000
SCORE_THRESHOLD = 0.5  # the volume detector's "ten times the usual surprise"
LEASE = timedelta(minutes=5)


def bucket_floor(moment: datetime) -> datetime:
    seconds = int(BUCKET.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=moment.tzinfo)


def due_watch_ids(now: datetime) -> list[int]:
    """Active watches whose detectors are behind the last complete bucket."""
    end = bucket_floor(now)
    return list(
        Watch.objects.filter(is_active=True)
        .filter(Q(detector_state__isnull=True) | Q(detector_state__last_bucket_end__lt=end))
        .filter(Q(detector_state__isnull=True) | Q(detector_state__lease_until__isnull=True)
                | Q(detector_state__lease_until__lt=now))
        .values_list("pk", flat=True)[:200]
    )


def run_detection_once(enqueue: Callable[[int], object] | None = None,
                       now: datetime | None = None) -> list[int]:
    """One scheduler pass: enqueue the detectors of every watch that is behind."""
    now = now or timezone.now()
    if enqueue is None:
        from veilleur.crisis.detection_tasks import run_detectors_task

        enqueue = run_detectors_task.enqueue
    due = due_watch_ids(now)
    for watch_id in due:
        try:
            enqueue(watch_id)
        except Exception:
            log.exception("could not enqueue the detectors of watch %s", watch_id)
    return due


def watch_clock(watch: Watch, now: datetime) -> datetime:
    """The time the watch's detectors live in: real time, or a replay's simulated time.

    A workspace fed by a started replay (the demo) lives on the scenario's clock, which
    runs faster than real time and behind it; otherwise the real ``now``.
    """
    from veilleur.connectors.replay import simulated_now

    for config, cursor in (Source.objects.filter(workspace_id=watch.workspace_id, kind="replay")
                           .values_list("config", "cursor")):
        simulated = simulated_now(config, cursor, now)
        if simulated is not None:
            return min(simulated, now)
    return now


def run_watch(watch: Watch, now: datetime) -> list[Recorded]:
    """Bring one watch's detectors up to the last complete bucket before ``now``.

    ``now`` is real time; the detectors run on ``watch_clock`` (the demo's replay).
    """
    DetectorState.objects.get_or_create(watch=watch)
    claimed = DetectorState.objects.filter(watch=watch).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(lease_until=now + LEASE)
    if not claimed:
        return []  # another worker is on it
    state = DetectorState.objects.get(watch=watch)
    try:
        return _run(watch, state, watch_clock(watch, now))
    finally:
        DetectorState.objects.filter(pk=state.pk).update(lease_until=None)


def _detectors(watch: Watch, saved: dict[str, Any],
               start: datetime) -> tuple[WatchVolume, SlowRiseDetector]:
    """The watch's detectors as they were saved (new ones for a new watch)."""
    if "volume" in saved:
        volume = WatchVolume.from_state(saved["volume"])
    else:  # saved before the slow-rise detector, or nothing saved yet
        volume = WatchVolume.from_state(saved) if saved else WatchVolume()
    if saved.get("slow_rise"):
        return volume, SlowRiseDetector.from_state(saved["slow_rise"])
    slow = SlowRiseDetector()
    if saved:
        # An existing watch meeting the slow-rise detector: let it learn the last week
        # (its seasonal median) before the first bucket it judges, without judging.
        history_start = start - timedelta(days=slow.config.history_days, hours=1)
        for bucket in volume_series(watch.workspace, watch, start=history_start, end=start,
                                    bucket_seconds=int(BUCKET.total_seconds())):
            slow.update(bucket.start, bucket.mentions, None)
    return volume, slow


def _run(watch: Watch, state: DetectorState, now: datetime) -> list[Recorded]:
    end = bucket_floor(now)
    start = state.last_bucket_end or end - BASELINE
    if start >= end:
        return []
    saved = state.state if isinstance(state.state, dict) else {}
    volume, slow = _detectors(watch, saved, start)
    buckets = volume_series(watch.workspace, watch, start=start, end=end,
                            bucket_seconds=int(BUCKET.total_seconds()))
    records = _records(watch, end)
    recorded: list[Recorded] = []
    for bucket in buckets:
        scores = volume.update(bucket.start, {"mentions": bucket.mentions,
                                              "stories": bucket.stories,
                                              "authors": bucket.authors})
        mentions = scores["mentions"]
        rise = slow.update(bucket.start, bucket.mentions,
                           None if mentions.warming_up else mentions.expected)
        bucket_end = bucket.start + BUCKET
        if bucket_end <= end - CONTENT_WINDOW:
            continue  # history being replayed to learn the baseline: no signals
        # Every fresh bucket is judged as if the detectors had run at its end, so a run
        # that catches up several buckets (a busy worker, the demo's fast clock) detects
        # as early as one that ran every five minutes.
        window, baseline = _split(records, bucket_end)
        if mentions.score >= SCORE_THRESHOLD:
            confidence = 1.0 - mentions.probability
            ratio = mentions.observed / max(mentions.expected, 1e-9)
            explanation = explain(window, baseline)
            explanation["volume"] = {name: score.summary() for name, score in scores.items()}
            data = SignalData(
                kind=SignalKind.VOLUME, window_start=bucket.start, window_end=bucket_end,
                observed=mentions.observed, expected=round(mentions.expected, 3),
                confidence=confidence, severity=severity(confidence, ratio),
                explanation=explanation,
                mention_ids=tuple(e["id"] for e in explanation["examples"]),
            )
            # Stamped at the bucket's end: when a detector running every five minutes
            # would have raised it (the same moment, in real time, outside a catch-up).
            found = record_signal(watch, data, bucket_end)
            if found:
                recorded.append(found)
        if rise.fired:
            found = _slow_rise_signal(watch, rise, scores, window, baseline, bucket_end)
            if found:
                recorded.append(found)
        recorded += _content_signals(watch, window, baseline, bucket_end, bucket_end)
    DetectorState.objects.filter(pk=state.pk).update(
        state={"volume": volume.state(), "slow_rise": slow.state()}, last_bucket_end=end)
    _alert(recorded)
    return recorded


def _slow_rise_signal(watch: Watch, rise: SlowRiseScore, scores: dict[str, VolumeScore],
                      window: list[MentionRecord], baseline: list[MentionRecord],
                      bucket_end: datetime) -> Recorded | None:
    """A sustained rise: its window is the whole excursion (from the first bucket above
    the baseline), its figures the mentions observed and expected over it; the terms,
    authors and examples come from the last hour, as for the other signals."""
    explanation = explain(window, baseline)
    explanation["volume"] = {name: score.summary() for name, score in scores.items()}
    explanation["details"] = {"slow_rise": rise.summary()}
    data = SignalData(
        kind=SignalKind.SLOW_RISE, window_start=rise.since or bucket_end - BUCKET,
        window_end=bucket_end, observed=rise.run_observed,
        expected=round(rise.run_expected, 3), confidence=rise.confidence,
        severity=severity(rise.confidence, rise.ratio), explanation=explanation,
        mention_ids=tuple(e["id"] for e in explanation["examples"]),
    )
    return record_signal(watch, data, bucket_end)


def _alert(recorded: list[Recorded]) -> None:
    """Queue the alerts of each new signal (docs/alerts.md: rules decide who hears)."""
    from veilleur.crisis.tasks import deliver_alerts_task

    for found in recorded:
        try:
            deliver_alerts_task.enqueue(found.incident.pk, found.signal.pk)
        except Exception:
            # The signal and incident are stored; a queue outage must not lose them.
            log.exception("could not queue the alerts of signal %s", found.signal.pk)


def _records(watch: Watch, end: datetime) -> list[MentionRecord]:
    """The watch's mentions of the last hour and week before ``end``, newest first, as
    plain records (at most 5,000 before the last hour)."""
    rows = (Mention.objects.filter(watches=watch, published_at__lt=end,
                                   published_at__gte=end - CONTENT_WINDOW - BASELINE)
            .select_related("author", "source").order_by("-published_at"))
    records: list[MentionRecord] = []
    older = 0
    for mention in rows.iterator(chunk_size=1000):
        if mention.published_at < end - CONTENT_WINDOW:
            older += 1
            if older > MAX_BASELINE_MENTIONS:
                break
        author = mention.author
        records.append(MentionRecord(
            id=mention.pk, published_at=mention.published_at, text=mention.text,
            sentiment=mention.sentiment, author=author.handle if author else "",
            reach=mention.reach or (author.followers if author and author.followers else 0) or 0,
            verified=bool(author and author.verified), source=mention.source.name,
            story_id=mention.story_id, url=mention.url,
        ))
    return records


def _split(records: list[MentionRecord],
           end: datetime) -> tuple[list[MentionRecord], list[MentionRecord]]:
    """(the hour before ``end``, up to 5,000 mentions before that), newest first."""
    window = [r for r in records if end - CONTENT_WINDOW <= r.published_at < end]
    baseline = [r for r in records if r.published_at < end - CONTENT_WINDOW]
    return window, baseline[:MAX_BASELINE_MENTIONS]


def _content_signals(watch: Watch, window: list[MentionRecord], baseline: list[MentionRecord],
                     end: datetime, now: datetime) -> list[Recorded]:
    if not window:
        return []
    span = (baseline[0].published_at - baseline[-1].published_at) if baseline else BASELINE
    baseline_windows = max(span / CONTENT_WINDOW, 1.0)
    findings: list[Finding | None] = [
        negative_shift(window, baseline),
        high_reach_negative(window, baseline),
        crisis_vocabulary(window, baseline, baseline_windows),
        emerging_story(window, baseline, baseline_windows),
    ]
    recorded = []
    for finding in findings:
        if finding is None or _fired_recently(watch, finding.kind, end):
            continue
        ratio = finding.observed / max(finding.expected, 1e-9)
        explanation = explain(window, baseline, finding.evidence)
        explanation["details"] = finding.details
        data = SignalData(
            kind=finding.kind, window_start=end - CONTENT_WINDOW, window_end=end,
            observed=finding.observed, expected=finding.expected,
            confidence=finding.confidence,
            severity=severity(finding.confidence, ratio, finding.reach_ratio),
            explanation=explanation, mention_ids=finding.evidence,
        )
        found = record_signal(watch, data, now)
        if found:
            recorded.append(found)
    return recorded


def _fired_recently(watch: Watch, kind: str, end: datetime) -> bool:
    """The same kind already fired on this watch within the content window: one signal
    per event, not one every five minutes while it lasts."""
    return Signal.objects.filter(watch=watch, kind=kind,
                                 window_end__gt=end - CONTENT_WINDOW).exists()
