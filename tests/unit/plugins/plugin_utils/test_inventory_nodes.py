"""The calico_nodes inventory plugin's pure decisions, fed the datastore records the functional suite seeds (the
samples' layouts) through the same normalisation the modules use."""

from __future__ import annotations

import json

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import AFFINITY, NODE, VALUE, Record
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_plan import snapshot_from_records
from ansible_collections.k8snet.calico.plugins.plugin_utils._inventory_nodes import (
    InventoryOptionError,
    check_options,
    check_unknown,
    node_hosts,
    safe_group_name,
    subnet_group_name,
    with_environment,
)
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import FIXTURES


def v3_node(name, address, tunnel=None):
    bgp = {"ipv4Address": address} if address else {}
    if tunnel:
        bgp["ipv4IPIPTunnelAddr"] = tunnel
    obj = {"kind": "Node", "apiVersion": "projectcalico.org/v3", "metadata": {"name": name}, "spec": {"bgp": bgp}}
    return Record("/calico/resources/v3/projectcalico.org/nodes/" + name, NODE, True, "5", json.dumps(obj), obj, "etcdv3")


def v3_affinity(node, cidr, state="confirmed"):
    text = json.dumps({"state": state, "deleted": False})
    return Record("/calico/ipam/v2/host/%s/ipv4/block/%s" % (node, cidr.replace("/", "-")), AFFINITY, True, "6", text,
                  json.loads(text), "etcdv3")


def snapshot(datastore, nodes, affinities):
    return snapshot_from_records(datastore, [], None, None, nodes, affinities)


def by_name(hosts):
    return {h["name"]: h for h in hosts}


def test_v3_nodes_hosts_groups_and_blocks():
    snap = snapshot("etcdv3", [v3_node("node1", "10.39.0.110/24", "192.168.70.1"), v3_node("node2", "10.39.3.75/24"),
                               v3_node("node3", "10.39.0.111/24")],
                    [v3_affinity("node1", "192.168.70.64/26"), v3_affinity("node1", "192.168.70.0/26"),
                     v3_affinity("node2", "192.168.169.192/26"),
                     v3_affinity("node2", "192.168.169.128/26", "pendingDeletion")])
    hosts, warnings = node_hosts(snap["nodes"], snap["block_affinities"])
    assert warnings == []
    hosts = by_name(hosts)
    assert hosts["node1"]["groups"] == ["calico_nodes", "subnet_10_39_0_0_24"]
    assert hosts["node3"]["groups"] == ["calico_nodes", "subnet_10_39_0_0_24"]
    assert hosts["node2"]["groups"] == ["calico_nodes", "subnet_10_39_3_0_24"]
    assert hosts["node1"]["vars"] == {
        "ansible_host": "10.39.0.110", "calico_node_name": "node1", "calico_ipv4_address": "10.39.0.110/24",
        "calico_ipv4_subnet": "10.39.0.0/24", "calico_ipip_tunnel_address": "192.168.70.1",
        # numeric order, not text order
        "calico_blocks": ["192.168.70.0/26", "192.168.70.64/26"], "calico_datastore": "etcdv3"}
    assert hosts["node2"]["vars"]["calico_blocks"] == ["192.168.169.192/26"]  # not the one pending deletion
    assert hosts["node3"]["vars"]["calico_blocks"] == []


def test_v2_keys_take_the_prefix_from_network_v4():
    keys = {
        "/calico/bgp/v1/host/node1/ip_addr_v4": "10.0.1.5",
        "/calico/bgp/v1/host/node1/network_v4": "10.0.1.0/24",
        "/calico/bgp/v1/host/node2/ip_addr_v4": "10.0.2.7",  # no network_v4 (Calico < v2.1): its own /32
        "/calico/v1/host/node1/config/IpInIpTunnelAddr": "192.168.70.0",
    }
    records = [Record(k, VALUE, True, "1", v, v, "etcdv2") for k, v in keys.items()]
    affinity = Record("/calico/ipam/v2/host/node1/ipv4/block/192.168.70.0-26", VALUE, True, "2", "{}", "{}", "etcdv2")
    snap = snapshot("etcdv2", records, [affinity])
    hosts = by_name(node_hosts(snap["nodes"], snap["block_affinities"])[0])
    assert hosts["node1"]["groups"] == ["calico_nodes", "subnet_10_0_1_0_24"]
    assert hosts["node1"]["vars"]["calico_blocks"] == ["192.168.70.0/26"]
    assert hosts["node1"]["vars"]["calico_ipip_tunnel_address"] == "192.168.70.0"
    assert hosts["node2"]["groups"] == ["calico_nodes", "subnet_10_0_2_7_32"]
    assert hosts["node2"]["vars"]["ansible_host"] == "10.0.2.7"


