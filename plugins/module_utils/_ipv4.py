# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""IP address checks shared by the iproute2 parsers and the route classifier. Pure functions, no I/O.

IPv4 is checked here, by regex: exactly what ``ipaddress.IPv4Address`` accepts (four ASCII decimal octets, no
leading zeros, each <= 255), several times faster, and it runs for every route of a table. IPv6 addresses are left
to ``ipaddress``. Prefix lengths are ASCII digits without a leading zero (iproute2 never prints one, and its own
input parser would read ``/026`` as octal), up to 32 (IPv4) or 128 (IPv6). Nothing here raises on a string.
"""

from __future__ import annotations

import ipaddress
import re
import socket

OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = r"\.".join((OCTET,) * 4)  # unrolled: sre runs a {3} repeat of a group markedly slower
PREFIX_LENGTH = r"(?:3[0-2]|[12]?[0-9])"  # 0 to 32, no leading zero
IPV4_PREFIX = r"%s/%s" % (IPV4, PREFIX_LENGTH)

is_ipv4 = re.compile(IPV4).fullmatch  # (a match or None; [0-9] is ASCII only, unlike \d)
is_ipv4_prefix = re.compile(IPV4_PREFIX).fullmatch


def ipv4_int(text):
    """The integer of a dotted-quad IPv4 address, or ``None`` when *text* is anything else."""
    if is_ipv4(text) is None:
        return None
    return int.from_bytes(socket.inet_aton(text), "big")


def prefix_length(text, most):
    """The prefix length *text* (``"26"``) as an int when it is one from 0 to *most*, else ``None``."""
    if not (0 < len(text) <= 3 and text.isascii() and text.isdigit()) or (text[0] == "0" and len(text) > 1):
        return None
    length = int(text)
    return length if length <= most else None


def has_leading_zero(prefix):
    """Whether *prefix* (``"192.168.1.0/026"``) is a prefix but for a leading zero in its length."""
    address, _slash, length = prefix.partition("/")
    return (length[:1] == "0" and len(length) > 1 and version_of(address) is not None
            and prefix_length(length.lstrip("0") or "0", 32 if version_of(address) == 4 else 128) is not None)


def version_of(address):
    """4 or 6 when *address* is an IPv4 or IPv6 address (no prefix length), else ``None``."""
    if is_ipv4(address) is not None:
        return 4
    if ":" not in address:
        return None
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return None
    return 6


def prefix_version(prefix):
    """4 or 6 when *prefix* is an IPv4 or IPv6 prefix with its length (host bits may be set), else ``None``."""
    address, slash, length = prefix.partition("/")
    version = version_of(address) if slash else None
    if version is None or prefix_length(length, 32 if version == 4 else 128) is None:
        return None
    return version


def ipv4_range(cidr):
    """``(first, last)`` address integers of an IPv4 CIDR, host bits ignored (as ``ip_network(strict=False)``), or
    ``None`` when *cidr* is not an IPv4 prefix."""
    address, slash, length = cidr.partition("/")
    first = ipv4_int(address)
    bits = prefix_length(length, 32) if slash and first is not None else None
    if bits is None:
        return None
    host_bits = 32 - bits
    first = first >> host_bits << host_bits
    return first, first + (1 << host_bits) - 1
