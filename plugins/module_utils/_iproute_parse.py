# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Parse iproute2 output (``ip route``, ``ip link``, ``ip addr``) into plain dicts: the entry point.

Pure functions, no I/O. Every parser accepts iproute2's JSON (``ip -j``) and its plain text (old iproute2 such as
CentOS 7's has no JSON for routes) and returns the *same* normalised result for the same table, so callers never
care which form they were given. Anything a parser does not understand or does not trust, whatever the input (any
text, any JSON), raises :class:`IprouteParseError` naming the line or JSON item and the field: nothing is
half-parsed silently, and no other exception escapes.

The work is done per input form: ``_iproute_text`` (``ip route`` text), ``_iproute_json`` (``ip -j route``),
``_iproute_links`` (links and addresses, both forms), over ``_iproute_common`` (the route model and the checks) and
``_ipv4`` (address checks).
"""

from __future__ import annotations

import gc

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_common import (  # noqa: F401  (re-exported)
    ROUTE_FLAGS,
    ROUTE_METRICS,
    ROUTE_TYPES,
    RT_PROTOS,
    IprouteParseError,
    detect_format,
    load_json,
    normalise_protocol,
)
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_json import routes_from_json
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_links import links_from_json, links_from_text
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_text import routes_from_text

__all__ = ("IprouteParseError", "RT_PROTOS", "ROUTE_TYPES", "ROUTE_FLAGS", "ROUTE_METRICS", "detect_format",
           "normalise_protocol", "parse_links", "parse_routes")


def parse_routes(output):
    """Parse ``ip [-j] route show`` output; returns ``(routes, format)``."""
    fmt = detect_format(output)
    # The parsers make no reference cycles, so the cyclic garbage collector has nothing to find in what they
    # allocate; left on, it walks the growing result again and again (a third of the time on 100k routes).
    collecting = gc.isenabled()
    gc.disable()
    try:
        if fmt == "json":
            routes = routes_from_json(load_json(output, "routes"))
        else:
            routes = routes_from_text(output)
    finally:
        if collecting:
            gc.enable()
    return routes, fmt


def parse_links(output, what="links"):
    """Parse ``ip [-d] [-j] link show`` or ``ip [-d] [-j] addr show``; returns ``(links, format)``.

    Each link: name, index, link (peer after ``@``), flags, mtu, operstate, link_type, kind, and its IPv4
    addresses as CIDRs (only from ``ip addr`` output). *what* names the capture in error messages.
    """
    fmt = detect_format(output)
    if fmt == "json":
        links = links_from_json(load_json(output, what), what)
    else:
        links = links_from_text(output, what)
    return links, fmt
