# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Parse iproute2 output (``ip route``, ``ip link``, ``ip addr``) into plain dicts.

Pure functions, no I/O. Every parser accepts iproute2's JSON (``ip -j``) and its plain text (old iproute2 such as
CentOS 7's has no JSON for routes) and returns the *same* normalised result for the same table, so callers never
care which form they were given. Anything a parser does not understand raises :class:`IprouteParseError` naming
the line and the word: nothing is half-parsed silently.
"""

from __future__ import annotations

import gc
import ipaddress
import json
import re
from functools import partial
from itertools import chain, repeat
from operator import is_not, itemgetter

# Standard rtnetlink protocol numbers (iproute2 etc/iproute2/rt_protos). Numbers are mapped to these names so a
# node whose rt_protos lacks an entry (prints "12") and one that has it (prints "bird") normalise alike.
# 80 has no standard name: Calico Felix programs its routes with it (calico-facts.md §3, DefaultRouteProto).
RT_PROTOS = {
    0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra", 10: "mrt",
    11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp", 18: "keepalived",
    42: "babel", 99: "openr", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip", 192: "eigrp",
}
ROUTE_TYPES = frozenset(("unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit",
                         "blackhole", "nat", "anycast"))
# Words iproute2 prints as bare route/next-hop flags.
ROUTE_FLAGS = frozenset(("onlink", "pervasive", "linkdown", "dead", "offload", "trap", "notify", "rt_offload",
                         "rt_trap", "rt_offload_failed", "cloned", "cache"))
# Route metrics (RTAX_*): "name [lock] value" in text, {"metrics": [{name: value}]} in JSON.
ROUTE_METRICS = frozenset(("mtu", "advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "initcwnd",
                           "initrwnd", "ssthresh", "hoplimit", "rto_min", "quickack", "congctl", "features",
                           "fastopen_no_cookie"))
# Text keywords followed by one value, and the JSON key each corresponds to.
_ROUTE_VALUE_WORDS = {
    "dev": "dev", "via": "gateway", "proto": "protocol", "scope": "scope", "src": "prefsrc", "metric": "metric",
    "table": "table", "tos": "tos", "dsfield": "tos", "from": "from", "iif": "iif", "realm": "realm",
    "realms": "realm", "expires": "expires", "pref": "pref", "nhid": "nhid", "error": "error", "uid": "uid",
    "weight": "weight", "ttl-propagate": "ttl_propagate", "users": "users", "age": "age", "used": "used",
    "ipid": "ipid",
}
# JSON keys a route object may carry (iproute2 ip/iproute.c print_route and friends).
_ROUTE_JSON_KEYS = frozenset(("type", "dst", "gateway", "via", "dev", "protocol", "scope", "prefsrc", "metric",
                              "flags", "table", "tos", "from", "iif", "realm", "realms", "expires", "pref",
                              "nhid", "nexthops", "metrics", "encap", "error", "uid", "cache", "ttl-propagate",
                              "users", "age", "used", "ipid", "weight", "newdst", "src", "oif"))
_NEXTHOP_JSON_KEYS = frozenset(("gateway", "via", "dev", "weight", "flags", "encap", "realm", "realms", "newdst"))
# Text value words that belong to a "nexthop" entry rather than to the route.
_NEXTHOP_TEXT_KEYS = frozenset(("dev", "weight", "realm"))

_IFACE_HEADER = re.compile(r"^(?P<index>\d+):\s+(?P<name>[^:@\s]+)(?:@(?P<link>[^:\s]+))?:\s+<(?P<flags>[^>]*)>(?P<rest>.*)$")


class IprouteParseError(ValueError):
    """A capture that cannot be parsed; the message names what was wrong and where."""


def detect_format(output):
    """Return ``"json"`` when *output* is iproute2 JSON, ``"text"`` otherwise (empty output counts as text)."""
    return "json" if output.lstrip().startswith(("[", "{")) else "text"


def _load_json(output, what):
    try:
        data = json.loads(output)
    except ValueError as exc:
        raise IprouteParseError("%s: output looks like JSON but does not parse: %s" % (what, exc))
    if not isinstance(data, list):
        raise IprouteParseError("%s: JSON output must be a list of objects, got %s" % (what, type(data).__name__))
    if not all(map(isinstance, data, repeat(dict))):  # (no Python-level step per item when all is well)
        i, item = next((i, item) for i, item in enumerate(data) if not isinstance(item, dict))
        raise IprouteParseError("%s: JSON item %d is %s, not an object" % (what, i, type(item).__name__))
    return data


def normalise_protocol(value):
    """``"12"``/``12``/``"bird"`` -> ``"bird"``; an unnamed number such as Felix's 80 stays ``"80"``."""
    if value is None:
        return None
    text = str(value)
    if text.isdigit():
        return RT_PROTOS.get(int(text), text)
    return text


