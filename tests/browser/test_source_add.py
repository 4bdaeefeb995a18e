"""Adding an RSS feed in a real headless Chromium: test it, save it, one poll, its mentions.

The feed is our own fixture (tests/fixtures/sources/ui/fibrelune.xml) served on loopback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser import test_pages as pages
from veilleur.accounts.models import Role
from veilleur.monitoring.models import Mention, Source

# The fixtures and marks of the other page tests (Chromium, a live server).
browser, page = pages.browser, pages.page
pytestmark = pages.pytestmark

FEED = Path(__file__).parents[1] / "fixtures" / "sources" / "ui" / "fibrelune.xml"
TITLES = ["Coupure de la box depuis ce matin à Nantes", "Le service client a enfin répondu",
          "Débit montant divisé par deux ?"]


@pytest.fixture
def dana(acme):
    from veilleur.accounts.models import User
    from veilleur.accounts.services import add_member

    user = User.objects.create_user("dana", "dana@example.org", "dana-pw-123")
    add_member(acme, user, Role.MANAGER)
    return user


@pytest.fixture
def feed_url(httpserver):
    httpserver.expect_request("/forum.rss").respond_with_data(
        FEED.read_bytes(), content_type="application/rss+xml")
    return httpserver.url_for("/forum.rss")


def test_a_manager_adds_an_rss_feed_and_sees_its_items_after_one_poll(page, live_server, dana,
                                                                       feed_url):
    pages.log_in(page, live_server, "dana")
    page.click("nav.mainnav a[href='/sources/']")
    page.click("text=Add a source")
    page.click("#kind-rss a")
    page.wait_for_selector("h1:has-text('Add a source')")
    page.fill("#id_name", "Forum Fibrelune")
    page.fill("#id_config_url", feed_url)
    page.evaluate("window.__sameDocument = true")

    page.click("#source-test-button")
    result = page.wait_for_selector("#source-test .test-result.test-ok")
    text = result.inner_text()
    assert "3 items fetched" in text
    for title in TITLES:
        assert title in text
    assert page.evaluate("window.__sameDocument") is True  # the panel was swapped in
    assert page.input_value("#id_name") == "Forum Fibrelune"  # the form is untouched
    assert not Source.objects.exists() and not Mention.objects.exists()

    page.click("#source-save")
    page.wait_for_selector("h1:has-text('Forum Fibrelune')")
    assert page.locator("#source-health").inner_text() == "OK"
    assert "Not polled yet" in page.locator(".health-summary").inner_text()
    source = Source.objects.get(name="Forum Fibrelune")
    assert source.kind == "rss" and source.config["url"] == feed_url

    call_command("poll", str(source.pk))  # the poll the scheduler would make

    page.click("nav.mainnav a[href='/']")
    page.wait_for_selector("h1:has-text('Mentions')")
    shown = page.locator("article.mention").all_inner_texts()
    for title in TITLES:
        assert any(title in article for article in shown), title
    page.goto(f"{live_server.url}/sources/{source.pk}/")
    assert page.locator("#mention-count").inner_text() == "3"
    assert "The last poll worked." in page.locator(".health-summary").inner_text()


def test_sources_list_and_dashboard_banner_fit_a_phone(page, live_server, dana, acme):
    from veilleur.monitoring.models import Health
    from veilleur.monitoring.sources import create_source

    long_error = ("https://feeds.example.org/very/long/path/" + "segment/" * 30 +
                  " answered HTTP 502 <html><body>" + "Bad gateway " * 40)
    for n, health in enumerate((Health.FAILING, Health.DEGRADED, Health.DISABLED)):
        source = create_source(acme, "rss",
                               f"Flux régional numéro {n} avec un nom assez long",
                               {"url": f"https://feeds.example.org/{n}.xml"})
        Source.objects.filter(pk=source.pk).update(health=health, last_error=long_error)
    page.set_viewport_size({"width": 390, "height": 844})
    pages.log_in(page, live_server, "dana")
    for path in ("/sources/", "/"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 391, f"{path} scrolls sideways on a phone ({width}px)"
    assert page.locator("#source-banner li").count() == 3
