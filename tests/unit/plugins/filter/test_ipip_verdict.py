"""ipip_verdict: the controller-side judgement, fed node tables parsed exactly as node_routes_info does."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_verdict import ipip_verdict
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import (
    parse_links,
    parse_routes,
)
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_vxlan import (
    parse_vxlan_fdb,
    parse_vxlan_neighbours,
)
from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import (
    VXLAN_DEVICE,
    describe_node,
    parse_pools,
)
from ansible_collections.k8snet.calico.tests.unit.iproute_fixtures import capture

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
                                "mode": "Always", "vxlan_mode": "Never", "pool": "192.168.0.0/16",
                                "in_scope": True, "cause": "ok", "detail": "via 10.39.3.75 dev tunl0",
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


# -- issue 12: each block judged by its own pool; a scope of pools that decide ------------------------------------
# pools.routes.txt (capture.sh): node1 in 10.39.0.0/24 with node3 (10.39.0.111) in its subnet and node2 in another.
THREE_POOLS = parse_pools(["192.168.0.0/16", "10.244.0.0/16", "172.16.0.0/16"])
NODES3 = NODES + [{"name": "node3", "ipv4_address": "10.39.0.111/24"}]
AFFINITIES3 = [{"node": node, "cidr": "%s.%s/26" % (prefix, suffix)}
               for prefix in ("192.168", "10.244", "172.16")
               for node, suffix in (("node1", "70.0"), ("node3", "80.0"), ("node2", "169.192"))]
# after a run that changed only ipip-pool to Always; flat-pool untouched (no encapsulation), vxlan-pool untouched
POOLS_AFTER = [{"name": "ipip-pool", "cidr": "192.168.0.0/16", "ipip_mode": "Always", "vxlan_mode": "Never"},
               {"name": "flat-pool", "cidr": "10.244.0.0/16", "ipip_mode": "Never", "vxlan_mode": "Never"},
               {"name": "vxlan-pool", "cidr": "172.16.0.0/16", "ipip_mode": "Never", "vxlan_mode": "CrossSubnet"}]


def pools_facts(fmt="txt", links=False):
    routes = parse_routes(capture("pools.routes.%s" % fmt))[0]
    parsed_links = parse_links(capture("pools.addr.%s" % fmt))[0] if links else None
    return describe_node(routes, parsed_links, THREE_POOLS, "tunl0")


def judged(node):
    return dict((b["block"], (b["pool"], b["in_scope"], b["cause"])) for b in node["blocks"])


def test_each_block_is_judged_by_its_own_pool_and_only_the_changed_pool_decides():
    result = ipip_verdict({"node1": pools_facts()}, nodes=NODES3, affinities=AFFINITIES3, pools=POOLS_AFTER,
                          scope=["ipip-pool"])
    node1 = by_host(result)["node1"]
    assert judged(node1) == {
        "192.168.80.0/26": ("ipip-pool", True, "ok"),  # Always: same subnet too through tunl0
        "192.168.169.192/26": ("ipip-pool", True, "ok"),
        "10.244.80.0/26": ("flat-pool", False, "ok"),  # untouched, no encapsulation: same subnet, direct
        "10.244.169.192/26": ("flat-pool", False, "via_gateway"),  # untouched and broken: not this run's doing
        "172.16.80.0/26": ("vxlan-pool", False, "ok"),  # VXLAN CrossSubnet, same subnet: direct
        "172.16.169.192/26": ("vxlan-pool", False, "ok"),  # VXLAN across subnets: vxlan.calico onlink
    }
    assert (node1["ok"], node1["converged"], node1["blocks_ok"], node1["blocks_bad"]) == (True, True, 2, 0)
    assert node1["first_bad"] is None and node1["problems"] == []
    assert node1["blocks_bad_out_of_scope"] == 1 and result["blocks_bad_out_of_scope"] == 1
    assert result["ok"] is True and result["causes"]["ok"] == 2 and result["causes"]["via_gateway"] == 0
    vxlan = next(b for b in node1["blocks"] if b["block"] == "172.16.169.192/26")
    assert (vxlan["mode"], vxlan["vxlan_mode"], vxlan["detail"]) == (
        "Never", "CrossSubnet", "via 172.16.169.192 dev vxlan.calico")


def test_the_old_global_mode_judged_untouched_pools_wrong():
    """What issue 12 reported: one mode for every pool (the filter's mode option) fails the untouched pools."""
    result = ipip_verdict({"node1": pools_facts()}, nodes=NODES3, affinities=AFFINITIES3, pools=POOLS_AFTER,
                          mode="Always")
    causes = dict((block, cause) for block, (_pool, _scope, cause) in judged(by_host(result)["node1"]).items())
    assert causes["10.244.80.0/26"] == "wrong_device" and causes["172.16.169.192/26"] == "wrong_device"
    assert by_host(result)["node1"]["ok"] is False


def test_without_a_scope_every_pool_decides():
    # the diagnosis: the untouched pool's broken block is a failure like any other
    result = ipip_verdict({"node1": pools_facts()}, nodes=NODES3, affinities=AFFINITIES3, pools=POOLS_AFTER)
    node1 = by_host(result)["node1"]
    assert all(b["in_scope"] for b in node1["blocks"])
    assert (node1["ok"], node1["blocks_ok"], node1["blocks_bad"], node1["blocks_bad_out_of_scope"]) == (
        False, 5, 1, 0)
    assert node1["first_bad"]["block"] == "10.244.169.192/26" and node1["first_bad"]["pool"] == "flat-pool"
    # no encapsulation across subnets: the route via the gateway is what Calico programs (converged, not ok)
    assert node1["converged"] is True


def test_text_and_json_captures_give_the_same_verdict():
    args = dict(nodes=NODES3, affinities=AFFINITIES3, pools=POOLS_AFTER, scope=["192.168.0.0/16"])
    text = ipip_verdict({"node1": pools_facts("txt", links=True)}, **args)
    assert text == ipip_verdict({"node1": pools_facts("json", links=True)}, **args)
    # the real vxlan.calico device is not taken for the node's address; tunl0 there is a veth stand-in
    assert text["layout"]["nodes"][0] == {"name": "node1", "ipv4_address": "10.39.0.110/24"}
    assert by_host(text)["node1"]["problems"][0] == "tunl0 is of kind veth, not ipip"


def test_vxlan_next_hop_is_checked_when_the_datastore_gives_the_tunnel_address():
    nodes = [dict(n) for n in NODES3]
    nodes[1]["vxlan_tunnel_address"] = "172.16.169.192"
    result = ipip_verdict({"node1": pools_facts()}, nodes=nodes, affinities=AFFINITIES3, pools=POOLS_AFTER)
    assert judged(by_host(result)["node1"])["172.16.169.192/26"][2] == "ok"
    assert {"name": "node2", "ipv4_address": "10.39.3.75/24", "vxlan_tunnel_address": "172.16.169.192"} in (
        result["layout"]["nodes"])
    nodes[1]["vxlan_tunnel_address"] = "172.16.169.193"
    result = ipip_verdict({"node1": pools_facts()}, nodes=nodes, affinities=AFFINITIES3, pools=POOLS_AFTER)
    entry = next(b for b in by_host(result)["node1"]["blocks"] if b["block"] == "172.16.169.192/26")
    assert entry["cause"] == "wrong_next_hop"
    assert entry["detail"] == "next hop 172.16.169.192, expected 172.16.169.193 (node2's VXLAN tunnel address)"


def test_vxlan_always_wants_vxlan_calico_also_within_the_subnet():
    pools = [dict(p, vxlan_mode="Always") if p["name"] == "vxlan-pool" else p for p in POOLS_AFTER]
    result = ipip_verdict({"node1": pools_facts()}, nodes=NODES3, affinities=AFFINITIES3, pools=pools)
    entry = next(b for b in by_host(result)["node1"]["blocks"] if b["block"] == "172.16.80.0/26")
    assert entry["cause"] == "wrong_device"
    assert entry["detail"] == "expected dev vxlan.calico (VXLAN pool), found eth0 (direct)"


def test_untouched_never_pool_same_subnet_block_next_to_a_changed_pool():
    # crosssubnet.routes.txt: 192.168.80.0/26 (node3, same subnet) direct, 192.168.169.192/26 (node2) via tunl0
    pools = [{"name": "old", "cidr": "192.168.0.0/17", "ipip_mode": "Never"},
             {"name": "new", "cidr": "192.168.128.0/17", "ipip_mode": "Always"}]
    hosts = {"node1": facts(capture("crosssubnet.routes.txt"))}
    nodes = NODES + [{"name": "node3", "ipv4_address": "10.39.0.111/24"}]
    affinities = AFFINITIES + [{"node": "node3", "cidr": "192.168.80.0/26"}]
    result = ipip_verdict(hosts, nodes=nodes, affinities=affinities, pools=pools, scope=["new"])
    node1 = by_host(result)["node1"]
    assert judged(node1) == {"192.168.80.0/26": ("old", False, "ok"), "192.168.169.192/26": ("new", True, "ok")}
    assert node1["ok"] is True and node1["blocks_ok"] == 1


def test_untouched_always_pool_next_to_a_crosssubnet_change():
    # always.routes.txt: both remote blocks via tunl0; the untouched Always pool tunnels its same-subnet block
    pools = [{"name": "old", "cidr": "192.168.0.0/17", "ipip_mode": "Always"},
             {"name": "new", "cidr": "192.168.128.0/17", "ipip_mode": "CrossSubnet"}]
    nodes = NODES + [{"name": "node3", "ipv4_address": "10.39.0.111/24"}]
    affinities = AFFINITIES + [{"node": "node3", "cidr": "192.168.80.0/26"}]
    hosts = {"node1": facts(capture("always.routes.txt"))}
    result = ipip_verdict(hosts, nodes=nodes, affinities=affinities, pools=pools, scope=["new"])
    assert judged(by_host(result)["node1"]) == {"192.168.80.0/26": ("old", False, "ok"),
                                                "192.168.169.192/26": ("new", True, "ok")}
    # judged with the new mode everywhere, the untouched pool's same-subnet block would have been wrong
    result = ipip_verdict(hosts, nodes=nodes, affinities=affinities, pools=pools, mode="CrossSubnet")
    assert judged(by_host(result)["node1"])["192.168.80.0/26"][2] == "wrong_device"


def test_tunnel_problems_of_an_untouched_ipip_pool_are_warnings():
    # node2's only remote block is in the untouched IPIP pool; the changed pool (no IPIP) holds node2's own block:
    # tunl0's state concerns the untouched pool only
    pools = [{"name": "old", "cidr": "192.168.0.0/17", "ipip_mode": "Always"},
             {"name": "new", "cidr": "192.168.128.0/17", "ipip_mode": "Never"}]
    broken_tunnel = NODE2_TUNNEL.replace("NOARP,UP,LOWER_UP", "NOARP")
    hosts = {"node2": facts(NODE2_AFTER, broken_tunnel)}
    result = ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=pools, scope=["new"])
    node2 = by_host(result)["node2"]
    assert node2["problems"] == [] and node2["problems_out_of_scope"] == ["tunl0 is down"]
    assert node2["ok"] is True
    result = ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=pools)
    assert by_host(result)["node2"]["problems"] == ["tunl0 is down"] and by_host(result)["node2"]["ok"] is False


