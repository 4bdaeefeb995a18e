"""Matching many watches at once: required literals and the Aho-Corasick prefilter."""

from __future__ import annotations

import pytest

from veilleur.analysis.query import MentionDoc, WatchMatcher, compile_query


@pytest.mark.parametrize(
    ("query", "required"),
    [
        ("nuvia", {" nuvia "}),
        ("Hôtel", {" hotel "}),
        ("nuvia OR #nuvia OR @nuvia", {" nuvia ", " #nuvia ", " @nuvia "}),
        ("nuvia panne", {" nuvia "}),  # one is enough: the longest (rarest) word
        ('"service client" injoignable', {" injoignable "}),
        ("boulang*", {" boulang"}),
        ("*ship", {"ship "}),
        ("colo?r", {" colo"}),
        ("{Orange}", {" orange "}),
        ("nuvia NEAR/3 (panne OR coupure)", {" nuvia "}),
        ("lang:fr panne", {" panne "}),
        ("title:panne", {" panne "}),
        ("nuvia -test", {" nuvia "}),
        ("(a1 b1) OR (c2 d22)", {" a1 ", " d22 "}),
    ],
)
def test_required_literals(query, required):
    assert compile_query(query).required == frozenset(required)


@pytest.mark.parametrize("query", ["-test", "NOT nuvia", "lang:fr", "nuvia OR lang:fr",
                                   "followers:>10 OR source:rss"])
def test_queries_without_required_words_cannot_be_prefiltered(query):
    assert not compile_query(query).prefilterable


def test_the_matcher_returns_the_watches_that_match():
    matcher = WatchMatcher({
        "brand": compile_query("nuvia OR #nuvia"),
        "outage": compile_query("nuvia (panne OR coupure*)"),
        "not-test": compile_query("-test"),
        "french": compile_query("lang:fr"),
        "rival": compile_query("acme"),
    })
    doc = MentionDoc(text="Nouvelle coupure chez #Nuvia et nuvia se tait", lang="fr")
    assert matcher.match(doc) == {"brand", "outage", "not-test", "french"}
    assert matcher.match("test acme") == {"rival"}
    assert matcher.match("") == {"not-test"}


def test_the_prefilter_skips_queries_whose_words_are_absent():
    queries = {n: compile_query(f"brand{n} outage{n}") for n in range(50)}
    matcher = WatchMatcher({**queries, "always": compile_query("-spam")})
    # each query requires its longest word, outageN: brand9 alone lets nothing through
    assert matcher.candidates("brand7 outage7, brand9") == {7, "always"}
    assert matcher.match("brand7 outage7, brand9") == {7, "always"}
    assert matcher.candidates("outage3 and outage4") == {3, 4, "always"}
    assert matcher.match("outage3 and outage4, brand4") == {4, "always"}


def test_an_empty_matcher_matches_nothing():
    assert WatchMatcher({}).match("anything") == set()
    assert len(WatchMatcher({1: compile_query("a1")})) == 1


def test_substring_literals_do_not_leak_across_words():
    matcher = WatchMatcher({1: compile_query("nuvia"), 2: compile_query("boulang*")})
    assert matcher.match("anuvia nuviab boulangerie") == {2}
    assert matcher.match("aboulang nuvia") == {1}