def _normalise_dst(dst):
    if dst == "default":
        return "0.0.0.0/0"
    if "/" not in dst:
        return dst + ("/128" if ":" in dst else "/32")
    return dst


def _empty_route():
    return {"dst": None, "type": "unicast", "gateway": None, "dev": None, "protocol": None, "scope": None,
            "prefsrc": None, "metric": None, "table": None, "flags": [], "metrics": {}, "nexthops": []}


def _empty_nexthop():
    return {"gateway": None, "dev": None, "weight": None, "flags": []}


def _finish_route(route):
    flags = route["flags"]
    if len(flags) > 1:
        route["flags"] = sorted(set(flags))
    for hop in route["nexthops"]:
        hop["flags"] = sorted(set(hop["flags"]))
    if route["table"] == "main":
        route["table"] = None  # "main" is what an unqualified `ip route` shows; keep text and JSON alike
    return route


# --------------------------------------------------------------------------------------------------- routes, JSON
# The keys of an ordinary route (no via object, next hops, metrics or cache): such routes take the fast path below,
# which builds the same result as the general one with fewer calls (it is run once per route: 100k routes a table).
_PLAIN_JSON_KEYS = frozenset(("type", "dst", "gateway", "dev", "protocol", "scope", "prefsrc", "metric", "flags",
                              "table"))
_PROTOCOL_NAMES = {}  # memo of normalise_protocol for the few protocol values a table has


def _protocol(value):
    try:
        return _PROTOCOL_NAMES[value]
    except KeyError:
        name = _PROTOCOL_NAMES[value] = normalise_protocol(value)
        return name
    except TypeError:  # not hashable: let normalise_protocol say what it makes of it
        return normalise_protocol(value)


def _route_from_json(obj, index):
    if obj.keys() <= _PLAIN_JSON_KEYS and "dst" in obj:
        get = obj.get
        dst = obj["dst"]
        if dst.__class__ is not str:
            dst = str(dst)
        if dst == "default":
            dst = "0.0.0.0/0"
        elif "/" not in dst:
            dst += "/128" if ":" in dst else "/32"
        protocol, metric, table, flags = get("protocol"), get("metric"), get("table"), get("flags")
        if table is not None:
            table = str(table)
            if table == "main":
                table = None
        if flags:
            flags = sorted(set(flags)) if len(flags) > 1 else list(flags)
        else:
            flags = []
        return {"dst": dst, "type": get("type", "unicast"), "gateway": get("gateway"), "dev": get("dev"),
                "protocol": None if protocol is None else _protocol(protocol), "scope": get("scope"),
                "prefsrc": get("prefsrc"),
                "metric": None if metric is None else _as_int(metric, "metric", index), "table": table,
                "flags": flags, "metrics": {}, "nexthops": []}
    return _route_from_json_general(obj, index)


