"""ipip_verdict on hostile input: never a false "ok", never a KeyError/TypeError instead of a named field."""

from __future__ import annotations

import copy
import ipaddress

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_verdict import ipip_verdict

POOLS = [{"name": "default-ipv4-ippool", "cidr": "192.168.0.0/16", "ipip_mode": "Always"}]
NODES = [
    {"name": "node1", "ipv4_address": "10.39.0.110/24"},
    {"name": "node2", "ipv4_address": "10.39.3.75/24"},
]
AFFINITIES = [{"node": "node1", "cidr": "192.168.70.0/26"}, {"node": "node2", "cidr": "192.168.169.192/26"}]


def _host(address, prefixlen, own_block, remote_block, remote_gateway, remote_kind="tunnel"):
    """A host's node_routes_info result with its uplink address, its own block and one route to a remote block."""
    return {
        "addresses": [{"dev": "eth0", "address": address, "prefixlen": prefixlen,
                       "cidr": "%s/%d" % (address, prefixlen)}],
        "uplink": "eth0", "uplink_mtu": 1500,
        "tunnel": {"name": "tunl0", "exists": True, "kind": "ipip", "up": True, "mtu": 1480,
                   "addresses": ["%s/32" % ipaddress.ip_network(own_block)[1]]},
        "routes": [
            {"dst": "0.0.0.0/0", "gateway": address.rsplit(".", 1)[0] + ".1", "dev": "eth0", "flags": [],
             "nexthops": [], "kind": None},
            {"dst": own_block, "type": "blackhole", "gateway": None, "dev": None, "flags": [], "nexthops": [],
             "kind": "own_block"},
            {"dst": remote_block, "gateway": remote_gateway, "dev": "tunl0" if remote_kind == "tunnel" else "eth0",
             "flags": ["onlink"] if remote_kind == "tunnel" else [], "nexthops": [], "kind": remote_kind},
        ],
    }


def healthy_hosts():
    return {
        "node1": _host("10.39.0.110", 24, "192.168.70.0/26", "192.168.169.192/26", "10.39.3.75"),
        "node2": _host("10.39.3.75", 24, "192.168.169.192/26", "192.168.70.0/26", "10.39.0.110"),
    }


def by_host(result):
    return dict((n["host"], n) for n in result["nodes"])


def test_healthy_baseline_is_ok():
    # the inputs below differ from this one only in what each test breaks
    result = ipip_verdict(healthy_hosts(), nodes=NODES, affinities=AFFINITIES, pools=POOLS)
    assert result["ok"] is True, result


# ------------------------------------------------------------------------------------------------ empty scope
def test_empty_scope_is_an_error_not_a_pass():
    hosts = healthy_hosts()
    for name in hosts:  # broken: every remote block via the default gateway
        hosts[name]["routes"][2].update(kind="via_gateway", dev="eth0", flags=[])
    with pytest.raises(AnsibleFilterError, match=r"scope: \[\] names no pool; give pool names or CIDRs, or leave "
                                                 r"scope out to judge every pool"):
        ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=POOLS, scope=[])


# ------------------------------------------------------------------------------------------------ duplicates
def test_block_claimed_by_two_nodes_is_a_named_problem():
    affinities = AFFINITIES + [{"node": "node1", "cidr": "192.168.169.192/26"}]
    result = ipip_verdict(healthy_hosts(), nodes=NODES, affinities=affinities, pools=POOLS)
    assert result["ok"] is False
    text = "block 192.168.169.192/26 is claimed by nodes node1 and node2"
    assert text in result["problems"]
    for host in ("node1", "node2"):
        node = by_host(result)[host]
        assert node["ok"] is False and text in node["problems"], node


def test_same_block_twice_for_one_node_is_no_problem():
    affinities = AFFINITIES + [dict(AFFINITIES[1])]
    result = ipip_verdict(healthy_hosts(), nodes=NODES, affinities=affinities, pools=POOLS)
    assert result["ok"] is True and result["problems"] == []


def test_two_nodes_with_one_address_is_a_named_problem():
    nodes = NODES + [{"name": "node2-old", "ipv4_address": "10.39.3.75/24"}]
    result = ipip_verdict(healthy_hosts(), nodes=nodes, affinities=AFFINITIES, pools=POOLS)
    assert result["ok"] is False
    text = "nodes node2 and node2-old have the same address 10.39.3.75"
    assert text in result["problems"]
    node2 = by_host(result)["node2"]
    assert node2["ok"] is False and text in node2["problems"], node2
    assert by_host(result)["node1"]["ok"] is True  # node1's own data is not in doubt


