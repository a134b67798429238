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
from collections import deque
from functools import partial
from itertools import chain, compress, count, repeat
from operator import contains, eq, is_, is_not, itemgetter, length_hint, lt, not_, setitem

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


# --------------------------------------------------------------------------------------------------- routes, bulk
# A table is mostly ordinary routes: a destination, maybe a type, gateway, device, protocol, scope, source, metric,
# table and flags, nothing else (100k of them on a big cluster). Both forms take those in bulk, by C-level iteration
# (map, zip, dict.copy/update, one compiled regex per text line): each JSON object updates a copy of a template,
# each text line's regex groups go to _route; then _normalise_bulk rewrites the few values that normalisation
# changes. Anything else (next hops, metrics, cache, a 'via' object, a value of an unexpected type, a line the regex
# does not fit) goes through the general parsers further down, which decide and name what is wrong; the results are
# merged back in table order. Whatever the bulk path takes, the general parsers would have parsed without error to
# the same result (tests/unit/test_iproute_parse_bulk.py compares them).
class _ProtocolNames(dict):
    """Memo of normalise_protocol for the few protocol values a table has (only str and None are looked up)."""

    def __missing__(self, value):
        name = self[value] = normalise_protocol(value)
        return name


_PROTOCOL_NAMES = _ProtocolNames()


def _normalise_bulk(routes, dst, protocol, table, flags):
    """Normalise the bulk *routes* in place, given their raw values by column (*dst* and *flags*: lists, normalised
    in place too, so that the caller can check the destinations). Only the values that change are written: "default"
    and host routes, numbered protocols that have a name, table "main", several flags. This cannot fail."""
    for i in compress(count(), map(not_, map(contains, dst, repeat("/")))):
        dst[i] = routes[i]["dst"] = _normalise_dst(dst[i])
    renamed = frozenset(value for value in set(protocol) if _PROTOCOL_NAMES[value] != value)  # "12" -> "bird"
    if renamed:
        for i in compress(count(), map(renamed.__contains__, protocol)):
            routes[i]["protocol"] = _PROTOCOL_NAMES[protocol[i]]
    if "main" in table:
        for i in compress(count(), map(eq, table, repeat("main"))):
            routes[i]["table"] = None  # "main" is what an unqualified `ip route` shows; keep text and JSON alike
    for i in _multi_flags(flags):
        flags[i] = routes[i]["flags"] = sorted(set(flags[i]))


def _multi_flags(flags):
    """Positions of the routes with more than one flag (a handful, if any)."""
    return compress(count(), map(lt, repeat(1), map(len, flags)))


def _merge(size, positions, routes, others):
    """The table in order: *routes* at *positions*, each ``(position, route)`` of *others* at its own."""
    table = [None] * size
    deque(map(setitem, repeat(table), positions, routes), 0)
    for position, route in others:
        table[position] = route
    return list(filter(None, table))  # (text: blank and continuation lines leave gaps)


# JSON: an ordinary route object has only the keys of this template (no 'via' object, next hops, metrics, cache,
# ...), which gives the value of a missing one. The values of some must have these types (str, int: what iproute2
# prints); the template's value of each of those is None, so dict.get on the object gives the route's value.
_JSON_ROUTE = {"dst": None, "type": "unicast", "gateway": None, "dev": None, "protocol": None, "scope": None,
               "prefsrc": None, "metric": None, "table": None, "flags": None}
_NONE = type(None)
_CHECKED_JSON_KEYS = ("dst", "gateway", "protocol", "metric", "table", "flags")
_CHECKED_JSON_TYPES = (frozenset((str,)), None, frozenset((str, _NONE)), frozenset((int, _NONE)),
                       frozenset((str, _NONE)), frozenset((list, _NONE)))
_EMPTY_DICT, _EMPTY_LIST = {}, []  # (only ever copied)
_HARMLESS_JSON_VALUES = ("0.0.0.0/0", None, None, None, None, None)  # (by _CHECKED_JSON_KEYS)
# A protocol the bulk path takes: a number that int() takes whatever the limit on digits, or a name that starts with
# a letter (normalise_protocol keeps it as it is). Anything else goes route by route, where it always went.
_PROTOCOL_WORD = r"[0-9]{1,10}|[A-Za-z][A-Za-z0-9_.-]*"
_PLAIN_PROTOCOL = re.compile(_PROTOCOL_WORD).fullmatch


def _unexpected(column, types):
    """Positions in *column* of the values whose type is not one of *types*."""
    if types.issuperset(map(type, column)):
        return ()
    return compress(count(), map(not_, map(types.__contains__, map(type, column))))


def _odd_json_routes(routes, columns):
    """Positions of the routes that are not ordinary after all: a key beyond the template's (or no 'dst': its type
    is None), a value of an unexpected type."""
    odd = set()
    if max(map(len, routes), default=0) > len(_JSON_ROUTE):
        odd.update(compress(count(), map(lt, repeat(len(_JSON_ROUTE)), map(len, routes))))
    for column, types in zip(columns, _CHECKED_JSON_TYPES):
        if types is not None:
            odd.update(_unexpected(column, types))
    return odd