def _route_from_json_general(obj, index):
    unknown = sorted(set(obj) - _ROUTE_JSON_KEYS)
    if unknown:
        raise IprouteParseError("routes: JSON route %d (%s) has unknown field(s) %s" % (
            index, obj.get("dst", "?"), ", ".join(unknown)))
    if "dst" not in obj:
        raise IprouteParseError("routes: JSON route %d has no 'dst'" % index)
    route = _empty_route()
    route["dst"] = _normalise_dst(str(obj["dst"]))
    route["type"] = obj.get("type", "unicast")
    route["gateway"] = _json_gateway(obj, index)
    route["dev"] = obj.get("dev")
    route["protocol"] = normalise_protocol(obj.get("protocol"))
    route["scope"] = obj.get("scope")
    route["prefsrc"] = obj.get("prefsrc")
    route["metric"] = _as_int(obj.get("metric"), "metric", index)
    route["table"] = None if obj.get("table") is None else str(obj["table"])
    route["flags"] = list(obj.get("flags") or [])
    if obj.get("cache"):
        route["flags"].append("cache")
    for entry in obj.get("metrics") or []:
        for name, value in entry.items():
            route["metrics"][name] = value.get("value") if isinstance(value, dict) else value
    for n, hop_obj in enumerate(obj.get("nexthops") or []):
        unknown = sorted(set(hop_obj) - _NEXTHOP_JSON_KEYS)
        if unknown:
            raise IprouteParseError("routes: JSON route %d next hop %d has unknown field(s) %s" % (
                index, n, ", ".join(unknown)))
        hop = _empty_nexthop()
        hop["gateway"] = _json_gateway(hop_obj, index)
        hop["dev"] = hop_obj.get("dev")
        hop["weight"] = _as_int(hop_obj.get("weight"), "weight", index)
        hop["flags"] = list(hop_obj.get("flags") or [])
        route["nexthops"].append(hop)
    return _finish_route(route)


def _json_gateway(obj, index):
    if "gateway" in obj:
        return obj["gateway"]
    via = obj.get("via")
    if via is None:
        return None
    if isinstance(via, dict) and "host" in via:
        return via["host"]
    raise IprouteParseError("routes: JSON route %d has a 'via' without 'host': %r" % (index, via))


def _as_int(value, field, index):
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise IprouteParseError("routes: route %d field '%s' is %r, not a number" % (index, field, value))


# --------------------------------------------------------------------------------------------------- routes, text
_ELLIPSES = ("...", "\u2026")


def _route_lines(text):
    """``[(line_number, [words])]``, one per route, joining multipath continuation lines (``\\tnexthop ...``)."""
    result = []
    append = result.append
    current = None
    for number, raw in enumerate(text.splitlines(), 1):
        words = raw.split()
        if not words or (len(words) == 1 and words[0] in _ELLIPSES):
            continue  # blank lines and the ellipsis people leave in pasted output
        if words[0] == "nexthop" and raw[:1] in (" ", "\t"):
            if current is None:
                raise IprouteParseError("routes: line %d: 'nexthop' continuation with no route before it" % number)
            current[1].extend(words)
            continue
        current = (number, words)
        append(current)
    return result


def _parse_text_route(number, words):
    route = {"dst": None, "type": "unicast", "gateway": None, "dev": None, "protocol": None, "scope": None,
             "prefsrc": None, "metric": None, "table": None, "flags": [], "metrics": {}, "nexthops": []}
    target = route  # where value words go: the route, then each "nexthop" entry
    count = len(words)
    i = 0
    if words[0] in ROUTE_TYPES:
        route["type"] = words[0]
        i = 1
    if i >= count:
        raise IprouteParseError("routes: line %d: route type '%s' with no destination" % (number, words[0]))
    dst = words[i]
    if dst == "default":
        route["dst"] = "0.0.0.0/0"
    elif ("." in dst or ":" in dst) and _PREFIX_MATCH(dst) is not None:  # _looks_like_prefix, inlined
        route["dst"] = dst if "/" in dst else dst + ("/128" if ":" in dst else "/32")
    else:
        raise IprouteParseError("routes: line %d: '%s' is not a route destination (expected a prefix or "
                                "'default'; is this `ip route` output?)" % (number, dst))
    i += 1
    while i < count:
        word = words[i]
        key = _ROUTE_VALUE_WORDS.get(word)
        if key is not None and word != "via":  # the common case first: "dev X", "proto Y", "scope Z", ...
            if i + 1 >= count:
                raise IprouteParseError("routes: line %d: '%s' is missing its value" % (number, word))
            value = words[i + 1]
            if key == "protocol":
                value = _protocol(value)
            elif key == "metric" or key == "weight":
                value = _as_int(value, key, number)
            if target is route or key in _NEXTHOP_TEXT_KEYS:
                target[key] = value
            i += 2
        elif word == "via":
            i += 1
            if i < count and words[i] in ("inet", "inet6"):
                i += 1  # "via inet6 fe80::1": an explicit address family
            target["gateway"] = _value(words, i, number, "via")
            i += 1
        elif word in ROUTE_FLAGS:
            target["flags"].append(word)
            i += 1
        elif word == "nexthop":
            target = _empty_nexthop()
            route["nexthops"].append(target)
            i += 1
        elif word in ROUTE_METRICS:
            i, value = _metric_value(words, i + 1, number, word)
            route["metrics"][word] = value
        elif word == "encap":
            raise IprouteParseError("routes: line %d: lightweight tunnel 'encap' routes are not supported" % number)
        else:
            raise IprouteParseError("routes: line %d: unknown word '%s' in route %s" % (number, word, dst))
    if route["nexthops"] or route["table"] is not None or len(route["flags"]) > 1:
        _finish_route(route)  # (nothing to do for the others: no next hops, table or flags to sort)
    return route


