"""Every mention is hostile text: normalisation bounds and cleans it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veilleur.analysis.normalise import InvalidItem, normalise, safe_url
from veilleur.analysis.text import MAX_TEXT_CHARS, clean_text, content_hash, fold, words
from veilleur.connectors.base import RawItem

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_control_and_bidi_characters_are_removed():
    assert clean_text("pay\u202eement\x00 ok\u200b!") == "payement ok!"


def test_whitespace_is_collapsed_and_lines_kept():
    assert clean_text("  a \t b\r\n\n\n\nc  ") == "a b\n\nc"


def test_long_text_is_bounded():
    assert len(clean_text("x" * (MAX_TEXT_CHARS * 3))) == MAX_TEXT_CHARS


@given(st.text())
def test_clean_text_never_fails_and_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once
    assert len(once) <= MAX_TEXT_CHARS


def test_folding_ignores_case_and_accents():
    assert fold("Dégoûté ÉTÉ") == "degoute ete"


def test_words_split_french_elision_and_keep_tags():
    assert words("L'hôtel d’Acme? #Boycott @Nuvia_FR jusqu'ici") == [
        "hotel",
        "acme",
        "#boycott",
        "@nuvia_fr",
        "ici",
    ]


def test_content_hash_ignores_case_accents_and_punctuation():
    assert content_hash("Panne NUVIA, encore !") == content_hash("panne nuvia encore")
    assert content_hash("panne nuvia") != content_hash("nuvia panne")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "ftp://x.example/a",
        "https://a.example/" + "x" * 3000,
        "http://a.example/\nSet-Cookie",
    ],
)
def test_unsafe_urls_are_dropped(url):
    assert safe_url(url) == ""


def test_http_urls_are_kept():
    assert safe_url(" https://news.example.org/a?b=1 ") == "https://news.example.org/a?b=1"


def test_naive_dates_are_utc_and_future_dates_are_clamped():
    naive = normalise(RawItem("1", "t", published_at=datetime(2026, 2, 1, 8, 0)), NOW)
    assert naive.published_at == datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    future = normalise(RawItem("2", "t", published_at=NOW + timedelta(days=3)), NOW)
    assert future.published_at == NOW
    missing = normalise(RawItem("3", "t"), NOW)
    assert missing.published_at == NOW


def test_an_item_without_id_or_text_is_refused():
    with pytest.raises(InvalidItem):
        normalise(RawItem("", "text"), NOW)
    with pytest.raises(InvalidItem):
        normalise(RawItem("id", " \x00 "), NOW)


def test_a_title_only_item_uses_the_title_as_text():
    out = normalise(RawItem("1", "", title="Nuvia en panne"), NOW)
    assert out.text == "Nuvia en panne"


def test_counts_are_bounded():
    out = normalise(RawItem("1", "t", author_followers=-5, reach=10**20), NOW)
    assert out.author_followers == 0 and out.reach == 10**12
