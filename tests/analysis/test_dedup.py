"""Dedup: canonical URLs, story words, MinHash signatures and the story index."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veilleur.analysis.dedup import (
    DEFAULT_PARAMS,
    DedupParams,
    canonical_url,
    fast_words,
    shingles,
    story_text,
    story_words,
)
from veilleur.analysis.minhash import (
    BandTable,
    MinHasher,
    candidate_probability,
    similarity,
)
from veilleur.analysis.story_index import StoryIndex
from veilleur.analysis.text import words

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# --- canonical URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/Path", "http://example.com/Path"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a/", "https://example.com/a"),
        ("https://example.com/a//", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?q=", "https://example.com/a?q="),
        ("https://user:secret@example.com/a", "https://example.com/a"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://example.com/%7euser/%e9t%C3%A9", "https://example.com/%7Euser/%E9t%C3%A9"),
        ("https://bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("http://[2001:DB8::1]:8080/x/", "http://[2001:db8::1]:8080/x"),
        ("https://example.com/#!/post/42", "https://example.com/#!/post/42"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_it_canonicalises_urls(url, expected):
    assert canonical_url(url) == expected


def test_it_drops_tracking_parameters_in_any_case():
    url = (
        "https://news.example.fr/article?id=7&utm_source=twitter&UTM_Medium=social"
        "&fbclid=abc&gclid=def&mc_cid=1&mc_eid=2&igshid=x&ref_src=twsrc&xtor=RSS-3"
        "&pk_campaign=z&page=2"
    )
    assert canonical_url(url) == "https://news.example.fr/article?id=7&page=2"


def test_generic_parameters_that_can_select_content_are_kept():
    assert canonical_url("https://example.com/?ref=home&s=20") == "https://example.com/?ref=home&s=20"


def test_urls_differing_only_by_tracking_and_order_share_a_key():
    first = canonical_url("https://Example.com/a/?b=1&a=2&utm_campaign=spring#top")
    second = canonical_url("https://example.com:443/a?a=2&fbclid=XYZ&b=1")
    assert first == second != ""


@pytest.mark.parametrize(
    "url",
    [
        "", "   ", "javascript:alert(1)", "data:text/html,<script>", "ftp://example.com/",
        "mailto:a@example.com", "http://", "http:///path", "//example.com/a", "example.com/a",
        "http://[::1", "http://exa mple.com/", "http://example.com:99999/", "http://example.com:-1/",
        "http://example.com:abc/", "http://ex\x00ample.com/", "http://example.com/a\nb",
        "http://<script>.com/", "http://a_b.example.com\\@evil.com/", "https://" + "a" * 3000,
        "https://example.com/?" + "&".join(f"p{i}=1" for i in range(400)),
        "http://%41.com/", "https://exa%20mple.com/", "http://\u202eexample.com/",
    ],
)
def test_hostile_urls_give_no_key_and_never_raise(url):
    assert canonical_url(url) == ""


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_an_http_key_or_nothing(text):
    key = canonical_url(text)
    assert key == "" or key.startswith(("http://", "https://"))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["http", "HTTPS"]),
    st.from_regex(r"[a-zA-Z0-9-]{1,12}(\.[a-zA-Z]{2,6}){1,2}", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40),
    st.lists(st.tuples(st.sampled_from(["a", "b", "utm_x", "fbclid", "q"]), st.text(max_size=8)),
             max_size=5),
)
def test_canonical_urls_are_stable_when_canonicalised_again(scheme, host, path, params):
    from urllib.parse import quote, urlencode

    url = f"{scheme}://{host}/{quote(path)}?{urlencode(params)}"
    key = canonical_url(url)
    assert canonical_url(key) == key


# --- story words and shingles --------------------------------------------------------------


def test_retweets_keep_the_quoted_author_and_text_only():
    assert story_words("Awesome! RT @VirginAmerica: Watch films at 35,000 feet http://t.co/x") == [
        "@virginamerica", "watch", "films", "at", "35", "000", "feet",
    ]
    quoted = "“@JetBlue: Our fleet's on fleek. http://t.co/g97HAbyeP5”\n\nSMH"
    assert story_words(quoted) == ["@jetblue", "our", "fleet's", "on", "fleek"]
    reply = "RT @acme: @client We are so sorry for the wait"
    assert story_words(reply)[:3] == ["@acme", "we", "are"]


def test_leading_mentions_urls_and_via_are_stripped():
    assert story_words(".@united @AmericanAir lost my bag again https://t.co/abc via @someone") == [
        "lost", "my", "bag", "again",
    ]
    # A handle inside the sentence is content, not addressing.
    assert "@acme" in story_words("I asked @acme about it")


def test_syndication_boilerplate_is_stripped():
    text = (
        "La panne géante de Nuvia a privé 20 000 foyers d'internet (AFP)\n"
        "Lire la suite sur notre site\n© Le Quotidien 2026 — Tous droits réservés"
    )
    assert story_text(text).strip() == "La panne géante de Nuvia a privé 20 000 foyers d'internet"
    assert story_words("Nuvia raises prices again [...]")[-1] == "again"
    assert story_words("Nuvia raises prices again. Read more…")[-1] == "again"


def test_a_title_counts_once():
    assert story_words("Panne chez Nuvia. Des milliers de clients privés.", "Panne chez Nuvia") == [
        "panne", "chez", "nuvia", "des", "milliers", "de", "clients", "prives",
    ]
    assert story_words("Des milliers de clients privés.", "Panne chez Nuvia")[:3] == [
        "panne", "chez", "nuvia",
    ]


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_the_fast_tokeniser_gives_the_same_words_as_the_reference_one(text):
    assert fast_words(text) == words(text)


def test_a_batch_of_signatures_equals_one_at_a_time():
    texts = [(t, "") for pair in NEAR_DUPLICATES for t in pair] + [("too short", ""), ("", "")]
    texts.append(("Des milliers de clients privés d'internet ce matin", "Panne chez Nuvia"))
    assert DEFAULT_PARAMS.signatures_bytes(texts) == [
        DEFAULT_PARAMS.signature_bytes(text, title) for text, title in texts
    ]
    assert DEFAULT_PARAMS.signatures_bytes([]) == []


def test_shingles_are_word_n_grams():
    assert shingles(["a", "b", "c", "d"], 2) == {"a b", "b c", "c d"}
    assert shingles(["a", "b"], 3) == {"a b"}
    assert shingles([], 2) == set()
    with pytest.raises(ValueError):
        shingles(["a"], 0)


# --- signatures ----------------------------------------------------------------------------


def test_short_texts_get_no_signature():
    assert DEFAULT_PARAMS.signature("@united thanks!") is None
    assert DEFAULT_PARAMS.signature("🙏🙏🙏 https://t.co/x") is None
    assert DEFAULT_PARAMS.signature("thanks for the quick response today") is not None


def test_signatures_are_compact_stable_and_round_trip():
    data = DEFAULT_PARAMS.signature_bytes("Our fleet is on fleek and ready for you")
    assert data is not None and len(data) == 4 * DEFAULT_PARAMS.num_perm
    again = DedupParams().signature_bytes("our FLEET is on fleek, and ready for you!")
    assert again == data  # same words, another process: same bytes
    signature = DEFAULT_PARAMS.hasher.from_bytes(memoryview(data))
    assert signature is not None and DEFAULT_PARAMS.hasher.to_bytes(signature) == data
    assert DEFAULT_PARAMS.hasher.from_bytes(data[:-4]) is None
    assert DEFAULT_PARAMS.hasher.from_bytes(None) is None


def test_the_hash_functions_do_not_change_silently():
    # Stored signatures are only comparable with signatures made the same way: if this
    # fails, the parameters changed and stored signatures must be recomputed.
    signature = MinHasher(4).signature({"nuvia panne", "panne lyon"})
    assert signature is not None
    assert signature.tolist() == MinHasher(4).signature({"panne lyon", "nuvia panne"}).tolist()
    assert signature.tolist() == GOLDEN


GOLDEN = [3519851912, 612419503, 1823561546, 2529017970]


def test_similarity_estimates_jaccard_without_bias():
    hasher = MinHasher(128)
    rng = random.Random(3)
    errors = []
    for _ in range(200):
        base = [f"w{rng.random()}" for _ in range(20)]
        a, b = set(base[:15]), set(base[5:])  # Jaccard 10 / 20 = 0.5
        errors.append(similarity(hasher.signature(a), hasher.signature(b)) - 0.5)
    # 128 independent functions: standard error sqrt(0.25 / 128) = 0.044.
    assert abs(float(np.mean(errors))) < 0.02
    assert 0.03 < float(np.std(errors)) < 0.06


def test_banding_finds_similar_sets_and_rarely_dissimilar_ones():
    assert candidate_probability(0.8, 16, 4) > 0.99
    assert candidate_probability(0.2, 16, 4) < 0.03
    table: BandTable[str] = BandTable(bands=16, rows=4)
    hasher = MinHasher(64)

    def sign(text: str):
        return hasher.signature(shingles(story_words(text), 2))

    near = sign("the outage hit lyon and paris this morning hard")
    close = sign("the outage hit lyon and paris this morning")
    far = sign("great support from the team yesterday thanks")
    table.insert("near", near)
    table.insert("far", far)
    assert table.candidates(close) == {"near"}
    table.remove("near", near)
    assert table.candidates(close) == set()


def test_full_buckets_keep_their_newest_keys():
    table: BandTable[int] = BandTable(bands=2, rows=2, bucket_cap=3)
    signature = np.array([1, 2, 3, 4], dtype=np.uint32)
    for key in range(5):
        table.insert(key, signature)
    assert table.candidates(signature) == {2, 3, 4}
    table.remove(0, signature)  # already pushed out: no error
    assert table.candidates(signature) == {2, 3, 4}


def test_parameters_are_validated():
    with pytest.raises(ValueError):
        DedupParams(num_perm=32, bands=16, rows=4)
    with pytest.raises(ValueError):
        DedupParams(threshold=0)
    with pytest.raises(ValueError):
        MinHasher(0)


# --- near-duplicates -----------------------------------------------------------------------


def similar(a: str, b: str) -> float:
    first, second = DEFAULT_PARAMS.signature(a), DEFAULT_PARAMS.signature(b)
    assert first is not None and second is not None
    return similarity(first, second)


NEAR_DUPLICATES = [
    (  # a retweet with a reaction in front
        "RT @NuviaFR: Our new fibre offer is live in Lyon and Paris from today",
        "Seriously?? RT @NuviaFR: Our new fibre offer is live in Lyon and Paris from today "
        "https://t.co/abc123",
    ),
    (  # the old quote style with a comment after it
        "“@NuviaFR: Our new fibre offer is live in Lyon and Paris from today” lol no",
        "RT @NuviaFR Our new fibre offer is live in Lyon and Paris from today",
    ),
    (  # one dispatch, two newspapers, different boilerplate
        "Nuvia: une panne géante prive 20 000 foyers d'internet dans le Rhône. Le fournisseur "
        "évoque un incident sur un équipement réseau et promet un retour à la normale dans la "
        "soirée.\nLire la suite sur leprogres.fr",
        "Nuvia : une panne géante prive 20 000 foyers d'internet dans le Rhône (AFP)\nLe "
        "fournisseur évoque un incident sur un équipement réseau et promet un retour à la "
        "normale dans la soirée.\n© Le Dauphiné Libéré - Tous droits réservés",
    ),
    (  # a copy-paste campaign with the sender's own words swapped in
        "I have been a Nuvia customer for 6 years and I am cancelling today because of the "
        "hidden fees. #BoycottNuvia",
        "I have been a Nuvia customer for 11 years and I am cancelling today because of the "
        "hidden fees! #BoycottNuvia",
    ),
]

UNRELATED = [
    ("Nuvia outage in Lyon again this morning, no internet since 7am",
     "Nuvia support fixed my line in ten minutes, great job team"),
    ("@united thank you for the help with my bag today",
     "@united thank you for following up on my complaint"),
    ("Your customer service is atrocious and nobody answers the phone",
     "This is atrocious customer service, three hours on hold now"),
]


@pytest.mark.parametrize(("first", "second"), NEAR_DUPLICATES)
def test_near_duplicates_reach_the_threshold(first, second):
    assert similar(first, second) >= DEFAULT_PARAMS.threshold


@pytest.mark.parametrize(("first", "second"), UNRELATED)
def test_unrelated_texts_stay_below_the_threshold(first, second):
    assert similar(first, second) < DEFAULT_PARAMS.threshold


# --- the index -----------------------------------------------------------------------------


def test_the_index_groups_near_duplicates_and_leaves_others_alone():
    index: StoryIndex[int] = StoryIndex()
    texts = [NEAR_DUPLICATES[0][0], UNRELATED[0][0], NEAR_DUPLICATES[0][1], UNRELATED[0][1]]
    labels = [
        index.group(n, DEFAULT_PARAMS.signature(text), T0 + timedelta(minutes=n))
        for n, text in enumerate(texts)
    ]
    assert labels == [0, 1, 0, 3]
    assert index.story_of(0) == 0 and len(index) == 4


def test_a_match_must_lie_within_the_window():
    index: StoryIndex[str] = StoryIndex(window=timedelta(days=7))
    signature = DEFAULT_PARAMS.signature(NEAR_DUPLICATES[3][0])
    index.add("old", signature, T0)
    assert index.match(signature, T0 + timedelta(days=8)) is None
    found = index.match(signature, T0 + timedelta(days=6))
    assert found is not None and found.key == "old" and found.similarity == 1.0
    # Either side: a backfilled mention published before the stored one still matches.
    assert index.match(signature, T0 - timedelta(days=6)) is not None


def test_a_story_does_not_drift_through_a_chain_of_small_changes():
    words = story_words("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima")
    words.append("mike")
    texts = [" ".join(words[i : i + 9]) for i in (0, 2, 4)]
    params = DedupParams(threshold=0.5)
    first, last = params.signature(texts[0]), params.signature(texts[2])
    assert similarity(first, last) < 0.5  # the ends of the chain are not alike
    for anchored, expected in ((True, [0, 0, 2]), (False, [0, 0, 0])):
        p = DedupParams(threshold=0.5, anchored=anchored)
        index: StoryIndex[int] = StoryIndex(p)
        labels = [index.group(n, p.signature(t), T0) for n, t in enumerate(texts)]
        assert labels == expected


def test_an_index_reloaded_from_stored_signatures_groups_like_the_original():
    rng = random.Random(11)
    pool = [t for pair in NEAR_DUPLICATES for t in pair] + [t for pair in UNRELATED for t in pair]
    stream = [(n, rng.choice(pool), T0 + timedelta(minutes=n)) for n in range(40)]
    continuous: StoryIndex[int] = StoryIndex()
    expected = [continuous.group(n, DEFAULT_PARAMS.signature(t), at) for n, t, at in stream]

    first_half: StoryIndex[int] = StoryIndex()
    labels = [first_half.group(n, DEFAULT_PARAMS.signature(t), at) for n, t, at in stream[:20]]
    # What the database keeps: each mention's signature bytes, time and story.
    stored = [
        (n, DEFAULT_PARAMS.signature_bytes(t), at, first_half.story_of(n))
        for n, t, at in stream[:20]
    ]
    restarted = StoryIndex.load(stored)
    for story in {s for *_, s in stored if s is not None}:
        restarted.set_anchor(story, story)  # a story's label is its first member
    labels += [restarted.group(n, DEFAULT_PARAMS.signature(t), at) for n, t, at in stream[20:]]
    assert labels == expected
    assert len(restarted) == sum(1 for _, data, *_ in stored if data) + sum(
        1 for _, t, _ in stream[20:] if DEFAULT_PARAMS.signature(t) is not None
    )


def test_a_mention_can_be_rekeyed_once_it_has_an_id():
    index: StoryIndex[int] = StoryIndex()
    signature = DEFAULT_PARAMS.signature(NEAR_DUPLICATES[3][0])
    index.add(-1, signature, T0, story="s")
    index.rekey(-1, 42)
    assert -1 not in index and 42 in index and index.story_of(42) == "s"
    found = index.match(signature, T0)
    assert found is not None and found.key == 42
    index.rekey(-7, 8)  # unknown: nothing happens
    assert len(index) == 1


def test_load_skips_missing_and_foreign_signatures():
    good = DEFAULT_PARAMS.signature_bytes(NEAR_DUPLICATES[0][0])
    index = StoryIndex.load([(1, good, T0, None), (2, None, T0, None), (3, b"\x00" * 12, T0, 7)])
    assert 1 in index and 2 not in index and 3 not in index


def test_expire_and_trim_bound_the_index():
    index: StoryIndex[int] = StoryIndex()
    for n in range(10):
        text = f"message number {n} about the nuvia outage in town {n}"
        index.add(n, DEFAULT_PARAMS.signature(text), T0 + timedelta(hours=n))
    assert index.expire(T0 + timedelta(hours=3)) == 3
    assert index.oldest() == T0 + timedelta(hours=3)
    assert index.trim(4) == T0 + timedelta(hours=6)
    assert sorted(k for k in range(10) if k in index) == [6, 7, 8, 9]
    index.remove(6)
    index.remove(6)  # twice: no error
    assert len(index) == 3
