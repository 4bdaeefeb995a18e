"""Query syntax errors: a machine code, a position, and messages in English and French.

The analysis package has no Django (so no gettext): the few messages live here as a
small catalogue of templates, one per error code, rendered by
:meth:`QuerySyntaxError.message`. Positions in messages count from 1 (as editors and
people do); :attr:`QuerySyntaxError.position` is the 0-based offset.
"""

from __future__ import annotations

from collections.abc import Mapping

# code -> (English, French). Placeholders: {pos} (1-based), plus the error's params.
CATALOGUE: Mapping[str, tuple[str, str]] = {
    "empty_query": (
        "The query is empty: expected a term",
        "La requête est vide : terme attendu",
    ),
    "expected_term": (
        "Expected a term after {after} at position {pos}",
        "Terme attendu après {after} à la position {pos}",
    ),
    "expected_term_before": (
        "Expected a term before {op} at position {pos}",
        "Terme attendu avant {op} à la position {pos}",
    ),
    "unclosed_paren": (
        "Parenthesis opened at position {pos} is never closed: expected “)”",
        "La parenthèse ouverte à la position {pos} n’est pas fermée : « ) » attendue",
    ),
    "unexpected_paren": (
        "Unexpected “)” at position {pos}: no parenthesis is open",
        "« ) » inattendue à la position {pos} : aucune parenthèse n’est ouverte",
    ),
    "empty_group": (
        "Empty parentheses at position {pos}: expected a term inside",
        "Parenthèses vides à la position {pos} : terme attendu à l’intérieur",
    ),
    "unclosed_quote": (
        "Quote opened at position {pos} is never closed: expected a closing “\"”",
        "Le guillemet ouvert à la position {pos} n’est pas fermé : « \" » attendu",
    ),
    "empty_phrase": (
        "Empty phrase at position {pos}: expected words between the quotes",
        "Expression vide à la position {pos} : mots attendus entre les guillemets",
    ),
    "unclosed_brace": (
        "Brace opened at position {pos} is never closed: expected “}}”",
        "L’accolade ouverte à la position {pos} n’est pas fermée : « }} » attendue",
    ),
    "empty_exact": (
        "Empty exact-case term at position {pos}: expected words between the braces",
        "Terme à casse exacte vide à la position {pos} : mots attendus entre les accolades",
    ),
    "wildcard_in_exact": (
        "Wildcards (* and ?) are not allowed in an exact-case term {{…}} "
        "(position {pos})",
        "Les jokers (* et ?) ne sont pas permis dans un terme à casse exacte {{…}} "
        "(position {pos})",
    ),
    "empty_term": (
        "“{term}” at position {pos} contains no letters or digits: expected a term",
        "« {term} » à la position {pos} ne contient ni lettre ni chiffre : terme attendu",
    ),
    "unexpected_char": (
        "Unexpected “{char}” at position {pos}",
        "« {char} » inattendu à la position {pos}",
    ),
    "misplaced_tilde": (
        "“~” at position {pos} must follow a closing quote, as in \"delay flight\"~3",
        "« ~ » à la position {pos} doit suivre un guillemet fermant, "
        "comme dans \"retard vol\"~3",
    ),
    "bad_near_distance": (
        "Expected a distance after {op} at position {pos}: a whole number from 0 to {max}",
        "Distance attendue après {op} à la position {pos} : un nombre entier de 0 à {max}",
    ),
    "near_operand": (
        "{op} at position {pos} needs words or phrases on both sides "
        "(not AND, NOT or a field filter)",
        "{op} à la position {pos} doit relier des mots ou des expressions "
        "(pas AND, NOT ni un filtre de champ)",
    ),
    "unknown_field": (
        "Unknown field “{field}” at position {pos}; known fields: {known}",
        "Champ « {field} » inconnu à la position {pos} ; champs connus : {known}",
    ),
    "empty_field": (
        "Expected a value after {field}: at position {pos}",
        "Valeur attendue après {field}: à la position {pos}",
    ),
    "bad_field_value": (
        "“{value}” at position {pos} is not a valid value for {field}:",
        "« {value} » à la position {pos} n’est pas une valeur valide pour {field}:",
    ),
    "bad_followers": (
        "Expected a number comparison after followers: at position {pos}, "
        "such as followers:>10000, followers:<=500 or followers:1000..5000",
        "Comparaison de nombre attendue après followers: à la position {pos}, "
        "par exemple followers:>10000, followers:<=500 ou followers:1000..5000",
    ),
    "wildcard_too_short": (
        "“{term}” at position {pos} is too broad: a wildcard term needs at least "
        "{min} letters or digits besides * and ?",
        "« {term} » à la position {pos} est trop large : un terme avec joker demande "
        "au moins {min} lettres ou chiffres en plus de * et ?",
    ),
    "too_long": (
        "The query is too long ({length} characters; at most {max})",
        "La requête est trop longue ({length} caractères ; {max} au plus)",
    ),
    "too_many_terms": (
        "Too many terms (at most {max}): the term at position {pos} is one too many",
        "Trop de termes ({max} au plus) : le terme à la position {pos} est de trop",
    ),
    "too_deep": (
        "Too many nested parentheses at position {pos} (at most {max} levels)",
        "Trop de parenthèses imbriquées à la position {pos} ({max} niveaux au plus)",
    ),
}


class QuerySyntaxError(ValueError):
    """A query that cannot be compiled.

    ``code`` names the problem (a key of :data:`CATALOGUE`), ``position`` is the
    0-based offset in the query where it was found, ``expected`` says in one word
    what would have been valid there (``"term"``, ``")"``, ``'"'``, ``"}"``,
    ``"number"``, ``"value"``; ``None`` when nothing in particular), and ``params``
    fill the message templates. ``str(error)`` is the English message.
    """

    def __init__(self, code: str, position: int, *, expected: str | None = None,
                 **params: str | int) -> None:
        if code not in CATALOGUE:
            raise ValueError(f"unknown query error code {code!r}")
        self.code = code
        self.position = position
        self.expected = expected
        self.params: dict[str, str | int] = dict(params)
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` (``fr``, ``fr-CA``... give French; anything else English)."""
        english, french = CATALOGUE[self.code]
        template = french if lang.lower().replace("_", "-").split("-")[0] == "fr" else english
        return template.format(pos=self.position + 1, **self.params)

    def __reduce__(self) -> tuple[object, ...]:  # picklable despite keyword-only params
        return (_rebuild, (self.code, self.position, self.expected, self.params))


def _rebuild(code: str, position: int, expected: str | None,
             params: dict[str, str | int]) -> QuerySyntaxError:
    return QuerySyntaxError(code, position, expected=expected, **params)
