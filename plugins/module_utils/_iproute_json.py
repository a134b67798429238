# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Parse ``ip -j route show`` (a JSON list of route objects) into the normalised routes of ``_iproute_common``.

Every field a route object may have is in one table, ROUTE_FIELDS (NEXTHOP_FIELDS for a next hop): the JSON types
its value may have and the check that normalises it. A field of another type, a value its check refuses, a field
iproute2 does not print: an IprouteParseError naming the route (its index in the list) and the field. JSON null
counts as an absent field.

Most routes are ordinary (destination, maybe type, gateway, device, protocol, scope, source, metric, table and
flags, nothing else): routes_from_json takes those in bulk, column by column (see "bulk" below), and gives every
other route to route_from_json, which is the definition of the result; the two agree route for route and error for
error (tests/unit/test_iproute_parse_bulk.py).
"""

from __future__ import annotations

import re
from collections import deque
from functools import partial
from itertools import chain, compress, count, repeat
from operator import is_, is_not, itemgetter, lt, not_, setitem

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_common import (
    ROUTE_TYPES,
    U32,
    IprouteParseError,
    Refused,
    address,
    checked_fields,
    destination,
    empty_nexthop,
    empty_route,
    error,
    finish_route,
    is_integer,
    normalise_bulk,
    protocol,
    refuse,
    show,
    source,
    u32,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ipv4 import IPV4, IPV4_PREFIX, is_ipv4, is_ipv4_prefix

_NONE = type(None)


# ------------------------------------------------------------------------------------------------- the checks
def _route_type(field, value):
    if value not in ROUTE_TYPES:
        raise refuse(field, value, "a route type (%s)" % ", ".join(sorted(ROUTE_TYPES)))
    return value


def _table(field, value):
    return str(u32(field, value)) if is_integer(value) else value  # ("main": none, by finish_route)


def _words(field, value):
    """A list of strings (flags): a fresh list, sorted without duplicates as the result has them."""
    for n, item in enumerate(value):
        if not isinstance(item, str):
            raise refuse("%s[%d]" % (field, n), item, "a string")
    return sorted(set(value)) if len(value) > 1 else list(value)


def _cache(field, value):
    """``"cache": [flags]`` (iproute2) or true: the route is a cached one."""
    if isinstance(value, list):
        _words(field, value)
    return bool(value)


def _via(field, value):
    """``{"family": "inet6", "host": "fe80::1"}``: the gateway's address."""
    host = value.get("host")
    if not isinstance(host, str):
        raise refuse(field, value, "an object with the gateway's address as 'host'")
    return address(field + ".host", host)


def _metrics(field, value):
    """``[{"mtu": 1400, "congctl": "cubic"}]``: one dict of the route's metrics (RTAX_*)."""
    metrics = {}
    for n, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise refuse("%s[%d]" % (field, n), entry, "an object of metric values")
        for name, item in entry.items():
            if isinstance(item, dict):  # {"value": 1400, "lock": true}
                item = item.get("value")
            metrics[name] = _metric_value("%s.%s" % (field, name), item)
    return metrics


def _metric_value(field, value):
    if is_integer(value):
        return u32(field, value)
    if value is None or isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return value
    raise refuse(field, value, "a whole number from 0 to %d or a word" % U32)


def _nexthops(field, value):
    hops = []
    for n, obj in enumerate(value):
        name = "%s[%d]" % (field, n)
        if not isinstance(obj, dict):
            raise refuse(name, obj, "an object")
        unknown = _unknown(obj, NEXTHOP_FIELDS, _IGNORED_NEXTHOP_KEYS)
        if unknown:
            raise Refused("'%s' has unknown field(s) %s" % (name, show(", ".join(unknown))[1:-1]))
        values = checked_fields(obj, NEXTHOP_FIELDS, name + ".")
        hop = empty_nexthop()
        hop.update((key, values[key]) for key in ("dev", "weight", "flags") if key in values)
        hop["gateway"] = values.get("gateway", values.get("via"))
        hops.append(hop)
    return hops


# What each field of a route object may be: the JSON types of its value, then the check that returns the value kept
# (or raises Refused naming the field); no check: kept as it is. The keys iproute2 prints that the result has no
# place for take any value (_IGNORED_ROUTE_KEYS). prefsrc is also checked against the destination's family.
ROUTE_FIELDS = {
    "dst": ((str,), destination),
    "type": ((str,), _route_type),
    "gateway": ((str,), address),
    "via": ((dict,), _via),
    "dev": ((str,), None),
    "protocol": ((str, int), protocol),
    "scope": ((str,), None),
    "prefsrc": ((str,), address),
    "metric": ((int,), u32),
    "table": ((str, int), _table),
    "flags": ((list,), _words),
    "cache": ((list, bool), _cache),
    "metrics": ((list,), _metrics),
    "nexthops": ((list,), _nexthops),
}
NEXTHOP_FIELDS = {
    "gateway": ((str,), address),
    "via": ((dict,), _via),
    "dev": ((str,), None),
    "weight": ((int,), u32),
    "flags": ((list,), _words),
}
_IGNORED_ROUTE_KEYS = frozenset(("tos", "from", "iif", "realm", "realms", "expires", "pref", "nhid", "encap", "error",
                                 "uid", "ttl-propagate", "users", "age", "used", "ipid", "weight", "newdst", "src",
                                 "oif"))
