"""The server-rendered pages: access rules, workspace isolation, filters, escaping, live updates."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from veilleur.accounts.middleware import SESSION_KEY
from veilleur.accounts.models import Role, User
from veilleur.accounts.services import add_member
from veilleur.monitoring.models import Author, Health, Mention, Source, SourceEvent, Watch

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)
BASE_TIME = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def make_source(workspace, name: str = "Forum", kind: str = "rss", **fields) -> Source:
    return Source.objects.create(workspace=workspace, name=name, kind=kind, **fields)


def make_mention(source: Source, text: str, **fields) -> Mention:
    n = next(_ids)
    fields.setdefault("published_at", BASE_TIME + timedelta(minutes=n))
    watches = fields.pop("watches", [])
    mention = Mention.objects.create(
        workspace=source.workspace, source=source, external_id=f"ext-{n}",
        text=text, content_hash=f"{n:040d}", **fields,
    )
    mention.watches.set(watches)
    return mention


@pytest.fixture
def acme_data(acme):
    watch = Watch.objects.create(workspace=acme, name="Acme brand", query="acme", languages=["fr"])
    forum = make_source(acme, "Acme forum")
    reviews = make_source(acme, "Acme reviews", kind="file")
    author = Author.objects.create(
        workspace=acme, platform="forum", handle="@jdupont", display_name="Jeanne Dupont",
        followers=12345,
    )
    first = make_mention(forum, "Acme livraison en retard", lang="fr", author=author,
                         watches=[watch], url="https://forum.example/t/1")
    second = make_mention(reviews, "Acme support was great", lang="en", sentiment="positive")
    return {"watch": watch, "forum": forum, "reviews": reviews, "mentions": [first, second]}


@pytest.fixture
def globex_data(globex):
    source = make_source(globex, "Globex feed")
    watch = Watch.objects.create(workspace=globex, name="Globex brand", query="globex")
    mention = make_mention(source, "Globex secret roadmap", lang="en")
    return {"source": source, "watch": watch, "mention": mention}


def body(response) -> str:
    return response.content.decode()


# ---- access ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mentions", "sources", "watches"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_an_expired_session_redirects_the_whole_page_on_a_live_poll(client):
    response = client.get(reverse("mentions") + "?after=0", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login")


def test_the_login_form_logs_in_and_lands_on_the_mentions(client, alice):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="password"' in body(page)
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-pw-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("mentions")


def test_logout_is_a_post_and_ends_the_session(client_of, alice):
    client = client_of(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("mentions")).status_code == 302


def test_a_user_without_workspace_gets_a_friendly_page(client_of, db):
    loner = User.objects.create_user("dora", "dora@example.org", "dora-pw-123")
    for name in ("mentions", "sources", "watches"):
        response = client_of(loner).get(reverse(name))
        assert response.status_code == 200
        assert "No workspace yet" in body(response)


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_members_see_their_workspace_data(request, client_of, acme_data, who):
    client = client_of(request.getfixturevalue(who))
    mentions = body(client.get(reverse("mentions")))
    assert "Acme livraison en retard" in mentions
    assert "Acme support was great" in mentions
    assert "Jeanne Dupont" in mentions and "12,345 followers" in mentions
    sources = body(client.get(reverse("sources")))
    assert "Acme forum" in sources and "Acme reviews" in sources
    watches = body(client.get(reverse("watches")))
    assert "Acme brand" in watches


def test_an_outsider_sees_only_his_own_workspace(client_of, charlie, acme_data, globex_data):
    client = client_of(charlie)
    pages = "".join(body(client.get(reverse(n))) for n in ("mentions", "sources", "watches"))
    assert "Globex secret roadmap" in pages
    assert "Globex feed" in pages and "Globex brand" in pages
    assert "Acme" not in pages


def test_an_outsider_cannot_switch_into_another_workspace(client_of, charlie, acme, acme_data,
                                                          globex_data):
    client = client_of(charlie)
    response = client.post(reverse("switch_workspace"), {"workspace": acme.pk})
    assert response.status_code == 403
    assert client.session.get(SESSION_KEY) != acme.pk
    assert "Acme livraison" not in body(client.get(reverse("mentions")))


def test_a_member_of_two_workspaces_switches_between_them(client_of, alice, globex, acme_data,
                                                          globex_data):
    add_member(globex, alice, Role.VIEWER)
    client = client_of(alice)
    assert "Acme livraison" in body(client.get(reverse("mentions")))  # first by name
    response = client.post(
        reverse("switch_workspace"),
        {"workspace": globex.pk, "next": reverse("sources") + "?x=1"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("sources")  # filters of the old workspace dropped
    page = body(client.get(reverse("mentions")))
    assert "Globex secret roadmap" in page and "Acme livraison" not in page


def test_a_switch_never_redirects_off_site(client_of, alice, acme):
    response = client_of(alice).post(
        reverse("switch_workspace"), {"workspace": acme.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("mentions")


# ---- sources: enable / disable -----------------------------------------------------------


def test_an_owner_disables_and_enables_a_source(client_of, alice, acme_data):
    forum = acme_data["forum"]
    client = client_of(alice)
    assert "Disable" in body(client.get(reverse("sources")))
    url = reverse("source_enabled", args=[forum.pk])
    assert client.post(url, {"enabled": "0"}).status_code == 302
    forum.refresh_from_db()
    assert forum.health == Health.DISABLED
    event = SourceEvent.objects.get(source=forum)
    assert (event.actor, event.to_health) == ("alice", Health.DISABLED)
    assert "not scheduled" in body(client.get(reverse("sources")))
    client.post(url, {"enabled": "1"})
    forum.refresh_from_db()
    assert forum.health == Health.OK


def test_a_responder_cannot_disable_a_source(client_of, bob, acme_data):
    forum = acme_data["forum"]
    client = client_of(bob)
    page = body(client.get(reverse("sources")))
    assert "Disable" not in page and "Only managers and owners" in page
    response = client.post(reverse("source_enabled", args=[forum.pk]), {"enabled": "0"})
    assert response.status_code == 403
    forum.refresh_from_db()
    assert forum.health == Health.OK


def test_an_outsider_cannot_disable_another_workspaces_source(client_of, charlie, acme_data,
                                                             globex_data):
    forum = acme_data["forum"]
    response = client_of(charlie).post(
        reverse("source_enabled", args=[forum.pk]), {"enabled": "0"}
    )
    assert response.status_code == 404
    forum.refresh_from_db()
    assert forum.health == Health.OK
    assert not SourceEvent.objects.exists()


def test_enabling_an_enabled_source_changes_nothing(client_of, alice, acme_data):
    forum = acme_data["forum"]
    response = client_of(alice).post(reverse("source_enabled", args=[forum.pk]), {"enabled": "1"})
    assert response.status_code == 302
    assert not SourceEvent.objects.exists()


def test_a_bad_enabled_value_is_refused(client_of, alice, acme_data):
    url = reverse("source_enabled", args=[acme_data["forum"].pk])
    assert client_of(alice).post(url, {"enabled": "maybe"}).status_code == 400
    assert client_of(alice).get(url).status_code == 405


def test_the_sources_page_shows_health_counts_and_escaped_errors(client_of, alice, acme_data):
    forum = acme_data["forum"]
    forum.health = Health.FAILING
    forum.last_error = "HTTP 500 <img src=x onerror=alert(1)>"
    forum.save()
    page = body(client_of(alice).get(reverse("sources")))
    assert "health-failing" in page and "Failing" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    row = re.search(rf'<tr id="source-{forum.pk}">.*?</tr>', page, re.S).group(0)
    assert '<td class="num">1</td>' in row


def test_the_watches_page_shows_query_languages_and_counts(client_of, alice, acme_data):
    page = body(client_of(alice).get(reverse("watches")))
    row = re.search(r'<tr id="watch-\d+">.*?</tr>', page, re.S).group(0)
    assert "acme" in row and "FR" in row and '<td class="num">1</td>' in row and "Active" in row


# ---- mentions: content, escaping, filters, pages --------------------------------------------


def test_hostile_mention_text_is_escaped(client_of, alice, acme_data):
    forum = acme_data["forum"]
    author = Author.objects.create(workspace=forum.workspace, platform="x",
                                   handle="<b>h</b>", display_name="<script>bad()</script>")
    make_mention(forum, "Look <script>alert(1)</script> here", author=author,
                 title='"><svg onload=alert(2)>', url="javascript:alert(3)")
    page = body(client_of(alice).get(reverse("mentions")))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>bad()" not in page and "<svg" not in page and "<b>h</b>" not in page
    assert "javascript:alert(3)" not in page


def test_links_open_safely_and_long_texts_are_truncated(client_of, alice, acme_data):
    make_mention(acme_data["forum"], "x" * 5000)
    page = body(client_of(alice).get(reverse("mentions")))
    assert 'href="https://forum.example/t/1" rel="noopener noreferrer nofollow"' in page
    assert "x" * 601 not in page and "x" * 599 + "…" in page


def test_times_are_shown_in_the_configured_time_zone(client_of, alice, acme):
    source = make_source(acme)
    make_mention(source, "winter", published_at=datetime(2025, 1, 15, 12, 0, tzinfo=UTC))
    page = body(client_of(alice).get(reverse("mentions")))
    assert 'datetime="2025-01-15T13:00:00+01:00"' in page  # Europe/Paris in winter


def test_mentions_are_newest_first_and_paginated_by_fifty(client_of, alice, acme):
    source = make_source(acme)
    for i in range(55):
        make_mention(source, f"numbered mention {i:02d}.")
    client = client_of(alice)
    first = body(client.get(reverse("mentions")))
    assert first.count('class="mention"') == 50
    assert first.index("numbered mention 54.") < first.index("numbered mention 53.")
    assert "numbered mention 04." not in first and "Page 1 of 2" in first
    second = body(client.get(reverse("mentions") + "?page=2"))
    assert second.count('class="mention"') == 5 and "numbered mention 00." in second
    assert 'id="live-poller"' not in second  # only the first page updates live


def test_search_results_are_newest_first_and_paginated(client_of, alice, acme, globex):
    source = make_source(acme)
    other = make_source(acme, name="Other")
    for i in range(55):
        make_mention(source, f"panne numéro {i:02d}.")
    make_mention(other, "panne ailleurs")  # filtered out by source
    make_mention(source, "tout va bien")  # no hit
    make_mention(make_source(globex), "panne chez Globex")  # other workspace
    client = client_of(alice)
    url = reverse("mentions") + f"?q=panne&source={source.pk}"
    first = body(client.get(url))
    assert first.count('class="mention"') == 50 and "Page 1 of 2" in first
    assert first.index("numéro 54.") < first.index("numéro 53.")
    assert "<mark>panne</mark>" in first
    second = body(client.get(url + "&page=2"))
    assert second.count('class="mention"') == 5 and "numéro 00." in second
    for page in (first, second):
        assert "ailleurs" not in page and "tout va bien" not in page and "Globex" not in page
    beyond = body(client.get(url + "&page=9"))  # past the end: the last page, as without q
    assert beyond.count('class="mention"') == 5 and "Page 2 of 2" in beyond
    assert body(client.get(url + "&page=abc")).count('class="mention"') == 50


def test_an_empty_workspace_says_so(client_of, alice):
    page = body(client_of(alice).get(reverse("mentions")))
    assert "No mentions yet." in page


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        ("lang=fr", "Acme livraison", "Acme support"),
        ("lang=en", "Acme support", "Acme livraison"),
        ("sentiment=positive", "Acme support", "Acme livraison"),
        ("q=SUPPORT", "Acme <mark>support</mark>", "Acme livraison"),  # hits highlighted
        ("q=retard", "Acme livraison", "Acme support"),
    ],
)
def test_mention_filters(client_of, alice, acme_data, query, expected, absent):
    page = body(client_of(alice).get(reverse("mentions") + "?" + query))
    assert expected in page and absent not in page


def test_watch_and_source_filters(client_of, alice, acme_data):
    client = client_of(alice)
    by_watch = body(client.get(reverse("mentions"), {"watch": acme_data["watch"].pk}))
    assert "Acme livraison" in by_watch and "Acme support" not in by_watch
    by_source = body(client.get(reverse("mentions"), {"source": acme_data["reviews"].pk}))
    assert "Acme support" in by_source and "Acme livraison" not in by_source


def test_date_range_filter_uses_whole_local_days(client_of, alice, acme):
    source = make_source(acme)
    # 23:30 UTC on the 14th is 00:30 on the 15th in Paris: it belongs to the 15th.
    make_mention(source, "late evening", published_at=datetime(2025, 1, 14, 23, 30, tzinfo=UTC))
    make_mention(source, "the day before", published_at=datetime(2025, 1, 14, 12, 0, tzinfo=UTC))
    make_mention(source, "the day after", published_at=datetime(2025, 1, 16, 12, 0, tzinfo=UTC))
    page = body(client_of(alice).get(reverse("mentions"),
                                     {"date_from": "2025-01-15", "date_to": "2025-01-15"}))
    assert "late evening" in page
    assert "the day before" not in page and "the day after" not in page


def test_a_reversed_date_range_is_an_error(client_of, alice, acme_data):
    page = body(client_of(alice).get(reverse("mentions"),
                                     {"date_from": "2025-02-01", "date_to": "2025-01-01"}))
    assert "The end date must not be before the start date." in page


def test_filtering_by_another_workspaces_watch_reveals_nothing(client_of, alice, acme_data,
                                                               globex_data):
    page = body(client_of(alice).get(reverse("mentions"), {"watch": globex_data["watch"].pk}))
    assert "Select a valid choice" in page
    assert "Globex" not in page


def test_filter_choices_list_only_the_workspace_own_watches_and_sources(client_of, alice,
                                                                        acme_data, globex_data):
    page = body(client_of(alice).get(reverse("mentions")))
    assert "Acme brand" in page and "Acme reviews" in page
    assert "Globex brand" not in page and "Globex feed" not in page


# ---- live updates ----------------------------------------------------------------------------


def poller_after(page: str) -> int:
    match = re.search(r'id="live-poller"[^>]*hx-get="[^"]*after=(\d+)"', page, re.S)
    assert match, "no live poller in the page"
    return int(match.group(1))


def test_the_live_partial_returns_only_newer_mentions(client_of, alice, acme_data, globex_data):
    client = client_of(alice)
    after = poller_after(body(client.get(reverse("mentions"))))
    assert after == max(m.pk for m in acme_data["mentions"])
    poll = client.get(reverse("mentions"), {"after": after}, HTTP_HX_REQUEST="true")
    assert poll.status_code == 204  # nothing new: htmx leaves the page as it is
    fresh = make_mention(acme_data["forum"], "Brand new <i>complaint</i>")
    make_mention(globex_data["source"], "Globex news, not for Acme")
    poll = client.get(reverse("mentions"), {"after": after}, HTTP_HX_REQUEST="true")
    assert poll.status_code == 200
    partial = body(poll)
    assert "Brand new &lt;i&gt;complaint&lt;/i&gt;" in partial
    assert partial.count('class="mention is-new"') == 1
    assert "Acme livraison" not in partial and "Globex" not in partial
    assert "<html" not in partial
    assert poller_after(partial) == fresh.pk


def test_the_live_partial_keeps_the_filters(client_of, alice, acme_data):
    client = client_of(alice)
    page = body(client.get(reverse("mentions"), {"lang": "fr"}))
    assert "lang=fr&amp;after=" in page
    make_mention(acme_data["reviews"], "english arrival", lang="en")
    make_mention(acme_data["forum"], "arrivée française", lang="fr")
    partial = body(client.get(reverse("mentions"), {"lang": "fr", "after": poller_after(page)}))
    assert "arrivée française" in partial and "english arrival" not in partial


def test_a_bad_live_cursor_is_refused(client_of, alice, acme_data):
    assert client_of(alice).get(reverse("mentions"), {"after": "abc"}).status_code == 400
    assert client_of(alice).get(reverse("mentions"), {"after": "-1"}).status_code == 400


def test_an_unknown_but_valid_language_code_filters_and_a_bad_one_is_an_error(client_of, alice,
                                                                             acme_data):
    client = client_of(alice)
    make_mention(acme_data["forum"], "ein deutscher Text", lang="de")
    page = body(client.get(reverse("mentions"), {"lang": "de"}))
    assert "ein deutscher Text" in page and "Acme livraison" not in page
    assert '<option value="de" selected>' in page
    bad = body(client.get(reverse("mentions"), {"lang": "<x>"}))
    assert "Enter a language code such as fr or en." in bad and "&lt;x&gt;" not in bad


def test_the_mentions_page_costs_a_fixed_number_of_queries(client_of, alice, acme_data,
                                                           django_assert_max_num_queries):
    for i in range(60):
        make_mention(acme_data["forum"], f"bulk {i}", watches=[acme_data["watch"]])
    client = client_of(alice)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("mentions")).status_code == 200
    with django_assert_max_num_queries(10):
        client.get(reverse("mentions"), {"after": 0})
