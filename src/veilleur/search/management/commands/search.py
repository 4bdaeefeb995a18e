"""``veilleur search QUERY --workspace SLUG``, ``veilleur search reindex``, ``... check``.

For operators: search from the shell exactly as the UI and API do, rebuild the
index (after restoring a backup made without it, or to pick up ``unaccent`` on
PostgreSQL), and check that it matches the mentions.
"""

from __future__ import annotations

import html
import io
import re
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from veilleur.accounts.models import Workspace
from veilleur.monitoring.models import Mention
from veilleur.search.services import check, reindex, search_mentions

_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)
ACTIONS = {"reindex", "check"}


def terminal_text(snippet: str) -> Text:
    """A highlighted HTML snippet as terminal text: marks in bold, entities decoded.

    ``Text.append`` never interprets rich markup, so a mention cannot style the output.
    """
    out = Text()
    pos = 0
    for match in _MARK.finditer(snippet):
        out.append(html.unescape(snippet[pos : match.start()]))
        out.append(html.unescape(match.group(1)), style="bold reverse")
        pos = match.end()
    out.append(html.unescape(snippet[pos:]))
    return out


class Command(BaseCommand):
    help = (
        "Search mentions (veilleur search WORDS --workspace SLUG), rebuild the index "
        "(veilleur search reindex) or check it (veilleur search check)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "words", nargs="+",
            help='what to search: words, "phrases", prefix*, -excluded; or reindex, check',
        )
        parser.add_argument("--workspace", help="the workspace's slug (required to search)")
        parser.add_argument("--sort", choices=["newest", "relevance"], default="newest")
        parser.add_argument("--limit", type=int, default=20, help="results shown (at most 200)")
        parser.add_argument("--offset", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        words: list[str] = options["words"]
        # "reindex" with a workspace is a search for the word; alone it is the action.
        if len(words) == 1 and words[0] in ACTIONS and not options["workspace"]:
            getattr(self, "do_" + words[0])(options)
            return
        self.do_search(" ".join(words), options)

    def do_search(self, text: str, options: dict[str, Any]) -> None:
        slug = options["workspace"]
        if not slug:
            raise CommandError(_("choose the workspace to search with --workspace SLUG"))
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(_("no workspace %(slug)r") % {"slug": slug})
        page = search_mentions(
            workspace, text, sort=options["sort"], limit=options["limit"],
            offset=max(0, options["offset"]),
        )
        if not page.query:
            raise CommandError(_("nothing to search for in %(text)r") % {"text": text})
        mentions = Mention.objects.select_related("source").in_bulk(page.ids)
        table = Table(
            title=_("%(count)s mention(s) match %(query)s")
            % {"count": page.total, "query": page.query},
            show_lines=True,
        )
        for column in (_("id"), _("published"), _("source"), _("text")):
            table.add_column(column)
        for pk in page.ids:
            mention = mentions[pk]
            found = page.highlights.get(pk)
            table.add_row(
                str(pk),
                f"{mention.published_at:%Y-%m-%d %H:%M}",
                Text(mention.source.name[:30]),
                terminal_text(found.text) if found else Text(mention.text[:200]),
            )
        console = Console(file=io.StringIO(), width=140, record=True)
        console.print(table)
        self.stdout.write(console.export_text(), ending="")
        if page.has_more:
            self.stdout.write(
                _("more: --offset %(next)s") % {"next": page.offset + page.limit}
            )

    def do_reindex(self, options: dict[str, Any]) -> None:
        console = Console(file=sys.stderr)
        progress = Progress(
            TextColumn(_("indexing")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, disable=not console.is_terminal,
        )
        with progress:
            task = progress.add_task("", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = reindex(on_progress=advance)
        if report.restored_triggers:
            self.stdout.write(self.style.WARNING(
                _("restored missing sync triggers: %(names)s")
                % {"names": ", ".join(report.restored_triggers)}
            ))
        if not report.folds_accents:
            self.stdout.write(self.style.WARNING(
                _("accents are not folded: install the unaccent extension (postgresql-contrib)")
            ))
        self.stdout.write(self.style.SUCCESS(
            _("search index rebuilt: %(count)s mention(s)") % {"count": report.indexed}
        ))

    def do_check(self, options: dict[str, Any]) -> None:
        problems = check()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(_("the search index needs `veilleur search reindex`"))
        self.stdout.write(self.style.SUCCESS(_("search index OK")))
