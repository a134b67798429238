"""ipip_verdict: the controller-side judgement, fed node tables parsed exactly as node_routes_info does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from iproute_fixtures import capture  # noqa: E402

from ansible_collections.k8snet.calico.plugins.filter.ipip_verdict import ipip_verdict  # noqa: E402
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import (  # noqa: E402
    parse_links,
    parse_routes,
)
from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import (  # noqa: E402
    describe_node,
    parse_pools,
)

POOLS = parse_pools(["192.168.0.0/16"])
NODES = [
    {"name": "node1", "ipv4_address": "10.39.0.110/24", "ipip_tunnel_address": None},
    {"name": "node2", "ipv4_address": "10.39.3.75/24", "ipip_tunnel_address": None},
]
AFFINITIES = [{"node": "node1", "cidr": "192.168.70.0/26"}, {"node": "node2", "cidr": "192.168.169.192/26"}]

NODE2_BEFORE = """default via 10.39.3.1 dev eth0 proto static metric 100
10.39.3.0/24 dev eth0 proto kernel scope link src 10.39.3.75
192.168.70.0/26 via 10.39.3.1 dev eth0 proto bird
blackhole 192.168.169.192/26 proto bird
"""
NODE2_AFTER = """default via 10.39.3.1 dev eth0 proto static metric 100
10.39.3.0/24 dev eth0 proto kernel scope link src 10.39.3.75
192.168.70.0/26 via 10.39.0.110 dev tunl0 proto bird onlink
blackhole 192.168.169.192/26 proto bird
"""
NODE2_TUNNEL = """7: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000
    link/ipip 0.0.0.0 brd 0.0.0.0
    inet 192.168.169.193/32 scope global tunl0
       valid_lft forever preferred_lft forever
2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
    link/ether 1a:07:8e:02:e1:6e brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet 10.39.3.75/24 scope global eth0
       valid_lft forever preferred_lft forever
"""


def facts(routes_text, links_text=None):
    links = parse_links(links_text)[0] if links_text else None
    return describe_node(parse_routes(routes_text)[0], links, POOLS, "tunl0")


def by_host(result):
    return dict((n["host"], n) for n in result["nodes"])


def test_seed_before_names_the_broken_route():
    hosts = {"node1": facts(capture("seed-before.routes.txt")), "node2": facts(NODE2_BEFORE)}
    result = ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES,
                          pools=[{"cidr": "192.168.0.0/16", "ipip_mode": "Never"}])
    assert result["ok"] is False and result["hosts_bad"] == 2
    node1 = by_host(result)["node1"]
    assert node1["first_bad"]["block"] == "192.168.169.192/26"
    assert node1["first_bad"]["cause"] == "via_gateway"
    assert "10.39.0.1 is the default gateway" in node1["first_bad"]["detail"]
    assert node1["subnet"] == "10.39.0.0/24" and node1["problems"] == []  # no IPIP expected: no tunnel needed
    assert result["causes"]["via_gateway"] == 2
    # broken, but exactly what Calico programs without IPIP: a rollback to this state has converged
    assert result["converged"] is True
    assert result["layout"]["affinities"] == AFFINITIES
    assert [n["ipv4_address"] for n in result["layout"]["nodes"]] == ["10.39.0.110/24", "10.39.3.75/24"]
    # judged for IPIP instead, the same tables have not converged
    assert ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, mode="Always")["converged"] is False


def test_seed_after_always_is_ok():
    # the report's tunl0 as captured, plus node1's uplink (the report does not show it)
    node1_uplink = NODE2_TUNNEL[NODE2_TUNNEL.index("2: eth0"):].replace("10.39.3.75", "10.39.0.110")
    node1_links = capture("seed-report-tunl0.addr.txt") + node1_uplink
    hosts = {"node1": facts(capture("seed-report-after.routes.txt"), node1_links),
             "node2": facts(NODE2_AFTER, NODE2_TUNNEL)}
    result = ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES,
                          pools=[{"cidr": "192.168.0.0/16", "ipip_mode": "Always"}])
    node1 = by_host(result)["node1"]
    assert node1["problems"] == [] and node1["ok"] is True
    assert node1["tunnel"]["mtu"] == 1440 and node1["tunnel"]["addresses"] == ["192.168.70.57/32"]
    assert node1["blocks"] == [{"block": "192.168.169.192/26", "owner": "node2", "owner_ip": "10.39.3.75",
                                "mode": "Always", "cause": "ok", "detail": "via 10.39.3.75 dev tunl0",
                                "converged": True}]
    assert by_host(result)["node2"]["ok"] is True


def test_tunnel_problems_are_reported():
    tunnel_down_big_mtu = NODE2_TUNNEL.replace("NOARP,UP,LOWER_UP", "NOARP").replace("mtu 1480", "mtu 1500")
    tunnel_down_big_mtu = tunnel_down_big_mtu.replace("192.168.169.193/32", "192.168.70.99/32")
    hosts = {"node2": facts(NODE2_AFTER, tunnel_down_big_mtu)}
    result = ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES,
                          pools=[{"cidr": "192.168.0.0/16", "ipip_mode": "Always"}])
    problems = by_host(result)["node2"]["problems"]
    assert "tunl0 is down" in problems
    assert any("not from the node's own block" in p for p in problems)
    assert any("MTU 1500" in p for p in problems)
    missing = facts(NODE2_AFTER, NODE2_TUNNEL.split("2: eth0", maxsplit=1)[0].replace("7: tunl0", "7: tunlX"))
    result = ipip_verdict({"node2": missing}, nodes=NODES, affinities=AFFINITIES, mode="Always")
    assert by_host(result)["node2"]["problems"] == ["tunl0 does not exist"]


def test_crosssubnet_same_subnet_direct_other_tunnel():
    nodes = NODES + [{"name": "node3", "ipv4_address": "10.39.0.111/24"}]
    affinities = AFFINITIES + [{"node": "node3", "cidr": "192.168.80.0/26"}]
    hosts = {"node1": facts(capture("crosssubnet.routes.txt"))}
    result = ipip_verdict(hosts, nodes=nodes, affinities=affinities, mode="CrossSubnet")
    assert [(b["block"], b["cause"]) for b in by_host(result)["node1"]["blocks"]] == [
        ("192.168.80.0/26", "ok"), ("192.168.169.192/26", "ok")]
    # the same table judged for Always: the same-subnet peer should have gone through the tunnel
    result = ipip_verdict(hosts, nodes=nodes, affinities=affinities, mode="Always")
    causes = dict((b["block"], b["cause"]) for b in by_host(result)["node1"]["blocks"])
    assert causes == {"192.168.80.0/26": "wrong_device", "192.168.169.192/26": "ok"}


def test_a_32_node_address_makes_crosssubnet_tunnel_everything():
    nodes = [dict(NODES[0], ipv4_address="10.39.0.110/32"), NODES[1], {"name": "node3", "ipv4_address": "10.39.0.111/24"}]
    affinities = AFFINITIES + [{"node": "node3", "cidr": "192.168.80.0/26"}]
    result = ipip_verdict({"node1": facts(capture("always.routes.txt"))}, nodes=nodes, affinities=affinities,
                          mode="CrossSubnet")
    assert by_host(result)["node1"]["ok"] is True  # what Calico programs with a /32 is all-tunnel


def test_missing_wrong_next_hop_stale_and_owners_from_blackholes():
    table = """default via 10.39.0.1 dev eth0 proto static metric 100