def test_a_stale_route_belongs_to_its_pool_scope():
    table = NODE2_AFTER + "192.168.200.0/26 via 10.39.0.110 dev tunl0 proto bird onlink\n"
    pools = [{"name": "a", "cidr": "192.168.0.0/17", "ipip_mode": "Always"},
             {"name": "b", "cidr": "192.168.128.0/17", "ipip_mode": "Always"}]
    hosts = {"node2": facts(table)}
    node2 = by_host(ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=pools, scope=["a"]))["node2"]
    stale = next(b for b in node2["blocks"] if b["cause"] == "stale")
    assert (stale["pool"], stale["in_scope"]) == ("b", False)
    assert node2["ok"] is True and node2["blocks_bad_out_of_scope"] == 1
    node2 = by_host(ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=pools, scope=["b"]))["node2"]
    assert node2["ok"] is False and node2["first_bad"]["cause"] == "stale"


def test_the_report_table_warns_about_bad_blocks_outside_the_scope():
    from ansible_collections.k8snet.calico.plugins.filter.ipip_report_table import ipip_report_table

    result = ipip_verdict({"node1": pools_facts()}, nodes=NODES3, affinities=AFFINITIES3, pools=POOLS_AFTER,
                          scope=["ipip-pool"])
    lines = ipip_report_table(result, title="After").splitlines()
    assert lines[-1] == ("warning: node1: 1 bad route(s) to blocks of pools this run did not change, first "
                         "10.244.169.192/26 (pool flat-pool): via_gateway (next hop 10.39.0.1 is the default gateway, "
                         "not node node2 (10.39.3.75))")
    assert lines[3].split()[:5] == ["node1", "10.39.0.0/24", "unknown", "2", "0"]
    # no scope: no warning line, the bad block is in the table
    assert not any(line.startswith("warning:") for line in ipip_report_table(
        ipip_verdict({"node1": pools_facts()}, nodes=NODES3, affinities=AFFINITIES3, pools=POOLS_AFTER)).splitlines())