_IGNORED_NEXTHOP_KEYS = frozenset(("encap", "realm", "realms", "newdst"))


def _unknown(obj, fields, ignored):
    return sorted(key for key in obj if key not in fields and key not in ignored)


# ------------------------------------------------------------------------------------------ one route at a time
def route_from_json(obj, index):
    """The normalised route of the JSON route object *obj*, item *index* of the list."""
    dst = obj.get("dst")
    where = "JSON route %d" % index
    if isinstance(dst, str) and len(dst) <= 50 and dst.isprintable():
        where += " (%s)" % dst  # (the destination, to find the route by)
    unknown = _unknown(obj, ROUTE_FIELDS, _IGNORED_ROUTE_KEYS)
    if unknown:
        raise IprouteParseError("routes: %s has unknown field(s) %s" % (where, show(", ".join(unknown))[1:-1]))
    if dst is None:
        raise IprouteParseError("routes: %s has no 'dst'" % where)
    try:
        values = checked_fields(obj, ROUTE_FIELDS, "")
        route = empty_route()
        route.update((key, values[key]) for key in ("dst", "type", "dev", "protocol", "scope", "metric", "table",
                                                    "flags", "metrics", "nexthops") if key in values)
        route["gateway"] = values.get("gateway", values.get("via"))
        if "prefsrc" in values:
            route["prefsrc"] = source("prefsrc", values["prefsrc"], route["dst"])
    except Refused as refused:
        raise error("routes", where, refused)
    if values.get("cache") and "cache" not in route["flags"]:
        route["flags"] = route["flags"] + ["cache"]
    return finish_route(route)


# ------------------------------------------------------------------------------------------------------- bulk
# Each object updates a copy of this template, which gives the value of a missing key; an object with any other key
# (next hops, metrics, cache, a 'via' object, ...) goes to route_from_json. The values of the template's keys must
# have the types the bulk path takes (a subset of ROUTE_FIELDS's: what iproute2 prints; None: absent) and pass
# ROUTE_FIELDS's checks, made by column, in C-level passes:
# - type, device, protocol, scope, source and table: by distinct row of these values (a table has a few dozen), with
#   ROUTE_FIELDS's checks (the source must also be IPv4); no string equals a value of another type, so none hides
#   another in the set;
# - destination, metric and flags by type, then the metrics by range and the flags by distinct list (as a tuple);
# - destinations and gateways must be IPv4 (one regex over each column joined in lines).
# A route whose values do not pass (IPv6 ones included) goes to route_from_json, which decides and names the problem.
_JSON_ROUTE = {"dst": None, "type": "unicast", "gateway": None, "dev": None, "protocol": None, "scope": None,
               "prefsrc": None, "metric": None, "table": None, "flags": None}
_BY_TYPE = {"dst": frozenset((str,)), "metric": frozenset((int, _NONE)), "flags": frozenset((list, _NONE))}
_COLUMNS = ("dst", "gateway", "protocol", "metric", "table", "flags")  # (the values used after the checks)
_HARMLESS = {"dst": "0.0.0.0/0"}  # (for the others: None)
_EMPTY_DICT, _EMPTY_LIST = {}, []  # (only ever copied)
_NOT_NONE = partial(is_not, None)
# Lines of IPv4 prefixes no longer than /32, of IPv4 addresses: subn removes each valid line.
_IPV4_PREFIX_LINES = partial(re.compile(r"^%s\n" % IPV4_PREFIX, re.M).subn, "")
_IPV4_ADDRESS_LINES = partial(re.compile(r"^%s\n" % IPV4, re.M).subn, "")


def _ipv4_source(field, value):
    if not is_ipv4(value):
        raise refuse(field, value, "an IPv4 address")  # (bulk only: route_from_json decides on the others)
    return value


_BY_ROW = {"type": _route_type, "dev": None, "protocol": protocol, "scope": None, "prefsrc": _ipv4_source,
           "table": None}  # (the check of each; None: any string)
_ROW = itemgetter(*_BY_ROW)


