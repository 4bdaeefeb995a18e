"""Content detectors and explanations on small, hand-built windows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from veilleur.analysis.detection.content import (
    crisis_vocabulary,
    emerging_story,
    high_reach_negative,
    negative_shift,
)
from veilleur.analysis.detection.explain import explain, new_terms
from veilleur.analysis.detection.mentions import MentionRecord
from veilleur.analysis.detection.tails import log_binomial_sf

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)
_ids = iter(range(1, 100_000))


def m(text="Fibrelune box ok", sentiment="neutral", reach=100, author="a", story=None,
      source="feed"):
    return MentionRecord(id=next(_ids), published_at=T0, text=text, sentiment=sentiment,
                         author=author, reach=reach, source=source, story_id=story)


def baseline_of(n=400, negative_share=0.2):
    k = int(n * negative_share)
    return [m(sentiment="negative") for _ in range(k)] + [m() for _ in range(n - k)]


def test_binomial_tail_matches_a_direct_computation():
    # P(X >= 3) for Binomial(4, 0.5) = 5/16
    assert math.isclose(math.exp(log_binomial_sf(3, 4, 0.5)), 5 / 16, rel_tol=1e-12)
    assert log_binomial_sf(0, 10, 0.3) == 0.0
    assert log_binomial_sf(11, 10, 0.3) == -math.inf


def test_a_stable_volume_that_turns_sour_fires_a_negative_shift():
    window = [m(sentiment="negative") for _ in range(30)] + [m() for _ in range(20)]
    found = negative_shift(window, baseline_of())
    assert found is not None and found.kind == "negative_shift"
    assert math.isclose(found.observed, 0.6) and 0.19 < found.expected < 0.21
    assert found.confidence > 0.999
    assert len(found.evidence) == 20


def test_the_usual_share_of_complaints_does_not_fire():
    window = [m(sentiment="negative") for _ in range(11)] + [m() for _ in range(39)]
    assert negative_shift(window, baseline_of()) is None
    # Nor do a few complaints on a quiet watch with no history.
    assert negative_shift([m(sentiment="negative") for _ in range(3)], []) is None


def test_a_loud_negative_voice_fires_and_a_loud_positive_one_does_not():
    baseline = [m(reach=r) for r in range(100, 2100, 10)]
    loud = m(text="Fibrelune m'a prélevé deux fois", sentiment="negative", reach=800_000,
             author="@bignews")
    found = high_reach_negative([m(), loud], baseline)
    assert found is not None and found.evidence[0] == loud.id
    assert found.reach_ratio > 100 and found.details["author"] == "@bignews"
    cheerful = m(sentiment="positive", reach=800_000)
    assert high_reach_negative([cheerful], baseline) is None


def test_crisis_words_at_an_unusual_rate_fire_with_the_words_found():
    baseline = [m() for _ in range(500)] + [m("boycott du match ce soir")]
    window = [m("Boycott Fibrelune, c'est une arnaque !") for _ in range(4)] + [m()]
    found = crisis_vocabulary(window, baseline, baseline_windows=100)
    assert found is not None and found.observed == 4
    assert {"boycott", "arnaque"} <= set(found.details["terms"])
    # One mention of the word is not a crisis.
    assert crisis_vocabulary([m("boycott ?")], baseline, baseline_windows=100) is None


def test_a_story_growing_faster_than_usual_fires():
    baseline = [m(story=s) for s in range(50) for _ in range(2)]
    window = [m(story=999) for _ in range(12)] + [m(story=1)]
    found = emerging_story(window, baseline, baseline_windows=50)
    assert found is not None and found.details["story_id"] == 999
    assert emerging_story([m(story=5) for _ in range(3)], baseline, baseline_windows=50) is None


def test_the_explanation_names_what_is_new_who_and_how_it_feels():
    baseline = [m("Fibrelune box livrée, tout va bien") for _ in range(200)]
    window = [m("Fibrelune m'a prélevé deux fois #remboursement", "negative", author=f"u{i}",
                reach=10 * i) for i in range(8)] + [m("Fibrelune box livrée")]
    terms, hashtags = new_terms(window, baseline)
    assert "preleve" in terms and "deux" in terms and "fibrelune" not in terms
    assert hashtags == ["#remboursement"]
    out = explain(window, baseline, evidence=[window[7].id])
    assert out["sentiment"] == {"negative": 8, "neutral": 1}
    assert out["examples"][0]["id"] == window[7].id
    assert out["sources"] == [{"name": "feed", "count": 9}]
    assert len(out["authors"]) == 3


def test_explanations_bound_hostile_text():
    long = m("x" * 10_000, "negative")
    out = explain([long], [])
    assert len(out["examples"][0]["text"]) == 280
    assert T0 + timedelta(0) == long.published_at
