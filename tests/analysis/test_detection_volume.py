"""The volume spike detector on synthetic counts: noise, spikes, cycles, state."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from veilleur.analysis.detection import (
    AUTHORS,
    MENTIONS,
    STORIES,
    VolumeConfig,
    VolumeDetector,
    WatchVolume,
    log_poisson_sf,
    score_series,
)

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
BUCKET = timedelta(minutes=5)
DAY = 288  # buckets
ALERT = 0.5  # the default alert threshold (ten times the usual surprise)


def stamps(n: int) -> list[datetime]:
    return [START + i * BUCKET for i in range(n)]


def daily_rate(low: float, high: float, n: int) -> np.ndarray:
    """Expected counts with a daily cycle: lowest at 03:00, highest at 15:00."""
    hours = np.arange(n) * 5 / 60 % 24
    return low + (high - low) * (1 + np.cos(2 * np.pi * (hours - 15) / 24)) / 2


def scores(counts) -> list:
    return score_series(stamps(len(counts)), [float(c) for c in counts])


def test_the_poisson_tail_matches_closed_forms_and_never_underflows():
    assert log_poisson_sf(0, 3.0) == 0.0
    assert log_poisson_sf(1, 0.2) == pytest.approx(math.log(1 - math.exp(-0.2)))
    direct = 1 - sum(math.exp(-4.0) * 4.0**k / math.factorial(k) for k in range(7))
    assert log_poisson_sf(7, 4.0) == pytest.approx(math.log(direct), rel=1e-9)
    below = math.fsum(math.exp(k * math.log(60.0) - 60.0 - math.lgamma(k + 1)) for k in range(40))
    assert log_poisson_sf(40, 60.0) == pytest.approx(math.log1p(-below), rel=1e-9)
    huge = log_poisson_sf(10_000, 10.0)  # about 10^-26000: still a finite logarithm
    assert math.isfinite(huge) and huge < -50_000


@pytest.mark.parametrize(("low", "high"), [(0.0, 0.5), (0.2, 3.0), (1.0, 10.0)])
def test_low_counts_of_plain_poisson_noise_do_not_raise_alerts(low, high):
    # Three weeks of 0-3 mentions per bucket, three seeds: 18,000 buckets each.
    n = 21 * DAY
    for seed in range(3):
        counts = np.random.default_rng(seed).poisson(daily_rate(low, high, n))
        results = scores(counts)
        assert max(r.score for r in results) < ALERT
        # A stray 2 or 3 where 0.3 is expected is unusual, not alarming.
        assert sum(r.score > 0.3 for r in results) <= 3


def test_a_sustained_burst_fires_and_explains_itself():
    rng = np.random.default_rng(1)
    n = 8 * DAY
    counts = rng.poisson(daily_rate(0.5, 3.0, n)).astype(float)
    burst = 7 * DAY + 12 * 12  # day 8, 12:00: half an hour of about 20 extra mentions
    counts[burst:burst + 6] += rng.poisson(20, 6)
    results = scores(counts)
    assert max(r.score for r in results[:burst]) < ALERT
    fired = [r for r in results[burst:burst + 6] if r.score >= ALERT]
    assert fired, [r.summary() for r in results[burst:burst + 6]]
    first = fired[0]
    assert first.starts_or_escalates and not first.warming_up
    assert first.observed > 5 * first.expected
    assert first.log10_probability < -6 and first.probability < 1e-6
    assert first.strength >= 10  # ten times the usual surprise is the 0.5 mark
    assert set(first.baseline) == {"level", "hour_factor", "weekday_factor"}
    assert "expected" in first.summary() and json.dumps(first.as_dict())


def test_a_single_odd_bucket_is_weaker_evidence_than_a_rise_that_holds():
    rng = np.random.default_rng(2)
    counts = rng.poisson(2.0, 8 * DAY).astype(float)
    blip, rise = counts.copy(), counts.copy()
    at = 7 * DAY + 100
    blip[at] += 12
    rise[at:at + 4] += 12
    assert max(r.score for r in scores(blip)[at:at + 4]) < max(r.score for r in scores(rise)[at:])


def test_the_daily_cycle_is_learned_so_the_daily_peak_stops_firing():
    n = 14 * DAY
    rate = daily_rate(20, 200, n)  # a tenfold daily cycle
    results = scores(np.random.default_rng(3).poisson(rate))
    after_a_few_days = results[4 * DAY:]
    assert max(r.score for r in after_a_few_days) < ALERT
    peaks = [r for r in results[-DAY:] if r.at.hour == 15]
    for r in peaks:
        assert r.expected == pytest.approx(200, rel=0.2)
    nights = [r for r in results[-DAY:] if r.at.hour == 3]
    assert all(r.expected < 40 for r in nights)


def test_the_weekly_cycle_is_learned():
    n = 5 * 7 * DAY
    rate = np.where([(START + i * BUCKET).weekday() >= 5 for i in range(n)], 2.0, 10.0)
    results = scores(np.random.default_rng(4).poisson(rate))
    last_week = results[-7 * DAY:]
    weekend = np.mean([r.expected for r in last_week if r.at.weekday() >= 5])
    weekdays = np.mean([r.expected for r in last_week if r.at.weekday() < 5])
    assert weekdays / weekend > 3
    assert max(r.score for r in results[14 * DAY:]) < ALERT  # Mondays no longer surprise


def test_the_baseline_does_not_absorb_a_spike_and_recovers_after_it():
    rng = np.random.default_rng(5)
    counts = rng.poisson(5.0, 10 * DAY).astype(float)
    spike = 7 * DAY
    counts[spike:spike + 36] += rng.poisson(45, 36)  # three hours at ten times the volume
    results = scores(counts)
    before = results[spike].expected
    assert before == pytest.approx(5, rel=0.3)
    # During the spike the expectation moves a little (counts are clipped to three Poisson
    # deviations before they are learned), so the spike stays a spike to the end.
    during = results[spike:spike + 36]
    assert max(r.expected for r in during) < 2 * before
    assert min(r.observed / r.expected for r in during) > 3
    # The spike is one event: it alerts while its evidence builds up, then stays quiet.
    alerts = [r for r in results[spike:spike + 36] if r.score >= ALERT]
    assert 1 <= len(alerts) <= 4
    assert all(r.score == 0 for r in results[spike + 6:spike + 36])
    assert results[spike + 20].strength > 10  # still far above normal, just not news
    # A day later the expectation is back to the true rate, and quiet buckets stay quiet.
    later = results[spike + 36 + DAY:spike + 48 + DAY]
    assert np.mean([r.expected for r in later]) == pytest.approx(5, rel=0.2)
    assert max(r.score for r in results[spike + 36:]) < ALERT


def test_a_bigger_spike_soon_after_a_first_one_still_fires():
    rng = np.random.default_rng(6)
    counts = rng.poisson(5.0, 10 * DAY).astype(float)
    first, second = 7 * DAY, 9 * DAY
    counts[first:first + 12] += rng.poisson(45, 12)
    counts[second:second + 12] += rng.poisson(200, 12)
    results = scores(counts)
    assert max(r.score for r in results[first:first + 12]) >= ALERT
    assert max(r.score for r in results[second:second + 12]) >= ALERT


def test_scores_are_deterministic_and_in_the_unit_interval():
    counts = np.random.default_rng(7).poisson(daily_rate(0.5, 8, 6 * DAY))
    counts[5 * DAY:5 * DAY + 6] += 40
    a, b = scores(counts), scores(counts)
    assert [r.score for r in a] == [r.score for r in b]
    assert [r.as_dict() for r in a] == [r.as_dict() for r in b]
    assert all(0.0 <= r.score < 1.0 for r in a)
    assert all(r.score == 0 for r in a[:DAY])  # warming up: no verdict on the first day
    assert all(r.warming_up for r in a[:DAY]) and not a[DAY].warming_up


def test_a_saved_state_continues_exactly_where_it_stopped():
    counts = np.random.default_rng(8).poisson(daily_rate(1, 12, 5 * DAY)).astype(float)
    counts[4 * DAY:4 * DAY + 5] += 60
    times = stamps(len(counts))
    whole = score_series(times, list(counts))
    first = VolumeDetector()
    for at, count in zip(times[:3 * DAY], counts[:3 * DAY], strict=True):
        first.update(at, count)
    saved = json.loads(json.dumps(first.state()))
    resumed = VolumeDetector.from_state(saved)
    rest = [resumed.update(at, c) for at, c in zip(times[3 * DAY:], counts[3 * DAY:], strict=True)]
    assert [r.score for r in rest] == [r.score for r in whole[3 * DAY:]]
    assert [r.expected for r in rest] == [r.expected for r in whole[3 * DAY:]]


def test_skipped_buckets_count_as_zero():
    counts = np.random.default_rng(9).poisson(0.3, 3 * DAY).astype(float)
    counts[2 * DAY] = 9
    times = stamps(len(counts))
    dense = score_series(times, list(counts))
    sparse = VolumeDetector()
    kept = [(at, c) for at, c in zip(times, counts, strict=True) if c > 0]
    results = {at: sparse.update(at, c) for at, c in kept}
    for at, _ in kept:
        assert results[at].score == dense[times.index(at)].score


def test_buckets_must_come_in_order_and_counts_be_counts():
    detector = VolumeDetector()
    detector.update(START, 3)
    with pytest.raises(ValueError, match="not after"):
        detector.update(START, 4)
    with pytest.raises(ValueError, match="count"):
        detector.update(START + BUCKET, -1)
    with pytest.raises(ValueError, match="length"):
        score_series(stamps(3), [1.0, 2.0])


def test_time_constants_follow_the_bucket_size():
    # The same day of hourly buckets is a day of warm-up, as 288 five-minute buckets are.
    hourly = VolumeDetector(VolumeConfig(bucket=timedelta(hours=1)))
    results = [hourly.update(START + timedelta(hours=h), 5.0) for h in range(30)]
    assert [r.warming_up for r in results] == [True] * 24 + [False] * 6


def test_each_series_of_a_watch_has_its_own_detector():
    rng = np.random.default_rng(10)
    watch = WatchVolume()
    n = 8 * DAY
    burst = 7 * DAY + 60
    found = {MENTIONS: 0.0, STORIES: 0.0, AUTHORS: 0.0}
    for i, at in enumerate(stamps(n)):
        mentions = float(rng.poisson(6))
        counts = {MENTIONS: mentions, STORIES: float(rng.poisson(3)),
                  AUTHORS: float(rng.poisson(4))}
        if burst <= i < burst + 4:  # one account posting in a loop: mentions, not authors
            counts[MENTIONS] += 40
        for name, result in watch.update(at, counts).items():
            if i >= burst:
                found[name] = max(found[name], result.score)
    assert found[MENTIONS] >= ALERT
    assert found[STORIES] < ALERT and found[AUTHORS] < ALERT
    restored = WatchVolume.from_state(json.loads(json.dumps(watch.state())))
    assert set(restored.detectors) == {MENTIONS, STORIES, AUTHORS}
    with pytest.raises(ValueError, match="unknown series"):
        watch.update(START + n * BUCKET, {"likes": 3})
