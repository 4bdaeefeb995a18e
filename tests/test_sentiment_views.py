"""Sentiment in the web UI: badges, corrections, the chart of the mentions page, the model page.

alice owns Acme, bob responds there, dora only views it; charlie owns Globex.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.fakes import NOW, make_mention
from veilleur.accounts.models import Role, User
from veilleur.accounts.services import add_member
from veilleur.monitoring.models import Mention, Source
from veilleur.sentiment.corrections import MIN_CORRECTIONS, record_correction
from veilleur.sentiment.models import HeadState, SentimentCorrection, SentimentHead

pytestmark = pytest.mark.django_db

SCORES = {"negative": 0.71, "neutral": 0.2, "positive": 0.09}

# Enough varied corrections to train a workspace version (at least two of each label).
TRAINING_SET = [
    ("Still waiting for my refund, three weeks now", "negative"),
    ("Toujours pas reçu ma commande, service client injoignable", "negative"),
    ("The app crashes every time I open it", "negative"),
    ("Livraison en retard encore une fois, c'est nul", "negative"),
    ("Worst customer service I have ever dealt with", "negative"),
    ("Ma box est en panne depuis lundi", "negative"),
    ("They charged me twice and nobody answers", "negative"),
    ("The shop opens at nine on Saturdays", "neutral"),
    ("Le magasin ferme à 19h le dimanche", "neutral"),
    ("Order 1234 was shipped on Monday", "neutral"),
    ("Quelqu'un sait si la boutique de Lyon est ouverte ?", "neutral"),
    ("The new catalogue is out this week", "neutral"),
    ("Nouvelle adresse du siège à partir de mars", "neutral"),
    ("Great support, my issue was fixed in ten minutes", "positive"),
    ("Merci pour la livraison rapide, super service", "positive"),
    ("I love the new design, well done", "positive"),
    ("Très contente de mon achat, je recommande", "positive"),
    ("Fast delivery and friendly staff, thank you", "positive"),
    ("Excellent rapport qualité prix, bravo", "positive"),
    ("Best purchase this year, works perfectly", "positive"),
]


def correct_enough(source: Source, user: User | None) -> list[Mention]:
    """Store and correct ``TRAINING_SET`` (``MIN_CORRECTIONS`` mentions) in ``source``."""
    assert len(TRAINING_SET) >= MIN_CORRECTIONS
    mentions = []
    for i, (text, label) in enumerate(TRAINING_SET):
        mention = make_mention(source, text, lang="fr" if i % 2 else "en", sentiment="neutral",
                               sentiment_model="model-test")
        record_correction(mention, label, user, NOW)
        mentions.append(mention)
    return mentions


@pytest.fixture
def dora(acme):
    user = User.objects.create_user("dora", "dora@example.org", "dora-pw-123")
    add_member(acme, user, Role.VIEWER)
    return user


@pytest.fixture
def forum(acme):
    return Source.objects.create(workspace=acme, name="Forum", kind="rss")


@pytest.fixture
def scored(forum):
    return make_mention(forum, "Toujours pas de remboursement", lang="fr", sentiment="negative",
                        sentiment_scores=SCORES, sentiment_score=-0.62,
                        sentiment_model="model-2026.1")


@pytest.fixture
def globex_mention(globex):
    source = Source.objects.create(workspace=globex, name="Globex feed", kind="rss")
    return make_mention(source, "Globex is fine", lang="en", sentiment="positive")


def body(response) -> str:
    return response.content.decode()


def correction_url(mention: Mention) -> str:
    return reverse("mention_sentiment", args=[mention.pk])


# ---- the badge and the correction control ----------------------------------------------------


def test_the_badge_shows_the_label_with_its_probabilities_and_model(client_of, alice, scored):
    page = body(client_of(alice).get(reverse("mentions")))
    badge = re.search(r'<span class="badge sentiment-negative" title="([^"]*)">Negative</span>',
                      page)
    assert badge, "no negative badge"
    assert "Negative 71 %" in badge.group(1) and "Positive 9 %" in badge.group(1)
    assert "Scored by model-2026.1." in badge.group(1)
    assert "badge-corrected" not in page


@pytest.mark.parametrize(("who", "sees_buttons"), [("alice", True), ("bob", True),
                                                    ("dora", False)])
def test_responders_and_above_get_the_correction_buttons(request, client_of, scored, who,
                                                         sees_buttons):
    page = body(client_of(request.getfixturevalue(who)).get(reverse("mentions")))
    assert "Toujours pas de remboursement" in page
    assert (f'hx-post="{correction_url(scored)}"' in page) is sees_buttons
    assert ('name="label" value="positive"' in page) is sees_buttons


def test_a_responder_corrects_a_mention_with_htmx_and_gets_the_new_badge(client_of, bob, scored):
    client = client_of(bob)
    response = client.post(correction_url(scored), {"label": "positive", "next": "/"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = body(response)
    assert fragment.startswith(f'<div class="sentiment-box" id="sentiment-{scored.pk}">')
    assert "<html" not in fragment
    assert '<span class="badge sentiment-positive"' in fragment
    assert "badge-corrected" in fragment and "Corrected by a member of the workspace." in fragment
    assert 'value="positive" class="sentiment-button sentiment-positive"' in fragment
    assert re.search(r'value="positive"[^>]*aria-pressed="true"', fragment)
    # Stored: the correction (with what it replaced) and the mention itself.
    correction = SentimentCorrection.objects.get(mention=scored)
    assert (correction.label, correction.previous_label, correction.previous_model) == (
        "positive", "negative", "model-2026.1")
    assert correction.user == bob and correction.workspace_id == scored.workspace_id
    scored.refresh_from_db()
    assert scored.sentiment == "positive" and scored.sentiment_model == "human"
    assert scored.sentiment_scores == {"negative": 0.0, "neutral": 0.0, "positive": 1.0}
    assert scored.sentiment_score == 1.0
    # The list shows the corrected badge from now on, and the positive filter finds it.
    page = body(client.get(reverse("mentions"), {"sentiment": "positive"}))
    assert "Toujours pas de remboursement" in page and "badge-corrected" in page


def test_without_javascript_the_correction_redirects_back_to_the_list(client_of, alice, scored):
    client = client_of(alice)
    response = client.post(correction_url(scored), {"label": "neutral", "next": "/?lang=fr"})
    assert response.status_code == 302
    assert response["Location"] == f"/?lang=fr#mention-{scored.pk}"
    page = body(client.get(response["Location"]))
    assert "Sentiment corrected: “Neutral”." in page
    scored.refresh_from_db()
    assert scored.sentiment == "neutral"


def test_the_correction_never_redirects_off_site(client_of, alice, scored):
    response = client_of(alice).post(correction_url(scored),
                                     {"label": "neutral", "next": "https://evil.example/"})
    assert response["Location"] == f"/#mention-{scored.pk}"


def test_the_buttons_carry_the_current_filters_back(client_of, alice, scored):
    page = body(client_of(alice).get(reverse("mentions"), {"lang": "fr", "sentiment": "negative"}))
    assert 'name="next" value="/?lang=fr&amp;sentiment=negative"' in page


def test_a_viewer_cannot_correct(client_of, dora, scored):
    response = client_of(dora).post(correction_url(scored), {"label": "positive"},
                                    HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert not SentimentCorrection.objects.exists()
    scored.refresh_from_db()
    assert scored.sentiment == "negative"


def test_an_outsider_cannot_correct_another_workspaces_mention(client_of, charlie, scored,
                                                               globex_mention):
    response = client_of(charlie).post(correction_url(scored), {"label": "positive"})
    assert response.status_code == 404
    assert not SentimentCorrection.objects.exists()
    # His own mention he may correct.
    assert client_of(charlie).post(correction_url(globex_mention),
                                   {"label": "negative"}).status_code == 302


def test_anonymous_and_get_requests_cannot_correct(client, client_of, alice, scored):
    response = client.post(correction_url(scored), {"label": "positive"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client_of(alice).get(correction_url(scored)).status_code == 405
    assert not SentimentCorrection.objects.exists()


@pytest.mark.parametrize("label", ["", "angry", "POSITIVE", "<b>x</b>"])
def test_an_unknown_label_is_refused(client_of, bob, scored, label):
    response = client_of(bob).post(correction_url(scored), {"label": label})
    assert response.status_code == 400
    assert "Expected label=negative, neutral or positive." in body(response)
    assert not SentimentCorrection.objects.exists()


def test_live_mentions_carry_the_badge_and_the_buttons(client_of, bob, forum):
    make_mention(forum, "older", lang="en")
    fresh = make_mention(forum, "a new one", lang="en", sentiment="neutral",
                         sentiment_scores={"negative": 0.1, "neutral": 0.8, "positive": 0.1})
    partial = body(client_of(bob).get(reverse("mentions"), {"after": fresh.pk - 1},
                                      HTTP_HX_REQUEST="true"))
    assert f'id="sentiment-{fresh.pk}"' in partial and "Neutral 80 %" in partial
    assert f'hx-post="{correction_url(fresh)}"' in partial


def test_an_unscored_mention_says_so(client_of, alice, forum):
    make_mention(forum, "not yet scored")
    assert "Not scored" in body(client_of(alice).get(reverse("mentions")))


# ---- languages -----------------------------------------------------------------------------


def test_the_other_language_bucket_is_named_and_filters(client_of, alice, forum):
    make_mention(forum, "ein deutscher Text", lang="other")
    make_mention(forum, "un texte français", lang="fr")
    client = client_of(alice)
    page = body(client.get(reverse("mentions"), {"lang": "other"}))
    assert "ein deutscher Text" in page and "un texte français" not in page
    assert '<option value="other" selected>Other</option>' in page
    assert 'class="field-error"' not in page
    alice.language = "fr"
    alice.save()
    french = body(client.get(reverse("mentions"), {"lang": "other"}))
    assert '<option value="other" selected>Autre</option>' in french


# ---- the chart -----------------------------------------------------------------------------


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 2, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def february(forum, globex_mention):
    """Mentions on three February days; one at 23:30 UTC is already the next day in Paris."""
    for sentiment, lang in [("negative", "fr"), ("negative", "fr"), ("positive", "en")]:
        make_mention(forum, f"{sentiment} on the 10th", lang=lang, sentiment=sentiment,
                     published_at=at(10))
    make_mention(forum, "late evening", lang="en", sentiment="neutral",
                 published_at=at(10, 23) + timedelta(minutes=30))  # 11 Feb, 00:30 in Paris
    make_mention(forum, "autre langue", lang="other", sentiment="negative", published_at=at(12))
    make_mention(forum, "pas encore", lang="fr", published_at=at(12))  # not scored
    make_mention(forum, "start of the month", lang="fr", sentiment="negative",
                 published_at=at(1))
    make_mention(forum, "long ago", lang="fr", sentiment="positive",
                 published_at=datetime(2026, 1, 20, 10, 0, tzinfo=UTC))
    Mention.objects.filter(pk=globex_mention.pk).update(published_at=at(10))


def chart_rows(page: str) -> dict[str, list[int]]:
    """Day -> [negative, neutral, positive, not scored] from the chart's table."""
    rows = re.findall(
        r'<tr class="chart-row" data-day="([\d-]+)"><th scope="row">[^<]*</th>'
        r"<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", page)
    return {day: [int(n) for n in counts] for day, *counts in rows}