10.39.0.0/24 dev eth0 proto kernel scope link src 10.39.0.110
blackhole 192.168.70.0/26 proto bird
192.168.169.192/26 via 10.39.3.99 dev tunl0 proto bird onlink
192.168.200.0/26 via 10.39.3.75 dev tunl0 proto bird onlink
"""
    node3 = """default via 10.39.0.1 dev eth0 proto static metric 100
10.39.0.0/24 dev eth0 proto kernel scope link src 10.39.0.111
blackhole 192.168.80.0/26 proto bird
"""
    hosts = {"node1": facts(table), "node3": facts(node3)}
    result = ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, mode="Always")
    causes = dict((b["block"], b["cause"]) for b in by_host(result)["node1"]["blocks"])
    assert causes == {"192.168.80.0/26": "missing", "192.168.169.192/26": "wrong_next_hop",
                      "192.168.200.0/26": "stale"}


def test_not_onlink_and_linkdown():
    table = """default via 10.39.0.1 dev eth0 proto static metric 100
10.39.0.0/24 dev eth0 proto kernel scope link src 10.39.0.110
192.168.169.192/26 via 10.39.3.75 dev tunl0 proto bird
"""
    result = ipip_verdict({"node1": facts(table)}, nodes=NODES, affinities=AFFINITIES, mode="Always")
    assert by_host(result)["node1"]["first_bad"]["cause"] == "not_onlink"
    result = ipip_verdict({"node1": facts(capture("linkdown.routes.txt"))},
                          nodes=NODES + [{"name": "node9", "ipv4_address": "10.40.0.5/24"}],
                          affinities=AFFINITIES + [{"node": "node9", "cidr": "192.168.80.0/26"}], mode="CrossSubnet")
    causes = dict((b["block"], b["cause"]) for b in by_host(result)["node1"]["blocks"])
    assert causes["192.168.80.0/26"] == "linkdown"


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="always"), "mode: 'always' is not one of Always, CrossSubnet, Never"),
    (dict(pools=[{"cidr": "192.168.0.0/16", "ipip_mode": "cross-subnet"}]), "pools[192.168.0.0/16].ipip_mode"),
    (dict(nodes=[{"name": "n", "ipv4_address": "not-an-ip"}]), "nodes[n].ipv4_address: 'not-an-ip'"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(AnsibleFilterError) as err:
        ipip_verdict({"node1": facts(capture("seed-before.routes.txt"))}, **kwargs)
    assert message in str(err.value)


def test_input_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match="must be a dict"):
        ipip_verdict(["node1"])
