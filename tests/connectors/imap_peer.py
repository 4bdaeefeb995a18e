"""A small IMAP4rev1 server on loopback for the IMAP connector's tests.

It speaks just what a read-only poller needs (RFC 3501): CAPABILITY, NOOP, LOGOUT,
STARTTLS, LOGIN, SELECT/EXAMINE, UID SEARCH (ALL, UID <set>), UID FETCH (UID,
FLAGS, INTERNALDATE, RFC822.SIZE, BODY[]/BODY.PEEK[] and their HEADER sections)
over plain TCP or TLS. It records every command, keeps \\Seen flags (so a test
can show the poller never marks mail as read) and can misbehave on demand: stay
silent after connecting, or announce an enormous literal.

pymap (a full asyncio IMAP server) was the alternative; this keeps the tests free
of another dependency and lets them change UIDVALIDITY or sizes at will.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_ATOM_OR_QUOTED = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')


@dataclass
class Message:
    uid: int
    raw: bytes
    internaldate: dt.datetime
    flags: set[str] = field(default_factory=set)


class Mailbox:
    """One folder's messages, UIDs and UIDVALIDITY."""

    def __init__(self, uidvalidity: int = 1_700_000_001) -> None:
        self.uidvalidity = uidvalidity
        self.messages: list[Message] = []
        self.next_uid = 1

    def add(self, raw: bytes, when: dt.datetime | None = None) -> int:
        """Append a message (bare LF line ends become CRLF, as on the wire)."""
        raw = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
        when = when or dt.datetime(2025, 3, 4, 9, 0, tzinfo=dt.UTC)
        self.messages.append(Message(self.next_uid, raw, when))
        self.next_uid += 1
        return self.next_uid - 1

    def renumber(self, uidvalidity: int) -> None:
        """What a server does after rebuilding its index: new UIDVALIDITY, UIDs from 1."""
        self.uidvalidity = uidvalidity
        for n, message in enumerate(self.messages, start=1):
            message.uid = n
        self.next_uid = len(self.messages) + 1

    def select_uids(self, spec: str) -> list[Message]:
        """Messages whose UID is in a sequence set such as ``3:*`` or ``1,4:6``."""
        return self._select(spec, lambda m: m.uid)

    def select_seqs(self, spec: str) -> list[Message]:
        """Messages whose sequence number (position from 1) is in a sequence set."""
        return self._select(spec, lambda m: self.messages.index(m) + 1)

    def _select(self, spec: str, number) -> list[Message]:
        top = max((number(m) for m in self.messages), default=0)
        wanted: list[tuple[int, int]] = []
        for part in spec.split(","):
            low, _, high = part.partition(":")
            a = top if low == "*" else int(low)
            b = a if not high else top if high == "*" else int(high)
            wanted.append((min(a, b), max(a, b)))  # n:* with n > top still means top
        return [m for m in self.messages if any(lo <= number(m) <= hi for lo, hi in wanted)]


class ImapPeer:
    def __init__(
        self,
        mailbox: Mailbox,
        *,
        users: dict[str, str] | None = None,
        folder: str = "INBOX",
        tls: ssl.SSLContext | None = None,
        starttls: ssl.SSLContext | None = None,
        silent: bool = False,
        huge_literal: bool = False,
        login_refusal: str = "[AUTHENTICATIONFAILED] Invalid credentials",
        select_refusal: str = "",
    ) -> None:
        self.mailbox = mailbox
        self.users = users if users is not None else {"veille@fibrelune.fr": "app-password-1"}
        self.folder = folder
        self.tls, self.starttls, self.silent = tls, starttls, silent
        self.huge_literal = huge_literal
        self.login_refusal = login_refusal
        self.select_refusal = select_refusal  # a NO to every SELECT/EXAMINE when set
        self.commands: list[str] = []
        self.connections = 0
        self._stop = threading.Event()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._server.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    # -- one session ---------------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle pauses
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            if self.silent:
                self._stop.wait(10)
                return
            _Session(self, conn).run()
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()


