"""parse_routes takes ordinary routes in bulk (column-wise) and the others route by route: both must give what the
per-route parsers alone give, route for route and error for error, whatever the mix.

The reference below is the per-route path applied to every route of the table (``route_from_json`` on each JSON
object, ``parse_text_route`` on each text route): the definition of the result. Each comparison also checks that
the bulk path really took the ordinary routes (else it proves nothing).
"""

# The private parsers on purpose; pytest fixtures as arguments.
# pylint: disable=protected-access,redefined-outer-name

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.k8snet.calico.plugins.module_utils import _iproute_json as ijson
from ansible_collections.k8snet.calico.plugins.module_utils import _iproute_parse as iproute
from ansible_collections.k8snet.calico.plugins.module_utils import _iproute_text as itext
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_common import (
    IprouteParseError,
    address,
    check_lines,
    load_json,
)
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_common import (
    destination as check_destination,
)
from ansible_collections.k8snet.calico.tests.benchmarks.cluster import STATES, Cluster, single_table
from ansible_collections.k8snet.calico.tests.unit.iproute_fixtures import FIXTURES

KEYS = ["dst", "type", "gateway", "dev", "protocol", "scope", "prefsrc", "metric", "table", "flags", "metrics",
        "nexthops"]
ROUTE_CAPTURES = sorted(path.name for path in FIXTURES.glob("*.routes.*"))


def reference(output):
    """The per-route path over the whole table."""
    if iproute.detect_format(output) == "json":
        return [ijson.route_from_json(obj, i) for i, obj in enumerate(load_json(output, "routes"))]
    lines = output.splitlines()
    check_lines(lines, "routes")
    return [itext.parse_text_route(i + 1, words) for i, words in itext.route_lines(lines, [None] * len(lines))]


def outcome(parse, output):
    try:
        return "ok", parse(output)
    except IprouteParseError as exc:  # (and nothing else, ever)
        return "error", str(exc)


@pytest.fixture
def per_route(monkeypatch):
    """Counts the routes parse_routes hands to the per-route parsers."""
    calls = []
    for module, name in ((ijson, "route_from_json"), (itext, "parse_text_route")):
        original = getattr(module, name)

        def counted(*args, _original=original):
            calls.append(args)
            return _original(*args)
        monkeypatch.setattr(module, name, counted)
    return calls


def assert_same(output):
    expected = outcome(reference, output)
    got = outcome(lambda text: iproute.parse_routes(text)[0], output)
    assert got == expected
    if got[0] == "ok":
        for route in got[1]:
            assert list(route)[:len(KEYS)] == KEYS  # (a text route may have more: "expires 300sec", "pref medium")
        for key in ("flags", "metrics", "nexthops"):  # fresh objects, never shared between routes
            assert len({id(route[key]) for route in got[1]}) == len(got[1])
    return got


def generator_tables():
    for state in STATES:
        cluster = Cluster(9, subnets=3, state=state)
        for k in (0, 1, 4):
            yield "%s-node%d" % (state, k), cluster.routes_json(k), cluster.routes_text(k)
    yield "single-table-1500", single_table(1500, "json"), single_table(1500, "text")


GENERATOR = list(generator_tables())


# ------------------------------------------------------------------------------------------- ordinary tables
@pytest.mark.parametrize("name, as_json, as_text", GENERATOR, ids=[name for name, _j, _t in GENERATOR])
def test_generator_tables_in_bulk_match_the_per_route_path(name, as_json, as_text, per_route):
    for output in (as_json, as_text):
        routes = assert_same(output)[1]
        assert len(routes) >= 8
    del per_route[:]
    assert iproute.parse_routes(as_json)[0] == iproute.parse_routes(as_text)[0]
    assert per_route == []  # every route of these tables went the bulk way
    dsts = [route["dst"] for route in iproute.parse_routes(as_json)[0]]
    gateways = [route["gateway"] for route in iproute.parse_routes(as_json)[0]]
    assert ijson._all_ipv4(dsts, gateways)  # and so did the address check


@pytest.mark.parametrize("capture", ROUTE_CAPTURES)
def test_every_route_capture_matches_the_per_route_path(capture):
    assert_same((FIXTURES / capture).read_text())


