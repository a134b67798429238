# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Parse ``ip route show`` plain text (old iproute2 such as CentOS 7's has no JSON for routes) into the normalised
routes of ``_iproute_common``, the same as ``_iproute_json`` gives for the same table.

A route is a line of words (``192.168.1.0/26 via 10.0.0.1 dev eth0 proto bird onlink``), a multipath route's next
hops each on an indented ``nexthop ...`` line after it. Every value is checked as it is read: a word that is no
keyword, a keyword without its value, a value its check refuses (an address, a number beyond a u32, a protocol that
is no name) is an IprouteParseError naming the line and the word.

Most lines are ordinary routes as iproute2 prints them; routes_from_text takes those in bulk, one compiled regex per
line that also checks their values (see "bulk" below), and gives every other line to parse_text_route, which is the
definition of the result; the two agree route for route and error for error (tests/unit/test_iproute_parse_bulk.py).
"""

from __future__ import annotations

import re
from collections import deque
from itertools import compress, count, repeat
from operator import not_, setitem

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_common import (
    PROTOCOL_NUMBER,
    ROUTE_FLAGS,
    ROUTE_METRICS,
    ROUTE_TYPES,
    TEXT_METRICS,
    TIME_METRICS,
    IprouteParseError,
    Refused,
    address,
    check_lines,
    destination,
    empty_nexthop,
    empty_route,
    error,
    finish_route,
    normalise_bulk,
    number_text,
    protocol,
    source,
    time_text,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ipv4 import IPV4, PREFIX_LENGTH

# Text keywords followed by one value, and the key of the result each goes to (as ip -j names it). The values of
# the first few are checked; the others are kept as words (a text route has them as extra keys).
_ROUTE_VALUE_WORDS = {
    "dev": "dev", "via": "gateway", "proto": "protocol", "scope": "scope", "src": "prefsrc", "metric": "metric",
    "table": "table", "tos": "tos", "dsfield": "tos", "from": "from", "iif": "iif", "realm": "realm",
    "realms": "realm", "expires": "expires", "pref": "pref", "nhid": "nhid", "error": "error", "uid": "uid",
    "weight": "weight", "ttl-propagate": "ttl_propagate", "users": "users", "age": "age", "used": "used",
    "ipid": "ipid",
}
_VALUE_CHECKS = {"protocol": protocol, "metric": number_text, "weight": number_text}
# Text value words that belong to a "nexthop" entry rather than to the route.
_NEXTHOP_TEXT_KEYS = frozenset(("dev", "weight", "realm"))
_ELLIPSES = ("...", "\u2026")  # (what people leave in pasted output)


# ------------------------------------------------------------------------------------------ one route at a time
def parse_text_route(number, words):
    """The normalised route of the *words* of the route on line *number* (its next hops' words appended)."""
    try:
        return _parse_words(words)
    except Refused as refused:
        raise error("routes", "line %d" % number, refused)


def _parse_words(words):
    route = empty_route()
    target = route  # where value words go: the route, then each "nexthop" entry
    count_ = len(words)
    i = 0
    if words[0] in ROUTE_TYPES:
        route["type"] = words[0]
        i = 1
    if i >= count_:
        raise Refused("route type '%s' with no destination" % words[0])
    dst = words[i]
    if dst != "default" and not (("." in dst or ":" in dst) and _PREFIX_LIKE(dst)):
        raise Refused("'%s' is not a route destination (expected a prefix or 'default'; is this `ip route` "
                      "output?)" % dst)
    route["dst"] = destination(None, dst)
    i += 1
    while i < count_:
        word = words[i]
        key = _ROUTE_VALUE_WORDS.get(word)
        if key is not None and word != "via":  # the common case first: "dev X", "proto Y", "scope Z", ...
            value = _value(words, i + 1, word)
            check = _VALUE_CHECKS.get(key)
            if check is not None:
                value = check(word, value)
            elif key == "prefsrc":
                value = source(word, address(word, value), route["dst"])
            if target is route or key in _NEXTHOP_TEXT_KEYS:
                target[key] = value
            i += 2
        elif word == "via":
            i += 1
            if i < count_ and words[i] in ("inet", "inet6"):
                i += 1  # "via inet6 fe80::1": an explicit address family
            target["gateway"] = address("via", _value(words, i, "via"))
            i += 1
        elif word in ROUTE_FLAGS:
            if word not in target["flags"]:  # (at most the dozen flags there are, however many the line repeats)
                target["flags"].append(word)
            i += 1
        elif word == "nexthop":
            target = empty_nexthop()
            route["nexthops"].append(target)
            i += 1
        elif word in ROUTE_METRICS:
            i, route["metrics"][word] = _metric(words, i + 1, word)
        elif word == "encap":
            raise Refused("lightweight tunnel 'encap' routes are not supported")
        else:
            raise Refused("unknown word '%s' in route %s" % (word, dst))
    return finish_route(route)


_PREFIX_LIKE = re.compile(r"[0-9a-fA-F.:]+(?:/.*)?").fullmatch  # (destination() decides)


def _value(words, i, keyword):
    if i >= len(words):
        raise Refused("'%s' is missing its value" % keyword)
    return words[i]


def _metric(words, i, name):
    """``(next index, value)`` of the route metric *name* whose value starts at *words[i]*: "mtu [lock] 1400"."""
    if i < len(words) and words[i] == "lock":
        i += 1  # "mtu lock 1400": the lock is not shown in JSON, so it is not kept here either
    raw = _value(words, i, name)
    if name in TEXT_METRICS:
        return i + 1, raw
    if name in TIME_METRICS:
        return i + 1, time_text(name, raw)
    return i + 1, number_text(name, raw)


def _command_echo(words):
    """The command pasted above its output: ``ip route``, ``$ ip -4 r``, ``root@node:~# ip route show`` (no route
    starts with ``ip``, so nothing that is a route is ever skipped)."""
    if len(words) > 1 and words[0][-1:] in ("#", "$", ">"):
        words = words[1:]
    return len(words) >= 2 and words[0] == "ip" and any(word[:1] == "r" for word in words[1:])


def route_lines(lines, matches):
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
        if not words or (len(words) == 1 and words[0] in _ELLIPSES) or _command_echo(words):
            continue
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


# ------------------------------------------------------------------------------------------------------- bulk
# The line of an ordinary route as iproute2 prints it (ip/iproute.c print_route: type, destination, gateway, device,
# table, protocol, scope, source, metric, flags; one space apart, maybe one at the end), with values that
# parse_text_route would take: destination, gateway and source IPv4, a protocol name or number, a metric of up to
# 9 digits (below 2**32), up to 12 flags (a longer run goes line by line: a regex repeat keeps state per step). An
# IPv6 or unusual line goes route by route. The value words are split() words: \S is what str.split() does not
# split on.
_TEXT_ROUTE = re.compile(
    r"(?:(%s) |)(default|%s(?:/%s|))(?: via (%s)|)(?: dev (\S+)|)(?: table (\S+)|)(?: proto (%s)|)(?: scope (\S+)|)"
    r"(?: src (%s)|)(?: metric ([0-9]{1,9})|)((?: (?:%s)){0,12}) ?" % (
        "|".join(sorted(ROUTE_TYPES)), IPV4, PREFIX_LENGTH, IPV4, PROTOCOL_NUMBER + "|[A-Za-z][A-Za-z0-9_.-]*", IPV4,
        "|".join(sorted(ROUTE_FLAGS, key=lambda word: (-len(word), word))))).fullmatch
_GROUPS = type(re.match("", "")).groups
_DEFAULT_TYPE = {None: "unicast"}.get  # _DEFAULT_TYPE(type, type)


def routes_from_text(output):
    """The normalised routes of an ``ip route show`` text capture, in order."""
    if "  " in output:
        output = output.replace("  ", " ")  # iproute2 3.x (CentOS 7, the seed report) pads some words: same words
    lines = output.splitlines()
    check_lines(lines, "routes")
    matches = list(map(_TEXT_ROUTE, lines))
    if all(matches):
        return _routes_from_matches(matches)
    others = [(i, parse_text_route(i + 1, words)) for i, words in route_lines(lines, matches)]
    routes = _routes_from_matches(list(filter(None, matches)))
    return _merge(len(lines), compress(count(), matches), routes, others)


def _routes_from_matches(matches):
    if not matches:
        return []
    type_, dst, gateway, dev, table, protocol_, scope, prefsrc, metric, flags = zip(*map(_GROUPS, matches))
    dst, metric = list(dst), list(metric)
    for i in compress(count(), metric):  # (the routes that have one)
        metric[i] = int(metric[i])
    flags = list(map(str.split, flags))
    routes = list(map(_route, dst, map(_DEFAULT_TYPE, type_, type_), gateway, dev, protocol_, scope, prefsrc, metric,
                      table, flags))
    normalise_bulk(routes, dst, protocol_, table, flags)
    return routes


def _route(dst, type_, gateway, dev, protocol_, scope, prefsrc, metric, table, flags):
    return {"dst": dst, "type": type_, "gateway": gateway, "dev": dev, "protocol": protocol_, "scope": scope,
            "prefsrc": prefsrc, "metric": metric, "table": table, "flags": flags, "metrics": {}, "nexthops": []}


def _merge(size, positions, routes, others):
    """The table in order: *routes* at *positions*, each ``(position, route)`` of *others* at its own."""
    table = [None] * size
    deque(map(setitem, repeat(table), positions, routes), 0)
    for position, route in others:
        table[position] = route
    return list(filter(None, table))  # (blank and continuation lines leave gaps)
