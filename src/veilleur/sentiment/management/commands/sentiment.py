"""``veilleur sentiment train|backfill|heads|retrain|activate``.

- ``train --data FILE... --out DIR``: train the shipped heads from named files and
  write them with their model card (how ``src/veilleur/analysis/nlp/models`` is made).
- ``backfill [--workspace SLUG]``: enrich stored mentions that have no sentiment.
- ``heads --workspace SLUG``: a workspace's heads and their held-out figures.
- ``retrain --workspace SLUG``: train the workspace's next head now.
- ``activate --workspace SLUG --head N`` (or ``--shipped``): switch heads.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from veilleur.accounts.models import Workspace
from veilleur.analysis.nlp.datasets import DatasetError, load_dataset
from veilleur.analysis.nlp.embedding import MissingExtra, default_embedder
from veilleur.analysis.nlp.train import DEFAULT_L2, train_heads, write_heads
from veilleur.sentiment import corrections, enrichment
from veilleur.sentiment.models import SentimentHead

SHIPPED_LICENCE = (
    "Apache-2.0: sentences written for the Veilleur project (training/sentiment/); "
    "the cue features use the VADER and vader-fr lexicons (MIT)."
)


class Command(BaseCommand):
    help = "Train, backfill and manage sentiment heads (see docs/sentiment.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["train", "backfill", "heads", "retrain", "activate"])
        parser.add_argument("--data", action="append", default=[],
                            help="train: a labelled JSONL/CSV file (repeat for several)")
        parser.add_argument("--out", help="train: directory for the heads and MODEL_CARD.md")
        parser.add_argument("--l2", type=float, default=DEFAULT_L2, help="train: L2 strength")
        parser.add_argument("--date", help="train: date written in the card (YYYY-MM-DD)")
        parser.add_argument("--data-licence", default=SHIPPED_LICENCE,
                            help="train: the training data's licence, for the card")
        parser.add_argument("--without-accurate", action="store_true",
                            help="train: skip the accurate head (needs veilleur[accurate])")
        parser.add_argument("--workspace", help="the workspace's slug")
        parser.add_argument("--head", type=int, help="activate: the head version")
        parser.add_argument("--shipped", action="store_true",
                            help="activate: go back to the shipped head")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "do_" + options["action"])(options)

    def _workspace(self, options: dict[str, Any], required: bool = True) -> Workspace | None:
        slug = options["workspace"]
        if not slug:
            if required:
                raise CommandError("choose the workspace with --workspace SLUG")
            return None
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"no workspace {slug!r}")
        return workspace

    def do_train(self, options: dict[str, Any]) -> None:
        if not options["data"] or not options["out"]:
            raise CommandError("train needs --data FILE (one or more) and --out DIR")
        try:
            datasets = [load_dataset(path) for path in options["data"]]
            trained_on = date.fromisoformat(options["date"]) if options["date"] else date.today()
        except (DatasetError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        accurate = None if options["without_accurate"] else default_embedder("e5-small")
        try:
            trained = train_heads(
                datasets, default_embedder(), l2=options["l2"], trained_on=trained_on,
                data_licence=options["data_licence"], accurate_embedder=accurate,
                progress=lambda message: self.stderr.write(message),
            )
        except MissingExtra as exc:
            raise CommandError(f"{exc} (or train with --without-accurate)") from exc
        for path in write_heads(trained, Path(options["out"])):
            self.stdout.write(f"wrote {path}")

    def do_backfill(self, options: dict[str, Any]) -> None:
        workspace = self._workspace(options, required=False)
        done = enrichment.backfill(workspace.pk if workspace else None)
        self.stdout.write(f"enriched {done} mentions")

    def do_heads(self, options: dict[str, Any]) -> None:
        workspace = self._workspace(options)
        table = Table("version", "state", "corrections", "accuracy (CV)", "shipped head",
                      "trained at", "error")
        for head in SentimentHead.objects.filter(workspace=workspace):
            table.add_row(
                str(head.version), head.state, str(head.corrections),
                _pct(head.heldout_accuracy), _pct(head.base_accuracy),
                head.trained_at.isoformat(timespec="minutes") if head.trained_at else "",
                head.error[:60],
            )
        console = Console(file=io.StringIO(), width=120, record=True)
        console.print(table)
        self.stdout.write(console.export_text())
        count = len(corrections.latest_corrections(workspace.pk)) if workspace else 0
        self.stdout.write(f"{count} corrected mentions ({corrections.MIN_CORRECTIONS} needed)")

    def do_retrain(self, options: dict[str, Any]) -> None:
        workspace = self._workspace(options)
        assert workspace is not None
        try:
            head = corrections.train_workspace_head(workspace, timezone.now())
        except corrections.NotEnoughCorrections as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"head v{head.version}: accuracy {_pct(head.heldout_accuracy)} (cross-validated on "
            f"{head.corrections} corrections) vs {_pct(head.base_accuracy)} for the shipped "
            f"head; switch it on with: veilleur sentiment activate --workspace "
            f"{workspace.slug} --head {head.version}"
        )

    def do_activate(self, options: dict[str, Any]) -> None:
        workspace = self._workspace(options)
        assert workspace is not None
        if options["shipped"]:
            corrections.deactivate(workspace.pk)
            self.stdout.write("new mentions use the shipped head")
            return
        head = SentimentHead.objects.filter(workspace=workspace,
                                            version=options["head"]).first()
        if head is None:
            raise CommandError(f"no head version {options['head']!r} in {workspace.slug}")
        try:
            corrections.activate(head, None, timezone.now())
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"new mentions use head v{head.version}")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"