def destination(args):
    """The destination of a route handed to a per-route parser: (obj, index) or (line number, words)."""
    if isinstance(args[0], dict):
        return args[0]["dst"]
    words = args[1]
    return words[1] if words[0] in iproute.ROUTE_TYPES else words[0]


def test_captures_take_the_bulk_path_except_multipath_and_metrics(per_route):
    for capture in ROUTE_CAPTURES:
        iproute.parse_routes((FIXTURES / capture).read_text())
    routes = sorted(set(map(destination, per_route)))
    # ecmp: the two multipath routes and the one with "mtu lock 1400"; everything else (the seed report's double
    # spaces and ellipses included) went the bulk way
    assert routes == ["10.1.0.0/16", "192.168.169.192/26", "192.168.80.0/26"]


def test_bulk_results_by_hand():
    text = ("default via 10.39.0.1 dev eth0  proto static  metric 100\n"
            "unreachable 10.9.0.0/24 table local proto 12 scope host src 10.39.0.110 metric 0100 onlink linkdown onlink \n"
            "10.39.0.7 dev eth0 table main proto 80\n")
    expected = [
        {"dst": "0.0.0.0/0", "type": "unicast", "gateway": "10.39.0.1", "dev": "eth0", "protocol": "static",
         "scope": None, "prefsrc": None, "metric": 100, "table": None, "flags": [], "metrics": {}, "nexthops": []},
        {"dst": "10.9.0.0/24", "type": "unreachable", "gateway": None, "dev": None, "protocol": "bird",
         "scope": "host", "prefsrc": "10.39.0.110", "metric": 100, "table": "local", "flags": ["linkdown", "onlink"],
         "metrics": {}, "nexthops": []},
        {"dst": "10.39.0.7/32", "type": "unicast", "gateway": None, "dev": "eth0", "protocol": "80", "scope": None,
         "prefsrc": None, "metric": None, "table": None, "flags": [], "metrics": {}, "nexthops": []},
    ]
    as_json = json.dumps([
        {"dst": "default", "gateway": "10.39.0.1", "dev": "eth0", "protocol": "static", "metric": 100, "flags": []},
        {"type": "unreachable", "dst": "10.9.0.0/24", "table": "local", "protocol": "12", "scope": "host",
         "prefsrc": "10.39.0.110", "metric": 100, "flags": ["onlink", "linkdown", "onlink"]},
        {"dst": "10.39.0.7", "dev": "eth0", "table": "main", "protocol": "80"},
    ])
    assert all(map(itext._TEXT_ROUTE, text.replace("  ", " ").splitlines()))
    assert iproute.parse_routes(text)[0] == expected == reference(text)
    assert iproute.parse_routes(as_json)[0] == expected == reference(as_json)