@pytest.mark.parametrize("kwargs, message", [
    (dict(scope=["nope"]), "scope: 'nope' is neither the name nor the CIDR of a pool; the pools are ipip-pool "
                           "(192.168.0.0/16), flat-pool (10.244.0.0/16), vxlan-pool (172.16.0.0/16)"),
    (dict(scope="ipip-pool"), "scope: 'ipip-pool' is not a list of pool names or CIDRs"),
    (dict(pools=[dict(POOLS_AFTER[2], vxlan_mode="always")]), "pools[172.16.0.0/16].vxlan_mode: 'always' is not one"),
])
def test_bad_scope_and_vxlan_mode(kwargs, message):
    args = dict(nodes=NODES3, affinities=AFFINITIES3, pools=POOLS_AFTER)
    args.update(kwargs)
    with pytest.raises(AnsibleFilterError) as err:
        ipip_verdict({"node1": pools_facts()}, **args)
    assert message in str(err.value)


def test_a_scope_cidr_may_be_written_unnormalised():
    result = ipip_verdict({"node1": pools_facts()}, nodes=NODES3, affinities=AFFINITIES3, pools=POOLS_AFTER,
                          scope=["10.244.0.0/16"])
    assert by_host(result)["node1"]["blocks_bad"] == 1  # the flat pool's broken block decides now


