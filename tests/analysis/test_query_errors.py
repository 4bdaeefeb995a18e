"""Bad queries are refused with a code, a position and a message in English and French."""

from __future__ import annotations

import pickle

import pytest

from veilleur.analysis.query import (
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    QuerySyntaxError,
    compile_query,
)


def error_of(query: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query(query)
    return caught.value


@pytest.mark.parametrize(
    ("query", "code", "position", "expected"),
    [
        ("", "empty_query", 0, "term"),
        ("   ", "empty_query", 0, "term"),
        ("OR nuvia", "expected_term_before", 0, "term"),
        ("nuvia OR", "expected_term", 8, "term"),
        ("nuvia OR OR panne", "expected_term", 9, "term"),
        ("nuvia AND )", "expected_term", 10, "term"),
        ("nuvia NOT", "expected_term", 9, "term"),
        ("nuvia -", "expected_term", 7, "term"),
        ("(nuvia OR panne", "unclosed_paren", 0, ")"),
        ("a (b (c)", "unclosed_paren", 2, ")"),
        ("(", "unclosed_paren", 0, ")"),
        ("nuvia)", "unexpected_paren", 5, None),
        ("a () b", "empty_group", 2, "term"),
        ('nuvia "panne', "unclosed_quote", 6, '"'),
        ('nuvia OR ""', "empty_phrase", 9, "term"),
        ("{Orange", "unclosed_brace", 0, "}"),
        ("{ }", "empty_exact", 0, "term"),
        ("{Orange*}", "wildcard_in_exact", 7, None),
        ("a } b", "unexpected_char", 2, None),
        ("!!!", "empty_term", 0, "term"),
        ("panne ~3", "misplaced_tilde", 6, None),
        ("a NEAR b", "bad_near_distance", 6, "number"),
        ("a NEAR/ b", "bad_near_distance", 7, "number"),
        ("a NEAR/x b", "bad_near_distance", 7, "number"),
        ("a ONEAR/101 b", "bad_near_distance", 8, "number"),
        ('"a b"~x', "bad_near_distance", 6, "number"),
        ("a NEAR/3 NOT b", "near_operand", 9, "term"),
        ("a NEAR/3 (b AND c)", "near_operand", 9, None),
        ("lang:fr NEAR/3 b", "near_operand", 8, None),
        ("a NEAR/3", "expected_term", 8, "term"),
        ("colour:red", "unknown_field", 0, "term"),
        ("lang:", "empty_field", 5, "value"),
        ("title: panne", "empty_field", 6, "value"),
        ("site:??", "bad_field_value", 5, "value"),
        ("followers:lots", "bad_followers", 10, "number"),
        ("followers:>", "bad_followers", 10, "number"),
        ("followers:5000..1000", "bad_followers", 10, "number"),
        ("followers:1.2345", "bad_followers", 10, "number"),
        ("nuvia a*", "wildcard_too_short", 6, "term"),
        ("*", "wildcard_too_short", 0, "term"),
        ("?x?", "wildcard_too_short", 0, "term"),
        ('"nuvia p*"', "wildcard_too_short", 7, "term"),
    ],
)
def test_errors_have_a_code_a_position_and_what_was_expected(query, code, position, expected):
    error = error_of(query)
    assert (error.code, error.position, error.expected) == (code, position, expected)


def test_the_first_problem_from_the_left_is_reported():
    assert error_of('a OR OR "unclosed').code == "expected_term"


def test_messages_in_english_and_french_count_positions_from_one():
    error = error_of("nuvia panne OR")
    assert error.position == 14
    assert error.message("en") == "Expected a term after OR at position 15"
    assert error.message("fr") == "Terme attendu après OR à la position 15"
    assert error.message("fr-CA") == error.message("fr_BE") == error.message("fr")
    assert error.message("de") == error.message("en") == str(error)


@pytest.mark.parametrize(
    "query",
    ["", "OR a", "a OR", "(a", "a)", "()", '"a', '""', "{a", "{}", "{a*}", "a } b", "!!",
     "a ~2", "a NEAR b", "a NEAR/3 NOT b", "zz:a", "lang:", "site:??", "followers:x", "a*",
     "x" * (MAX_QUERY_CHARS + 1), " ".join(["a"] * (MAX_TERMS + 1)),
     "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)],
)
def test_every_error_has_both_messages(query):
    error = error_of(query)
    english, french = error.message("en"), error.message("fr")
    assert english and french and english != french
    assert "{" not in english.replace("{…}", "") and "{" not in french.replace("{…}", "")


def test_unknown_field_lists_the_known_ones():
    error = error_of("colour:red")
    assert "lang, source, author, site, country, title, followers" in error.message("en")
    assert error.message("fr").startswith("Champ « colour » inconnu à la position 1")


def test_limits_are_enforced():
    too_long = error_of("a" * (MAX_QUERY_CHARS + 1))
    assert (too_long.code, too_long.position) == ("too_long", MAX_QUERY_CHARS)
    assert "2001" in too_long.message("en")
    many = error_of(" OR ".join(f"w{n}" for n in range(MAX_TERMS + 1)))
    assert many.code == "too_many_terms"
    compile_query(" OR ".join(f"w{n}" for n in range(MAX_TERMS)))
    deep = error_of("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    assert (deep.code, deep.position) == ("too_deep", MAX_DEPTH)
    compile_query("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)


def test_long_runs_of_negations_do_not_exhaust_the_stack():
    assert compile_query("-" * 1500 + "a").canonical() == "a"
    assert compile_query("NOT " * 301 + "a").canonical() == "NOT a"


def test_errors_survive_pickling():
    error = error_of("nuvia OR")
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert (again.code, again.position, again.message("fr")) == (
        error.code, error.position, error.message("fr"))


def test_operators_are_upper_case_only():
    # lower-case "or", "and", "not" are words (French "or", English "not")
    assert compile_query("nuvia or panne").matches("nuvia or panne")
    assert not compile_query("nuvia or panne").matches("panne")
