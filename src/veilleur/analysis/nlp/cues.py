"""Cheap sentiment cues: VADER-style lexicon scores plus what lexicons miss.

The lexicon scores come from VADER (English) and its French port vader-fr, both MIT
licensed and shipped as packages. On top we count the cues that matter in
reputation work and that word lists score badly: complaint vocabulary ("still
waiting", "toujours pas reçu"), sarcasm markers ("merci pour rien", "great job...
not", 🙄), and emojis. The cues are features for the sentiment head, and on their
own they are the fast lexicon mode.
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from veilleur.analysis.text import fold

# Lexicons score on at most this many characters: enough for any post or review,
# and a bound on the work a hostile 20k-character text can cause.
MAX_CUE_CHARS = 3000

# Folded (lower case, no accents) patterns. Kept short on purpose: they are features,
# the head learns how much each is worth.
_COMPLAINT = re.compile(
    r"still (?:waiting|no|not)|never (?:received|arrived|got)|not (?:received|arrived)|"
    r"charged twice|double charged|refund|no (?:answer|response|reply)|on hold|"
    r"cancel(?:led|ed)? my|worst|scam|rip ?off|unacceptable|ridiculous|fed up|"
    r"(?:days|weeks|hours) (?:later|without|and still)|\bfix (?:it|this)\b|"
    r"toujours pas|jamais (?:recu|eu|arrive|livre)|pas (?:encore )?recu|rembours|"
    r"debite deux fois|preleve deux fois|injoignable|aucune reponse|sans reponse|"
    r"en panne|panne|arnaque|honte|scandal|inadmissible|inacceptable|marre|ras le bol|"
    r"n'importe quoi|nimp|pire|jamais plus|#jamaisplus|#fail|boycott|resilier|resiliation",
)
_SARCASM = re.compile(
    r"merci pour rien|bravo (?:a|pour)|quelle (?:belle )?surprise|encore (?:une|un) fois|"
    r"comme d'hab|comme par hasard|trop fort|genial\W+(?:encore|vraiment)|"
    r"thanks for nothing|great job|well done|just great|love (?:it )?when|"
    r"yeah right|oh great|so glad|what a surprise|as usual|another (?:delay|outage)|"
    r"\bnot\.|\bnot!|/s\b|🙄|🙃|🤡|👏",
)
_NEGATIVE_EMOJI = re.compile("[😡😠🤬😤😒😞😔😟😢😭😩😫🤮🤢💀👎💩😱😰😓🙁☹😣😖]")
_POSITIVE_EMOJI = re.compile("[😍🥰😊😀😃😄😁😆🙂😉👍🙏❤💕💖💯🔥✨🎉🥳👌🤩💪😘☺]")
_QUESTION = re.compile(r"\?")
_EXCLAIM = re.compile(r"!")

FEATURE_NAMES = (
    "lex_neg", "lex_neu", "lex_pos", "lex_compound", "lex_compound_sqrt",
    "complaint", "sarcasm", "emoji_neg", "emoji_pos", "question", "exclaim", "caps",
)

_analyzers: dict[str, Any] = {}
_lock = threading.Lock()


def _analyzer(lang: str) -> Any:
    """VADER for English and everything else, vader-fr for French."""
    key = "fr" if lang == "fr" else "en"
    if key not in _analyzers:
        with _lock:
            if key not in _analyzers:
                if key == "fr":
                    with warnings.catch_warnings():
                        # vader-fr imports fuzzywuzzy, which warns about a missing C
                        # speed-up it does not need for scoring.
                        warnings.simplefilter("ignore")
                        from vaderSentiment_fr.vaderSentiment import (
                            SentimentIntensityAnalyzer as FrenchAnalyzer,
                        )
                    _analyzers[key] = FrenchAnalyzer()
                else:
                    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                    _analyzers[key] = SentimentIntensityAnalyzer()
    return _analyzers[key]


def lexicon_scores(text: str, lang: str) -> tuple[float, float, float, float]:
    """VADER's (neg, neu, pos, compound) for the text in its language."""
    scores = _analyzer(lang).polarity_scores(text[:MAX_CUE_CHARS])
    return (
        float(scores["neg"]), float(scores["neu"]), float(scores["pos"]),
        float(scores["compound"]),
    )


def _count(pattern: re.Pattern[str], text: str) -> float:
    # Log-ish saturation: a post with ten 👏 is not ten times as sarcastic.
    n = len(pattern.findall(text))
    return float(np.log1p(n))


def cue_features(text: str, lang: str) -> npt.NDArray[np.float32]:
    """The cue vector of one text (see ``FEATURE_NAMES``)."""
    text = text[:MAX_CUE_CHARS]
    neg, neu, pos, compound = lexicon_scores(text, lang)
    folded = fold(text)
    letters = [c for c in text if c.isalpha()]
    caps = sum(1 for c in letters if c.isupper()) / len(letters) if len(letters) >= 8 else 0.0
    return np.array(
        [
            neg, neu, pos, compound,
            float(np.sign(compound) * np.sqrt(abs(compound))),
            _count(_COMPLAINT, folded),
            _count(_SARCASM, folded),
            _count(_NEGATIVE_EMOJI, text),
            _count(_POSITIVE_EMOJI, text),
            _count(_QUESTION, text),
            _count(_EXCLAIM, text),
            caps,
        ],
        dtype=np.float32,
    )


def cue_matrix(texts: list[str], langs: list[str]) -> npt.NDArray[np.float32]:
    """Cue vectors of many texts, one row each."""
    if not texts:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    return np.vstack([cue_features(text, lang) for text, lang in zip(texts, langs, strict=True)])
