"""Route kinds on real captures: the incident, its fix, CrossSubnet, Felix, ECMP, linkdown."""

from __future__ import annotations

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import (
    parse_links,
    parse_routes,
)
from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import (
    PoolError,
    classify_routes,
    node_view,
    parse_pools,
    summarise,
)
from ansible_collections.k8snet.calico.tests.unit.iproute_fixtures import PAIRED_TABLES, capture

POOL = parse_pools(["192.168.0.0/16"])


def judge(routes_file, links_file=None, pools=None):
    routes = parse_routes(capture(routes_file))[0]
    links = parse_links(capture(links_file))[0] if links_file else None
    view = node_view(routes, links, "tunl0")
    pools = POOL if pools is None else pools
    return dict((r["dst"], r) for r in classify_routes(routes, view, pools, "tunl0")), view


def kinds(table, **kw):
    by_dst = judge(table, **kw)[0]
    return dict((dst, r["kind"]) for dst, r in by_dst.items())


def test_seed_before_is_via_gateway():
    by_dst, view = judge("seed-before.routes.txt", "seed-before.addr.txt")
    assert by_dst["192.168.169.192/26"]["kind"] == "via_gateway"
    assert by_dst["192.168.70.0/26"]["kind"] == "own_block"
    assert by_dst["192.168.70.42/32"]["kind"] == "workload"
    assert by_dst["0.0.0.0/0"]["kind"] is None and by_dst["10.39.0.0/24"]["kind"] is None
    assert view["default_gateway"] == "10.39.0.1" and view["uplink"] == "eth0" and view["uplink_mtu"] == 1500
    assert view["addresses"] == [{"dev": "eth0", "address": "10.39.0.110", "prefixlen": 24,
                                  "cidr": "10.39.0.110/24", "network": "10.39.0.0/24"}]


def test_seed_report_verbatim():
    assert kinds("seed-report-before.routes.txt")["192.168.169.192/26"] == "via_gateway"
    after = judge("seed-report-after.routes.txt")[0]
    route = after["192.168.169.192/26"]
    assert (route["kind"], route["gateway"], route["dev"], route["flags"]) == (
        "tunnel", "10.39.3.75", "tunl0", ["onlink"])


@pytest.mark.parametrize("table", PAIRED_TABLES)
def test_text_and_json_judged_identically(table):
    text = judge(table + ".routes.txt", table + ".addr.txt")
    as_json = judge(table + ".routes.json", table + ".addr.json")
    assert text == as_json


def test_seed_after_is_tunnel():
    assert kinds("seed-after.routes.json")["192.168.169.192/26"] == "tunnel"


def test_crosssubnet_keeps_same_subnet_peer_direct():
    k = kinds("crosssubnet.routes.txt")
    assert k["192.168.80.0/26"] == "direct" and k["192.168.169.192/26"] == "tunnel"


def test_always_tunnels_every_peer():
    k = kinds("always.routes.txt")
    assert k["192.168.80.0/26"] == k["192.168.169.192/26"] == "tunnel"


def test_felix_proto_80_counts_like_bird():
    k = kinds("felix-proto80.routes.txt")
    assert k["192.168.169.192/26"] == "tunnel" and k["192.168.70.0/26"] == "own_block"
    # and without pools, protocol 80 routes are recognised as Calico's own
    assert kinds("felix-proto80.routes.txt", pools=[])["192.168.169.192/26"] == "tunnel"


def test_ecmp_consistent_and_mixed():
    by_dst = judge("ecmp.routes.txt")[0]
    assert by_dst["192.168.80.0/26"]["kind"] == "direct"
    mixed = by_dst["192.168.169.192/26"]
    assert mixed["kind"] == "mixed"
    assert [h["kind"] for h in mixed["nexthops"]] == ["via_gateway", "direct"]
    assert by_dst["192.168.100.0/26"]["kind"] == "unreachable"
    assert by_dst["10.1.0.0/16"]["kind"] is None


def test_linkdown_route_is_direct_with_flag():
    by_dst, view = judge("linkdown.routes.txt", "linkdown.addr.txt")
    route = by_dst["192.168.80.0/26"]
    assert route["kind"] == "direct" and "linkdown" in route["flags"]
    assert "10.40.0.0/24" in view["connected_networks"]


def test_routes_outside_pools_are_not_judged():
    k = kinds("crosssubnet.routes.txt", pools=parse_pools(["192.168.169.0/24"]))
    assert k["192.168.169.192/26"] == "tunnel" and k["192.168.80.0/26"] is None


def test_tunnel_state_from_the_seed_report():
    links = parse_links(capture("seed-report-tunl0.addr.txt"))[0]
    view = node_view([], links, "tunl0")
    assert view["tunnel"] == {"name": "tunl0", "exists": True, "kind": "ipip", "up": True, "operstate": "UNKNOWN",
                              "mtu": 1440, "flags": ["NOARP", "UP", "LOWER_UP"],
                              "addresses": ["192.168.70.57/32"]}


def test_tunnel_state_unknown_without_links_and_absent_when_missing():
    assert node_view([], None, "tunl0")["tunnel"]["exists"] is None
    links = parse_links(capture("seed-before.addr.json"))[0]
    links = [link for link in links if link["name"] != "tunl0"]
    assert node_view([], links, "tunl0")["tunnel"]["exists"] is False


def test_summary_counts_every_kind():
    routes = parse_routes(capture("seed-before.routes.txt"))[0]
    view = node_view(routes, None, "tunl0")
    counts = summarise(classify_routes(routes, view, POOL, "tunl0"))
    assert counts["via_gateway"] == 1 and counts["own_block"] == 1 and counts["workload"] == 1
    assert counts["tunnel"] == 0


@pytest.mark.parametrize("pool, message", [
    ("192.168.0.1/16", "has host bits set"),
    ("banana", "does not appear to be an IPv4 or IPv6 network"),
    ("fd00::/64", "is IPv6"),
])
def test_bad_pools(pool, message):
    with pytest.raises(PoolError) as err:
        parse_pools([pool])
    assert message in str(err.value) and repr(pool) in str(err.value)