def _value(words, i, number, keyword):
    if i >= len(words):
        raise IprouteParseError("routes: line %d: '%s' is missing its value" % (number, keyword))
    return words[i]


def _metric_value(words, i, number, name):
    if i < len(words) and words[i] == "lock":
        i += 1  # "mtu lock 1400": the lock is not shown in JSON, so it is not kept here either
    raw = _value(words, i, number, name)
    if name in ("congctl", "features"):
        return i + 1, raw
    match = re.match(r"^(\d+)", raw)
    if not match:
        raise IprouteParseError("routes: line %d: metric '%s' has value '%s', not a number" % (number, name, raw))
    return i + 1, int(match.group(1))


_PREFIX_MATCH = re.compile(r"^[0-9a-fA-F.:]+(/\d{1,3})?$").match


def _looks_like_prefix(word):
    return ("." in word or ":" in word) and _PREFIX_MATCH(word) is not None


_IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_ADDRESS = re.compile(r"^%s$" % _IPV4).match
# What nearly every route has, for the bulk check in _check_addresses: an IPv4 prefix no longer than /32 and an IPv4
# gateway. Each accepts a subset of what _is_address accepts (fullmatch: no trailing newline either).
_IPV4_PREFIX_ONLY = re.compile(r"%s/(?:3[0-2]|[12]?\d)" % _IPV4).fullmatch
_IPV4_ADDRESS_ONLY = re.compile(_IPV4).fullmatch
_DST, _GATEWAY, _NEXTHOPS = itemgetter("dst"), itemgetter("gateway"), itemgetter("nexthops")
_NOT_NONE = partial(is_not, None)


def _is_address(text, max_prefix=None):
    """Whether *text* is an IPv4 or IPv6 address (with ``/len`` when *max_prefix* is given)."""
    address, slash, prefix = text.partition("/")
    if max_prefix is not None and not (slash and prefix.isdigit()):
        return False
    if ":" in address:
        try:
            ipaddress.ip_network(text if slash else address, strict=False)
        except ValueError:
            return False
        return True
    return _IPV4_ADDRESS(address) is not None and (max_prefix is None or int(prefix) <= max_prefix)


def _check_addresses(routes):
    # One pass after parsing, so both parsers (and their fast paths) refuse the same garbage: later steps do
    # arithmetic on these addresses and must never meet a destination such as 10.0.0.0/33 or "pod-net".
    # First in bulk, for the all-IPv4 table nearly every node has: map/filter over itemgetters run the regexes
    # without a Python-level step per route (a little over half the time of the loop below on 100k routes). Anything
    # else (IPv6, a non-string, garbage) goes through the loop, which decides and names the culprit.
    try:
        if all(map(_IPV4_PREFIX_ONLY, map(_DST, routes))) and all(map(_IPV4_ADDRESS_ONLY, filter(
                _NOT_NONE, map(_GATEWAY, chain(routes, chain.from_iterable(map(_NEXTHOPS, routes))))))):
            return
    except TypeError:
        pass
    for route in routes:
        if not _is_address(route["dst"], 128 if ":" in route["dst"] else 32):
            raise IprouteParseError("routes: destination %r is not an IPv4 or IPv6 prefix" % route["dst"])
        for hop in [route] + route["nexthops"]:
            if hop["gateway"] is not None and not _is_address(str(hop["gateway"])):
                raise IprouteParseError("routes: gateway %r of route %s is not an IP address" % (
                    hop["gateway"], route["dst"]))


