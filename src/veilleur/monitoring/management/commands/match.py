"""``veilleur match QUERY [FILE]``: the lines of a file that a watch query matches.

Users try a query on real mentions before saving it. FILE (or standard input, when
it is ``-`` or missing) holds JSON lines (``{"text": ..., "title": ..., "lang": ...,
"source": ..., "author": ..., "site": ... or "url": ..., "country": ...,
"followers": ...}``) or plain text, one mention per line; the first non-blank line
decides (``--format`` forces it). Matching lines are printed as read, like grep;
``--explain`` adds under each one which terms were found where, ``--count`` prints
only how many matched. Lines that cannot be read are reported on standard error
with their number and skipped.

Exit status: 0 when at least one line matched, 1 when none did (as grep), 2 for a
bad query or an unreadable file.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from veilleur.analysis.query import (
    Explanation,
    MentionDoc,
    Query,
    QuerySyntaxError,
    compile_query,
)
from veilleur.analysis.text import MAX_TEXT_CHARS, MAX_TITLE_CHARS, clean_text

USAGE_ERROR = 2
NO_MATCH = 1
MAX_LINE_BYTES = 1_000_000
_TEXT_FIELDS = ("title", "lang", "source", "author", "site", "country")
# Terminal control sequences in hostile text must not reach a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

HELP = gettext_noop(
    "Print the lines of a JSONL or text file (or standard input) that a watch query "
    "matches."
)


class LineError(ValueError):
    """A line that cannot be read as a mention."""


def _safe(text: str, limit: int = 200) -> str:
    cleaned = _CONTROL.sub("?", text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.description = _(HELP)
        parser.add_argument("query", help=_("the watch query to try"))
        parser.add_argument("file", nargs="?", default="-",
                            help=_("JSONL or text file, one mention per line "
                                   "(default: standard input)"))
        parser.add_argument("--explain", action="store_true",
                            help=_("show under each matching line which terms matched"))
        parser.add_argument("--count", action="store_true",
                            help=_("print only the number of matching lines"))
        parser.add_argument("--format", choices=("auto", "jsonl", "text"), default="auto",
                            help=_("how to read the lines (default: from the first line)"))

    def handle(self, *args: Any, **options: Any) -> None:
        query = self._compile(options["query"])
        stream = self._open(options["file"])
        try:
            matched = self._run(query, stream, options)
        finally:
            if stream is not self._stdin():
                stream.close()
        if options["count"]:
            self.stdout.write(str(matched))
        if matched == 0:
            sys.exit(NO_MATCH)

    # --- arguments -----------------------------------------------------------------

    def _compile(self, source: str) -> Query:
        try:
            return compile_query(source)
        except QuerySyntaxError as error:
            shown = _safe(source.replace("\t", " ").replace("\n", " "), 10_000)
            caret = " " * min(error.position, len(shown)) + "^"
            message = error.message(get_language() or "en")
            raise CommandError(f"{message}\n  {shown}\n  {caret}",
                               returncode=USAGE_ERROR) from None

    @staticmethod
    def _stdin() -> IO[bytes]:
        # Bytes, so that a line that is not UTF-8 is reported rather than fatal.
        return cast(IO[bytes], getattr(sys.stdin, "buffer", sys.stdin))

    def _open(self, name: str) -> IO[bytes]:
        if name == "-":
            return self._stdin()
        path = Path(name).expanduser()
        try:
            return path.open("rb")
        except OSError as exc:
            raise CommandError(_("cannot read %(file)s: %(error)s")
                               % {"file": _safe(name), "error": exc.strerror or exc},
                               returncode=USAGE_ERROR) from None

    # --- the loop ------------------------------------------------------------------------

    def _run(self, query: Query, stream: IO[bytes], options: dict[str, Any]) -> int:
        fmt: str = options["format"]
        to_terminal = self.stdout.isatty()
        matched = 0
        for number, raw in enumerate(_lines(stream), start=1):
            try:
                line = _decode(raw)
                if not line.strip():
                    continue
                if fmt == "auto":
                    fmt = "jsonl" if line.lstrip().startswith("{") else "text"
                doc = _mention(line) if fmt == "jsonl" else MentionDoc(text=clean_text(line))
            except LineError as error:
                self.stderr.write(_("line %(number)d: %(reason)s")
                                  % {"number": number, "reason": error})
                continue
            if not query.matches(doc):
                continue
            matched += 1
            if options["count"]:
                continue
            self.stdout.write(_safe(line, len(line)) if to_terminal else line)
            if options["explain"]:
                self._explain(query.explain(doc), doc)
        return matched

    def _explain(self, explanation: Explanation, doc: MentionDoc) -> None:
        width = min(40, max((len(t.term) for t in explanation.terms), default=0))
        for term in explanation.terms:
            mark = "+" if term.matched else "-"
            label = _safe(term.term, 60).ljust(width)
            if term.negated:
                note = _("excluded term, found: the mention is left out") if term.matched \
                    else _("excluded term, absent")
            elif term.matched and term.spans:
                found = []
                for span in term.spans[:5]:
                    field_text = doc.title if span.field == "title" else doc.text
                    found.append(f"{span.field} {span.start}-{span.end} "
                                 f"“{_safe(field_text[span.start:span.end], 60)}”")
                note = "; ".join(found) + (" …" if len(term.spans) > 5 else "")
            elif term.matched:
                note = _("matches")
            else:
                note = _("not found")
            self.stdout.write(f"    {mark} {label}  {note}")


def _lines(stream: IO[bytes]) -> Iterator[bytes | None]:
    """Lines without their end; None for a line over MAX_LINE_BYTES (skipped whole)."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES:
            while not line.endswith(b"\n"):  # read past the rest of this line
                line = stream.readline(MAX_LINE_BYTES)
                if not line:
                    break
            yield None
            continue
        yield line.rstrip(b"\r\n")


def _decode(raw: bytes | None) -> str:
    if raw is None:
        raise LineError(_("line too long (over %(n)d bytes)") % {"n": MAX_LINE_BYTES})
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LineError(_("not valid UTF-8")) from None


def _mention(line: str) -> MentionDoc:
    """A JSONL line as a mention (text and fields cleaned and bounded as when stored)."""
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise LineError(_("invalid JSON (%(error)s)") % {"error": getattr(exc, "msg", exc)}) \
            from None
    if not isinstance(row, dict):
        raise LineError(_("expected a JSON object"))
    text = row.get("text")
    if not isinstance(text, str):
        raise LineError(_("“text” is missing or not a string"))
    fields: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        value = row.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise LineError(_("“%(field)s” is not a string") % {"field": name})
        fields[name] = clean_text(value, MAX_TITLE_CHARS) if name == "title" else value[:300]
    if "site" not in fields and isinstance(row.get("url"), str):
        fields["site"] = urlsplit(row["url"][:2000]).hostname or ""
    return MentionDoc(text=clean_text(text, MAX_TEXT_CHARS), followers=_followers(row),
                      **fields)


def _followers(row: dict[str, Any]) -> int | None:
    value = row.get("followers")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise LineError(_("“followers” is not a number"))
    try:
        number = int(float(value)) if not isinstance(value, int) else value
    except (ValueError, OverflowError):
        raise LineError(_("“followers” is not a number")) from None
    return number
