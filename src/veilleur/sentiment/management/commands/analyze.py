"""``veilleur analyze [FILE|-]``: language and sentiment of texts, one JSON line each.

Input lines are JSON objects (``{"text": ..., "lang"?: ..., "id"?: ...}``) or plain
text. Output is one JSON line per input line, in order: ``lang``, ``sentiment``,
``scores`` (and ``id`` when given), or ``error`` for a line that cannot be read.
Blank lines are skipped. The texts go through the same normalisation and the same
``Analyzer`` as mentions in the pipeline.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from veilleur.accounts.models import Workspace
from veilleur.analysis.nlp import MODES, Analyzer, shipped_analyzer
from veilleur.analysis.text import clean_text
from veilleur.sentiment.enrichment import analyzer_for, workspace_languages

BATCH = 256


def parse_line(line: str) -> tuple[str, str, Any] | str:
    """(text, lang hint, id) of one input line, or an error message."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            record = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return f"not valid JSON: {exc.msg} at column {exc.colno}"
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            return 'a JSON line needs a "text" string'
        lang = record.get("lang")
        return clean_text(record["text"]), lang if isinstance(lang, str) else "", record.get("id")
    return clean_text(stripped), "", None


class Command(BaseCommand):
    help = "Language and sentiment of each line of FILE (or - for standard input), as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default="-", help="JSONL or text file, or -")
        parser.add_argument("--output", "-o", help="write here instead of standard output")
        parser.add_argument("--mode", choices=MODES, help="model (default) or lexicon (faster)")
        parser.add_argument("--languages", default="",
                            help="comma-separated languages to choose among (default fr,en)")
        parser.add_argument("--workspace",
                            help="use this workspace's languages and its active sentiment head")

    def handle(self, *args: Any, **options: Any) -> None:
        analyzer, languages = self._analyzer(options)
        source = self._open_input(options["file"])
        out: IO[str] = (
            open(options["output"], "w", encoding="utf-8")  # noqa: SIM115
            if options["output"] else sys.stdout
        )
        done = 0
        try:
            for batch in _batches(source):
                for record in self._analyze(analyzer, languages, batch):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                done += len(batch)
                out.flush()
                if options["output"] or not sys.stdout.isatty():
                    self.stderr.write(f"\ranalyzed {done} lines", ending="")
        finally:
            if out is not sys.stdout:
                out.close()
            if source is not sys.stdin:
                source.close()
        if options["output"] or not sys.stdout.isatty():
            self.stderr.write("")

    def _analyzer(self, options: dict[str, Any]) -> tuple[Analyzer, tuple[str, ...]]:
        languages = tuple(code.strip() for code in options["languages"].split(",") if code.strip())
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"no workspace {options['workspace']!r}")
            return analyzer_for(workspace.pk), languages or workspace_languages(workspace.languages)
        mode = options["mode"] or getattr(settings, "SENTIMENT_MODE", "model")
        return shipped_analyzer(mode), languages or workspace_languages(None)

    def _open_input(self, path: str) -> IO[str]:
        if path == "-":
            return sys.stdin
        try:
            return open(path, encoding="utf-8", errors="replace")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc

    def _analyze(
        self, analyzer: Analyzer, languages: tuple[str, ...], lines: list[str]
    ) -> list[dict[str, Any]]:
        parsed = [parse_line(line) for line in lines]
        good = [p for p in parsed if not isinstance(p, str)]
        analyses = iter(analyzer.analyze([p[0] for p in good], languages, [p[1] for p in good]))
        records: list[dict[str, Any]] = []
        for item in parsed:
            if isinstance(item, str):
                records.append({"error": item})
                continue
            analysis = next(analyses)
            record: dict[str, Any] = {} if item[2] is None else {"id": item[2]}
            record.update(lang=analysis.lang, sentiment=analysis.sentiment,
                          scores=analysis.scores)
            records.append(record)
        return records


def _batches(source: IO[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in source:
        if not line.strip():
            continue
        batch.append(line)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
