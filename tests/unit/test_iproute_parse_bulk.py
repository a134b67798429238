"""parse_routes takes ordinary routes in bulk (column-wise) and the others route by route: both must give what the
per-route parsers alone give, route for route and error for error, whatever the mix.

The reference below is the per-route path applied to every route of the table (``_route_from_json`` on each JSON
object, ``_parse_text_route`` on each text route, then ``_check_addresses``): what parse_routes did before it had a
bulk path. Each comparison also checks that the bulk path really took the ordinary routes (else it proves nothing).
"""

# The private parsers on purpose; pytest fixtures as arguments.
# pylint: disable=protected-access,redefined-outer-name

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "benchmarks"))
from cluster import STATES, Cluster, single_table  # noqa: E402  pylint: disable=wrong-import-position
from iproute_fixtures import FIXTURES  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.k8snet.calico.plugins.module_utils import _iproute_parse as iproute  # noqa: E402

KEYS = ["dst", "type", "gateway", "dev", "protocol", "scope", "prefsrc", "metric", "table", "flags", "metrics",
        "nexthops"]
ROUTE_CAPTURES = sorted(path.name for path in FIXTURES.glob("*.routes.*"))


def reference(output):
    """The per-route path over the whole table."""
    if iproute.detect_format(output) == "json":
        routes = [iproute._route_from_json(obj, i) for i, obj in enumerate(iproute._load_json(output, "routes"))]
    else:
        lines = output.splitlines()
        routes = [iproute._parse_text_route(i + 1, words) for i, words in iproute._route_lines(lines, [None] * len(lines))]
    iproute._check_addresses(routes)
    return routes


def outcome(parse, output):
    try:
        return "ok", parse(output)
    except ValueError as exc:  # IprouteParseError, and what normalise_protocol lets int() raise
        return "error", type(exc).__name__, str(exc)


@pytest.fixture
def per_route(monkeypatch):
    """Counts the routes parse_routes hands to the per-route parsers."""
    calls = []
    for name in ("_route_from_json", "_parse_text_route"):
        original = getattr(iproute, name)

        def counted(*args, _original=original):
            calls.append(args)
            return _original(*args)
        monkeypatch.setattr(iproute, name, counted)
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
    assert iproute._addresses_ok(dsts, gateways)  # and so did the address check


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
    assert all(map(iproute._TEXT_ROUTE, text.replace("  ", " ").splitlines()))
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
    {"dst": "fd01::/64", "gateway": "fe80::1", "dev": "eth0", "flags": []},  # bulk: plain; IPv6, checked in the loop
    {"dst": "10.10.0.0/16", "dev": "eth0", "metric": "7", "flags": []},
    {"dst": "10.11.0.0/16", "dev": "eth0", "metric": True, "flags": []},
    {"dst": "10.12.0.0/16", "dev": "eth0", "protocol": 12, "flags": []},
    {"dst": "10.13.0.0/16", "dev": "eth0", "protocol": "bird 2", "flags": []},
    {"dst": "10.14.0.0/16", "dev": "eth0", "protocol": None, "table": 254, "flags": None},
    {"dst": "10.15.0.0/16", "dev": "eth0", "flags": "onlink"},
    {"dst": "10.16.0.0/16", "dev": "eth0", "flags": [2, 1, 2]},
    {"dst": "10.17.0.0/16", "dev": "eth0", "flags": [["onlink"]]},  # bulk: one flag is copied, whatever it is
    {"dst": "10.18.0.0/16", "type": None, "dev": "eth0"},  # bulk: 'type' is taken as it is
    {"type": "local", "dst": "10.19.0.1", "dev": "lo", "table": "local", "protocol": "kernel", "scope": "host",
     "prefsrc": "10.19.0.1", "flags": ["onlink", "linkdown", "dead"]},  # bulk
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
    "10.12.0.0/16 dev eth0 metric 12345678901",
    "10.13.0.0/16 dev eth0 proto 6to4",
    "10.14.0.0/16 proto static dev eth0",
    "10.15.0.0/16 dev eth0 onlink proto static",
    "10.17.0.0/08 dev eth0",
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
        iproute._route_from_json(obj, 0)["dst"] for obj in UNUSUAL_JSON]
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
    assert iproute._TEXT_ROUTE("192.168.80.0/26 proto bird ")
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
    ({"dst": "10.0.0.0/33", "dev": "eth0"}, "destination '10.0.0.0/33' is not an IPv4 or IPv6 prefix"),
    ({"dst": "pod-net", "dev": "eth0"}, "destination 'pod-net/32' is not an IPv4 or IPv6 prefix"),
    ({"dst": 7, "dev": "eth0"}, "destination '7/32' is not an IPv4 or IPv6 prefix"),
    ({"dst": "10.0.0.0/8", "gateway": "10.0.0.300"}, "gateway '10.0.0.300' of route 10.0.0.0/8 is not an IP address"),
    ({"dst": "10.0.0.0/8", "gateway": "10.0.0.1\n10.0.0.2"}, "gateway '10.0.0.1\\n10.0.0.2' of route 10.0.0.0/8"),
    ({"dst": "10.0.0.0/8\n10.0.0.0/8"}, "destination '10.0.0.0/8\\n10.0.0.0/8' is not"),
    ({"dst": "10.0.0.0/8", "metric": "high"}, "field 'metric' is 'high', not a number"),
    ({"dst": "10.0.0.0/8", "colour": "blue"}, "has unknown field(s) colour"),
    ({"gateway": "10.0.0.1"}, "has no 'dst'"),
    ({"dst": "10.0.0.0/8", "protocol": "\u00b2"}, "invalid literal for int()"),
]
BAD_TEXT = [
    ("10.0.0.0/33 dev eth0", "destination '10.0.0.0/33' is not an IPv4 or IPv6 prefix"),
    ("pod-net dev eth0", "'pod-net' is not a route destination"),
    ("010.16.0.0/16 dev eth0", "destination '010.16.0.0/16' is not an IPv4 or IPv6 prefix"),
    ("10.0.0.0/8 via 10.0.0.300 dev eth0", "gateway '10.0.0.300' of route 10.0.0.0/8 is not an IP address"),
    ("10.0.0.0/8 via 10.0.0.1 metric high", "'metric' is 'high', not a number"),
    ("10.0.0.0/8 via 10.0.0.1 dev eth0 frobnicate 3", "unknown word 'frobnicate' in route 10.0.0.0/8"),
    ("10.0.0.0/8 dev eth0 proto \u00b2", "invalid literal for int()"),
]