# A pod made before IPIP was on keeps its 1500-byte veth; one made after has the tunnel's MTU (issue 17 item 1).
OLD_POD = """9: cali0123456789a@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default
    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netnsid 1
"""
NEW_POD = """10: calib987654321f@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1480 qdisc noqueue state UP group default
    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netnsid 2
"""


def test_workload_mtu_above_the_tunnel_is_named_with_the_fix():
    hosts = {"node2": facts(NODE2_AFTER, NODE2_TUNNEL + OLD_POD + NEW_POD)}
    assert hosts["node2"]["workloads"] == [{"name": "cali0123456789a", "mtu": 1500},
                                           {"name": "calib987654321f", "mtu": 1480}]
    node2 = by_host(ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, mode="Always"))["node2"]
    (warning,) = node2["warnings"]
    assert (warning["name"], warning["count"], warning["largest_mtu"], warning["tunnel_mtu"],
            warning["interfaces"]) == ("workload_mtu_above_tunnel", 1, 1500, 1480, ["cali0123456789a"])
    assert "restart those pods" in warning["fix"] and "veth_mtu" in warning["fix"]
    assert node2["ok"] is True  # a warning: the routes are right


def test_workload_mtu_before_the_change_is_judged_against_the_tunnel_to_come():
    """No tunl0 yet (the diagnosis): the tunnel will be the uplink's MTU minus the 20-byte IPIP header."""
    uplink_only = NODE2_TUNNEL[NODE2_TUNNEL.index("2: eth0"):]
    node2 = by_host(ipip_verdict({"node2": facts(NODE2_AFTER, uplink_only + OLD_POD)}, nodes=NODES,
                                 affinities=AFFINITIES, mode="Always"))["node2"]
    assert [(w["name"], w["tunnel_mtu"], w["interfaces"]) for w in node2["warnings"]] == [
        ("workload_mtu_above_tunnel", 1480, ["cali0123456789a"])]


def test_no_workload_warning_when_every_pod_fits_or_no_ipip_is_expected():
    fits = {"node2": facts(NODE2_AFTER, NODE2_TUNNEL + NEW_POD)}
    assert by_host(ipip_verdict(fits, nodes=NODES, affinities=AFFINITIES, mode="Always"))["node2"]["warnings"] == []
    never = {"node2": facts(NODE2_AFTER, NODE2_TUNNEL + OLD_POD)}
    assert by_host(ipip_verdict(never, nodes=NODES, affinities=AFFINITIES, mode="Never"))["node2"]["warnings"] == []


NEVER = [{"cidr": "192.168.0.0/16", "ipip_mode": "Never", "vxlan_mode": "Never"}]


