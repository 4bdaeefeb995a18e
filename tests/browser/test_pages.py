"""The pages in a real headless Chromium: log in, switch language, watch mentions arrive live.

Needs Debian's ``chromium`` (``apt-get install chromium``; .ci/run installs it); the tests
skip, saying so, on a machine without it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from veilleur.monitoring.models import Author, Mention, Source

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# the ORM calls the tests make between two browser steps.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium on PATH: install it (apt-get install chromium)"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(locale="en-US", timezone_id="Europe/Paris")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def forum(acme) -> Source:
    return Source.objects.create(workspace=acme, name="Acme forum", kind="rss")


def add_mention(source: Source, text: str, n: int, **fields) -> Mention:
    author, _ = Author.objects.get_or_create(
        workspace=source.workspace, platform="forum", handle="@client",
        defaults={"display_name": "Un client", "followers": 1200},
    )
    return Mention.objects.create(
        workspace=source.workspace, source=source, external_id=f"b-{n}", text=text,
        author=author, lang="fr", content_hash=f"{n:040d}",
        published_at=timezone.now() - timedelta(minutes=10 - n),
        url=f"https://forum.example/t/{n}", **fields,
    )


def log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/")
    assert "/login/" in page.url  # anonymous visitors land on the login form
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-pw-123")
    page.click("form.stacked button[type=submit]")
    page.wait_for_selector("h1:has-text('Mentions')")


def test_logging_in_through_the_form_shows_the_mentions(page, live_server, alice, forum):
    add_mention(forum, "Le colis est arrivé cassé <script>window.pwned=1</script>", 1)
    log_in(page, live_server, "alice")
    article = page.locator("article.mention")
    assert article.count() == 1
    assert "<script>window.pwned=1</script>" in article.inner_text()  # shown as text
    assert page.evaluate("window.pwned") is None  # never executed
    assert page.evaluate("typeof htmx") == "object"  # the vendored htmx is served
    assert page.locator("nav.mainnav a[aria-current=page]").inner_text() == "Mentions"


def test_switching_to_french_translates_the_page_and_is_remembered(page, live_server, alice,
                                                                    forum):
    add_mention(forum, "Service client injoignable", 1)
    log_in(page, live_server, "alice")
    assert page.locator("nav.mainnav").inner_text().split() == [
        "Mentions", "Incidents", "Sources", "Watches", "Sentiment", "model", "Alerts"]
    page.click(".language-switcher button[value=fr]")
    page.wait_for_selector("html[lang=fr]")
    assert page.locator("nav.mainnav").inner_text().split() == [
        "Mentions", "Incidents", "Sources", "Veilles", "Modèle", "de", "sentiment", "Alertes"]
    assert page.locator(".filters button[type=submit]").inner_text() == "Filtrer"
    assert page.locator(".logout button").inner_text() == "Se déconnecter"
    alice.refresh_from_db()
    assert alice.language == "fr"
    page.click("nav.mainnav a[href='/sources/']")
    page.wait_for_selector("h1:has-text('Sources')")
    assert page.locator("thead").inner_text().lower().count("dernière collecte") == 1


def test_a_new_mention_appears_without_reloading(page, live_server, alice, forum):
    add_mention(forum, "Première mention", 1)
    log_in(page, live_server, "alice")
    page.evaluate("window.__sameDocument = true")
    add_mention(forum, "Panne générale signalée à Lyon", 2)
    arrived = page.wait_for_selector("article.mention.is-new:has-text('Panne générale')")
    assert arrived is not None
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    texts = page.locator("article.mention .mention-text").all_inner_texts()
    assert texts == ["Panne générale signalée à Lyon", "Première mention"]
    # The next poll continues after the new mention: it is not added twice.
    page.wait_for_timeout(5000)
    assert page.locator("article.mention").count() == 2
