"""Which network addresses Veilleur may connect to on a user's behalf.

Every URL a user types (a feed, a Mastodon instance, an IMAP host, a webhook alert)
could point at the server's own network: the database, a cloud metadata service, an
admin page on the LAN. Outbound connections to user-supplied hosts therefore refuse
loopback, private, link-local, multicast, reserved and metadata addresses, unless the
operator sets ``VEILLEUR_ALLOW_PRIVATE_NETWORKS=true`` (self-hosters reading an intranet
feed; the test suite, whose peers run on loopback).

The check is made on the address actually connected to (see ``veilleur.connectors.http``
and ``guarded_connection``), not on the host name, so DNS tricks and redirects to a
private address are caught too.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings

# Cloud metadata services that answer on addresses ``is_global`` would not catch on
# every platform (AWS/GCP/Azure use 169.254.169.254, already link-local; Alibaba uses
# 100.100.100.200 in shared address space, not global either). Listed for the reader.
METADATA_ADDRESSES = frozenset({"169.254.169.254", "100.100.100.200", "fd00:ec2::254"})


class BlockedAddress(Exception):
    """A connection to a non-public address was refused.

    Deliberately not an OSError: HTTP libraries turn OSErrors into their own
    "connection failed" errors, and this one must stay recognisable.
    """

    def __init__(self, host: str, address: str) -> None:
        super().__init__(
            f"refused to connect to {host} ({address}): it is a loopback, private, "
            "link-local or otherwise non-public address "
            "(an operator can allow it with VEILLEUR_ALLOW_PRIVATE_NETWORKS=true)"
        )
        self.host = host
        self.address = address


def private_networks_allowed() -> bool:
    allowed = getattr(settings, "ALLOW_PRIVATE_NETWORKS", None)
    if allowed is None:
        allowed = getattr(getattr(settings, "CONFIG", None), "allow_private_networks", False)
    return bool(allowed)


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if str(ip) in METADATA_ADDRESSES:
        return False
    return ip.is_global and not ip.is_multicast


def check_address(host: str, address: str) -> None:
    """Raise BlockedAddress when ``address`` may not be connected to."""
    if not private_networks_allowed() and not is_public(address):
        raise BlockedAddress(host, address)


def resolve(host: str, port: int) -> list[tuple[int, str]]:
    """``(family, address)`` pairs for ``host``, in the resolver's order, de-duplicated."""
    seen: list[tuple[int, str]] = []
    for family, _type, _proto, _canon, sockaddr in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    ):
        pair = (int(family), str(sockaddr[0]))
        if pair not in seen:
            seen.append(pair)
    return seen


def allowed_addresses(host: str, port: int) -> list[tuple[int, str]]:
    """The addresses of ``host``; BlockedAddress when any of them is refused.

    All of them are checked, not only the first: a name resolving to one public and
    one private address could otherwise be raced onto the private one.
    """
    try:
        addresses = resolve(host, port)
    except UnicodeError as exc:
        raise OSError(f"{host!r} is not a valid host name") from exc
    if not addresses:
        raise OSError(f"{host} has no address")
    for _family, address in addresses:
        check_address(host, address)
    return addresses


def guarded_connection(
    host: str, port: int, timeout: float | None, source_address: tuple[str, int] | None = None
) -> socket.socket:
    """A TCP connection to ``host`` that never reaches a refused address (for non-HTTP
    clients such as IMAP; HTTP goes through ``veilleur.connectors.http``).

    The peer address of the connected socket is checked again after connecting.
    """
    last_error: OSError | None = None
    for family, address in allowed_addresses(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            if source_address is not None:
                sock.bind(source_address)
            sock.connect((address, port))
            check_address(host, str(sock.getpeername()[0]))
            return sock
        except BlockedAddress:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            last_error = exc
    assert last_error is not None
    raise last_error
