# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""What the iproute2 parsers (``_iproute_text``, ``_iproute_json``, ``_iproute_links``) share: the error, the
vocabulary of routes, the normalised route, and the value checks both input forms apply alike. Pure, no I/O.

Every value a parser keeps is checked here first: numbers are ASCII digits or JSON integers within a u32 (what the
kernel stores), addresses are what ``_ipv4`` accepts, names are strings. A check that fails raises
:class:`Refused` with a message naming the field and the value; the parser adds what and where (the line, the JSON
item) and raises :class:`IprouteParseError`.
"""

from __future__ import annotations

import json
import re
import reprlib
from itertools import compress, count, repeat
from operator import contains, eq, lt, not_

from ansible_collections.k8snet.calico.plugins.module_utils._ipv4 import has_leading_zero, prefix_version, version_of

# Standard rtnetlink protocol numbers (iproute2 etc/iproute2/rt_protos). Numbers are mapped to these names so a
# node whose rt_protos lacks an entry (prints "12") and one that has it (prints "bird") normalise alike.
# 80 has no standard name: Calico Felix programs its routes with it (DefaultRouteProto in projectcalico/calico
# felix/dataplane/linux/dataplanedefs/dataplane_defs.go).
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
TEXT_METRICS = frozenset(("congctl", "features"))  # the route metrics whose value is a word, not a number
TIME_METRICS = frozenset(("rtt", "rttvar", "rto_min"))  # text "10ms" or "1.5s"; JSON milliseconds

U32 = 2 ** 32 - 1  # every number iproute2 prints here (metric, weight, MTU, index, ...) is a u32
# The longest text line taken. iproute2 prints routes and links in lines of at most a few hundred characters (a
# multipath route's next hops each on a line of its own); anything longer is no capture, and refusing it up front
# bounds the memory and time one line can take (a 3-million-flag line would otherwise be split into 3 million words).
MAX_LINE = 65536
# A protocol, in text or JSON: a number of up to 10 ASCII digits (mapped by RT_PROTOS) or an rt_protos name.
PROTOCOL_NUMBER = r"[0-9]{1,10}"
_PROTOCOL_NUMBER = re.compile(PROTOCOL_NUMBER).fullmatch
_PROTOCOL_NAME = re.compile(r"[A-Za-z0-9_.-]+").fullmatch
_NUMBER = re.compile(r"[0-9]{1,10}").fullmatch
_SECONDS = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,9})?(?:e\+?[0-9]{1,2})?").fullmatch
# How values are shown in messages (show): a few items, a few levels, a few dozen characters.
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 3, 60, 60, 40
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 6


class IprouteParseError(ValueError):
    """A capture that cannot be parsed; the message names what was wrong and where."""


class Refused(ValueError):
    """A value a check does not take; the message names the field and the value, the parser adds where."""


def show(value):
    """A short repr of *value* for a message: bounded in length and depth whatever the value (a list of a million
    items, nesting a thousand deep), and never an exception (the repr of a huge integer raises ValueError)."""
    try:
        return _SHORT.repr(value)
    except (ValueError, RecursionError):
        return "an integer of %d bits" % value.bit_length() if is_integer(value) else "a value that cannot be shown"


def refuse(field, value, expected):
    """The Refused for *field* whose *value* is not *expected* ("an IPv4 or IPv6 address")."""
    return Refused("'%s' is %s, not %s" % (field, show(value), expected))


def error(what, where, refused):
    """The IprouteParseError for a Refused at *where* ("line 3", "JSON route 0") of the *what* capture."""
    return IprouteParseError("%s: %s: %s" % (what, where, refused))


def detect_format(output):
    """Return ``"json"`` when *output* is iproute2 JSON, ``"text"`` otherwise (empty output counts as text)."""
    return "json" if output.lstrip().startswith(("[", "{")) else "text"


def load_json(output, what):
    """The list of objects of a JSON capture; anything else is an IprouteParseError."""
    try:
        data = json.loads(output)
    except ValueError as exc:  # (also a number of more than 4,300 digits)
        raise IprouteParseError("%s: output looks like JSON but does not parse: %s" % (what, exc))
    except RecursionError:
        raise IprouteParseError("%s: output looks like JSON but is nested too deeply to be iproute2's" % what)
    if not isinstance(data, list):
        raise IprouteParseError("%s: JSON output must be a list of objects, got %s" % (what, type(data).__name__))
    if not all(map(isinstance, data, repeat(dict))):  # (no Python-level step per item when all is well)
        i, item = next((i, item) for i, item in enumerate(data) if not isinstance(item, dict))
        raise IprouteParseError("%s: JSON item %d is %s, not an object" % (what, i, type(item).__name__))
    return data


def check_lines(lines, what):
    """Refuse a text capture with a line longer than MAX_LINE (one C-level pass when none is)."""
    if lines and max(map(len, lines)) > MAX_LINE:
        number = next(n for n, line in enumerate(lines, 1) if len(line) > MAX_LINE)
        raise IprouteParseError("%s: line %d is %d characters long; iproute2 prints none longer than a few hundred "
                                "(at most %d are taken)" % (what, number, len(lines[number - 1]), MAX_LINE))


# ----------------------------------------------------------------------------------------------------- checks
_TYPE_NAMES = {str: "a string", int: "a whole number", list: "a list", dict: "an object", bool: "true or false"}


def checked_fields(obj, fields, prefix):
    """``{key: checked value}`` of the fields of the JSON object *obj* named in *fields* (``{key: (JSON types,
    check or None)}``) and not null; other keys are not looked at. Raises Refused naming ``prefix + key``."""
    values = {}
    for key, value in obj.items():
        if value is None or key not in fields:
            continue
        types, check = fields[key]
        if type(value) not in types:
            raise refuse(prefix + key, value, " or ".join(_TYPE_NAMES[t] for t in types))
        values[key] = value if check is None else check(prefix + key, value)
    return values


def number_text(field, text):
    """The int of a text number (ASCII digits, up to a u32): metric, weight, MTU, index."""
    if _NUMBER(text) is None or int(text) > U32:
        raise refuse(field, text, "a whole number from 0 to %d" % U32)
    return int(text)


def time_text(field, text):
    """Milliseconds of a text time metric as iproute2 prints it: "300ms" below a second, "%gs" above."""
    if text.endswith("ms") and _NUMBER(text[:-2]):
        value = int(text[:-2])
    elif text.endswith("s") and _SECONDS(text[:-1]):
        value = int(round(float(text[:-1]) * 1000))
    else:
        value = None
    if value is None or value > U32:
        raise refuse(field, text, "a time such as 300ms or 1.5s")
    return value


def is_integer(value):
    """Whether *value* is a JSON integer (true and false are no integers, though Python's bool is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def u32(field, value):
    """A JSON integer from 0 to 2**32-1 (true/false and floats such as 1e999 are not integers)."""
    if not is_integer(value) or not 0 <= value <= U32:
        raise refuse(field, value, "a whole number from 0 to %d" % U32)
    return value


def protocol(field, value):
    """The normalised protocol of a text word or a JSON string or integer ("12" and 12 -> "bird")."""
    if is_integer(value):
        return normalise_protocol(u32(field, value))
    if not (isinstance(value, str) and (_PROTOCOL_NUMBER(value) or (_PROTOCOL_NAME(value) and not value.isdigit()))):
        raise refuse(field, value, "a protocol name or number")
    return normalise_protocol(value)


def address(field, value):
    """An IPv4 or IPv6 address (gateway, source), as given."""
    if version_of(value) is None:
        raise refuse(field, value, "an IPv4 or IPv6 address")
    return value


def destination(field, value):
    """The normalised destination of a route: "default" -> 0.0.0.0/0, a host address gets /32 or /128. *field*:
    the JSON key ("dst"), or None for a text route's first word (the message then says "destination").

    A prefix length with a leading zero (192.168.1.0/026) is refused, not read as /26: iproute2 never prints one,
    so the capture was edited, and iproute2's own input parser would read it as octal (/22).
    """
    dst = normalise_dst(value)
    if prefix_version(dst) is not None:
        return dst
    expected = "an IPv4 or IPv6 prefix"
    if has_leading_zero(dst):
        expected += ": its length has a leading zero, which iproute2 never prints (and `ip route add` reads as octal)"
    if field is None:
        raise Refused("destination %s is not %s" % (show(value), expected))
    raise refuse(field, value, expected)


def source(field, value, dst):
    """A preferred source address, of the family of the route's (normalised) destination *dst*."""
    version = prefix_version(dst)
    if version_of(value) != version:
        raise refuse(field, value, "an IPv%d address (the destination is IPv%d)" % (version, version))
    return value


# ------------------------------------------------------------------------------------------------ route model
def normalise_protocol(value):
    """``"12"``/``12``/``"bird"`` -> ``"bird"``; an unnamed number such as Felix's 80 stays ``"80"``."""
    if value is None:
        return None
    text = str(value)
    if _PROTOCOL_NUMBER(text):
        return RT_PROTOS.get(int(text), text)
    return text


def normalise_dst(dst):
    if dst == "default":
        return "0.0.0.0/0"
    if "/" not in dst:
        return dst + ("/128" if ":" in dst else "/32")
    return dst


def empty_route():
    return {"dst": None, "type": "unicast", "gateway": None, "dev": None, "protocol": None, "scope": None,
            "prefsrc": None, "metric": None, "table": None, "flags": [], "metrics": {}, "nexthops": []}


def empty_nexthop():
    return {"gateway": None, "dev": None, "weight": None, "flags": []}


def finish_route(route):
    """Flags sorted without duplicates, table "main" as none (as an unqualified `ip route` shows it)."""
    for hop in [route] + route["nexthops"]:
        if len(hop["flags"]) > 1:
            hop["flags"] = sorted(set(hop["flags"]))
    if route["table"] == "main":
        route["table"] = None
    return route


def normalise_bulk(routes, dst, protocol_, table, flags, several=True):
    """What finish_route, normalise_dst and normalise_protocol do, in place, for the bulk *routes*, given their raw
    values by column (*dst* and *flags*: lists, normalised in place too, so that the caller can check the
    destinations). Only the values that change are written: "default" and host routes, numbered protocols that have
    a name, table "main", several flags (*several*: False when the caller knows no route has). This cannot fail (the
    caller checked the columns' types)."""
    for i in compress(count(), map(not_, map(contains, dst, repeat("/")))):
        dst[i] = routes[i]["dst"] = normalise_dst(dst[i])
    names = dict((value, normalise_protocol(value)) for value in set(protocol_))  # (a table has a few)
    renamed = frozenset(value for value, name in names.items() if name != value)  # "12" -> "bird"
    if renamed:
        for i in compress(count(), map(renamed.__contains__, protocol_)):
            routes[i]["protocol"] = names[protocol_[i]]
    if "main" in table:
        for i in compress(count(), map(eq, table, repeat("main"))):
            routes[i]["table"] = None
    if several:
        for i in compress(count(), map(lt, repeat(1), map(len, flags))):  # (the routes with several flags: a few)
            flags[i] = routes[i]["flags"] = sorted(set(flags[i]))