def test_the_diagnosis_warns_of_pods_above_the_tunnel_the_change_will_bring():
    """The seed before the fix (pools Never, no tunl0): with the mode about to be set, the pods made at 1500 are
    named against the tunnel to come (uplink 1500 - 20); without it (a read-only question) nothing is said."""
    uplink_only = NODE2_TUNNEL[NODE2_TUNNEL.index("2: eth0"):]
    hosts = {"node2": facts(NODE2_BEFORE, uplink_only + OLD_POD)}
    planned = by_host(ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=NEVER,
                                   planned_ipip_mode="Always"))["node2"]
    assert [(w["name"], w["tunnel_mtu"], w["interfaces"]) for w in planned["warnings"]] == [
        ("workload_mtu_above_tunnel", 1480, ["cali0123456789a"])]
    unplanned = by_host(ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=NEVER))["node2"]
    assert unplanned["warnings"] == []


def test_the_planned_crosssubnet_warns_only_nodes_with_peers_in_other_subnets():
    """CrossSubnet tunnels only between subnets: a node whose every peer shares its subnet gets no warning."""
    same_subnet = [{"name": "node2", "ipv4_address": "10.39.3.75/24"}, {"name": "node4", "ipv4_address": "10.39.3.76/24"}]
    affinities = [{"node": "node2", "cidr": "192.168.169.192/26"}, {"node": "node4", "cidr": "192.168.70.0/26"}]
    uplink_only = NODE2_TUNNEL[NODE2_TUNNEL.index("2: eth0"):]
    hosts = {"node2": facts(NODE2_BEFORE, uplink_only + OLD_POD)}
    cross = by_host(ipip_verdict(hosts, nodes=same_subnet, affinities=affinities, pools=NEVER,
                                 planned_ipip_mode="CrossSubnet"))["node2"]
    assert cross["warnings"] == []
    always = by_host(ipip_verdict(hosts, nodes=same_subnet, affinities=affinities, pools=NEVER,
                                  planned_ipip_mode="Always"))["node2"]
    assert [w["name"] for w in always["warnings"]] == ["workload_mtu_above_tunnel"]
    never = by_host(ipip_verdict(hosts, nodes=same_subnet, affinities=affinities, pools=NEVER,
                                 planned_ipip_mode="Never", planned_vxlan_mode="Never"))["node2"]
    assert never["warnings"] == []  # (Never plans no tunnel)
    with pytest.raises(AnsibleFilterError, match="planned_ipip_mode: 'never' is not one of Always, CrossSubnet, "
                                                 "Never"):
        ipip_verdict(hosts, nodes=same_subnet, affinities=affinities, pools=NEVER, planned_ipip_mode="never")


# VXLAN Always as Felix programs it, captured with a real vxlan.calico (capture.sh: vxlan-always), node1's view.
VXLAN_POOLS = [{"name": "default-ipv4-ippool", "cidr": "192.168.0.0/16", "ipip_mode": "Never",
                "vxlan_mode": "Always"}]
VXLAN_NODES = [{"name": "node1", "ipv4_address": "10.39.0.110/24", "vxlan_tunnel_address": "192.168.70.0"},
               {"name": "node2", "ipv4_address": "10.39.3.75/24", "vxlan_tunnel_address": "192.168.169.192"},
               {"name": "node3", "ipv4_address": "10.39.0.111/24", "vxlan_tunnel_address": "192.168.80.0"}]
VXLAN_AFFINITIES = [{"node": "node1", "cidr": "192.168.70.0/26"}, {"node": "node2", "cidr": "192.168.169.192/26"},
                    {"node": "node3", "cidr": "192.168.80.0/26"}]


def vxlan_node1(fmt="txt", links_text=None):
    routes = parse_routes(capture("vxlan-always.routes.%s" % fmt))[0]
    links = parse_links(links_text if links_text is not None else capture("vxlan-always.addr.%s" % fmt))[0]
    return describe_node(routes, links, POOLS, "tunl0")


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_vxlan_always_as_felix_programs_it_is_ok_with_its_device(fmt):
    facts = vxlan_node1(fmt)
    assert (facts["vxlan"]["exists"], facts["vxlan"]["kind"], facts["vxlan"]["mtu"]) == (True, "vxlan", 1450)
    node1 = by_host(ipip_verdict({"node1": facts}, nodes=VXLAN_NODES, affinities=VXLAN_AFFINITIES,
                                 pools=VXLAN_POOLS))["node1"]
    assert node1["ok"] is True and node1["problems"] == [] and node1["blocks_ok"] == 2
    assert {b["detail"] for b in node1["blocks"]} == {
        "via 192.168.80.0 dev vxlan.calico", "via 192.168.169.192 dev vxlan.calico"}


