"""French and English: the catalogue is complete and compiled, and the language follows
the user's choice, then the language cookie, then the browser."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

import veilleur
from veilleur.monitoring.models import Mention, Source

PACKAGE = Path(veilleur.__file__).parent
FRENCH_PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
FRENCH_MO = FRENCH_PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[-+ #0]*\d*(?:\.\d+)?[sdifr]|\{\w*\}")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (header excluded); just enough of the format for checks."""
    entries: list[Entry] = []
    entry, key = Entry(), ""

    def flush() -> None:
        nonlocal entry
        if entry.msgid or entry.msgstr:
            entries.append(entry)
        entry = Entry()

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        else:
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
            if match:
                key = match.group(1)
                text = ast.literal_eval(match.group(3))
            else:
                text = ast.literal_eval(line)  # a continuation line
            if key.startswith("msgstr"):
                index = int(key[7:-1]) if "[" in key else 0
                entry.msgstr[index] = entry.msgstr.get(index, "") + text
            elif key == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + text
            else:
                setattr(entry, key, getattr(entry, key) + text)
    return [e for e in entries if e.msgid]


def test_every_french_message_is_translated_and_none_is_fuzzy():
    entries = read_po(FRENCH_PO)
    assert len(entries) > 50, "the French catalogue looks empty"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    untranslated = [e.msgid for e in entries if not all(e.msgstr.values()) or not e.msgstr]
    plural_gaps = [e.msgid for e in entries if e.msgid_plural and len(e.msgstr) < 2]
    assert not fuzzy, f"fuzzy French translations: {fuzzy}"
    assert not untranslated, f"untranslated French messages: {untranslated}"
    assert not plural_gaps, f"French plurals need two forms: {plural_gaps}"


def test_french_translations_keep_every_placeholder():
    for entry in read_po(FRENCH_PO):
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in entry.msgstr.values():
            assert sorted(PLACEHOLDER.findall(text)) == wanted, entry.msgid


def test_the_compiled_french_catalogue_matches_the_po_file():
    with FRENCH_MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in read_po(FRENCH_PO):
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural:
            assert compiled.ngettext(msgid, entry.msgid_plural, 1) == entry.msgstr[0], msgid
            assert compiled.ngettext(msgid, entry.msgid_plural, 5) == entry.msgstr[1], msgid
        else:
            assert compiled.gettext(msgid) == entry.msgstr[0], (
                f"{msgid!r}: django.mo is stale, run `make messages`"
            )


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) not installed")
def test_every_translatable_string_in_the_code_is_in_the_french_catalogue(tmp_path):
    """Run makemessages on a copy of the package: nothing new may appear."""
    copy = tmp_path / "veilleur"
    skip = shutil.ignore_patterns("__pycache__", "*.mo", "*.gz", "*.sqlite3*")
    shutil.copytree(PACKAGE, copy, ignore=skip)
    po = copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    po.unlink()
    cwd = Path.cwd()
    try:
        os.chdir(copy)
        with override_settings(LOCALE_PATHS=[str(copy / "locale")]):
            call_command("makemessages", locale=["fr"], verbosity=0, no_obsolete=True)
    finally:
        os.chdir(cwd)
    in_code = {(e.msgctxt, e.msgid) for e in read_po(po)}
    in_catalogue = {(e.msgctxt, e.msgid) for e in read_po(FRENCH_PO)}
    missing = sorted(msgid for _ctx, msgid in in_code - in_catalogue)
    assert not missing, f"missing from the French catalogue (run `make messages`): {missing}"


# ---- which language a page is served in --------------------------------------------------------


@pytest.fixture
def acme_mention(acme):
    source = Source.objects.create(workspace=acme, name="Forum", kind="rss")
    return Mention.objects.create(
        workspace=acme, source=source, external_id="1", text="Bonjour",
        published_at=datetime(2025, 1, 15, 12, 0, tzinfo=UTC), content_hash="0" * 40,
    )


def mentions_page(client, accept: str | None = None) -> str:
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    return client.get(reverse("mentions"), **headers).content.decode()


@pytest.mark.django_db
def test_a_user_who_chose_french_gets_french_whatever_the_browser(client_of, alice, acme_mention):
    alice.language = "fr"
    alice.save()
    page = mentions_page(client_of(alice), accept="en-US,en;q=0.9")
    assert '<html lang="fr">' in page
    assert "Veilles" in page and "Filtrer" in page and "Se déconnecter" in page
    assert "15/01/2025 13:00" in page  # French date format, Paris time
    assert "Log out" not in page


@pytest.mark.django_db
def test_a_user_who_chose_english_gets_english_whatever_the_browser(client_of, alice, acme_mention):
    alice.language = "en"
    alice.save()
    page = mentions_page(client_of(alice), accept="fr-FR,fr;q=0.9")
    assert '<html lang="en">' in page
    assert "Watches" in page and "Log out" in page
    assert "Veilles" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(("accept", "expected", "word"), [
    ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Veilles"),
    ("en-GB,en;q=0.9", "en", "Watches"),
])
def test_without_a_choice_the_browser_language_is_used(client_of, alice, acme_mention, accept,
                                                       expected, word):
    assert alice.language == ""
    page = mentions_page(client_of(alice), accept=accept)
    assert f'<html lang="{expected}">' in page and word in page


@pytest.mark.django_db
def test_switching_language_saves_the_choice_and_sets_the_cookie(client_of, alice, acme_mention):
    client = client_of(alice)
    response = client.post(reverse("language"), {"language": "fr", "next": reverse("sources")})
    assert response.status_code == 302 and response["Location"] == reverse("sources")
    alice.refresh_from_db()
    assert alice.language == "fr"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert "Veilles" in mentions_page(client, accept="en")


@pytest.mark.django_db
def test_the_login_page_switches_language_for_anonymous_visitors(client):
    response = client.post(reverse("language"), {"language": "fr", "next": reverse("login")})
    assert response["Location"] == reverse("login")
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Se connecter" in page and '<html lang="fr">' in page


@pytest.mark.django_db
def test_an_unknown_language_is_refused(client):
    assert client.post(reverse("language"), {"language": "de"}).status_code == 400
    assert client.get(reverse("language")).status_code == 405
