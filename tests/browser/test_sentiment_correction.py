"""A sentiment correction in a real headless Chromium: htmx swaps the badge in place."""

from __future__ import annotations

from tests.browser import test_pages as pages
from veilleur.monitoring.models import Mention
from veilleur.sentiment.models import SentimentCorrection

# The fixtures and marks of the other page tests (Chromium, a live server, Acme's forum).
browser, page, forum = pages.browser, pages.page, pages.forum
pytestmark = pages.pytestmark


def test_a_responder_corrects_a_sentiment_without_reloading(page, live_server, bob, forum):
    mention = pages.add_mention(forum, "Toujours pas reçu ma commande", 1, sentiment="positive",
                                sentiment_scores={"negative": 0.2, "neutral": 0.2, "positive": 0.6},
                                sentiment_model="model-test")
    pages.log_in(page, live_server, "bob")
    page.evaluate("window.__sameDocument = true")
    box = f"#sentiment-{mention.pk}"
    assert page.locator(f"{box} .badge").first.inner_text() == "Positive"
    page.click(f'{box} button[value="negative"]')
    page.wait_for_selector(f"{box} .badge.sentiment-negative")
    assert page.locator(f"{box} .badge-corrected").inner_text() == "corrected"
    assert page.evaluate("window.__sameDocument") is True  # swapped, not reloaded
    # The swapped-in buttons work too.
    page.click(f'{box} button[value="neutral"]')
    page.wait_for_selector(f"{box} .badge.sentiment-neutral")
    assert [c.label for c in SentimentCorrection.objects.order_by("pk")] == ["negative", "neutral"]
    mention.refresh_from_db()
    assert (mention.sentiment, mention.sentiment_model) == ("neutral", "human")
    assert Mention.objects.filter(sentiment_model="human").count() == 1
