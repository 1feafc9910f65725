"""The address of the client behind a request, trusting proxy headers only from
the proxies named in ``TRUSTED_PROXIES``.

Without trusted proxies the client is ``REMOTE_ADDR``, and ``X-Forwarded-For`` is
ignored: anyone can send it. Behind a reverse proxy, each proxy appends the address
it received the request from, so the header is read from the right: the first
address that is not one of the trusted proxies is the client. Addresses to its left
were written by the client itself and prove nothing.

Sign-in lockouts (django-axes) and the API's throttles key on this address.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache

from django.conf import settings

logger = logging.getLogger(__name__)

UNTRUSTED_HEADER_MSG = (
    "A request from %s carries %s, but %s is not in TRUSTED_PROXIES, so the header "
    "is ignored. If this is the portal's reverse proxy, add it to TRUSTED_PROXIES."
)
_warned: set[str] = set()

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: list[str] | tuple[str, ...]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "127.0.0.1"]`` as networks; ValueError names a bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IP address or network (for example "
                "10.0.0.0/8 or 192.0.2.10)."
            ) from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(
    remote_addr: str, header: str | None, trusted: tuple[Network, ...]
) -> str:
    """The client's address from the socket peer and the proxy header (pure)."""
    peer = _address(remote_addr or "")
    if peer is None:
        return remote_addr or ""
    if not header or not _is_trusted(peer, trusted):
        return str(peer)
    for hop in reversed(header.split(",")):
        address = _address(hop)
        if address is None:
            # A malformed hop: whatever is to its left cannot be attributed.
            break
        if not _is_trusted(address, trusted):
            return str(address)
        peer = address
    # Every hop was a trusted proxy (or the header was malformed): the left-most
    # proxy reached is as close to the client as can be trusted.
    return str(peer)


def client_ip(request) -> str:
    """The client's address for ``request`` (see the module docstring)."""
    meta = request.META
    remote_addr = meta.get("REMOTE_ADDR", "")
    header_key = settings.TRUSTED_PROXY_HEADER
    header = meta.get(header_key)
    trusted = _trusted(tuple(settings.TRUSTED_PROXIES))
    if header and remote_addr not in _warned:
        peer = _address(remote_addr)
        if (
            peer is not None
            and (peer.is_private or peer.is_loopback)
            and not _is_trusted(peer, trusted)
        ):
            # Most likely a reverse proxy the configuration does not name.
            _warned.add(remote_addr)
            logger.warning(UNTRUSTED_HEADER_MSG, remote_addr, header_key, remote_addr)
    return client_address(remote_addr, header, trusted)