def test_kdd_nodes_and_the_blockaffinity_sample():
    node = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "node1", "annotations": {
        "projectcalico.org/IPv4Address": "10.0.1.5/24", "projectcalico.org/IPv4IPIPTunnelAddr": "192.168.70.1"}}}
    sample = json.loads((FIXTURES / "kdd-blockaffinity.json").read_text())
    snap = snapshot("kubernetes", [Record("/api/v1/nodes/node1", NODE, True, "1", None, node, "kubernetes")],
                    [Record("/apis/crd.projectcalico.org/v1/blockaffinities/node1-192-168-70-0-26", AFFINITY, True, "2",
                            None, sample, "kubernetes")])
    (host,) = node_hosts(snap["nodes"], snap["block_affinities"], "all_calico", "net_")[0]
    assert host["groups"] == ["all_calico", "net_10_0_1_0_24"]
    assert host["vars"]["calico_blocks"] == ["192.168.70.0/26"]
    assert host["vars"]["calico_ipip_tunnel_address"] == "192.168.70.1"


def test_nodes_without_a_usable_ipv4_address_stay_hosts_with_a_warning():
    snap = snapshot("etcdv3", [v3_node("v6only", None), v3_node("garbled", "10.0.0.300/24"),
                               v3_node("sixaddr", "fd00::5/64")], [])
    hosts, warnings = node_hosts(snap["nodes"], snap["block_affinities"])
    groups = {h["name"]: h["groups"] for h in hosts}
    assert groups == {"v6only": ["calico_nodes"], "garbled": ["calico_nodes"], "sixaddr": ["calico_nodes"]}
    assert all("ansible_host" not in h["vars"] for h in hosts)
    assert sorted(warnings) == [
        "Calico node garbled: ipv4Address '10.0.0.300/24' is not an IPv4 address; no ansible_host and no subnet group",
        "Calico node sixaddr: ipv4Address 'fd00::5/64' is not an IPv4 address; no ansible_host and no subnet group",
        "Calico node v6only has no IPv4 BGP address; no ansible_host and no subnet group"]


def test_group_names_are_sanitised():
    assert subnet_group_name("10.39.0.0/24") == "subnet_10_39_0_0_24"
    assert subnet_group_name("10.39.0.0/24", "rack-a.") == "rack_a_10_39_0_0_24"
    assert safe_group_name("10.0.0.0/8") == "_10_0_0_0_8"


GOOD = {"datastore": "etcdv3", "etcd_endpoints": ["http://127.0.0.1:2379"], "nodes_group": "calico_nodes",
        "subnet_group_prefix": "subnet_"}


@pytest.mark.parametrize("config_extra,options_change,message", [
    ({"etcd_endpoint": 1}, {}, "etcd_endpoint: unknown option"),
    ({}, {"datastore": "calicoctl"}, "datastore: 'calicoctl' is not one of etcdv3, etcdv2, kubernetes"),
    ({}, {"etcd_endpoints": None}, "etcd_endpoints: required with datastore: etcdv3"),
    ({}, {"client_cert": "/c.pem"}, "client_cert and client_key: must be given together (only client_cert is set)"),
    ({}, {"calicoctl_config": "/etc/calico/calicoctl.cfg"}, "calicoctl_config: not used by the inventory plugin"),
    ({}, {"nodes_group": "calico-nodes"}, "nodes_group: 'calico-nodes' is not a valid group name"),
    ({}, {"subnet_group_prefix": "1net_"}, "subnet_group_prefix: '1net_' is not a valid group name"),
])
def test_bad_options_name_the_option(config_extra, options_change, message):
    options = dict(GOOD, **options_change)
    config = dict({"plugin": "k8snet.calico.calico_nodes"}, **{k: v for k, v in options.items() if v is not None},
                  **config_extra)
    with pytest.raises(InventoryOptionError) as err:
        check_unknown(config)
        check_options(options)
    assert message in str(err.value)


def test_good_options_pass():
    check_unknown(dict(GOOD, plugin="k8snet.calico.calico_nodes", compose={}, cache=True))
    check_options(GOOD)


