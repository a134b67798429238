"""Calico validation rules and named traps, on normalised pools built from the shared samples."""

from __future__ import annotations

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._calico_cluster import (
    affinity_from_key,
    affinity_from_object,
    felix_from_object,
    felix_from_v1_value,
    node_from_object,
    nodes_from_v1_keys,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_model import normalise_pool
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_traps import find_traps
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_validate import validate_pool
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import load


def v3_pool(**spec):
    obj = load("etcdv3-ippool.json")
    obj["spec"].update(spec)
    for key in [k for k, v in spec.items() if v is None]:
        del obj["spec"][key]
    return normalise_pool(obj, "etcdv3")


def test_sample_pool_is_valid():
    assert validate_pool(v3_pool()) == []
    assert validate_pool(v3_pool(ipipMode="CrossSubnet")) == []


@pytest.mark.parametrize("spec, fragment", [
    ({"ipipMode": "Always", "vxlanMode": "Always"}, "Cannot enable both VXLAN and IPIP"),
    ({"cidr": "fd00::/48", "blockSize": 122, "ipipMode": "Always"}, "IPv6"),
    ({"cidr": "192.168.1.0/16"}, "not masked"),
    ({"cidr": "not-a-cidr"}, "is not a valid CIDR"),
    ({"cidr": "169.254.0.0/16"}, "link-local"),
    ({"cidr": "fe80::/64", "blockSize": 122}, "link-local"),
    ({"blockSize": 19}, "block_size: 19 must be an integer from 20 to 32"),
    ({"blockSize": 33}, "from 20 to 32"),
    ({"cidr": "fd00::/48", "blockSize": 64}, "from 116 to 128"),
    ({"cidr": "10.0.0.0/28", "blockSize": 26}, "smaller than one block"),
    ({"allowedUses": ["LoadBalancer"], "ipipMode": "Always"}, "LoadBalancer pool cannot use IPIP"),
    ({"allowedUses": ["LoadBalancer"], "nodeSelector": "rack == 'a'"}, "needs nodeSelector all()"),
])
def test_validation_rules_name_field_and_value(spec, fragment):
    errors = validate_pool(v3_pool(**spec))
    assert any(fragment in e for e in errors), errors


def test_v1_pool_rules():
    pool = normalise_pool(dict(load("etcdv2-pool-value.json"), cidr="10.1.2.0/27"), "etcdv2")
    assert any("smallest enabled pool" in e for e in validate_pool(pool))
    pool = normalise_pool(load("etcdv2-pool-value.json"), "etcdv2")
    assert validate_pool(dict(pool, vxlan_mode="Always", ipip_mode="Never")) == [
        "vxlan_mode: Always needs Calico v3; pool 192.168.0.0/16 is a Calico v2 pool"]


def names(traps):
    return sorted(t["name"] for t in traps)


def test_kubespray_felix_false_is_a_trap():
    felix = felix_from_object(load("kdd-felixconfiguration-kubespray.json"))
    assert felix["ipip_enabled"] is False
    traps = find_traps([v3_pool(ipipMode="Always")], felix, [], None, "kubernetes")
    assert names(traps) == ["felix_ipip_disabled"]
    assert "ipipEnabled: false" in traps[0]["message"] and "fix_felix_ipip" in traps[0]["message"]


def test_felix_unset_is_no_trap_on_v3_but_is_on_v2():
    assert find_traps([v3_pool(ipipMode="Always")], {"name": "default", "ipip_enabled": None}, [], None, "etcdv3") == []
    v2 = normalise_pool(load("etcdv2-pool-value.json"), "etcdv2")
    assert names(find_traps([v2], felix_from_v1_value(None), [], None, "etcdv2")) == ["felix_ipip_disabled"]
    assert find_traps([v2], felix_from_v1_value("true"), [], None, "etcdv2") == []


def test_operator_and_legacy_and_case_traps():
    crd = load("kdd-ippool-crd.json")
    crd["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "tigera-operator"}
    crd["spec"]["ipip"] = {"enabled": False}
    crd["spec"]["ipipMode"] = "always"
    pool = normalise_pool(crd, "kubernetes")
    inst = load("operator-installation.json")
    inst["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] = "IPIP"
    traps = find_traps([pool], None, [], inst, "kubernetes")
    assert names(traps) == ["legacy_ipip_overrides_mode", "mode_not_canonical", "operator_installation_mismatch",
                            "operator_managed_pool"]


def test_node_traps():
    nodes = [
        {"name": "n1", "ipv4_address": "10.0.1.5/32", "ipv4_prefix_length": 32, "ipip_tunnel_address": "192.168.70.0"},
        {"name": "n2", "ipv4_address": "10.0.2.7", "ipv4_prefix_length": None, "ipip_tunnel_address": None},
        {"name": "n3", "ipv4_address": None, "ipv4_prefix_length": None, "ipip_tunnel_address": "1.1.1.1"},
        {"name": "n4", "ipv4_address": "10.0.2.8/24", "ipv4_prefix_length": 24, "ipip_tunnel_address": "1.1.1.2"},
    ]
    traps = find_traps([v3_pool(ipipMode="CrossSubnet")], None, nodes, None, "etcdv3")
    assert [(t["name"], t["subject"]) for t in traps] == [
        ("node_address_slash32", "n1"), ("node_address_without_prefix", "n2"), ("node_without_tunnel_address", "n2"),
        ("node_without_address", "n3")]
    assert "CrossSubnet tunnels all traffic" in traps[0]["message"]


def test_nodes_and_affinities_from_each_layout():
    v2 = nodes_from_v1_keys([
        ("/calico/bgp/v1/host/node1/ip_addr_v4", "10.0.1.5"), ("/calico/bgp/v1/host/node1/network_v4", "10.0.1.0/24"),
        ("/calico/v1/host/node1/config/IpInIpTunnelAddr", "192.168.70.0"),
        ("/calico/bgp/v1/host/node2/ip_addr_v4", "10.0.2.7"),
    ])
    assert v2[0] == {"name": "node1", "ipv4_address": "10.0.1.5/24", "ipv4_prefix_length": 24,
                     "ipip_tunnel_address": "192.168.70.0", "vxlan_tunnel_address": None, "datastore": "etcdv2"}
    assert v2[1]["ipv4_prefix_length"] is None
    v3 = node_from_object({"kind": "Node", "apiVersion": "projectcalico.org/v3", "metadata": {"name": "a"},
                           "spec": {"bgp": {"ipv4Address": "10.0.1.6/24", "ipv4IPIPTunnelAddr": "10.244.2.0"},
                                    "ipv4VXLANTunnelAddr": "10.244.2.1"}}, "etcdv3")
    assert (v3["ipv4_prefix_length"], v3["ipip_tunnel_address"], v3["vxlan_tunnel_address"]) == (
        24, "10.244.2.0", "10.244.2.1")
    k8s = node_from_object({"kind": "Node", "apiVersion": "v1", "metadata": {"name": "b", "annotations": {
        "projectcalico.org/IPv4Address": "10.0.2.7/32", "projectcalico.org/IPv4VXLANTunnelAddr": "10.244.3.1"}}},
        "kubernetes")
    assert (k8s["ipv4_prefix_length"], k8s["vxlan_tunnel_address"]) == (32, "10.244.3.1")
    assert affinity_from_key("/calico/ipam/v2/host/node1/ipv4/block/192.168.70.0-26", '{"state":"confirmed","deleted":false}') == {
        "node": "node1", "cidr": "192.168.70.0/26", "state": "confirmed"}
    assert affinity_from_key("/calico/ipam/v2/host/node1/ipv4/block/192.168.70.0-26", "{}")["state"] == "confirmed"
    assert affinity_from_key("/calico/ipam/v2/handle/x", "{}") is None
    assert affinity_from_object(load("kdd-blockaffinity.json")) == {"node": "node1", "cidr": "192.168.70.0/26",
                                                                    "state": "confirmed"}


def test_v1_pool_value_with_the_cidr_alone_is_a_pool():
    """pycalico wrote {"cidr": ...} alone for a pool with IPIP and NAT off (tests/unit/fixtures/calico/SOURCES.md)."""
    pool = normalise_pool(load("etcdv2-pool-value-pycalico.json"), "etcdv2", "/calico/v1/ipam/v4/pool/10.233.64.0-18")
    assert (pool["cidr"], pool["ipip_mode"], pool["nat_outgoing"], pool["disabled"], pool["block_size"]) == (
        "10.233.64.0/18", "Never", False, False, 26)
    assert validate_pool(pool) == []


def test_v1_pool_values_quoted_in_a_public_issue_are_pools():
    """projectcalico/libcalico#68: the value calicoctl v0.13 wrote for a NAT pool, and the same with `masquerade`
    removed by hand, as the reporter did (tests/unit/fixtures/calico/SOURCES.md)."""
    value = load("etcdv2-pool-value-libcalico-68.json")
    key = "/calico/v1/ipam/v4/pool/10.200.0.0-16"
    for obj, nat in ((value, True), ({"cidr": value["cidr"]}, False)):
        pool = normalise_pool(obj, "etcdv2", key)
        assert (pool["cidr"], pool["ipip_mode"], pool["nat_outgoing"], pool["disabled"]) == (
            "10.200.0.0/16", "Never", nat, False)
        assert validate_pool(pool) == []


@pytest.mark.parametrize("value", [{"cidr": "10.1.0.0/16", "spec": {}}, {"cidr": 5}, {"cidr": "10.1.0.0/16", "kind": "x"}])
def test_other_objects_with_a_cidr_are_not_v1_pools(value):
    with pytest.raises(ValueError):
        normalise_pool(value, "etcdv2")


def test_felix_vxlan_false_is_a_trap_for_vxlan_pools_only():
    kubespray_ipip = load("kdd-felixconfiguration-kubespray.json")  # a kubespray cluster set up for IPIP
    kubespray_ipip["spec"].update(ipipEnabled=True, vxlanEnabled=False, vxlanVNI=4097, vxlanPort=8472)
    felix = felix_from_object(kubespray_ipip)
    assert (felix["vxlan_enabled"], felix["vxlan_vni"], felix["vxlan_port"]) == (False, 4097, 8472)
    traps = find_traps([v3_pool(ipipMode="Never", vxlanMode="Always")], felix, [], None, "kubernetes")
    assert names(traps) == ["felix_vxlan_disabled", "vxlan_pool"]
    message = next(t["message"] for t in traps if t["name"] == "felix_vxlan_disabled")
    assert "vxlanEnabled: false" in message and "fix_felix_vxlan" in message
    assert find_traps([v3_pool(ipipMode="Always")], felix, [], None, "kubernetes") == []
    unset = felix_from_object(load("kdd-felixconfiguration-kubespray.json") | {"spec": {"vxlanVNI": "4096"}})
    assert (unset["vxlan_enabled"], unset["vxlan_vni"], unset["vxlan_port"]) == (None, None, None)