@pytest.mark.parametrize("bad, message", BAD_JSON)
def test_bad_json_routes_fail_as_route_by_route(bad, message):
    for at in (0, 5, 150):
        table = json.loads(single_table(150, "json"))
        table.insert(at, bad)
        got = assert_same(json.dumps(table))
        assert got[0] == "error" and message in got[2]


@pytest.mark.parametrize("bad, message", BAD_TEXT)
def test_bad_text_routes_fail_as_route_by_route(bad, message):
    for at in (0, 5, 150):
        lines = single_table(150, "text").splitlines()
        lines.insert(at, bad)
        got = assert_same("\n".join(lines) + "\n")
        assert got[0] == "error" and message in got[2]


def test_the_first_bad_route_is_the_one_named():
    # a parse error anywhere comes before any address error (as route by route: parse all, then check)
    table = json.loads(single_table(60, "json"))
    table.insert(40, {"dst": "10.0.0.0/8", "colour": "blue"})
    table.insert(20, {"dst": "10.0.0.0/8", "metric": "high"})
    table.insert(10, {"dst": "10.0.0.0/33"})
    got = assert_same(json.dumps(table))
    assert "route 21 field 'metric' is 'high'" in got[2]  # (moved from 20 by the insert at 10)
    lines = single_table(60, "text").splitlines()
    lines[50:50] = ["10.0.0.0/8 dev eth0 frobnicate 3"]
    lines[30:30] = ["10.0.0.0/8 via 10.0.0.1 metric high"]
    lines[10:10] = ["10.0.0.0/33 dev eth0"]
    got = assert_same("\n".join(lines) + "\n")
    assert "route 32 field 'metric' is 'high'" in got[2]
    lines = single_table(60, "text").splitlines()
    lines[40:40] = ["\tnexthop via 10.0.0.1 dev eth0"]
    lines[0:0] = ["", "\tnexthop via 10.0.0.1 dev eth0"]
    got = assert_same("\n".join(lines) + "\n")
    assert "line 2: 'nexthop' continuation with no route before it" in got[2]


def test_the_bulk_address_check_leaves_anything_unusual_to_the_loop():
    def routes(dsts, gateways):
        return [dict(iproute._empty_route(), dst=dst, gateway=gateway) for dst, gateway in zip(dsts, gateways)]

    taken = (["10.0.0.0/8", "0.0.0.0/0", "255.255.255.255/32", "10.0.0.1/32"], [None, "10.0.0.1", None, "1.2.3.4"])
    assert iproute._addresses_ok(*taken)
    iproute._check_each_address(routes(*taken))  # (what the bulk check takes, the loop takes)
    assert iproute._addresses_ok([], [])
    for dsts, gateways in [
            (["10.0.0.0/8\n10.0.0.0/8"], [None]), (["10.0.0.0/8"], ["10.0.0.1\n10.0.0.2"]), (["10.0.0.0/8\n"], [None]),
            ([""], [None]), (["10.0.0.0/8"], [""]), (["10.0.0.0/33"], [None]), (["10.0.0.0/08"], [None]),
            (["010.0.0.0/8"], [None]), (["10.0.0.256/32"], [None]), (["\u0661\u0660.0.0.0/8"], [None]),
            (["fd00::/64"], [None]), ([7], [None]), (["10.0.0.0/8"], [7]), (["10.0.0.0"], [None]),
            (["10.0.0.0/8"] * 3 + ["fd00::/64"], [None, "10.0.0.1", "fe80::1", None])]:
        assert not iproute._addresses_ok(dsts, gateways), (dsts, gateways)