def test_environment_fills_what_the_file_does_not_set_for_its_own_datastore_only():
    environ = {"ETCDCTL_ENDPOINTS": "http://10.0.0.10:2379,http://10.0.0.11:2379", "ETCDCTL_USER": "calico:pw",
               "ETCDCTL_CACERT": "~/ca.pem", "K8S_AUTH_HOST": "https://api:6443", "K8S_AUTH_VERIFY_SSL": "no"}
    options = {"datastore": "etcdv3", "etcd_endpoints": None, "validate_certs": True, "host": None,
               "etcd_username": None, "etcd_password": None, "etcd_ca": None}
    resolved, from_env = with_environment(options, {"datastore"}, environ)
    assert resolved["etcd_endpoints"] == ["http://10.0.0.10:2379", "http://10.0.0.11:2379"]
    assert (resolved["etcd_username"], resolved["etcd_password"]) == ("calico", "pw")
    assert resolved["etcd_ca"].endswith("/ca.pem") and not resolved["etcd_ca"].startswith("~")
    assert resolved["host"] is None and resolved["validate_certs"] is True  # K8S_AUTH_* is not etcd's
    assert from_env == {"etcd_endpoints": "ETCDCTL_ENDPOINTS", "etcd_username": "ETCDCTL_USER",
                        "etcd_password": "ETCDCTL_USER", "etcd_ca": "ETCDCTL_CACERT"}
    # the file wins
    resolved, from_env = with_environment(dict(options, etcd_endpoints=["http://e:2379"]), {"etcd_endpoints"}, environ)
    assert resolved["etcd_endpoints"] == ["http://e:2379"] and "etcd_endpoints" not in from_env
    kube, from_env = with_environment(dict(options, datastore="kubernetes"), {"datastore"}, environ)
    assert (kube["host"], kube["validate_certs"], kube["etcd_endpoints"]) == ("https://api:6443", False, None)
    with pytest.raises(InventoryOptionError) as err:
        with_environment(dict(options, datastore="kubernetes"), set(), {"K8S_AUTH_VERIFY_SSL": "maybe"})
    assert "validate_certs: K8S_AUTH_VERIFY_SSL=maybe is not a boolean" in str(err.value)
    with pytest.raises(InventoryOptionError) as err:
        check_options(dict(GOOD, etcd_username="calico"), {"etcd_username": "ETCDCTL_USER"})
    assert "(from the environment: etcd_username=ETCDCTL_USER)" in str(err.value)


def raw_node(key_name, obj):
    return Record("/calico/resources/v3/projectcalico.org/nodes/" + key_name, NODE, True, "5", json.dumps(obj), obj,
                  "etcdv3")


@pytest.mark.parametrize("obj, message", [
    ({"metadata": {"name": "n"}, "spec": {"bgp": "a string"}}, "Calico node n: spec.bgp: 'a string' is not a mapping"),
    ({"metadata": {"name": "n"}, "spec": {"bgp": {"ipv4Address": 5}}}, "Calico node n: spec.bgp.ipv4Address: 5 is"),
    ({"metadata": {"name": "n"}, "spec": ["x"]}, "Calico node n: spec: ['x'] is not a mapping"),
    ({"metadata": "n"}, "Calico node (no name): metadata: 'n' is not a mapping"),
    ({"metadata": {"name": 7}}, "Calico node (no name): metadata.name: 7 is not a string"),
    ({"spec": {}}, "Calico node (no name): metadata.name: missing"),
    (["not", "a", "node"], "Calico node (no name): not a node object (list)"),
])
def test_a_malformed_node_is_one_trap_naming_the_field_and_the_others_stay(obj, message):
    snap = snapshot("etcdv3", [raw_node("bad", obj), v3_node("node1", "10.39.0.110/24")], [])
    hosts, warnings = node_hosts(snap["nodes"], snap["block_affinities"], traps=snap["traps"])
    assert [h["name"] for h in hosts] == ["node1"]
    assert len(warnings) == 1 and warnings[0].startswith("unreadable_node: " + message), warnings


def test_host_names_that_are_not_dns_names_and_duplicate_names_are_skipped_once_each():
    snap = snapshot("etcdv3", [v3_node("{{ lookup('pipe', 'id') }}", "10.39.0.5/24"), v3_node("node1", "10.39.0.110/24"),
                               raw_node("node1-copy", {"metadata": {"name": "node1"},
                                                       "spec": {"bgp": {"ipv4Address": "10.99.0.1/24"}}}),
                               v3_node("a" * 254, "10.39.0.6/24")], [])
    hosts, warnings = node_hosts(snap["nodes"], snap["block_affinities"], traps=snap["traps"])
    assert [(h["name"], h["vars"]["ansible_host"]) for h in hosts] == [("node1", "10.39.0.110")]
    assert len(warnings) == 3, warnings
    assert sum("is not a valid host name" in w for w in warnings) == 2
    assert "Calico node node1: metadata.name is also the name of another node" in " ".join(warnings)


def test_an_invalid_address_is_one_warning_and_a_block_key_that_is_no_cidr_is_refused():
    bad_block = Record("/calico/ipam/v2/host/node1/ipv4/block/not-a-block", AFFINITY, True, "6", "{}", {}, "etcdv3")
    snap = snapshot("etcdv3", [v3_node("node1", "999.1.1.1/24")], [bad_block, v3_affinity("node1", "192.168.70.0/26")])
    hosts, warnings = node_hosts(snap["nodes"], snap["block_affinities"], traps=snap["traps"])
    assert hosts[0]["vars"]["calico_blocks"] == ["192.168.70.0/26"]
    assert sorted(warnings) == [
        "Calico node node1: ipv4Address '999.1.1.1/24' is not an IPv4 address; no ansible_host and no subnet group",
        "unreadable_block_affinity: block affinity /calico/ipam/v2/host/node1/ipv4/block/not-a-block: key: "
        "'not-a-block' is not a block CIDR (a.b.c.d/prefix); it was skipped"]
    # ippool_info (no inventory warning of its own) gets the trap instead of "without its subnet prefix"
    assert [t["name"] for t in snap["traps"] if t["subject"] == "node1"] == ["node_address_invalid"]