class _Session:
    def __init__(self, peer: ImapPeer, conn: socket.socket) -> None:
        self.peer, self.conn = peer, conn
        self.file = conn.makefile("rb")
        self.user: str | None = None
        self.selected = False
        self.readonly = False

    def send(self, data: bytes | str) -> None:
        self.conn.sendall(data.encode() if isinstance(data, str) else data)

    def capabilities(self) -> str:
        caps = "IMAP4rev1 UIDPLUS"
        if self.peer.starttls is not None and not isinstance(self.conn, ssl.SSLSocket):
            caps += " STARTTLS"
        return caps

    def run(self) -> None:
        self.send(f"* OK [CAPABILITY {self.capabilities()}] Fibrelune test IMAP ready\r\n")
        while True:
            line = self.file.readline(65536)
            if not line:
                return
            line = self._with_literals(line)
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            command, _, args = rest.partition(b" ")
            name = command.decode().upper()
            if name == "UID":
                sub, _, args = args.partition(b" ")
                name = "UID " + sub.decode().upper()
            self.peer.commands.append(f"{name} {args.decode(errors='replace')}".strip())
            t = tag.decode()
            if not self.dispatch(t, name, args):
                return

    def _with_literals(self, line: bytes) -> bytes:
        """Read a command's synchronising literals (``{n}``) into the line."""
        while (found := re.search(rb"\{(\d+)\}\r\n$", line)) is not None:
            self.send("+ go ahead\r\n")
            data = self.file.read(int(found.group(1)))
            line = line[: found.start()] + b'"' + data.replace(b'"', b'\\"') + b'"'
            line += self.file.readline(65536)
        return line

    def dispatch(self, tag: str, name: str, args: bytes) -> bool:
        if name == "CAPABILITY":
            self.send(f"* CAPABILITY {self.capabilities()}\r\n{tag} OK CAPABILITY done\r\n")
        elif name == "NOOP":
            self.send(f"{tag} OK NOOP done\r\n")
        elif name == "LOGOUT":
            self.send(f"* BYE see you\r\n{tag} OK LOGOUT done\r\n")
            return False
        elif name == "STARTTLS" and self.peer.starttls is not None:
            self.send(f"{tag} OK begin TLS now\r\n")
            self.conn = self.peer.starttls.wrap_socket(self.conn, server_side=True)
            self.file = self.conn.makefile("rb")
        elif name == "LOGIN":
            words = _words(args)
            if len(words) == 2 and self.peer.users.get(words[0]) == words[1]:
                self.user = words[0]
                self.send(f"{tag} OK [CAPABILITY {self.capabilities()}] LOGIN done\r\n")
            else:
                self.send(f"{tag} NO {self.peer.login_refusal}\r\n")
        elif self.user is None:
            self.send(f"{tag} BAD log in first\r\n")
        elif name in ("SELECT", "EXAMINE"):
            self.select(tag, name, _words(args)[0])
        elif not self.selected:
            self.send(f"{tag} BAD select a folder first\r\n")
        elif name == "UID SEARCH":
            self.search(tag, args.decode())
        elif name in ("UID FETCH", "FETCH"):
            spec, _, items = args.decode().partition(" ")
            self.fetch(tag, spec, items, by_uid=name == "UID FETCH")
        else:
            self.send(f"{tag} BAD {name} is not supported here\r\n")
        return True

    def select(self, tag: str, name: str, folder: str) -> None:
        if self.peer.select_refusal:
            self.selected = False
            self.send(f"{tag} NO {self.peer.select_refusal}\r\n")
            return
        if folder.upper() != self.peer.folder.upper():
            self.selected = False
            self.send(f"{tag} NO [NONEXISTENT] no folder named {folder}\r\n")
            return
        box = self.peer.mailbox
        self.selected, self.readonly = True, name == "EXAMINE"
        mode = "READ-ONLY" if self.readonly else "READ-WRITE"
        self.send(
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
            f"* {len(box.messages)} EXISTS\r\n* 0 RECENT\r\n"
            f"* OK [UIDVALIDITY {box.uidvalidity}] UIDs valid\r\n"
            f"* OK [UIDNEXT {box.next_uid}] predicted next UID\r\n"
            f"{tag} OK [{mode}] {name} done\r\n"
        )

    def search(self, tag: str, criteria: str) -> None:
        words = criteria.upper().split()
        box = self.peer.mailbox
        if words == ["ALL"]:
            found = box.messages
        elif len(words) == 2 and words[0] == "UID":
            found = box.select_uids(words[1])
        else:
            self.send(f"{tag} BAD unsupported search {criteria}\r\n")
            return
        uids = " ".join(str(m.uid) for m in found)
        self.send(f"* SEARCH {uids}".rstrip() + f"\r\n{tag} OK SEARCH done\r\n")

    def fetch(self, tag: str, spec: str, items_text: str, *, by_uid: bool) -> None:
        items = items_text.strip().strip("()").upper().split()
        box = self.peer.mailbox
        for message in box.select_uids(spec) if by_uid else box.select_seqs(spec):
            seq = box.messages.index(message) + 1
            parts: list[bytes] = [f"UID {message.uid}".encode()]
            for item in items:
                parts.append(self.fetch_item(message, item))
            self.send(f"* {seq} FETCH (".encode() + b" ".join(p for p in parts if p) + b")\r\n")
        self.send(f"{tag} OK FETCH done\r\n")

    def fetch_item(self, message: Message, item: str) -> bytes:
        if item == "UID":
            return b""
        if item == "FLAGS":
            return f"FLAGS ({' '.join(sorted(message.flags))})".encode()
        if item == "INTERNALDATE":
            return f'INTERNALDATE "{message.internaldate:%d-%b-%Y %H:%M:%S %z}"'.encode()
        if item == "RFC822.SIZE":
            return f"RFC822.SIZE {len(message.raw)}".encode()
        found = re.fullmatch(r"BODY(\.PEEK)?\[(HEADER)?\]", item)
        if found is None:
            raise OSError(f"unsupported fetch item {item}")
        if not found.group(1) and not self.readonly:
            message.flags.add("\\Seen")
        data = message.raw
        if found.group(2):
            data = data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        section = f"BODY[{found.group(2) or ''}]"
        if self.peer.huge_literal:
            return f"{section} {{{50 * 1024 * 1024}}}\r\n".encode() + data
        return f"{section} {{{len(data)}}}\r\n".encode() + data


def _words(args: bytes) -> list[str]:
    out = []
    for quoted, atom in _ATOM_OR_QUOTED.findall(args):
        if atom:
            out.append(atom.decode())
        else:
            out.append(re.sub(rb"\\(.)", rb"\1", quoted).decode())
    return out


@contextmanager
def imap_peer(mailbox: Mailbox, **options) -> Iterator[ImapPeer]:
    peer = ImapPeer(mailbox, **options)
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imap.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "imap-cert.pem", directory / "imap-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_file, key_file


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context