# ------------------------------------------------------------------------------------------------ malformed
def _broken(path_fn):
    hosts, nodes, affinities, pools = healthy_hosts(), copy.deepcopy(NODES), copy.deepcopy(AFFINITIES), \
        copy.deepcopy(POOLS)
    data = {"hosts": hosts, "nodes": nodes, "affinities": affinities, "pools": pools}
    path_fn(data)
    return data


MALFORMED = [
    ("host None", lambda d: d["hosts"].update(node1=None), r"hosts\[node1\]: None is not a mapping"),
    ("route not dict", lambda d: d["hosts"]["node1"]["routes"].append(5),
     r"hosts\[node1\]\.routes\[3\]: 5 is not a mapping"),
    ("route without dst", lambda d: d["hosts"]["node1"]["routes"][2].pop("dst"),
     r"hosts\[node1\]\.routes\[2\]\.dst: missing"),
    ("routes not a list", lambda d: d["hosts"]["node1"].update(routes="default via 1.2.3.4"),
     r"hosts\[node1\]\.routes: 'default via 1\.2\.3\.4' is not a list"),
    ("address not dict", lambda d: d["hosts"]["node2"]["addresses"].insert(0, "10.39.3.75"),
     r"hosts\[node2\]\.addresses\[0\]: '10\.39\.3\.75' is not a mapping"),
    ("address without address", lambda d: d["hosts"]["node2"]["addresses"][0].pop("address"),
     r"hosts\[node2\]\.addresses\[0\]\.address: missing"),
    ("node not dict", lambda d: d["nodes"].append("node3"), r"nodes\[2\]: 'node3' is not a mapping"),
    ("node without name", lambda d: d["nodes"][1].pop("name"), r"nodes\[1\]\.name: missing"),
    ("affinity not dict", lambda d: d["affinities"].insert(0, None), r"affinities\[0\]: None is not a mapping"),
    ("affinity without cidr", lambda d: d["affinities"].append({"node": "node1"}), r"affinities\[2\]\.cidr: missing"),
    ("affinity without node", lambda d: d["affinities"][0].pop("node"), r"affinities\[0\]\.node: missing"),
    ("pool not dict", lambda d: d["pools"].append(["192.168.0.0/16"]),
     r"pools\[1\]: \['192\.168\.0\.0/16'\] is not a mapping"),
    ("nodes not a list", lambda d: d.update(nodes={"name": "node1"}), r"nodes: \{'name': 'node1'\} is not a list"),
]


@pytest.mark.parametrize("label,breaker,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_input_is_a_filter_error_naming_the_field(label, breaker, message):
    data = _broken(breaker)
    with pytest.raises(AnsibleFilterError, match=message):
        ipip_verdict(data["hosts"], nodes=data["nodes"], affinities=data["affinities"], pools=data["pools"])


# ------------------------------------------------------------------------------------------------ empty table
def test_host_with_no_routes_is_missing_not_ok():
    hosts = healthy_hosts()
    hosts["node1"]["routes"] = []
    result = ipip_verdict(hosts, nodes=NODES, affinities=AFFINITIES, pools=POOLS)
    node1 = by_host(result)["node1"]
    assert node1["ok"] is False and node1["problems"] == []
    assert [(b["block"], b["cause"]) for b in node1["blocks"]] == [("192.168.169.192/26", "missing")]
    assert node1["blocks_bad"] == 1 and result["ok"] is False


@pytest.mark.parametrize("felix, message", [
    ("default", "ipip_verdict: felix: 'default' is not a mapping"),
    ({"vxlan_vni": "4096"}, "ipip_verdict: vxlan_vni: '4096' is not a whole number from 1 to 16777215"),
    ({"vxlan_vni": 2 ** 24}, "ipip_verdict: vxlan_vni: 16777216 is not a whole number from 1 to 16777215"),
    ({"vxlan_port": True}, "ipip_verdict: vxlan_port: True is not a whole number from 1 to 65535"),
    ({"vxlan_port": 0}, "ipip_verdict: vxlan_port: 0 is not a whole number from 1 to 65535"),
])
def test_a_malformed_felix_is_a_filter_error_naming_the_field(felix, message):
    with pytest.raises(AnsibleFilterError) as err:
        ipip_verdict(healthy_hosts(), nodes=NODES, affinities=AFFINITIES, pools=POOLS, felix=felix)
    assert str(err.value).startswith(message)