def languages(page: str) -> dict[str, int]:
    found = re.findall(r'<li class="language-share" data-lang="([^"]*)">\s*'
                       r'<span class="language-name">([^<]*)</span>\s*'
                       r'<span class="language-count">(\d+)', page)
    return {name: int(count) for _code, name, count in found}


def test_the_chart_counts_stored_mentions_per_local_day_and_sentiment(client_of, alice,
                                                                       february):
    page = body(client_of(alice).get(reverse("mentions")))
    rows = chart_rows(page)
    # The last 14 days up to the newest mention (12 Feb): 20 January is outside.
    assert (min(rows), max(rows)) == ("2026-01-30", "2026-02-12")
    assert len(rows) == 14
    assert rows["2026-02-01"] == [1, 0, 0, 0]
    assert rows["2026-02-10"] == [2, 0, 1, 0]
    assert rows["2026-02-11"] == [0, 1, 0, 0]
    assert rows["2026-02-12"] == [1, 0, 0, 1]
    assert sum(sum(c) for c in rows.values()) == 7  # Globex's mention is not counted
    assert languages(page) == {"French": 4, "English": 2, "Other": 1}
    assert "Negative: <strong>4</strong>" in page and "Positive: <strong>1</strong>" in page
    assert "Not scored: <strong>1</strong>" in page


