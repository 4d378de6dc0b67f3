"""Who is asking: the client address every rate limit counts against.

A request's peer is whoever opened the socket. Behind a reverse proxy that is the proxy, and
the visitor's address is in `X-Forwarded-For`, which anybody can also write. So the header is
believed only hop by hop from the right, and only while the hop that added an entry is one of
the configured trusted proxies: the right-most address that no trusted proxy vouches for is
the client. With no trusted proxies (the default) the header is ignored altogether.

IPv6 clients are counted by their /64 network: one subscriber usually holds a whole /64 and
could otherwise take a fresh quota with every address in it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPV6_CLIENT_PREFIX = 64


@lru_cache(maxsize=16)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The trusted proxies as networks (a bare address is a network of one)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def parse_address(text: str) -> Address | None:
    """An address as a peer or a proxy writes it: bare, `[v6]:port`, `v4:port`; None if not one."""
    raw = text.strip().strip('"')
    if raw.startswith("["):
        raw = raw[1:raw.find("]")] if "]" in raw else raw[1:]
    elif raw.count(":") == 1:
        raw = raw.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address | None, networks: Sequence[Network]) -> bool:
    return address is not None and any(address.version == n.version and address in n for n in networks)


def _key(address: Address | None, raw: str) -> str:
    if address is None:
        # Not an address (a test client's name, a proxy's "unknown"): counted as written.
        return raw.strip()[:100] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        host_bits = 128 - IPV6_CLIENT_PREFIX
        return str(ipaddress.IPv6Network((int(address) >> host_bits << host_bits, IPV6_CLIENT_PREFIX)))
    return str(address)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[str]) -> str:
    """The key rate limits count this request under.

    Args:
        peer: the socket peer's host as the server reports it (None when unknown).
        forwarded_for: every `X-Forwarded-For` header line, in the order received.
        trusted: the configured trusted proxies (addresses or networks).
    """
    networks = trusted_networks(tuple(trusted))
    peer_address = parse_address(peer) if peer else None
    current, current_raw = peer_address, peer or "unknown"
    if not _trusted(current, networks):
        return _key(current, current_raw)
    hops = [hop for line in forwarded_for for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        current, current_raw = parse_address(hop), hop
        if not _trusted(current, networks):
            break
    return _key(current, current_raw)