# --------------------------------------------------------------------------------------------- mixed tables
ECMP_JSON = json.loads((FIXTURES / "ecmp.routes.json").read_text())
UNUSUAL_JSON = [
    ECMP_JSON[1],  # metrics
    ECMP_JSON[5],  # next hops
    {"dst": "10.7.0.0/16", "gateway": "10.39.0.1", "dev": "eth0", "cache": True, "flags": []},
    {"dst": "10.8.0.0/16", "via": {"family": "inet", "host": "10.39.0.9"}, "dev": "eth0", "flags": []},
    {"dst": "fd00::/64", "dev": "eth0", "protocol": "kernel", "metric": 256, "flags": [], "pref": "medium"},
    {"dst": "fd01::/64", "gateway": "fe80::1", "dev": "eth0", "flags": []},  # IPv6: not taken by the bulk regex
    {"dst": "10.12.0.0/16", "dev": "eth0", "protocol": 12, "flags": []},
    {"dst": "10.14.0.0/16", "dev": "eth0", "protocol": None, "table": 254, "flags": None},
    {"dst": "10.18.0.0/16", "type": None, "dev": "eth0"},  # null: absent (unicast)
    {"dst": "10.23.0.0/16", "gateway": "10.0.0.1", "prefsrc": "10.0.0.2", "tos": 0,
     "metrics": [{"rtt": 10, "congctl": "cubic", "features": ["ecn"], "mtu": {"value": 1400, "lock": True}}]},
    {"type": "local", "dst": "10.19.0.1", "dev": "lo", "table": "local", "protocol": "kernel", "scope": "host",
     "prefsrc": "10.19.0.1", "flags": ["onlink", "linkdown", "dead"]},  # bulk
    {"dst": "10.20.0.0/16", "dev": "eth0", "protocol": None, "flags": None},  # bulk
    {"dst": "10.21.0.0/16", "dev": "eth0", "metric": 4294967295, "flags": ["onlink", "onlink"]},  # bulk
    {"dst": "10.22.0.0/16", "dev": "eth0", "protocol": "6to4"},  # bulk
]
BULK_IN_UNUSUAL_JSON = 4
UNUSUAL_TEXT = [
    "10.1.0.0/16 via 10.39.0.5 dev eth0 proto static metric 10 mtu lock 1400 ",
    "192.168.80.0/26 proto bird \n\tnexthop via 10.39.0.111 dev eth0 weight 1 \n\tnexthop via 10.39.0.112 dev eth0 weight 1 ",
    "10.7.0.0/16 via inet 10.39.0.1 dev eth0",
    "10.8.0.0/16 via 10.39.0.9 dev eth0 cache expires 300sec",
    "fd00::/64 dev eth0 proto kernel metric 256 pref medium",
    "fd01::/64 via fe80::1 dev eth0",
    "10.9.0.0/16 dev eth0   proto   static",
    "10.10.0.0/16\tdev eth0",
    " 10.11.0.0/16 dev eth0",
    "10.12.0.0/16 dev eth0 metric 4294967295",
    "10.13.0.0/16 dev eth0 proto 6to4",
    "10.14.0.0/16 proto static dev eth0",
    "10.15.0.0/16 dev eth0 onlink proto static",
    "10.17.0.0/16 dev eth0 rtt 1.5s rttvar 300ms",
    "10.18.0.0/16 dev eth0" + " onlink" * 20,  # (more flags than the bulk regex takes: one kept)
    "",
    "...",
]


def mixed_json(plain, unusual, every):
    table = json.loads(plain)
    for n, obj in enumerate(unusual):
        table.insert(n * every, obj)
    return json.dumps(table)