def test_the_chart_follows_the_filters(client_of, alice, february):
    client = client_of(alice)
    negative = chart_rows(body(client.get(reverse("mentions"), {"sentiment": "negative"})))
    assert negative["2026-02-10"] == [2, 0, 0, 0] and negative["2026-02-11"] == [0, 0, 0, 0]
    french = body(client.get(reverse("mentions"), {"lang": "fr"}))
    assert languages(french) == {"French": 4}
    ranged = chart_rows(body(client.get(reverse("mentions"),
                                        {"date_from": "2026-02-01", "date_to": "2026-02-10"})))
    # The last 14 days of the range, cut at its first day.
    assert (min(ranged), max(ranged)) == ("2026-02-01", "2026-02-10")
    assert ranged["2026-02-01"] == [1, 0, 0, 0] and ranged["2026-02-10"] == [2, 0, 1, 0]
    longer = chart_rows(body(client.get(reverse("mentions"),
                                        {"date_from": "2026-01-01", "date_to": "2026-01-31"})))
    assert (min(longer), max(longer)) == ("2026-01-18", "2026-01-31")
    assert longer["2026-01-20"] == [0, 0, 1, 0]
    searched = chart_rows(body(client.get(reverse("mentions"), {"q": "evening"})))
    assert sum(sum(c) for c in searched.values()) == 1


