"""The incident pages in a real headless Chromium: chart, explained signals, French titles,
and a layout that fits a phone.

Needs Debian's ``chromium`` (see tests/browser/test_pages.py). Set
``VEILLEUR_SCREENSHOTS=/some/dir`` to keep full-page screenshots of the list and the
detail, in English and French, at desktop and phone widths (to look at the layout).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation

from tests.browser.test_pages import CHROMIUM, browser, log_in  # noqa: F401 (fixture)
from veilleur.crisis.incidents import SignalData, record_signal
from veilleur.crisis.models import Incident
from veilleur.monitoring.models import Author, Mention, Source, Watch

TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium on PATH: install it (apt-get install chromium)"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def context_of(browser):  # noqa: F811 (the imported fixture)
    """``context_of(viewport)``: a fresh page at that size; JavaScript errors fail the test."""
    contexts, errors = [], []

    def open_page(viewport: dict[str, int]):
        context = browser.new_context(locale="en-US", timezone_id="Europe/Paris",
                                      viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def incident(acme, alice) -> Incident:
    """A crisis on "Fibrelune": a calm morning, then complaints; two explained signals
    (a negative shift opens it, a sustained rise follows), recorded while English is
    active, as the scheduler does."""
    now = timezone.now()
    source = Source.objects.create(workspace=acme, name="Forum Fibrelune", kind="rss")
    watch = Watch.objects.create(workspace=acme, name="Fibrelune", query="fibrelune")
    voice, _ = Author.objects.get_or_create(
        workspace=acme, platform="forum", handle="@marie.dupont",
        defaults={"display_name": "Marie Dupont", "followers": 5400})
    mentions = []
    for n in range(60):
        crisis = n >= 30
        mention = Mention.objects.create(
            workspace=acme, source=source, external_id=f"i-{n}", author=voice, lang="fr",
            text=(f"Fibrelune m'a prélevé deux fois ce mois-ci, remboursement ? #{n}" if crisis
                  else f"Installation de la box Fibrelune faite ce matin, tout va bien #{n}"),
            sentiment="negative" if crisis else "neutral", content_hash=f"{n:040d}",
            published_at=(now - timedelta(minutes=120 - 3 * (n - 30)) if crisis
                          else now - timedelta(hours=7) + timedelta(minutes=7 * n)),
            url=f"https://forum.example/t/{n}")
        mention.watches.set([watch])
        mentions.append(mention)
    evidence = mentions[-1]
    explanation = {
        "mentions": 30, "top_terms": [["prélevé", 28], ["remboursement", 21], ["deux", 19]],
        "hashtags": [["#arnaque", 6]], "sources": [{"name": "Forum Fibrelune", "count": 30}],
        "authors": [{"name": "@marie.dupont", "count": 30, "reach": 5400}],
        "sentiment": {"negative": 30, "neutral": 0},
        "examples": [{"id": evidence.pk, "text": evidence.text, "author": "@marie.dupont",
                      "url": evidence.url, "reach": 5400, "sentiment": "negative"}],
    }
    opened = now - timedelta(hours=1)
    slow_rise = ("51 observed vs 21.5 expected over the last 65 min (2.4x); evidence 11.6 "
                 "(fires at 10); overdispersion 1.1")
    with translation.override("en"):
        first = record_signal(watch, SignalData(
            kind="negative_shift", window_start=opened - timedelta(hours=1), window_end=opened,
            observed=0.64, expected=0.25, confidence=0.9993, severity=3,
            explanation={**explanation, "details": {"negative": 30, "baseline_share": 0.25}},
            mention_ids=(evidence.pk,)), opened)
        record_signal(watch, SignalData(
            kind="slow_rise", window_start=opened - timedelta(minutes=45),
            window_end=opened + timedelta(minutes=20), observed=51, expected=21.5,
            confidence=0.99999, severity=3,
            explanation={**explanation, "details": {"slow_rise": slow_rise}},
            mention_ids=(evidence.pk,)), opened + timedelta(minutes=20))
    assert first is not None
    assert first.incident.title == "Negative shift on Fibrelune"  # stored in English
    return first.incident


def fits_the_width(page) -> bool:
    """The page's content is no wider than the viewport: nothing in it makes a phone
    scroll sideways (a wide table scrolls inside its own frame). The top bar is the
    base layout's, checked elsewhere."""
    return page.evaluate("""() => {
        const main = document.querySelector('main');
        return main.getBoundingClientRect().right <= window.innerWidth + 1
            && main.scrollWidth <= main.clientWidth + 1; }""")


