"""The view of a mention the content detectors need: plain data, no Django."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MentionRecord:
    id: int
    published_at: datetime
    text: str
    sentiment: str = ""  # negative / neutral / positive / "" (not scored)
    author: str = ""
    reach: int = 0
    verified: bool = False
    source: str = ""
    story_id: int | None = None
    url: str = ""
