"""Watch queries (first cut): OR groups of words and phrases."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veilleur.analysis.query import QuerySyntaxError, compile_query


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("nuvia", "Encore une panne chez NUVIA !", True),
        ("nuvia", "nuvialand is a different word", False),
        ('"double prélèvement"', "J'ai eu un DOUBLE prelevement ce mois-ci", True),
        ('"double prélèvement"', "prélèvement double", False),
        ("nuvia OR #nuvia", "Bravo #Nuvia", True),
        ("nuvia panne OR nuvia outage", "panne générale, nuvia muet", True),
        ("nuvia panne OR nuvia outage", "nuvia is great", False),
        ("hôtel", "J'adore l'hôtel", True),
        ("@nuvia", "merci @Nuvia pour la réponse", True),
    ],
)
def test_matching(query, text, expected):
    assert compile_query(query).matches(text) is expected


@pytest.mark.parametrize(
    ("query", "position"),
    [("", 0), ("OR nuvia", 0), ("nuvia OR", 8), ('"nuvia', 0), ('nuvia OR ""', 9)],
)
def test_bad_queries_point_at_the_problem(query, position):
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query(query)
    assert caught.value.position == position


@given(st.text(max_size=80))
def test_no_input_crashes_the_parser(text):
    with contextlib.suppress(QuerySyntaxError):
        compile_query(text)


@given(
    st.sampled_from(["nuvia", "panne", '"charged twice"', "#boycott"]),
    st.sampled_from(["acme", "outage", '"toujours pas"']),
    st.text(max_size=60),
)
def test_a_or_b_matches_whatever_a_matches(a, b, text):
    if compile_query(a).matches(text):
        assert compile_query(f"{a} OR {b}").matches(text)