def mixed_text(plain, unusual, every):
    lines = plain.splitlines()
    for n, line in enumerate(unusual):
        lines.insert(n * every, line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("every", [1, 2, 7])
def test_mixed_json_tables_keep_order(every, per_route):
    output = mixed_json(single_table(150, "json"), UNUSUAL_JSON, every)
    routes = assert_same(output)[1]
    assert len(routes) == 150 + len(UNUSUAL_JSON)
    assert [route["dst"] for route in routes[:(len(UNUSUAL_JSON) - 1) * every + 1:every]] == [
        ijson.route_from_json(obj, 0)["dst"] for obj in UNUSUAL_JSON]
    del per_route[:]
    iproute.parse_routes(output)
    assert len(per_route) == len(UNUSUAL_JSON) - BULK_IN_UNUSUAL_JSON


@pytest.mark.parametrize("every", [1, 2, 7])
def test_mixed_text_tables_keep_order(every, per_route):
    output = mixed_text(single_table(150, "text"), UNUSUAL_TEXT, every)
    routes = assert_same(output)[1]
    assert len(routes) == 150 + len(UNUSUAL_TEXT) - 2  # the blank line and the ellipsis are no routes
    assert [destination((0, route.split())) for route in UNUSUAL_TEXT[:-2]] == [
        route["dst"].replace("/32", "") for route in routes[:(len(UNUSUAL_TEXT) - 3) * every + 1:every]]
    del per_route[:]
    iproute.parse_routes(output)
    assert len(per_route) == len(UNUSUAL_TEXT) - 2


def test_a_line_the_regex_takes_but_with_next_hops_goes_route_by_route(per_route):
    output = "default via 10.39.0.1 dev eth0\n192.168.80.0/26 proto bird \n\n\tnexthop via 10.39.0.111 dev eth0 weight 1\n"
    assert itext._TEXT_ROUTE("192.168.80.0/26 proto bird ")
    routes = assert_same(output)[1]
    assert routes[1]["nexthops"] == [{"gateway": "10.39.0.111", "dev": "eth0", "weight": 1, "flags": []}]
    del per_route[:]
    iproute.parse_routes(output)
    assert [args[0] for args in per_route] == [2]


def test_only_unusual_routes():
    assert_same(json.dumps(UNUSUAL_JSON))
    assert_same("\n".join(UNUSUAL_TEXT) + "\n")
    assert_same("")
    assert_same("[]")


# --------------------------------------------------------------------------------------------- errors
BAD_JSON = [
    ({"dst": "10.0.0.0/33", "dev": "eth0"}, "'dst' is '10.0.0.0/33', not an IPv4 or IPv6 prefix"),
    ({"dst": "10.17.0.0/08", "dev": "eth0"},
     "'dst' is '10.17.0.0/08', not an IPv4 or IPv6 prefix: its length has a leading zero"),
    ({"dst": "pod-net", "dev": "eth0"}, "'dst' is 'pod-net', not an IPv4 or IPv6 prefix"),
    ({"dst": 7, "dev": "eth0"}, "JSON route %d: 'dst' is 7, not a string"),
    ({"dst": "10.0.0.0/8", "gateway": "10.0.0.300"}, "'gateway' is '10.0.0.300', not an IPv4 or IPv6 address"),
    ({"dst": "10.0.0.0/8", "gateway": "10.0.0.1\n10.0.0.2"}, "'gateway' is '10.0.0.1\\n10.0.0.2', not an IPv4"),
    ({"dst": "10.0.0.0/8\n10.0.0.0/8"}, "JSON route %d: 'dst' is '10.0.0.0/8\\n10.0.0.0/8', not an IPv4"),
    ({"dst": "10.0.0.0/8", "prefsrc": "10.0.0.256"}, "'prefsrc' is '10.0.0.256', not an IPv4 or IPv6 address"),
    ({"dst": "10.0.0.0/8", "prefsrc": "fd00::1"}, "'prefsrc' is 'fd00::1', not an IPv4 address (the destination is"),
    ({"dst": "10.0.0.0/8", "metric": "high"}, "(10.0.0.0/8): 'metric' is 'high', not a whole number"),
    ({"dst": "10.0.0.0/8", "metric": "7"}, "'metric' is '7', not a whole number"),
    ({"dst": "10.0.0.0/8", "metric": True}, "'metric' is True, not a whole number"),
    ({"dst": "10.0.0.0/8", "metric": 2 ** 32}, "'metric' is 4294967296, not a whole number from 0 to 4294967295"),
    ({"dst": "10.0.0.0/8", "metric": -1}, "'metric' is -1, not a whole number"),
    ({"dst": "10.0.0.0/8", "colour": "blue"}, "(10.0.0.0/8) has unknown field(s) colour"),
    ({"gateway": "10.0.0.1"}, "JSON route %d has no 'dst'"),
    ({"dst": "10.0.0.0/8", "protocol": "\u00b2"}, "'protocol' is '\u00b2', not a protocol name or number"),
    ({"dst": "10.0.0.0/8", "protocol": "bird 2"}, "'protocol' is 'bird 2', not a protocol name or number"),
    ({"dst": "10.0.0.0/8", "type": "x"}, "'type' is 'x', not a route type (anycast, blackhole"),
    ({"dst": "10.0.0.0/8", "flags": "onlink"}, "'flags' is 'onlink', not a list"),
    ({"dst": "10.0.0.0/8", "flags": [2, 1, 2]}, "'flags[0]' is 2, not a string"),
    ({"dst": "10.0.0.0/8", "flags": [["onlink"]]}, "'flags[0]' is ['onlink'], not a string"),
    ({"dst": "10.0.0.0/8", "dev": ["eth0"]}, "'dev' is ['eth0'], not a string"),
]
BAD_TEXT = [
    ("10.0.0.0/33 dev eth0", "destination '10.0.0.0/33' is not an IPv4 or IPv6 prefix"),
    ("10.17.0.0/08 dev eth0", "destination '10.17.0.0/08' is not an IPv4 or IPv6 prefix: its length has a leading"),
    ("pod-net dev eth0", "'pod-net' is not a route destination"),
    ("010.16.0.0/16 dev eth0", "destination '010.16.0.0/16' is not an IPv4 or IPv6 prefix"),
    ("10.0.0.0/8 via 10.0.0.300 dev eth0", "'via' is '10.0.0.300', not an IPv4 or IPv6 address"),
    ("10.0.0.0/8 dev eth0 src 10.0.0.256", "'src' is '10.0.0.256', not an IPv4 or IPv6 address"),
    ("10.0.0.0/8 dev eth0 src fd00::1", "'src' is 'fd00::1', not an IPv4 address (the destination is IPv4)"),
    ("10.0.0.0/8 via 10.0.0.1 metric high", "'metric' is 'high', not a whole number"),
    ("10.0.0.0/8 dev eth0 metric 12345678901", "'metric' is '12345678901', not a whole number from 0 to 4294967295"),
    ("10.0.0.0/8 dev eth0 mtu 15x00", "'mtu' is '15x00', not a whole number"),
    ("10.0.0.0/8 dev eth0 rtt 10", "'rtt' is '10', not a time such as 300ms or 1.5s"),
    ("10.0.0.0/8 via 10.0.0.1 dev eth0 frobnicate 3", "unknown word 'frobnicate' in route 10.0.0.0/8"),
    ("10.0.0.0/8 dev eth0 proto \u00b2", "'proto' is '\u00b2', not a protocol name or number"),
    ("10.0.0.0/8 dev eth0 " + "onlink " * 10000, "line %d is 70020 characters long"),
]


@pytest.mark.parametrize("bad, message", BAD_JSON)
def test_bad_json_routes_fail_as_route_by_route(bad, message):
    for at in (0, 5, 150):
        table = json.loads(single_table(150, "json"))
        table.insert(at, bad)
        got = assert_same(json.dumps(table))
        assert got[0] == "error" and "routes: JSON route %d" % at in got[1]
        assert (message % at if "%d" in message else message) in got[1]


@pytest.mark.parametrize("bad, message", BAD_TEXT)
def test_bad_text_routes_fail_as_route_by_route(bad, message):
    for at in (0, 5, 150):
        lines = single_table(150, "text").splitlines()
        lines.insert(at, bad)
        got = assert_same("\n".join(lines) + "\n")
        assert got[0] == "error" and got[1].startswith("routes: line %d" % (at + 1))
        assert (message % (at + 1) if "%d" in message else message) in got[1]


def test_the_first_bad_route_is_the_one_named():
    # whatever is wrong with each (the bulk path's address check, a type, a word): in table order
    bad_json = [(10, {"dst": "10.0.0.0/33"}), (21, {"dst": "10.0.0.0/8", "metric": "high"}),
                (30, {"dst": "10.0.0.0/8", "gateway": "10.0.0.300"}), (42, {"dst": "10.0.0.0/8", "colour": "blue"})]
    messages = ["route 10 (10.0.0.0/33): 'dst'", "route 21 (10.0.0.0/8): 'metric'", "route 30 (10.0.0.0/8): 'gateway'",
                "route 42 (10.0.0.0/8) has unknown field(s) colour"]
    for first in range(len(bad_json)):
        table = json.loads(single_table(60, "json"))
        for at, bad in bad_json[first:]:
            table.insert(at, bad)
        got = assert_same(json.dumps(table))
        assert messages[first] in got[1]
    bad_text = [(10, "10.0.0.0/33 dev eth0"), (30, "10.0.0.0/8 via 10.0.0.1 metric high"),
                (35, "10.0.0.0/8 via 10.0.0.300"), (50, "10.0.0.0/8 dev eth0 frobnicate 3")]
    messages = ["line 11: destination '10.0.0.0/33'", "line 31: 'metric' is 'high'", "line 36: 'via'",
                "line 51: unknown word 'frobnicate'"]
    for first in range(len(bad_text)):
        lines = single_table(60, "text").splitlines()
        for at, bad in bad_text[first:]:
            lines.insert(at, bad)
        got = assert_same("\n".join(lines) + "\n")
        assert messages[first] in got[1]
    lines = single_table(60, "text").splitlines()
    lines[40:40] = ["\tnexthop via 10.0.0.1 dev eth0"]
    lines[0:0] = ["", "\tnexthop via 10.0.0.1 dev eth0"]
    got = assert_same("\n".join(lines) + "\n")
    assert "line 2: 'nexthop' continuation with no route before it" in got[1]


def test_the_bulk_address_check_leaves_anything_unusual_to_the_loop():
    taken = (["10.0.0.0/8", "0.0.0.0/0", "255.255.255.255/32", "10.0.0.1/32"], [None, "10.0.0.1", None, "1.2.3.4"])
    assert ijson._all_ipv4(*taken)
    assert not ijson._not_ipv4(*taken)
    for dst, gateway in zip(*taken):  # (what the bulk check takes, the per-route checks take)
        check_destination("dst", dst)
        if gateway is not None:
            address("gateway", gateway)
    assert ijson._all_ipv4([], [])
    for dsts, gateways in [
            (["10.0.0.0/8\n10.0.0.0/8"], [None]), (["10.0.0.0/8"], ["10.0.0.1\n10.0.0.2"]), (["10.0.0.0/8\n"], [None]),
            ([""], [None]), (["10.0.0.0/8"], [""]), (["10.0.0.0/33"], [None]), (["10.0.0.0/08"], [None]),
            (["010.0.0.0/8"], [None]), (["10.0.0.256/32"], [None]), (["\u0661\u0660.0.0.0/8"], [None]),
            (["fd00::/64"], [None]), (["10.0.0.0"], [None]), (["10.0.0.0/8"], [5]), (["10.0.0.0/8"], [["10.0.0.1"]]),
            (["10.0.0.0/8"] * 3 + ["fd00::/64"], [None, "10.0.0.1", "fe80::1", None])]:
        assert not ijson._all_ipv4(dsts, gateways), (dsts, gateways)
        assert ijson._not_ipv4(dsts, gateways)


# ------------------------------------------------------------------------------------------------- property
# Tables of ordinary routes with a few changed at random: a value replaced by a plausible or hostile one, a key
# added. Whatever the mix, the bulk path and the per-route path give the same routes or the same error.
VALUES = st.sampled_from([None, "", "default", "10.1.0.0/16", "10.1.0.0/016", "10.1.0.0/33", "10.0.0.256",
                          "10.0.0.1", "fd00::/64", "fe80::1", "eth0", "cali1", "bird", "12", "80", "\u00b2", "main",
                          "local", "unicast", "blackhole", "onlink", "x y", 0, 7, -1, 2 ** 32, 1e999, True,
                          [], ["onlink"], ["onlink", "dead", "onlink"], [5], {}, {"host": "10.0.0.1"}])
FIELDS = st.sampled_from(["dst", "type", "gateway", "dev", "protocol", "scope", "prefsrc", "metric", "table",
                          "flags", "via", "cache", "pref", "colour"])
CHANGES = st.lists(st.tuples(st.integers(0, 39), FIELDS, VALUES), max_size=4)
WORDS = st.sampled_from(["via", "10.0.0.1", "10.0.0.256", "dev", "eth0", "proto", "bird", "\u00b2", "metric", "7",
                         "99999999999", "src", "10.39.0.1", "onlink", "mtu", "lock", "1400", "15x00", "table",
                         "main", "scope", "link", "fd00::1", "nexthop", "weight", "1e999"])
LINE_CHANGES = st.lists(st.tuples(st.integers(0, 39), st.lists(WORDS, max_size=4)), max_size=4)


@settings(derandomize=True, max_examples=150, deadline=2000)
@given(CHANGES)
def test_any_mix_of_json_routes_parses_alike_in_bulk(changes):
    table = json.loads(single_table(40, "json"))
    for at, key, value in changes:
        table[at % len(table)][key] = value
    assert_same(json.dumps(table))


@settings(derandomize=True, max_examples=150, deadline=2000)
@given(LINE_CHANGES)
def test_any_mix_of_text_routes_parses_alike_in_bulk(changes):
    lines = single_table(40, "text").splitlines()
    for at, words in changes:
        lines[at % len(lines)] += " " + " ".join(words)
    assert_same("\n".join(lines) + "\n")