def _unusual_json_values(columns):
    """Positions of the routes (whose values have the expected types) that are not ordinary after all: several flags
    that are not all strings (they are sorted: let _finish_route fail), a protocol normalise_protocol might refuse."""
    protocol, flags = columns[2], columns[-1]
    odd = set(i for i in compress(count(), map(lt, repeat(1), map(length_hint, flags)))
              if not all(map(isinstance, flags[i], repeat(str))))
    unusual = frozenset(value for value in set(protocol) if value is not None and not _PLAIN_PROTOCOL(value))
    if unusual:
        odd.update(compress(count(), map(unusual.__contains__, protocol)))
    return odd


def _make_harmless(columns, positions):
    for i in positions:
        for column, value in zip(columns, _HARMLESS_JSON_VALUES):
            column[i] = value


def _routes_from_json(data):
    routes = list(map(dict.copy, repeat(_JSON_ROUTE, len(data))))
    deque(map(dict.update, routes, data), 0)
    columns = [list(map(dict.get, data, repeat(key))) for key in _CHECKED_JSON_KEYS]
    # The routes that are not ordinary stay in the table with harmless values in the columns, and _route_from_json's
    # routes replace them in the end: no pass over the table to leave them out and put them back.
    odd = _odd_json_routes(routes, columns)
    _make_harmless(columns, odd)
    unusual = _unusual_json_values(columns)
    _make_harmless(columns, unusual)
    odd = sorted(odd | unusual)
    dst, gateway, protocol, _metric, table, flags = columns
    deque(map(setitem, routes, repeat("metrics"), map(dict.copy, repeat(_EMPTY_DICT, len(routes)))), 0)
    deque(map(setitem, routes, repeat("nexthops"), map(list.copy, repeat(_EMPTY_LIST, len(routes)))), 0)
    for i in compress(count(), map(is_, flags, repeat(None))):
        flags[i] = routes[i]["flags"] = []  # (the others are the parsed JSON's own lists, each used once)
    _normalise_bulk(routes, dst, protocol, table, flags)
    for i in odd:
        routes[i] = _route_from_json(data[i], i)
    if not _addresses_ok(dst, gateway):
        _check_each_address(routes)
    elif odd:
        _check_addresses([routes[i] for i in odd])
    return routes


# Text: the line of an ordinary route as iproute2 prints it (ip/iproute.c print_route: type, destination, gateway,
# device, table, protocol, scope, source, metric, flags; one space apart, maybe one at the end). Destination and
# gateway must be IPv4 (those routes need no _check_addresses), a metric a u32; an IPv6 or unusual line goes route
# by route. The value words are split() words: \S is what str.split() does not split on.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_ASCII = r"\.".join((_OCTET,) * 4)  # unrolled: sre runs a {3} repeat of a group markedly slower
_PREFIX_LENGTH = r"(?:3[0-2]|[12]?[0-9])"
_TEXT_ROUTE = re.compile(
    r"(?:(%s) |)(default|%s(?:/%s|))(?: via (%s)|)(?: dev (\S+)|)(?: table (\S+)|)(?: proto (%s)|)(?: scope (\S+)|)"
    r"(?: src (\S+)|)(?: metric ([0-9]{1,10})|)((?: (?:%s))*) ?" % (
        "|".join(sorted(ROUTE_TYPES)), _IPV4_ASCII, _PREFIX_LENGTH, _IPV4_ASCII, _PROTOCOL_WORD,
        "|".join(sorted(ROUTE_FLAGS, key=lambda word: (-len(word), word))))).fullmatch
_GROUPS = type(re.match("", "")).groups
_DEFAULT_TYPE = {None: "unicast"}.get  # _DEFAULT_TYPE(type, type)
_ELLIPSES = ("...", "\u2026")


def _routes_from_text(output):
    if "  " in output:
        output = output.replace("  ", " ")  # iproute2 3.x (CentOS 7, the seed report) pads some words: same words
    lines = output.splitlines()
    matches = list(map(_TEXT_ROUTE, lines))
    if all(matches):
        return _routes_from_matches(matches)
    others = [(i, _parse_text_route(i + 1, words)) for i, words in _route_lines(lines, matches)]
    routes = _routes_from_matches(list(filter(None, matches)))
    _check_addresses([route for _i, route in others])  # (the regex took only IPv4 destinations and gateways)
    return _merge(len(lines), compress(count(), matches), routes, others)


def _routes_from_matches(matches):
    if not matches:
        return []
    type_, dst, gateway, dev, table, protocol, scope, prefsrc, metric, flags = zip(*map(_GROUPS, matches))
    dst, metric = list(dst), list(metric)
    for i in compress(count(), metric):  # (the routes that have one)
        metric[i] = int(metric[i])
    flags = list(map(str.split, flags))
    routes = list(map(_route, dst, map(_DEFAULT_TYPE, type_, type_), gateway, dev, protocol, scope, prefsrc, metric,
                      table, flags))
    _normalise_bulk(routes, dst, protocol, table, flags)
    return routes


