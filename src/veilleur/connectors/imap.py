"""The IMAP connector: mail in one folder of a mailbox (docs/sources/imap.md).

A contact address, the mailbox that receives review notifications, a press inbox:
each new message becomes a mention (item type ``email``).

- **Read-only.** The folder is opened with EXAMINE and bodies fetched with
  ``BODY.PEEK[]``: nothing is marked as read, moved or deleted.
- **Guarded.** IMAPClient (a maintained wrapper over imaplib) is given our own
  imaplib connection whose socket comes from ``netguard.guarded_connection`` (no
  private addresses unless allowed) with the connectors' timeout. ``security`` is
  ``ssl`` (implicit TLS, port 993), ``starttls`` (port 143, upgraded before login)
  or ``none``; ``none`` sends the password in clear and is only allowed to a server
  on a non-public address (a local bridge, a LAN server, the tests' peer), which
  itself needs ``VEILLEUR_ALLOW_PRIVATE_NETWORKS=true``.
- **Bounded.** At most ``MAX_MESSAGES_PER_FETCH`` messages per fetch, each at most
  ``MAX_MESSAGE_BYTES`` (RFC822.SIZE is read first; bigger messages are skipped,
  not fetched), the whole fetch at most ``CONNECTOR_MAX_BYTES``; a server that
  announces more data than that is cut off.
- **Cursor** ``{"mailbox", "uidvalidity", "last_uid"}``: the next poll asks for UIDs
  above ``last_uid``. When UIDVALIDITY changes (the server renumbered the folder),
  or the host, user or folder changed, it starts again from the newest
  ``INITIAL_MESSAGES`` messages; Message-IDs are the external ids, so messages seen
  before are not stored twice.
"""

from __future__ import annotations

import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, LoginError

from veilleur.connectors.base import (
    JSON,
    Batch,
    ConfigField,
    RawItem,
    SourceError,
)
from veilleur.connectors.fields import bounded_int, clean_fields, invalid
from veilleur.connectors.mail import message_item
from veilleur.connectors.netguard import BlockedAddress, guarded_connection, is_public

log = logging.getLogger(__name__)