def test_a_broken_vxlan_device_is_named():
    text = capture("vxlan-always.addr.txt")
    down = text.replace("vxlan.calico: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450",
                        "vxlan.calico: <BROADCAST,MULTICAST> mtu 1480")
    assert down != text
    node1 = by_host(ipip_verdict({"node1": vxlan_node1(links_text=down)}, nodes=VXLAN_NODES,
                                 affinities=VXLAN_AFFINITIES, pools=VXLAN_POOLS))["node1"]
    assert node1["ok"] is False
    assert node1["problems"] == ["vxlan.calico is down",
                                 "vxlan.calico MTU 1480 is not within 576..1450 (uplink MTU 1500 - 50)"]
    gone = "\n".join(line for line in text.splitlines() if "vxlan.calico" not in line and "vxlan id" not in line)
    missing = by_host(ipip_verdict({"node1": vxlan_node1(links_text=gone)}, nodes=VXLAN_NODES,
                                   affinities=VXLAN_AFFINITIES, pools=VXLAN_POOLS))["node1"]
    assert "vxlan.calico does not exist" in missing["problems"]


def test_pods_above_the_vxlan_mtu_are_named_against_vxlan_overhead():
    facts = vxlan_node1()
    facts = dict(facts, workloads=[{"name": "cali5f1c8a10042", "mtu": 1500}])
    node1 = by_host(ipip_verdict({"node1": facts}, nodes=VXLAN_NODES, affinities=VXLAN_AFFINITIES,
                                 pools=VXLAN_POOLS))["node1"]
    assert [(w["name"], w["tunnel_mtu"]) for w in node1["warnings"]] == [("workload_mtu_above_tunnel", 1450)]


# Before Felix has given the nodes their VTEPs (a diagnosis, or a layout read before the switch to VXLAN), the
# datastore names no VXLAN tunnel address: the next hop must still lead to the block's owner.
VXLAN_NODES_BEFORE_VTEPS = [dict((k, v) for k, v in n.items() if k != "vxlan_tunnel_address") for n in VXLAN_NODES]
SWAPPED = capture("vxlan-always.routes.txt").replace(
    "192.168.80.0/26 via 192.168.80.0", "192.168.80.0/26 via 192.168.169.192")


def vxlan_tables(neigh=None, fdb=None):
    return (parse_vxlan_neighbours(neigh if neigh is not None else capture("vxlan-always.neigh.txt"), VXLAN_DEVICE),
            parse_vxlan_fdb(fdb if fdb is not None else capture("vxlan-always.fdb.txt"), VXLAN_DEVICE))


def vxlan_verdict(routes_text, tables=(None, None), nodes=VXLAN_NODES_BEFORE_VTEPS):
    facts = describe_node(parse_routes(routes_text)[0], parse_links(capture("vxlan-always.addr.txt"))[0], POOLS,
                          "tunl0", *tables)
    return by_host(ipip_verdict({"node1": facts}, nodes=nodes, affinities=VXLAN_AFFINITIES,
                                pools=VXLAN_POOLS))["node1"]


def bad_blocks(node):
    return [(b["block"], b["cause"], b["detail"]) for b in node["blocks"] if b["cause"] != "ok"]


def test_a_vxlan_route_via_another_nodes_vtep_is_not_ok_without_datastore_vteps():
    assert SWAPPED != capture("vxlan-always.routes.txt")
    node1 = vxlan_verdict(SWAPPED)
    assert node1["ok"] is False
    assert bad_blocks(node1) == [(
        "192.168.80.0/26", "wrong_next_hop",
        "next hop 192.168.169.192 is not in a block of node3 (192.168.80.0/26): Calico takes a node's VXLAN "
        "tunnel address from its own block")]


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_vxlan_next_hops_are_followed_through_arp_and_fdb_to_the_owner(fmt):
    tables = vxlan_tables(capture("vxlan-always.neigh.%s" % fmt), capture("vxlan-always.fdb.%s" % fmt))
    assert tables == ({"192.168.80.0": "66:c5:8e:27:41:03", "192.168.169.192": "66:c5:8e:27:41:02"},
                      {"66:c5:8e:27:41:03": ["10.39.0.111"], "66:c5:8e:27:41:02": ["10.39.3.75"]})
    node1 = vxlan_verdict(capture("vxlan-always.routes.txt"), tables)
    assert node1["ok"] is True and node1["blocks_ok"] == 2
    assert node1["vxlan"]["neighbours"] == tables[0]