def shoot(page, name: str) -> None:
    """With VEILLEUR_SCREENSHOTS set: the full page, and a tall page in parts too (an
    image viewer shrinks a long phone page until it cannot be read)."""
    folder = os.environ.get("VEILLEUR_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
    size = page.evaluate("[document.documentElement.scrollWidth, "
                         "document.documentElement.scrollHeight]")
    part = 1200
    for n, top in enumerate(range(0, size[1], part)) if size[1] > 1.5 * part else ():
        clip = {"x": 0, "y": top, "width": size[0], "height": min(part, size[1] - top)}
        page.screenshot(path=str(Path(folder) / f"{name}-part{n + 1}.png"), full_page=True,
                        clip=clip)


def test_the_incident_page_shows_its_chart_and_why_its_signals_fired_in_french(
        context_of, live_server, alice, incident):
    page = context_of(DESKTOP)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    assert page.locator("h1").inner_text() == "Negative shift on Fibrelune"
    page.click(".language-switcher button[value=fr]")
    page.wait_for_selector("html[lang=fr]")

    assert page.locator("h1").inner_text() == "Bascule négative sur Fibrelune"
    assert page.title().startswith("Bascule négative sur Fibrelune")
    # The chart: one bar per 5 minutes, the opening bucket marked, drawn (not empty).
    chart = page.locator("#incident-chart")
    assert chart.is_visible()
    bars = chart.locator("li.chart-day")
    assert bars.count() >= 60
    assert chart.locator("li.is-opened").count() == 1
    heights = page.evaluate("""() => [...document.querySelectorAll(
        '#incident-chart .day-bar')].map(bar => bar.getBoundingClientRect().height)""")
    assert max(heights) > 20
    # Both signals, each with its explanation: terms, sources, examples, the figures.
    cards = page.locator("article.signal-card")
    assert cards.count() == 2
    slow = cards.first  # newest first: the sustained rise
    assert slow.locator(".explanation-terms").inner_text().count("prélevé") == 1
    assert "51 observés, 21,5 attendus" in slow.locator(".signal-figures").inner_text()
    assert "deux fois ce mois-ci" in slow.locator(".examples").inner_text()
    slow.locator("details.technical summary").click()
    assert "fires at 10" in slow.locator("details.technical").inner_text()
    assert "Chronologie" in page.locator("#timeline").inner_text()
    # The list, in French too.
    page.goto(f"{live_server.url}/incidents/")
    row = page.locator(f"#incident-{incident.pk}")
    assert "Bascule négative sur Fibrelune" in row.inner_text()


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_incident_pages_fit_the_screen_in_both_languages(context_of, live_server, alice,
                                                             incident, viewport, label):
    page = context_of(viewport)
    log_in(page, live_server, "alice")
    for language in ("en", "fr"):
        if language == "fr":
            page.click(".language-switcher button[value=fr]")
            page.wait_for_selector("html[lang=fr]")
        for name, path in (("list", "/incidents/"), ("detail", f"/incidents/{incident.pk}/")):
            page.goto(live_server.url + path)
            page.wait_for_selector("h1")
            shoot(page, f"incident-{name}-{language}-{label}")
            assert fits_the_width(page), f"{path} ({language}) scrolls sideways at {label}"
            if name == "detail":  # the title is not squeezed to a sliver by its badges
                title = page.locator("h1").bounding_box()
                assert title is not None and title["width"] >= min(300, viewport["width"] - 80)
    # On a phone the table of incidents scrolls inside its frame, not the page.
    page.goto(f"{live_server.url}/incidents/")
    assert fits_the_width(page)