def _route(dst, type_, gateway, dev, protocol, scope, prefsrc, metric, table, flags):
    return {"dst": dst, "type": type_, "gateway": gateway, "dev": dev, "protocol": protocol, "scope": scope,
            "prefsrc": prefsrc, "metric": metric, "table": table, "flags": flags, "metrics": {}, "nexthops": []}


def _route_lines(lines, matches):
    """``[(index, words)]`` of the routes the regex did not take, in order, joining multipath continuation lines
    (``\\tnexthop ...``); a line the regex took but that has continuation lines is taken back: None in *matches*."""
    others = {}
    current = None  # index of the route line that a continuation line belongs to
    last = -1
    for index in list(compress(count(), map(not_, matches))):
        if index > last + 1:
            current = index - 1  # the line before is one the regex took
        last = index
        raw = lines[index]
        words = raw.split()
        if not words or (len(words) == 1 and words[0] in _ELLIPSES):
            continue  # blank lines and the ellipsis people leave in pasted output
        if words[0] == "nexthop" and raw[:1] in (" ", "\t"):
            if current is None:
                raise IprouteParseError("routes: line %d: 'nexthop' continuation with no route before it" % (index + 1))
            if current not in others:
                matches[current] = None
                others[current] = lines[current].split()
            others[current].extend(words)
            continue
        current = index
        others[index] = words
    return sorted(others.items())


# --------------------------------------------------------------------------------------------- routes, one by one
def _route_from_json(obj, index):
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


def _parse_text_route(number, words):
    route = _empty_route()
    target = route  # where value words go: the route, then each "nexthop" entry
    count_ = len(words)
    i = 0
    if words[0] in ROUTE_TYPES:
        route["type"] = words[0]
        i = 1
    if i >= count_:
        raise IprouteParseError("routes: line %d: route type '%s' with no destination" % (number, words[0]))
    dst = words[i]
    if dst != "default" and not _looks_like_prefix(dst):
        raise IprouteParseError("routes: line %d: '%s' is not a route destination (expected a prefix or "
                                "'default'; is this `ip route` output?)" % (number, dst))
    route["dst"] = _normalise_dst(dst)
    i += 1
    while i < count_:
        word = words[i]
        key = _ROUTE_VALUE_WORDS.get(word)
        if key is not None and word != "via":  # the common case first: "dev X", "proto Y", "scope Z", ...
            if i + 1 >= count_:
                raise IprouteParseError("routes: line %d: '%s' is missing its value" % (number, word))
            value = words[i + 1]
            if key == "protocol":
                value = _PROTOCOL_NAMES[value]
            elif key == "metric" or key == "weight":
                value = _as_int(value, key, number)
            if target is route or key in _NEXTHOP_TEXT_KEYS:
                target[key] = value
            i += 2
        elif word == "via":
            i += 1
            if i < count_ and words[i] in ("inet", "inet6"):
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
    return _finish_route(route)


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


# ------------------------------------------------------------------------------------------------------ addresses
_IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_ADDRESS = re.compile(r"^%s$" % _IPV4).match
# What nearly every route has, for the bulk check in _addresses_ok: lines of IPv4 prefixes no longer than /32 and of
# IPv4 gateways (subn removes each valid line). Each line they take is one _is_address accepts (ASCII digits).
_IPV4_PREFIX_LINES = partial(re.compile(r"^%s/%s\n" % (_IPV4_ASCII, _PREFIX_LENGTH), re.M).subn, "")
_IPV4_ADDRESS_LINES = partial(re.compile(r"^%s\n" % _IPV4_ASCII, re.M).subn, "")
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


def _addresses_ok(dsts, gateways):
    """Whether every destination is an IPv4 prefix and every gateway (None: none) an IPv4 address: the check in bulk,
    for the all-IPv4 table nearly every node has. One regex pass over each column joined in lines (no Python-level
    step, nor even a call, per route); a value with a newline of its own makes one line more than there are values.
    The first value alone first: an IPv6 table fails there, not after a pass over it all."""
    gateways = list(filter(_NOT_NONE, gateways))
    try:
        for values, lines in ((dsts, _IPV4_PREFIX_LINES), (gateways, _IPV4_ADDRESS_LINES)):
            for some in (values[:1], values):
                if some and lines("\n".join(some) + "\n") != ("", len(some)):
                    return False
    except TypeError:  # a value that is no string
        return False
    return True


def _check_addresses(routes):
    # After parsing, so both parsers (and the bulk path) refuse the same garbage: later steps do arithmetic on these
    # addresses and must never meet a destination such as 10.0.0.0/33 or "pod-net".
    gateways = map(_GATEWAY, chain(routes, chain.from_iterable(map(_NEXTHOPS, routes))))
    if not _addresses_ok(list(map(_DST, routes)), gateways):
        _check_each_address(routes)


def _check_each_address(routes):
    # Whatever _addresses_ok does not take (IPv6, a non-string, garbage): decide, and name the first culprit.
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
            routes = _routes_from_json(_load_json(output, "routes"))
        else:
            routes = _routes_from_text(output)
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