def parse_routes(output):
    """Parse ``ip [-j] route show`` output; returns ``(routes, format)``."""
    fmt = detect_format(output)
    # The parsers make no reference cycles, so the cyclic garbage collector has nothing to find in what they
    # allocate; left on, it walks the growing result again and again (a third of the time on 100k routes).
    collecting = gc.isenabled()
    gc.disable()
    try:
        if fmt == "json":
            routes = [_route_from_json(obj, i) for i, obj in enumerate(_load_json(output, "routes"))]
        else:
            routes = [_parse_text_route(number, words) for number, words in _route_lines(output)]
        _check_addresses(routes)
    finally:
        if collecting:
            gc.enable()
    return routes, fmt


# ------------------------------------------------------------------------------------------ links and addresses
def _empty_link(name):
    return {"name": name, "index": None, "link": None, "flags": [], "mtu": None, "operstate": None,
            "link_type": None, "kind": None, "addresses": []}


def _links_from_json(data, what):
    links = []
    for i, obj in enumerate(data):
        if "ifname" not in obj:
            raise IprouteParseError("%s: JSON item %d has no 'ifname'" % (what, i))
        link = _empty_link(obj["ifname"])
        link["index"] = obj.get("ifindex")
        link["link"] = obj.get("link")
        link["flags"] = list(obj.get("flags") or [])
        link["mtu"] = obj.get("mtu")
        link["operstate"] = obj.get("operstate")
        link["link_type"] = obj.get("link_type")
        link["kind"] = (obj.get("linkinfo") or {}).get("info_kind")
        for addr in obj.get("addr_info") or []:
            if addr.get("family") == "inet" and "local" in addr:
                link["addresses"].append("%s/%s" % (addr["local"], addr.get("prefixlen", 32)))
        links.append(link)
    return links


def _links_from_text(text, what):
    links = []
    link = None
    detail_line = 0  # lines seen since the link/... line: with `ip -d`, the next one starts with the kind
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line in ("...", "\u2026"):
            continue
        header = _IFACE_HEADER.match(line) if raw[:1] not in (" ", "\t") else None
        if header:
            link = _empty_link(header.group("name"))
            link["index"] = int(header.group("index"))
            link["link"] = header.group("link")
            link["flags"] = [f for f in header.group("flags").split(",") if f]
            rest = header.group("rest").split()
            for key, value in zip(rest, rest[1:]):
                if key == "mtu":
                    link["mtu"] = int(value)
                elif key == "state":
                    link["operstate"] = value
            links.append(link)
            detail_line = 0
            continue
        if link is None or raw[:1] not in (" ", "\t"):
            raise IprouteParseError("%s: line %d is not part of an interface block: %r" % (what, number, line))
        words = line.split()
        if words[0].startswith("link/"):
            link["link_type"] = words[0][len("link/"):]
            detail_line = 1
        elif words[0] == "inet" and len(words) > 1:
            address = words[1] if "/" in words[1] else words[1] + "/32"
            link["addresses"].append(address)
        elif detail_line == 1 and words[0] not in ("inet6", "valid_lft", "altname", "alias", "vf"):
            # `ip -d`: the line after link/... starts with the device kind ("ipip any remote any ...",
            # "veth ...") unless the device has none (plain NICs go straight to "addrgenmode ...").
            detail_line = 2
            if words[0] not in ("promiscuity", "addrgenmode", "numtxqueues"):
                link["kind"] = words[0]
    if not links and text.strip():
        raise IprouteParseError("%s: no interface found (expected `ip link` or `ip addr` output)" % what)
    return links


def _promote_kind(links):
    # Without -d there is no kind at all; the link type (link/ipip) still identifies tunnel devices.
    for link in links:
        if link["kind"] is None and link["link_type"] in ("ipip", "gre", "sit", "vxlan"):
            link["kind"] = link["link_type"]
    return links


def parse_links(output, what="links"):
    """Parse ``ip [-d] [-j] link show`` or ``ip [-d] [-j] addr show``; returns ``(links, format)``.

    Each link: name, index, link (peer after ``@``), flags, mtu, operstate, link_type, kind, and its IPv4
    addresses as CIDRs (only from ``ip addr`` output).
    """
    fmt = detect_format(output)
    if fmt == "json":
        links = _links_from_json(_load_json(output, what), what)
    else:
        links = _links_from_text(output, what)
    return _promote_kind(links), fmt