def routes_from_json(data):
    """The normalised routes of the JSON route objects *data* (a list of dicts), in order."""
    routes = list(map(dict.copy, repeat(_JSON_ROUTE, len(data))))
    deque(map(dict.update, routes, data), 0)
    columns = dict((key, list(map(dict.get, routes, repeat(key)))) for key in _COLUMNS)
    # The routes that are not ordinary stay in the table with harmless values in the columns, and route_from_json's
    # routes replace them in the end: no pass over the table to leave them out and put them back.
    odd = _odd(routes, columns)
    dst, flags = columns["dst"], columns["flags"]
    deque(map(setitem, routes, repeat("metrics"), map(dict.copy, repeat(_EMPTY_DICT, len(routes)))), 0)
    deque(map(setitem, routes, repeat("nexthops"), map(list.copy, repeat(_EMPTY_LIST, len(routes)))), 0)
    if None in flags:
        for i in compress(count(), map(is_, flags, repeat(None))):
            flags[i] = routes[i]["flags"] = []  # (absent or null; the others are the parsed JSON's own lists)
    several = _check_flags(flags, odd)
    normalise_bulk(routes, dst, columns["protocol"], columns["table"], flags, several)
    if not _all_ipv4(dst, columns["gateway"]):
        odd.update(_not_ipv4(dst, columns["gateway"]))
    for i in sorted(odd):  # (in order: the first bad route is the one named)
        routes[i] = route_from_json(data[i], i)
    return routes


def _odd(routes, columns):
    """Positions of the routes that are not ordinary: a key beyond the template's (or no 'dst': it is None), a value
    the bulk path does not take (see above; the flags' strings are _check_flags's). Their columns' values are made
    harmless."""
    odd = set()
    if max(map(len, routes), default=0) > len(_JSON_ROUTE):
        odd.update(compress(count(), map(lt, repeat(len(_JSON_ROUTE)), map(len, routes))))
    odd.update(_refused(map(_ROW, routes), lambda: map(_ROW, routes), _row_taken))
    for key, types in _BY_TYPE.items():
        if not types.issuperset(map(type, columns[key])):
            odd.update(compress(count(), map(not_, map(types.__contains__, map(type, columns[key])))))
    _make_harmless(columns, odd)
    metric = columns["metric"]
    values = set(metric) - {None}  # (ints, a few)
    if values and (min(values) < 0 or max(values) > U32):
        beyond = [i for i, value in enumerate(metric) if value is not None and not 0 <= value <= U32]
        _make_harmless(columns, beyond)
        odd.update(beyond)
    return odd


def _check_flags(flags, odd):
    """Add to *odd* the positions of the lists of *flags* with a flag that is no string (made harmless: []); returns
    whether any has several flags. By distinct list, as a tuple: a table has a few (none, onlink, linkdown, ...)."""
    try:
        shapes = set(map(tuple, flags))
    except TypeError:  # (made harmless, a list is a list)
        shapes = None
    if shapes is None or not all(map(isinstance, chain.from_iterable(shapes), repeat(str))):
        bad = [i for i, words in enumerate(flags) if not all(isinstance(word, str) for word in words)]
        for i in bad:
            flags[i] = []
        odd.update(bad)
        shapes = set(map(tuple, flags))
    return max(map(len, shapes), default=0) > 1


def _refused(values, again, takes):
    """Positions of the *values* (an iterable; *again*: the same again) that *takes* does not take: decided once per
    distinct value (a set; no string equals a value of another type, so none hides another) unless one is
    unhashable (a list, an object), then value by value."""
    try:
        refused = frozenset(value for value in set(values) if not takes(value))
    except TypeError:
        return [i for i, value in enumerate(again()) if not _hashable(value) or not takes(value)]
    return compress(count(), map(refused.__contains__, again())) if refused else ()


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _row_taken(row):
    return all(map(_bulk_takes, _BY_ROW, row))


def _bulk_takes(key, value):
    """Whether the bulk path takes *value* for *key* of _BY_ROW: a string its check takes, or None (absent; but for
    'type', which the template gives when absent)."""
    if value is None:
        return key != "type"
    if not isinstance(value, str):
        return False
    check = _BY_ROW[key]
    try:
        if check is not None:
            check(key, value)
    except Refused:
        return False
    return True


def _make_harmless(columns, positions):
    for key, column in columns.items():
        value = _HARMLESS.get(key)
        for i in positions:
            column[i] = value


def _all_ipv4(dsts, gateways):
    """Whether every destination is an IPv4 prefix and every gateway (None: none) an IPv4 address: one regex pass
    over each column joined in lines (no Python-level step, nor even a call, per route); a value with a newline of
    its own makes one line more than there are values. The first value alone first: an IPv6 table fails there, not
    after a pass over it all. A value that is no string: False (join raises TypeError)."""
    try:
        for values, lines in ((dsts, _IPV4_PREFIX_LINES), (list(filter(_NOT_NONE, gateways)), _IPV4_ADDRESS_LINES)):
            for some in (values[:1], values):
                if some and lines("\n".join(some) + "\n") != ("", len(some)):
                    return False
    except TypeError:
        return False
    return True


def _not_ipv4(dsts, gateways):
    """Positions of the routes with a destination or gateway that is not IPv4 (only when there are some)."""
    return set(i for i, (dst, gateway) in enumerate(zip(dsts, gateways))
               if not is_ipv4_prefix(dst) or not (gateway is None or (isinstance(gateway, str) and is_ipv4(gateway))))