def test_the_chart_is_in_french_for_french_users(client_of, alice, february):
    alice.language = "fr"
    alice.save()
    page = body(client_of(alice).get(reverse("mentions")))
    assert "Sentiment du 30/01/2026 au 12/02/2026" in page
    assert languages(page) == {"Français": 4, "Anglais": 2, "Autre": 1}


def test_an_empty_workspace_has_no_chart_and_an_empty_range_says_so(client_of, alice, forum):
    client = client_of(alice)
    assert 'id="sentiment-chart"' not in body(client.get(reverse("mentions")))
    make_mention(forum, "one", published_at=at(10))
    page = body(client.get(reverse("mentions"), {"date_to": "2026-01-05"}))
    assert "No mention in these days." in page


def test_the_chart_costs_the_same_queries_whatever_the_data(client_of, alice, forum,
                                                             django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of(alice)
    make_mention(forum, "first", sentiment="negative", lang="fr", published_at=at(1))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("mentions"))
    for day in range(1, 15):
        for sentiment in ("negative", "neutral", "positive"):
            make_mention(forum, f"day {day} {sentiment}", sentiment=sentiment,
                         lang="fr" if day % 2 else "en", published_at=at(day))
    with django_assert_num_queries(len(few.captured_queries)):
        page = body(client.get(reverse("mentions")))
    assert sum(sum(c) for c in chart_rows(page).values()) == 43


def test_hostile_text_stays_escaped_around_the_chart_and_badge(client_of, alice, forum):
    make_mention(forum, "<script>alert(1)</script>", lang="fr", sentiment="negative",
                 sentiment_model='"><img src=x onerror=alert(2)>')
    page = body(client_of(alice).get(reverse("mentions")))
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "Scored by &quot;&gt;&lt;img src=x onerror=alert(2)&gt;." in page


# ---- the model page ------------------------------------------------------------------------


