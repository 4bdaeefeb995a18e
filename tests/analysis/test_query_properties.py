"""Property-based tests of the query language: parsing, printing, matching, prefiltering."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veilleur.analysis.query import MentionDoc, QuerySyntaxError, WatchMatcher, compile_query
from veilleur.analysis.query_ast import canonical
from veilleur.analysis.query_parser import parse

PLAIN = ["nuvia", "panne", "hôtel", "Hôtel", "l'hôtel", "degoute", "dégoûté", "service",
         "client", "or", "x1", "wi-fi", "Nuvia's"]
SPECIAL = ["#boycott", "@acme", "boulang*", "colo?r", "*vice", "pa?ne", "{Orange}",
           "{Apple Store}", "{L'Oréal}"]
FIELDS = ["lang:fr", "lang:en", "source:mastodon", "author:@jo", "site:example.com",
          "country:fr", "followers:>100", "followers:<=50", "followers:10..2000",
          'source:"google news"']

words = st.sampled_from(PLAIN + SPECIAL)
plain_words = st.sampled_from(PLAIN)
phrases = st.builds(
    lambda ws, slop: '"' + " ".join(ws) + '"' + ("" if slop is None else f"~{slop}"),
    st.lists(st.sampled_from([*PLAIN, "#boycott", "boulang*"]), min_size=1, max_size=3),
    st.none() | st.integers(0, 4),
)
positional = st.one_of(words, phrases)
nears = st.builds(
    lambda a, b, n, op: f"{a} {op}/{n} {b}",
    positional, positional, st.integers(0, 4), st.sampled_from(["NEAR", "ONEAR"]),
)
atoms = st.one_of(words, phrases, nears, st.sampled_from(FIELDS),
                  st.builds(lambda w: f"title:{w}", positional))


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
        st.builds(lambda a, b: f"{a} AND {b}", inner, inner),
        st.builds(lambda a, b: f"{a} {b}", inner, inner),
        st.builds(lambda a, b: f"{a} OR {b}", inner, inner),
        st.builds(lambda a: f"NOT {a}", inner),
        st.builds(lambda a: f"-({a})", inner),
        st.builds(lambda a: f"title:({a})", inner),
    )


queries = st.recursive(atoms, _combine, max_leaves=8)

TEXT_WORDS = [*PLAIN, "#boycott", "#Boycott", "@ACME", "boulangerie", "colour", "color",
              "service", "Orange", "orange", "Apple", "Store", "L'Oréal", "panne", "pane",
              "Nuvia", "de", "la", "!"]
texts = st.lists(st.sampled_from(TEXT_WORDS), max_size=14).map(" ".join)
docs = st.builds(
    MentionDoc,
    text=texts,
    title=st.just("") | texts,
    lang=st.sampled_from(["", "fr", "en", "fr-CA"]),
    source=st.sampled_from(["", "mastodon", "Google News", "twitter"]),
    author=st.sampled_from(["", "@jo", "Jo", "@acme"]),
    site=st.sampled_from(["", "example.com", "news.example.com", "https://example.org/x"]),
    country=st.sampled_from(["", "FR", "be"]),
    followers=st.none() | st.integers(0, 5000),
)

FRAGMENTS = ["AND", "OR", "NOT", "-", "(", ")", '"', "{", "}", "~2", "NEAR/2", "ONEAR/1",
             "lang:", "title:", "followers:>", "*", "?", "#", "@", "l'", "é", "ß", "½", " "]
noise = st.lists(st.sampled_from(FRAGMENTS) | st.sampled_from(PLAIN) | st.text(max_size=4),
                 max_size=12).map(" ".join) | st.text(max_size=60)


@given(queries)
def test_parse_print_parse_gives_the_same_tree(query):
    tree = parse(query)
    printed = canonical(tree)
    assert parse(printed) == tree
    assert canonical(parse(printed)) == printed


@given(noise)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_no_input_crashes_the_parser_and_what_parses_round_trips(source):
    try:
        tree = parse(source)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(source)
        assert error.message("fr") and error.message("en")
        return
    assert parse(canonical(tree)) == tree


@given(queries, docs)
def test_the_canonical_query_matches_what_the_original_matches(query, doc):
    original = compile_query(query)
    assert compile_query(original.canonical()).matches(doc) == original.matches(doc)


@given(queries, queries, docs)
def test_or_matches_whatever_either_side_matches(a, b, doc):
    either = compile_query(f"({a}) OR ({b})").matches(doc)
    assert either == (compile_query(a).matches(doc) or compile_query(b).matches(doc))


@given(queries, queries, docs)
def test_and_matches_only_what_both_sides_match(a, b, doc):
    both = compile_query(f"({a}) AND ({b})").matches(doc)
    implicit = compile_query(f"({a}) ({b})").matches(doc)
    assert both == implicit == (compile_query(a).matches(doc) and compile_query(b).matches(doc))


@given(queries, docs)
def test_not_is_the_complement(a, doc):
    assert compile_query(f"NOT ({a})").matches(doc) != compile_query(a).matches(doc)
    assert compile_query(f"-({a})").matches(doc) != compile_query(a).matches(doc)


@given(st.lists(queries, min_size=1, max_size=12), st.lists(docs, min_size=1, max_size=5))
@settings(max_examples=150)
def test_the_prefilter_never_changes_results(sources, mentions):
    compiled = {n: compile_query(source) for n, source in enumerate(sources)}
    matcher = WatchMatcher(compiled)
    for doc in mentions:
        expected = {n for n, query in compiled.items() if query.matches(doc)}
        assert matcher.match(doc) == expected
        assert matcher.match_all(doc) == expected
        assert matcher.candidates(doc) >= expected


@given(queries, docs)
def test_explain_agrees_with_matches(query, doc):
    compiled = compile_query(query)
    explanation = compiled.explain(doc)
    assert explanation.matched == compiled.matches(doc)
    for term in explanation.terms:
        assert bool(term.spans) <= term.matched
        for span in term.spans:
            field_text = doc.title if span.field == "title" else doc.text
            assert 0 <= span.start < span.end <= len(field_text)


@given(st.text(max_size=30))
def test_any_unicode_in_terms_phrases_and_exact_case_round_trips(text):
    exact = text.replace("}", "").replace("*", "").replace("?", "")
    for source in (text, '"' + text.replace('"', "") + '"', "{" + exact + "}"):
        try:
            tree = parse(source)
        except QuerySyntaxError:
            continue
        assert parse(canonical(tree)) == tree


@given(st.text(min_size=1, max_size=60))
def test_a_phrase_of_a_texts_own_words_matches_that_text(text):
    source = '"' + "".join(" " if c in '"*?' else c for c in text) + '"'
    try:
        query = compile_query(source)
    except QuerySyntaxError:
        return  # no words in it
    assert query.matches(text)


@given(queries, docs)
def test_the_compiled_query_agrees_with_the_tree_walker(query, doc):
    from veilleur.analysis.query_match import evaluate, prepare

    compiled = compile_query(query)
    assert compiled.matches(doc) == evaluate(compiled.ast, prepare(doc))


@given(st.text(max_size=80) | texts)
def test_the_fast_word_reader_agrees_with_the_one_that_keeps_offsets(text):
    from veilleur.analysis.text import match_words, word_tokens

    tokens = word_tokens(text)
    assert match_words(text) == [t.text for t in tokens]
    for token in tokens:
        assert 0 <= token.start < token.end <= len(text)
