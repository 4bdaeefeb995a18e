"""One e-mail message as a mention: headers decoded, the new text of the body kept.

Used by the IMAP connector; plain functions over bytes, so an .eml import could use
them too. Charsets are decoded leniently (ISO-8859-1 and US-ASCII labels are read as
Windows-1252, as mail clients do), quoted replies and signatures are dropped.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
from datetime import UTC, datetime
from email.message import EmailMessage, Message

from veilleur.connectors.base import JSON, RawItem
from veilleur.connectors.html_text import html_to_text

log = logging.getLogger(__name__)
_MSGID = re.compile(r"<([^<>\s]{1,500})>")


def message_item(raw: bytes, uid: int, uidvalidity: int,
                 internaldate: datetime | None = None) -> RawItem:
    """A message (RFC 5322 bytes) as a RawItem."""
    msg = _parse(raw)
    message_id = _first_id(_header(msg, "message-id"))
    if not message_id:  # stable across UID renumbering, unlike the UID
        head = raw.split(b"\r\n\r\n", 1)[0]
        message_id = "noid:" + hashlib.sha256(head).hexdigest()[:32]
    name, address = _sender(msg)
    references = _MSGID.findall(_header(msg, "references"))
    parent = _first_id(_header(msg, "in-reply-to"))
    extra: dict[str, JSON] = {"item_type": "email"}
    thread = references[0] if references else parent
    if thread:
        extra["thread_id"] = thread
    if parent:
        extra["parent_id"] = parent
    lang = _header(msg, "content-language").split(",")[0].strip().split("-")[0].lower()
    return RawItem(
        external_id=message_id,
        text=_readable_body(msg, raw),
        title=_header(msg, "subject"),
        published_at=_date(msg) or _utc(internaldate),
        author_handle=address,
        author_name=name,
        lang_hint=lang if re.fullmatch(r"[a-z]{2}", lang) else "",
        extra=extra,
    )


def _parse(raw: bytes) -> Message:
    """The message, parsed with structured headers; with the lenient legacy parser when
    the structured one raises (it does on some malformed MIME parameters, e.g. in
    Content-Type): one malformed message must not fail every poll of its mailbox."""
    try:
        return email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:
        log.debug("message unreadable with the default policy", exc_info=True)
        return email.message_from_bytes(raw, policy=email.policy.compat32)


def _header(msg: Message, name: str) -> str:
    """A decoded header (RFC 2047 words, raw 8-bit bytes too), '' when unreadable."""
    raw = next((v for k, v in msg.raw_items() if k.lower() == name), None)
    if raw is None:
        return ""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        # Undeclared 8-bit bytes (the parser would turn them into U+FFFD): UTF-8,
        # else windows-1252.
        text = _decode(raw.encode("ascii", "surrogateescape"), "")
    else:
        try:
            text = str(msg.get(name, ""))
        except Exception:  # a header the parser chokes on is dropped, not the message
            return ""
    return " ".join(text.split())


def _first_id(value: str) -> str:
    found = _MSGID.search(value)
    return found.group(1) if found else ""


def _sender(msg: Message) -> tuple[str, str]:
    try:
        header = msg.get("from")
        addresses = getattr(header, "addresses", ())
        if addresses:
            first = addresses[0]
            return " ".join(first.display_name.split()), first.addr_spec.lower()
    except Exception:  # an address header the parser chokes on: keep it as text
        log.debug("unreadable From header", exc_info=True)
    return _header(msg, "from"), ""


def _date(msg: Message) -> datetime | None:
    try:
        header = msg.get("date")
        when = getattr(header, "datetime", None)
    except Exception:
        return None
    return _utc(when) if isinstance(when, datetime) else None


def _utc(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _readable_body(msg: Message, raw: bytes) -> str:
    """``body_text``, never raising: a header that the structured parser chokes on
    (the email package raises IndexError on some malformed MIME parameters) must not
    fail the whole poll, or that one message would block its mailbox for good. The
    message is then read again with the lenient legacy parser."""
    try:
        return body_text(msg)
    except Exception:
        log.debug("MIME structure unreadable with the default policy", exc_info=True)
    try:
        return body_text(email.message_from_bytes(raw, policy=email.policy.compat32))
    except Exception:
        log.debug("MIME structure unreadable", exc_info=True)
        return ""


def _first_text_part(msg: Message) -> Message | None:
    """A legacy-parsed message's first inline text/plain part, else its first text/html."""
    found: dict[str, Message] = {}
    for part in msg.walk():
        disposition = str(part.get("content-disposition", "")).split(";")[0].strip().lower()
        kind = part.get_content_type()
        if disposition != "attachment" and kind in ("text/plain", "text/html"):
            found.setdefault(kind, part)
    return found.get("text/plain") or found.get("text/html")


def body_text(msg: Message) -> str:
    """The message's text: its text/plain part, else its HTML as text; quotes dropped."""
    part: Message | None = msg
    if isinstance(msg, EmailMessage):
        part = msg.get_body(preferencelist=("plain", "html"))
    elif msg.is_multipart():
        part = _first_text_part(msg)
    if part is None or part.get_content_maintype() != "text":
        return ""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = _decode(payload, part.get_content_charset() or "")
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return strip_quoted(text)


# Labels WHATWG (and every mail client) read as windows-1252: mail declared
# ISO-8859-1 often carries Windows' curly quotes and euro sign.
_AS_CP1252 = {"", "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin-1", "latin1",
              "l1", "windows-1252", "cp1252"}


def _decode(data: bytes, charset: str) -> str:
    charset = charset.strip().lower()
    if charset in _AS_CP1252:
        try:  # undeclared or "ascii" mail is often UTF-8
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")


_ATTRIBUTION = re.compile(r"(wrote|a écrit|schrieb|escribió)\s*:\s*$", re.IGNORECASE)
_FORWARD_MARK = re.compile(
    r"^\s*-{2,}\s*(original message|message d'origine|forwarded message|message transféré)"
    r"\s*-{2,}\s*$", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """The new part of a reply: quoted lines, the attribution line, the signature and
    an Outlook-style original message below are dropped (unless nothing would remain)."""
    kept: list[str] = []
    for line in text.splitlines():
        if line in ("-- ", "--") or _FORWARD_MARK.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    if kept and _ATTRIBUTION.search(kept[-1]):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or text.strip()

