"""The language of a mention, restricted to the workspace's languages.

py3langid ships its model inside the package (nothing downloads) and scores all 97
languages it knows; we keep the best one among the workspace's languages unless the
text is confidently in another language, which goes to the ``other`` bucket. Short
texts are often ambiguous ("ok", "Merci @x"), and an unsure guess inside the
workspace's languages is more useful there than a confident-looking "other".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

OTHER = "other"
# Above this probability (normalised over every language) a text in a language
# outside the workspace's list is put in "other" rather than forced into the list.
CONFIDENT_FOREIGN = 0.9
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_HINT = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")

_identifier: Any = None
_lock = threading.Lock()


def _get_identifier() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def normalise_code(code: str) -> str:
    """``fr-FR``, ``FR``, ``fr_ca`` -> ``fr``; anything unparseable -> ``""``."""
    match = _HINT.match(code.strip().lower())
    return match.group(1) if match else ""


def detect_language(text: str, allowed: Sequence[str], hint: str = "") -> str:
    """The mention's language among ``allowed``, or ``other``.

    A source's hint wins when it names one of the allowed languages (a French RSS
    feed says so); a hint outside the list is not trusted blindly, the text decides.
    """
    allowed_codes = [normalise_code(code) for code in allowed if normalise_code(code)]
    hinted = normalise_code(hint)
    if hinted and hinted in allowed_codes:
        return hinted
    if not _LETTER.search(text):
        return OTHER
    ranking: list[tuple[str, float]] = _get_identifier().rank(text[:2000])
    best_lang, best_prob = ranking[0]
    if best_lang in allowed_codes or not allowed_codes:
        return str(best_lang)
    if best_prob >= CONFIDENT_FOREIGN:
        return OTHER
    for lang, _prob in ranking:
        if lang in allowed_codes:
            return str(lang)
    return OTHER
