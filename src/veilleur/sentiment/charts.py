"""The sentiment chart of the mentions page: sentiment per day and the language split.

Both come from one aggregate query over the filtered mentions of the chart's window
(``values`` + ``Count``, grouped by local day, sentiment and language), so the cost
does not grow with the number of mentions shown. Bar sizes are CSS percentages
computed here, as strings with a dot decimal: templates would localise floats
("12,5" in French), which CSS does not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from veilleur.monitoring.filters import language_label, start_of_day
from veilleur.monitoring.models import Mention, Sentiment

CHART_DAYS = 14
# Bottom to top in each bar; "" is a mention not scored yet.
STACK = (Sentiment.NEGATIVE.value, Sentiment.NEUTRAL.value, Sentiment.POSITIVE.value, "")


@dataclass(frozen=True)
class Segment:
    """A part of a day's bar; ``height`` is a CSS percentage of the busiest day's bar."""

    sentiment: str
    count: int
    height: str


class SentimentCounts:
    """Counts by sentiment as named attributes, for templates (``counts`` by label)."""

    counts: dict[str, int]

    @property
    def negative(self) -> int:
        return self.counts["negative"]

    @property
    def neutral(self) -> int:
        return self.counts["neutral"]

    @property
    def positive(self) -> int:
        return self.counts["positive"]

    @property
    def unscored(self) -> int:
        return self.counts[""]


def stack(counts: dict[str, int], highest: int) -> list[Segment]:
    """The non-empty segments of one bar, bottom up, as shares of the ``highest`` bar."""
    return [Segment(sentiment, counts[sentiment], _number(100 * counts[sentiment] / highest))
            for sentiment in STACK if counts[sentiment]]


@dataclass(frozen=True)
class DayBar(SentimentCounts):
    day: date
    counts: dict[str, int]
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class LanguageShare:
    code: str
    label: str
    count: int
    percent: int
    width: str


@dataclass(frozen=True)
class SentimentChart(SentimentCounts):
    """What the template draws; ``total`` 0 means an empty window."""

    start: date
    end: date
    days: list[DayBar]
    languages: list[LanguageShare]
    counts: dict[str, int]  # the whole window, by sentiment label
    total: int


def chart_window(
    date_from: date | None, date_to: date | None, newest: datetime | None
) -> tuple[date, date] | None:
    """The last ``CHART_DAYS`` days of the filter's range, or up to the newest mention.

    None when there is nothing to chart (no end date and no mention).
    """
    if date_to is not None:
        end = date_to
    elif newest is not None:
        end = timezone.localtime(newest).date()
    else:
        return None
    start = end - timedelta(days=CHART_DAYS - 1)
    if date_from is not None and date_from > start:
        start = min(date_from, end)
    return start, end


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def sentiment_chart(mentions: QuerySet[Mention], start: date, end: date) -> SentimentChart:
    """Counts per local day and sentiment, and per language, for ``start``..``end``."""
    rows = (
        mentions.filter(
            published_at__gte=start_of_day(start),
            published_at__lt=start_of_day(end + timedelta(days=1)),
        )
        .order_by()
        .values("lang", "sentiment", day=TruncDate("published_at",
                                                   tzinfo=timezone.get_current_timezone()))
        .annotate(n=Count("id"))
    )
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    per_day: dict[date, dict[str, int]] = {d: dict.fromkeys(STACK, 0) for d in days}
    per_lang: dict[str, int] = {}
    for row in rows:
        sentiment = row["sentiment"] if row["sentiment"] in STACK else ""
        if row["day"] not in per_day:  # cannot happen with the window's bounds; be safe
            continue
        per_day[row["day"]][sentiment] += row["n"]
        lang = row["lang"] or ""
        per_lang[lang] = per_lang.get(lang, 0) + row["n"]
    totals = {s: sum(c[s] for c in per_day.values()) for s in STACK}
    total = sum(totals.values())
    highest = max((sum(c.values()) for c in per_day.values()), default=0) or 1
    bars = []
    for day in days:
        counts = per_day[day]
        bars.append(DayBar(day, counts, sum(counts.values()), stack(counts, highest)))
    languages = [
        LanguageShare(code, language_label(code) if code else _("Unknown"), n,
                      round(100 * n / total), _number(100 * n / total))
        for code, n in sorted(per_lang.items(), key=lambda item: (-item[1], item[0]))
    ] if total else []
    return SentimentChart(start=start, end=end, days=bars, languages=languages,
                          counts=totals, total=total)