def test_the_model_page_is_in_the_navigation(client_of, alice):
    page = body(client_of(alice).get(reverse("mentions")))
    assert f'<a href="{reverse("sentiment_model")}">Sentiment model</a>' in page
    model_page = body(client_of(alice).get(reverse("sentiment_model")))
    assert 'aria-current="page">Sentiment model</a>' in model_page


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("sentiment_model"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.fixture
def heads(acme, alice):
    ready = SentimentHead.objects.create(
        workspace=acme, version=1, state=HeadState.RETIRED, corrections=24,
        trained_at=NOW - timedelta(days=2), heldout_accuracy=0.8125, base_accuracy=0.75,
        heldout_macro_f1=0.7931, base_macro_f1=0.7012,
    )
    failed = SentimentHead.objects.create(
        workspace=acme, version=2, state=HeadState.FAILED, corrections=30,
        error="ValueError: <b>bad</b> data",
    )
    latest = SentimentHead.objects.create(
        workspace=acme, version=3, state=HeadState.READY, corrections=41, trained_at=NOW,
        heldout_accuracy=0.9, base_accuracy=0.7, heldout_macro_f1=0.88, base_macro_f1=0.69,
    )
    return ready, failed, latest


def head_row(page: str, version: int) -> str:
    match = re.search(rf'<tr id="head-{version}">(.*?)</tr>', page, re.S)
    assert match, f"no row for version {version}"
    return match.group(1)


def test_the_model_page_shows_counts_heads_and_their_figures(client_of, alice, forum, heads):
    for mention in [make_mention(forum, f"m{i}") for i in range(3)]:
        record_correction(mention, "negative", alice, NOW)
    record_correction(Mention.objects.get(text="m0"), "positive", alice, NOW)  # still 3
    page = body(client_of(alice).get(reverse("sentiment_model")))
    assert "3 corrected mentions" in page and "at least 20 needed to train" in page
    assert "17 more corrections needed." in page
    assert "New mentions are scored by the shipped model." in page
    first = head_row(page, 1)
    assert "Retired" in first and "81.2" in first and "75.0" in first
    assert "79.3" in first and "70.1" in first and 'class="num better"' in first
    assert "Switch on" in first
    failed = head_row(page, 2)
    assert "Failed" in failed and "&lt;b&gt;bad&lt;/b&gt;" in failed and "Switch on" not in failed
    assert "Ready to switch on" in head_row(page, 3)
    # Train now is shown but disabled below the minimum.
    assert re.search(r'<button type="submit" class="button primary" disabled>Train now</button>',
                     page)


@pytest.mark.parametrize("who", ["bob", "dora"])
def test_responders_and_viewers_see_the_figures_but_no_buttons(request, client_of, heads, who):
    page = body(client_of(request.getfixturevalue(who)).get(reverse("sentiment_model")))
    assert "81.2" in head_row(page, 1)
    assert "Train now" not in page and "Switch on" not in page
    assert "Only managers and owners can train" in page


def test_an_outsider_sees_only_his_own_workspace_model(client_of, charlie, heads, forum):
    record_correction(make_mention(forum, "Acme secret complaint"), "negative", None, NOW)
    page = body(client_of(charlie).get(reverse("sentiment_model")))
    assert "0 corrected mentions" in page and "No version trained yet." in page
    assert "Acme secret complaint" not in page and 'id="head-1"' not in page


def test_the_latest_corrections_are_listed_escaped_newest_first(client_of, alice, bob, forum):
    old = make_mention(forum, "<img src=x onerror=alert(1)> " + "long " * 60, lang="fr",
                       sentiment="neutral", sentiment_model="model-x")
    new = make_mention(forum, "second one", sentiment="positive")
    record_correction(old, "negative", bob, NOW - timedelta(hours=2))
    record_correction(new, "negative", None, NOW)
    for i in range(25):
        record_correction(make_mention(forum, f"bulk {i}"), "neutral", alice,
                          NOW - timedelta(days=1, minutes=i))
    page = body(client_of(alice).get(reverse("sentiment_model")))
    assert page.count('<tr id="correction-') == 20
    assert page.index("second one") < page.index("bulk 0")
    assert "bulk 24" not in page and "<img src=x" not in page  # the oldest fall off
    SentimentCorrection.objects.filter(mention__text__startswith="bulk").delete()
    page = body(client_of(alice).get(reverse("sentiment_model")))
    row = re.search(rf'<tr id="correction-{old.corrections.get().pk}">(.*?)</tr>', page, re.S)
    assert row
    assert "&lt;img src=x onerror=alert(1)&gt;" in row.group(1) and "…" in row.group(1)
    assert "Neutral" in row.group(1) and "Negative" in row.group(1) and "bob" in row.group(1)


def test_an_owner_switches_a_version_on_and_back_to_the_shipped_model(client_of, alice, heads):
    client = client_of(alice)
    response = client.post(reverse("sentiment_activate", args=[3]))
    assert response.status_code == 302 and response["Location"] == reverse("sentiment_model")
    assert SentimentHead.objects.get(version=3).state == HeadState.ACTIVE
    page = body(client.get(reverse("sentiment_model")))
    assert "Version 3 is switched on" in page
    assert "New mentions are scored by version 3 of this workspace’s model." in page
    assert "Use the shipped model" in page
    # Switching version 1 back on retires version 3.
    client.post(reverse("sentiment_activate", args=[1]))
    states = dict(SentimentHead.objects.values_list("version", "state"))
    assert states == {1: HeadState.ACTIVE, 2: HeadState.FAILED, 3: HeadState.RETIRED}
    assert SentimentHead.objects.get(version=1).activated_by == alice
    client.post(reverse("sentiment_use_shipped"))
    assert not SentimentHead.objects.filter(state=HeadState.ACTIVE).exists()
    page = body(client.get(reverse("sentiment_model")))
    assert "New mentions are scored with the shipped model again." in page
    client.post(reverse("sentiment_use_shipped"))
    assert "already in use" in body(client.get(reverse("sentiment_model")))


def test_a_failed_version_cannot_be_switched_on(client_of, alice, heads):
    client = client_of(alice)
    client.post(reverse("sentiment_activate", args=[2]))
    assert SentimentHead.objects.get(version=2).state == HeadState.FAILED
    page = body(client.get(reverse("sentiment_model")))
    assert "Version 2 is “Failed”: only a version that is ready or retired" in page
    assert client.post(reverse("sentiment_activate", args=[99])).status_code == 404


@pytest.mark.parametrize("who", ["bob", "dora"])
def test_below_manager_nothing_can_be_trained_or_switched(request, client_of, heads, who):
    client = client_of(request.getfixturevalue(who))
    assert client.post(reverse("sentiment_activate", args=[3])).status_code == 403
    assert client.post(reverse("sentiment_use_shipped")).status_code == 403
    assert client.post(reverse("sentiment_train")).status_code == 403
    assert SentimentHead.objects.get(version=3).state == HeadState.READY
    assert SentimentHead.objects.count() == 3


def test_an_outsider_cannot_switch_another_workspaces_version(client_of, charlie, heads):
    client = client_of(charlie)
    assert client.post(reverse("sentiment_activate", args=[3])).status_code == 404
    client.post(reverse("sentiment_use_shipped"))
    client.post(reverse("sentiment_train"))
    assert SentimentHead.objects.get(version=3).state == HeadState.READY
    assert SentimentHead.objects.count() == 3


def test_training_needs_enough_corrections(client_of, alice, forum):
    record_correction(make_mention(forum, "only one"), "negative", alice, NOW)
    client = client_of(alice)
    response = client.post(reverse("sentiment_train"))
    assert response.status_code == 302
    assert "19 more corrections are needed before training." in body(
        client.get(reverse("sentiment_model")))
    assert not SentimentHead.objects.exists()


def test_train_now_trains_a_version_and_shows_its_figures(client_of, alice, forum):
    correct_enough(forum, alice)
    client = client_of(alice)
    page = body(client.get(reverse("sentiment_model")))
    assert "20 corrected mentions" in page and "more correction" not in page
    assert re.search(r'<button type="submit" class="button primary">Train now</button>', page)
    response = client.post(reverse("sentiment_train"))  # the test task backend runs it at once
    assert response.status_code == 302
    head = SentimentHead.objects.get()
    assert head.state == HeadState.READY and head.corrections == 20
    assert head.heldout_accuracy is not None and head.base_accuracy is not None
    page = body(client.get(reverse("sentiment_model")))
    assert "Training queued." in page
    row = head_row(page, 1)
    assert "Ready to switch on" in row and "Switch on" in row
    for figure in (head.heldout_accuracy, head.base_accuracy, head.heldout_macro_f1,
                   head.base_macro_f1):
        assert f"{100 * figure:.1f}\u00a0%" in row
    client.post(reverse("sentiment_activate", args=[1]))
    assert SentimentHead.objects.get().state == HeadState.ACTIVE


def test_corrections_through_the_page_queue_a_retraining_when_due(
    client_of, bob, forum, django_capture_on_commit_callbacks
):
    mentions = correct_enough(forum, bob)
    SentimentCorrection.objects.filter(mention=mentions[-1]).delete()
    assert not SentimentHead.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_of(bob).post(correction_url(mentions[-1]), {"label": "positive"},
                                       HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    head = SentimentHead.objects.get()
    assert head.corrections == MIN_CORRECTIONS and head.state == HeadState.READY
    assert head.trained_at is not None and head.trained_at <= timezone.now()
