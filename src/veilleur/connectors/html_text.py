"""Plain text out of the HTML that feeds and APIs send (RSS bodies, Mastodon posts,
YouTube and HN comments).

Mentions are stored and shown as text, never as markup: tags are dropped, entities
decoded, scripts and styles discarded with their content, block elements and ``<br>``
become line breaks. The input is hostile and may be huge, so it is cut before parsing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_HTML_CHARS = 200_000
_BLOCKS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "blockquote", "pre", "tr", "table", "section",
    "article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
})
_SKIPPED = frozenset({"script", "style", "template", "noscript", "head", "iframe", "object"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML fragment, with paragraphs kept as blank-line breaks."""
    if "<" not in html and "&" not in html:
        return html.strip()
    collector = _TextCollector()
    collector.feed(html[:MAX_HTML_CHARS])
    collector.close()
    text = "".join(collector.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
