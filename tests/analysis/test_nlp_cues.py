"""Sentiment cues: lexicon scores plus complaint, sarcasm, emoji and capitals features."""

from __future__ import annotations

import math

import numpy as np
import pytest

from veilleur.analysis.nlp.cues import (
    FEATURE_NAMES,
    MAX_CUE_CHARS,
    cue_features,
    cue_matrix,
    lexicon_scores,
)


def cue(text: str, lang: str, name: str) -> float:
    return float(cue_features(text, lang)[FEATURE_NAMES.index(name)])


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("still waiting for my refund, 3 weeks now", "en"),
        ("Charged twice and no answer from support", "en"),
        ("I've been on hold for an hour", "en"),
        ("Toujours pas reçu ma commande", "fr"),
        ("Commande jamais reçue, jamais arrivé, rien", "fr"),
        ("Prélevé deux fois ce mois-ci, c'est inadmissible", "fr"),
        ("Ras le bol de ce service client injoignable", "fr"),
        ("J'en ai MARRE", "fr"),
    ],
)
def test_complaint_vocabulary_is_a_cue(text: str, lang: str) -> None:
    assert cue(text, lang, "complaint") > 0


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Thanks for the quick reply, the parcel arrived today.", "en"),
        ("La réunion est à 15 heures dans la salle B.", "fr"),
    ],
)
def test_plain_text_has_no_complaint_or_sarcasm_cue(text: str, lang: str) -> None:
    assert cue(text, lang, "complaint") == 0
    assert cue(text, lang, "sarcasm") == 0


def test_complaint_cues_ignore_accents_and_case() -> None:
    # Folded matching: informal spelling without accents counts like the careful one.
    assert cue("TOUJOURS PAS REÇU", "fr", "complaint") == cue("toujours pas recu", "fr",
                                                               "complaint") > 0


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Merci pour rien @Fibrelune", "fr"),
        ("Bravo à la SNCF, encore une fois en retard", "fr"),
        ("Great job @airline, lost my bag again", "en"),
        ("Oh great, another outage. Love it when that happens", "en"),
        ("so reliable 🙄", "en"),
        ("Quel service 👏👏👏", "fr"),
    ],
)
def test_sarcasm_markers_are_a_cue(text: str, lang: str) -> None:
    assert cue(text, lang, "sarcasm") > 0


def test_emojis_count_on_their_own_side() -> None:
    angry = cue_features("vol annulé 😡😡", "fr")
    happy = cue_features("vol à l'heure 😍👍", "fr")
    neg, pos = FEATURE_NAMES.index("emoji_neg"), FEATURE_NAMES.index("emoji_pos")
    assert angry[neg] > 0 and angry[pos] == 0
    assert happy[pos] > 0 and happy[neg] == 0


def test_repeated_cues_saturate() -> None:
    once = cue("bof 👏", "fr", "sarcasm")
    ten = cue("bof " + "👏" * 10, "fr", "sarcasm")
    assert once == pytest.approx(math.log1p(1))
    assert ten == pytest.approx(math.log1p(10))
    assert once < ten < 10 * once


def test_shouting_is_measured_by_the_share_of_capitals() -> None:
    assert cue("THIS IS UNACCEPTABLE", "en", "caps") == pytest.approx(1.0)
    assert cue("This is unacceptable", "en", "caps") == pytest.approx(1 / 18)
    # Too few letters to tell shouting from an acronym.
    assert cue("OK SNCF", "fr", "caps") == 0.0


def test_question_and_exclamation_marks_are_counted() -> None:
    features = cue_features("Why?? Why!!!", "en")
    assert features[FEATURE_NAMES.index("question")] == pytest.approx(math.log1p(2))
    assert features[FEATURE_NAMES.index("exclaim")] == pytest.approx(math.log1p(3))


def test_french_text_is_scored_by_the_french_lexicon() -> None:
    # vader-fr knows "nul" and "génial"; English VADER does not.
    assert lexicon_scores("Ce film est nul", "fr")[3] < 0
    assert lexicon_scores("Ce film est génial", "fr")[3] > 0
    assert lexicon_scores("Ce film est nul", "en")[3] == 0
    assert lexicon_scores("I hate this", "en")[3] < 0


def test_other_languages_get_the_english_lexicon() -> None:
    assert lexicon_scores("I love it", "de") == lexicon_scores("I love it", "en")


def test_the_lexicon_sees_a_bounded_prefix() -> None:
    # A complaint beyond the first MAX_CUE_CHARS characters is not looked at.
    text = "x " * MAX_CUE_CHARS + "still waiting for my refund"
    assert cue(text, "en", "complaint") == 0
    assert cue("still waiting for my refund " + "x " * MAX_CUE_CHARS, "en", "complaint") > 0


def test_the_cue_matrix_has_one_row_per_text() -> None:
    matrix = cue_matrix(["I love it", "je déteste"], ["en", "fr"])
    assert matrix.shape == (2, len(FEATURE_NAMES))
    assert matrix.dtype == np.float32
    assert np.array_equal(matrix[1], cue_features("je déteste", "fr"))
    assert cue_matrix([], []).shape == (0, len(FEATURE_NAMES))


def test_the_cue_matrix_needs_one_language_per_text() -> None:
    with pytest.raises(ValueError):
        cue_matrix(["a", "b"], ["en"])
