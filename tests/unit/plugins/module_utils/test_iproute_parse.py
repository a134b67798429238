"""iproute2 parsers: fed real captures, text and JSON of the same table must agree."""

from __future__ import annotations

import json

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import (
    IprouteParseError,
    detect_format,
    normalise_protocol,
    parse_links,
    parse_routes,
)
from ansible_collections.k8snet.calico.tests.unit.iproute_fixtures import PAIRED_TABLES, capture


@pytest.mark.parametrize("table", PAIRED_TABLES)
def test_text_and_json_routes_are_identical(table):
    from_text, text_format = parse_routes(capture(table + ".routes.txt"))
    from_json, json_format = parse_routes(capture(table + ".routes.json"))
    assert (text_format, json_format) == ("text", "json")
    assert from_text == from_json
    assert len(from_text) >= 4


@pytest.mark.parametrize("table", PAIRED_TABLES)
def test_text_and_json_links_are_identical(table):
    from_text = parse_links(capture(table + ".addr.txt"))[0]
    from_json = parse_links(capture(table + ".addr.json"))[0]
    assert from_text == from_json
    assert {"lo", "eth0", "tunl0"} <= {link["name"] for link in from_text}


def test_seed_report_before_is_parsed_like_modern_iproute():
    routes, fmt = parse_routes(capture("seed-report-before.routes.txt"))
    assert fmt == "text"
    assert routes == [
        {"dst": "0.0.0.0/0", "type": "unicast", "gateway": "10.39.0.1", "dev": "eth0", "protocol": "static",
         "scope": None, "prefsrc": None, "metric": 100, "table": None, "flags": [], "metrics": {}, "nexthops": []},
        {"dst": "192.168.169.192/26", "type": "unicast", "gateway": "10.39.0.1", "dev": "eth0",
         "protocol": "bird", "scope": None, "prefsrc": None, "metric": None, "table": None, "flags": [],
         "metrics": {}, "nexthops": []},
    ]
    modern = parse_routes(capture("seed-before.routes.json"))[0]
    assert routes[1] in modern


def test_seed_report_after_tunnel_route():
    routes = parse_routes(capture("seed-report-after.routes.txt"))[0]
    tunnel = routes[1]
    assert (tunnel["dst"], tunnel["gateway"], tunnel["dev"], tunnel["protocol"], tunnel["flags"]) == (
        "192.168.169.192/26", "10.39.3.75", "tunl0", "bird", ["onlink"])


def test_seed_report_tunl0_device():
    links, fmt = parse_links(capture("seed-report-tunl0.addr.txt"))
    assert fmt == "text"
    assert links == [{"name": "tunl0", "index": 91, "link": "NONE", "flags": ["NOARP", "UP", "LOWER_UP"],
                      "mtu": 1440, "operstate": "UNKNOWN", "link_type": "ipip", "kind": "ipip", "vxlan": None,
                      "addresses": ["192.168.70.57/32"]}]


def test_felix_protocol_80_is_kept_as_number():
    routes = parse_routes(capture("felix-proto80.routes.txt"))[0]
    assert {r["protocol"] for r in routes if r["dst"].startswith("192.168.")} == {"80", None}
    assert normalise_protocol("12") == normalise_protocol(12) == "bird"
    assert normalise_protocol("80") == "80"


def test_multipath_next_hops():
    routes = parse_routes(capture("ecmp.routes.txt"))[0]
    ecmp = next(r for r in routes if r["dst"] == "192.168.80.0/26")
    assert ecmp["gateway"] is None and ecmp["dev"] is None
    assert [(h["gateway"], h["dev"], h["weight"]) for h in ecmp["nexthops"]] == [
        ("10.39.0.111", "eth0", 1), ("10.39.0.112", "eth0", 1)]
    locked = next(r for r in routes if r["dst"] == "10.1.0.0/16")
    assert locked["metrics"] == {"mtu": 1400} and locked["metric"] == 10


def test_linkdown_flag():
    routes = parse_routes(capture("linkdown.routes.json"))[0]
    assert next(r for r in routes if r["dst"] == "192.168.80.0/26")["flags"] == ["linkdown"]


def test_host_route_gets_prefix_and_default_is_a_cidr():
    routes = parse_routes("default via 10.0.0.1 dev eth0\n10.244.1.5 dev cali1234abcd scope link\n")[0]
    assert [r["dst"] for r in routes] == ["0.0.0.0/0", "10.244.1.5/32"]


def test_empty_capture_is_an_empty_table():
    assert parse_routes("") == ([], "text")


@pytest.mark.parametrize("output, message", [
    ("this is not ip route output\n", "'this' is not a route destination"),
    ("192.168.1.0/24 via 10.0.0.1 dev eth0 frobnicate 3\n", "unknown word 'frobnicate'"),
    ("192.168.1.0/24 via\n", "'via' is missing its value"),
    ("\tnexthop via 10.0.0.1 dev eth0\n", "continuation with no route"),
    ("[{\"dst\": \"10.0.0.0/8\", \"colour\": \"blue\"}]", "unknown field(s) colour"),
    ("[{\"gateway\": \"10.0.0.1\"}]", "has no 'dst'"),
    ("[1, 2]", "JSON item 0 is int"),
    ("{\"dst\": \"x\"}", "must be a list"),
    ("[{\"dst\": \"10.0.0.0/8\",", "does not parse"),
    ("10.0.0.0/8 via 10.0.0.1 metric high\n", "'metric' is 'high'"),
])
def test_bad_route_captures_name_the_problem(output, message):
    with pytest.raises(IprouteParseError) as err:
        parse_routes(output)
    assert message in str(err.value)


def test_bad_link_capture_is_rejected():
    with pytest.raises(IprouteParseError, match="not part of an interface block"):
        parse_links("hello world\n")
    with pytest.raises(IprouteParseError, match="no 'ifname'"):
        parse_links(json.dumps([{"mtu": 1500}]))


def test_detect_format():
    assert detect_format("  [\n]") == "json"
    assert detect_format("default via 1.2.3.4 dev eth0") == "text"
