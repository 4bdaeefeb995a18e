"""Language of a mention: hints, the workspace's languages and the "other" bucket."""

from __future__ import annotations

import pytest

from veilleur.analysis.nlp.language import OTHER, detect_language, normalise_code

FR_EN = ("fr", "en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le service client ne répond plus depuis trois jours, c'est inadmissible.", "fr"),
        ("J'ai adoré le dernier épisode, vivement la suite !", "fr"),
        ("toujours pas reçu ma commande", "fr"),
        ("Still waiting for my refund, customer service never answers the phone.", "en"),
        ("The new update broke everything on my phone again.", "en"),
        ("thanks for nothing", "en"),
    ],
)
def test_it_tells_french_from_english(text: str, expected: str) -> None:
    assert detect_language(text, FR_EN) == expected


def test_a_hint_naming_an_allowed_language_wins_over_the_text() -> None:
    # A French feed quoting an English sentence is still the French feed's mention.
    text = "The new update broke everything on my phone again."
    assert detect_language(text, FR_EN, hint="fr-FR") == "fr"
    assert detect_language(text, FR_EN, hint="FR") == "fr"


def test_a_hint_outside_the_allowed_languages_is_ignored() -> None:
    text = "Le service client ne répond plus depuis trois jours, c'est inadmissible."
    assert detect_language(text, FR_EN, hint="de") == "fr"
    assert detect_language(text, FR_EN, hint="not a language code") == "fr"


def test_a_hint_only_counts_for_the_workspace_languages() -> None:
    text = "Still waiting for my refund, customer service never answers the phone."
    assert detect_language(text, ("en",), hint="fr") == "en"


@pytest.mark.parametrize(
    "text",
    [
        "Der Kundenservice hat mir nach drei Wochen immer noch nicht geantwortet.",
        "El servicio al cliente no ha respondido todavía y estoy muy enfadado.",
        "Il servizio clienti non risponde mai, sono davvero arrabbiato.",
    ],
)
def test_text_confidently_in_another_language_goes_to_other(text: str) -> None:
    assert detect_language(text, FR_EN) == OTHER


def test_the_same_foreign_text_is_kept_when_its_language_is_allowed() -> None:
    text = "Der Kundenservice hat mir nach drei Wochen immer noch nicht geantwortet."
    assert detect_language(text, ("fr", "en", "de")) == "de"
    # No configured languages: whatever the identifier says.
    assert detect_language(text, ()) == "de"


@pytest.mark.parametrize("text", ["😀😀🔥", "123 456 !!!", "", "   ", "👍 👎"])
def test_text_without_letters_is_other(text: str) -> None:
    assert detect_language(text, FR_EN) == OTHER


@pytest.mark.parametrize("text", ["Merci @x", "ok", "lol"])
def test_short_ambiguous_text_stays_in_the_workspace_languages(text: str) -> None:
    # py3langid spreads its probability over many languages for these; an unsure guess
    # among the workspace's languages beats a confident-looking "other".
    assert detect_language(text, FR_EN) in FR_EN


@pytest.mark.parametrize(
    ("code", "expected"),
    [("fr", "fr"), ("FR", "fr"), ("fr-FR", "fr"), ("fr_ca", "fr"), (" en-GB ", "en"),
     ("zh-Hant-TW", "zh"), ("", ""), ("français", ""), ("f", ""), ("12", "")],
)
def test_language_codes_are_normalised(code: str, expected: str) -> None:
    assert normalise_code(code) == expected


def test_allowed_codes_are_normalised_too() -> None:
    text = "Le service client ne répond plus depuis trois jours, c'est inadmissible."
    assert detect_language(text, ("FR-fr", "en-GB")) == "fr"