MAX_MESSAGES_PER_FETCH = 100
INITIAL_MESSAGES = 100  # read on the first poll and after a UIDVALIDITY change
MAX_MESSAGE_BYTES = 1024 * 1024
BODY_CHUNK = 20  # messages per FETCH command
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
# One DNS label; host names are checked label by label (a single pattern with an
# optional dot between repeated labels backtracks exponentially on a long bad name).
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_ADDRESS = re.compile(r"^[0-9a-fA-F:.]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Login refusals that say "not now" rather than "not you" (RFC 5530 response codes).
_BUSY = re.compile(r"\[(UNAVAILABLE|INUSE|LIMIT|SERVERBUG)\]", re.IGNORECASE)


class ImapConnector:
    kind = "imap"
    platform = "email"
    label = _("Mailbox (IMAP)")
    fields = (
        ConfigField("host", _("IMAP server"), required=True,
                    help=_("The server's host name, e.g. imap.example.org.")),
        ConfigField("port", _("Port"), type="int",
                    help=_("Leave blank for 993 (ssl) or 143 (starttls, none).")),
        ConfigField("security", _("Connection security"), type="choice", default="ssl",
                    choices=(("ssl", _("SSL/TLS (port 993)")),
                             ("starttls", _("STARTTLS (port 143)")),
                             ("none", _("None: local servers only")))),
        ConfigField("username", _("User name"), required=True),
        ConfigField("password", _("Password"), type="secret", required=True,
                    help=_("Prefer an app password that can only read mail.")),
        ConfigField("folder", _("Folder"), default="INBOX",
                    help=_("The folder to read; messages are never marked as read.")),
    )

    def validate_config(self, config: Mapping[str, JSON]) -> dict[str, JSON]:
        clean = clean_fields(self.fields, config)
        host = str(clean["host"]).strip().strip("[]")
        if "://" in host or "/" in host or not _valid_host(host):
            raise invalid(
                "host", gettext("expected a host name such as imap.example.org, got %(value)s"),
                value=repr(host))
        clean["host"] = host
        if clean.get("port") is None:
            clean["port"] = DEFAULT_PORTS[str(clean["security"])]
        bounded_int(clean, "port", 1, 65535)
        # LOGIN sends these as quoted strings: 7-bit text, no line breaks.
        for name in ("username", "password"):
            value = str(clean[name])
            if _CONTROL.search(value) or not value.isascii():
                raise invalid(name, gettext(
                    "only printable ASCII characters can be sent with IMAP LOGIN"))
        folder = str(clean["folder"])
        if _CONTROL.search(folder) or len(folder) > 255:
            raise invalid(
                "folder", gettext("a folder name on one line, at most 255 characters"))
        return clean

    def fetch(self, config: Mapping[str, JSON], cursor: JSON, now: datetime) -> Batch:
        host, port = str(config["host"]), int(config["port"])
        where = f"{host}:{port}"
        username = str(config["username"])
        try:
            client = _connect(config)
            with client:
                try:
                    client.login(_quoted(username), str(config["password"]))
                except LoginError as exc:
                    answer = _server_text(exc)
                    if _BUSY.search(answer):  # RFC 5530: try again later
                        raise SourceError(f"{where} cannot log {username} in for now "
                                          f"({answer})") from None
                    raise SourceError(
                        f"{where} refused the login of {username}: check the user name and "
                        f"the password (or app password) ({answer})", permanent=True) from None
                return _poll(client, config, cursor)
        except SourceError:
            raise
        except BlockedAddress as exc:
            raise SourceError(str(exc), permanent=True) from None
        except _PlainTextRefused:
            raise SourceError(
                f"{where} is a public address: security 'none' would send the password "
                "in clear over the internet; use ssl or starttls", permanent=True) from None
        except CapabilityError:
            raise SourceError(f"{where} does not offer STARTTLS: use security 'ssl' (port "
                              "993)", permanent=True) from None
        except ssl.SSLCertVerificationError as exc:
            raise SourceError(f"{where}'s TLS certificate is not trusted: "
                              f"{exc.verify_message or exc.reason}") from None
        except TimeoutError:
            raise SourceError(f"{where} did not answer within {_timeout():g} s") from None
        except _TooMuchData as exc:
            raise SourceError(f"{where} {exc}") from None
        except imaplib.IMAP4.abort as exc:
            raise SourceError(f"{where} broke off the session: {_server_text(exc)}") from None
        except imaplib.IMAP4.error as exc:
            raise SourceError(f"{where} refused a command: {_server_text(exc)}") from None
        except OSError as exc:
            raise SourceError(f"could not reach {where}: {exc.strerror or exc}") from None


def _valid_host(host: str) -> bool:
    """A DNS name (labels of letters, digits and inner hyphens) or an IP address."""
    if _ADDRESS.match(host):
        return True
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(_LABEL.match(label) for label in labels)


# --- one poll ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cursor:
    mailbox: str
    uidvalidity: int
    last_uid: int

    def to_json(self) -> dict[str, JSON]:
        return {"mailbox": self.mailbox, "uidvalidity": self.uidvalidity,
                "last_uid": self.last_uid}


def _mailbox_key(config: Mapping[str, JSON]) -> str:
    return f"{config['username']}@{config['host']}:{config['port']}/{config['folder']}"


def _read_cursor(cursor: JSON, mailbox: str) -> _Cursor | None:
    if not isinstance(cursor, dict) or cursor.get("mailbox") != mailbox:
        return None
    validity, last = cursor.get("uidvalidity"), cursor.get("last_uid")
    if not isinstance(validity, int) or not isinstance(last, int) or last < 0:
        return None
    return _Cursor(mailbox, validity, last)


def _poll(client: IMAPClient, config: Mapping[str, JSON], cursor: JSON) -> Batch:
    folder = str(config["folder"])
    try:
        info = client.select_folder(folder, readonly=True)  # EXAMINE
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        answer = _server_text(exc)
        if _BUSY.search(answer):  # RFC 5530: try again later
            raise SourceError(f"cannot open the folder {folder!r} for now ({answer})") from None
        raise SourceError(f"cannot open the folder {folder!r}: {answer}",
                          permanent=True) from None
    validity = int(info.get(b"UIDVALIDITY") or 0)
    mailbox = _mailbox_key(config)
    state = _read_cursor(cursor, mailbox)
    if state is not None and state.uidvalidity == validity:
        after = state.last_uid
        # "n:*" also matches the highest UID when n is above it: filter.
        uids = sorted(uid for uid in client.search(["UID", f"{after + 1}:*"]) if uid > after)
    else:
        if state is not None:
            log.info("IMAP folder %s: UIDVALIDITY changed, reading the newest %s messages "
                     "again", folder, INITIAL_MESSAGES)
        after = 0
        uids = _newest_uids(client, int(info.get(b"EXISTS") or 0))
    todo = uids[:MAX_MESSAGES_PER_FETCH]
    wanted, last, cut = _within_limits(client, todo, after)
    items: list[RawItem] = []
    for chunk in _chunks(list(wanted), BODY_CHUNK):
        bodies = client.fetch(chunk, ["BODY.PEEK[]"])  # PEEK: leaves \Seen alone
        for uid in chunk:
            raw = bodies.get(uid, {}).get(b"BODY[]")
            if isinstance(raw, bytes):  # else expunged meanwhile
                items.append(message_item(raw, uid, validity, wanted[uid]))
    more = cut or len(uids) > len(todo)
    return Batch(items=items, cursor=_Cursor(mailbox, validity, last).to_json(), more=more)


def _newest_uids(client: IMAPClient, exists: int) -> list[int]:
    """UIDs of the newest messages, found by sequence number (no full-folder search)."""
    if exists <= 0:
        return []
    first = max(1, exists - INITIAL_MESSAGES + 1)
    client.use_uid = False
    try:
        found = client.fetch(list(range(first, exists + 1)), ["UID"])
    finally:
        client.use_uid = True
    return sorted(int(data[b"UID"]) for data in found.values() if b"UID" in data)


def _within_limits(
    client: IMAPClient, uids: list[int], after: int
) -> tuple[dict[int, datetime | None], int, bool]:
    """The messages to fetch ({uid: INTERNALDATE}), the cursor's new last UID, and
    whether the byte budget cut the list short.

    Oversized messages are skipped for good (the cursor passes them); the fetch
    stops before the total would pass ``CONNECTOR_MAX_BYTES``.
    """
    if not uids:
        return {}, after, False
    sizes = client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"])
    budget = _max_bytes()
    wanted: dict[int, datetime | None] = {}
    last, total = after, 0
    for uid in uids:
        data = sizes.get(uid)
        if data is None:  # expunged since the search
            last = uid
            continue
        size = int(data.get(b"RFC822.SIZE") or 0)
        if size > MAX_MESSAGE_BYTES:
            log.warning("IMAP message UID %s skipped: %s bytes, over the %s-byte limit",
                        uid, size, MAX_MESSAGE_BYTES)
            last = uid
            continue
        if wanted and total + size > budget:
            return wanted, last, True
        stamp = data.get(b"INTERNALDATE")
        wanted[uid] = stamp if isinstance(stamp, datetime) else None
        total += size
        last = uid
    return wanted, last, False


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- the connection --------------------------------------------------------------------


class _PlainTextRefused(Exception):
    """security=none towards a public address (the password would cross the internet)."""


class _TooMuchData(imaplib.IMAP4.abort):
    """The server sent more than one fetch may read."""


class _GuardedIMAP4(imaplib.IMAP4):
    """imaplib over a netguard socket, with a cap on what the server may send."""

    def __init__(self, host: str, port: int, *, timeout: float,
                 tls: ssl.SSLContext | None, plain_private_only: bool, budget: int) -> None:
        self._tls = tls
        self._plain_private_only = plain_private_only
        self._left = budget
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = guarded_connection(self.host, self.port, timeout)
        try:
            if self._plain_private_only and is_public(str(sock.getpeername()[0])):
                raise _PlainTextRefused(self.host)
            if self._tls is not None:
                return self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        return sock

    def _spend(self, size: int) -> None:
        self._left -= size
        if self._left < 0:
            raise _TooMuchData("sent more data than one fetch may read: cut off")

    def read(self, size: int) -> bytes:
        # Checked before reading: a literal's announced size is allocated up front.
        if size > MAX_MESSAGE_BYTES + 65536 or size > self._left:
            raise _TooMuchData(f"announced {size} bytes, over the limit: cut off")
        data: bytes = super().read(size)
        self._spend(len(data))
        return data

    def readline(self) -> bytes:
        line: bytes = super().readline()
        self._spend(len(line))
        return line


class _Client(IMAPClient):
    def __init__(self, host: str, port: int, *, security: str, timeout: float,
                 budget: int) -> None:
        self._security, self._budget = security, budget
        super().__init__(host, port=port, ssl=security == "ssl", ssl_context=_tls_context(),
                         timeout=timeout)
        self.normalise_times = False  # keep INTERNALDATE's offset
        # IMAPClient logs the whole protocol at DEBUG (passwords redacted, but not the
        # mail itself): keep message bodies out of debug logs.
        self._imap.debug = 0

    def _create_IMAP4(self) -> imaplib.IMAP4:
        return _GuardedIMAP4(
            self.host, self.port, timeout=self._timeout.connect,
            tls=self.ssl_context if self._security == "ssl" else None,
            plain_private_only=self._security == "none", budget=self._budget)


def _tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's CAs (SSL_CERT_FILE adds a private CA)."""
    return ssl.create_default_context()


def _timeout() -> float:
    return float(getattr(settings, "CONNECTOR_HTTP_TIMEOUT", DEFAULT_TIMEOUT))


def _max_bytes() -> int:
    return int(getattr(settings, "CONNECTOR_MAX_BYTES", DEFAULT_MAX_BYTES))


def _connect(config: Mapping[str, JSON]) -> _Client:
    security = str(config.get("security") or "ssl")
    client = _Client(str(config["host"]), int(config["port"]), security=security,
                     timeout=_timeout(), budget=_max_bytes() + MAX_MESSAGE_BYTES + 2**20)
    if security == "starttls":
        try:
            client.starttls(_tls_context())
        except BaseException:
            client.shutdown()
            raise
    return client


def _quoted(value: str) -> str:
    """An IMAP quoted string (imaplib sends LOGIN's user name as it is given)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _server_text(exc: Exception) -> str:
    text = str(exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return " ".join(text.split())[:200] or type(exc).__name__


# --- one message -----------------------------------------------------------------------