def without(name, text):
    return "\n".join(line for line in capture(name).splitlines() if text not in line)


@pytest.mark.parametrize("tables, cause, detail", [
    (dict(fdb=capture("vxlan-always.fdb.txt").replace("dst 10.39.0.111", "dst 10.39.0.99")),  # node3's old address
     "wrong_next_hop", "VTEP 192.168.80.0 (MAC 66:c5:8e:27:41:03) is sent to 10.39.0.99, not to node3 (10.39.0.111)"),
    (dict(neigh=without("vxlan-always.neigh.txt", "192.168.80.0")), "vtep_unresolved",
     "no ARP entry for VTEP 192.168.80.0 on vxlan.calico: the kernel cannot address it (Felix programs one per "
     "remote VTEP)"),
    (dict(fdb=without("vxlan-always.fdb.txt", "41:03")), "vtep_unresolved",
     "no FDB entry for VTEP 192.168.80.0 (MAC 66:c5:8e:27:41:03) on vxlan.calico: its packets go to no node "
     "(Felix programs one per remote VTEP)"),
])
def test_a_vtep_whose_fdb_sends_elsewhere_or_that_does_not_resolve_is_not_ok(tables, cause, detail):
    node1 = vxlan_verdict(capture("vxlan-always.routes.txt"), vxlan_tables(**tables))
    assert bad_blocks(node1) == [("192.168.80.0/26", cause, detail)]


def test_the_datastore_vtep_where_known_is_checked_first():
    assert vxlan_verdict(SWAPPED, vxlan_tables(), nodes=VXLAN_NODES)["first_bad"]["detail"] == (
        "next hop 192.168.169.192, expected 192.168.80.0 (node3's VXLAN tunnel address)")


def test_vxlan_device_vni_and_port_are_read_and_judged():
    for fmt in ("txt", "json"):
        vxlan = vxlan_node1(fmt)["vxlan"]
        assert (vxlan["vni"], vxlan["port"]) == (4096, 4789)
    facts = vxlan_node1()
    facts["vxlan"] = dict(facts["vxlan"], vni=1, port=8472)
    node1 = by_host(ipip_verdict({"node1": facts}, nodes=VXLAN_NODES, affinities=VXLAN_AFFINITIES,
                                 pools=VXLAN_POOLS))["node1"]
    assert node1["problems"] == ["vxlan.calico has VNI 1, not 4096 (Felix's vxlanVNI)",
                                 "vxlan.calico uses UDP port 8472, not 4789 (Felix's vxlanPort)"]
    custom = by_host(ipip_verdict({"node1": facts}, nodes=VXLAN_NODES, affinities=VXLAN_AFFINITIES,
                                  pools=VXLAN_POOLS, felix={"vxlan_vni": 1, "vxlan_port": 8472}))["node1"]
    assert custom["problems"] == []


def test_the_diagnosis_before_a_switch_to_vxlan_warns_against_vxlan_overhead():
    """A pod at 1480 fits the IPIP tunnel to come (1500 - 20) but not VXLAN's (1500 - 50)."""
    uplink_only = NODE2_TUNNEL[NODE2_TUNNEL.index("2: eth0"):]
    pod_1480 = OLD_POD.replace("mtu 1500", "mtu 1480")
    assert pod_1480 != OLD_POD
    hosts = {"node2": facts(NODE2_BEFORE, uplink_only + pod_1480)}
    ipip = by_host(ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=NEVER,
                                planned_ipip_mode="Always"))["node2"]
    assert ipip["warnings"] == []
    vxlan = by_host(ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=NEVER,
                                 planned_vxlan_mode="CrossSubnet"))["node2"]
    assert [(w["name"], w["tunnel_mtu"], w["largest_mtu"]) for w in vxlan["warnings"]] == [
        ("workload_mtu_above_tunnel", 1450, 1480)]
    with pytest.raises(AnsibleFilterError, match="planned_ipip_mode and planned_vxlan_mode: give one"):
        ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=NEVER, planned_ipip_mode="Always",
                     planned_vxlan_mode="Always")
