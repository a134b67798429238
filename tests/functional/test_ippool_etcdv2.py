"""k8snet.calico.ippool / ippool_info against a real etcd's v2 keys API (Calico v2 layout:
libcalico-go v1.7.3 lib/backend/model)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import V2_FELIX_KEY, V2_POOL_KEY, V2_POOL_TEXT, etcd_args, run_ansible, run_module

from ansible_collections.k8snet.calico.plugins.module_utils._datastore_etcdv2 import EtcdV2Datastore
from ansible_collections.k8snet.calico.plugins.module_utils._etcd_http import EtcdHTTP
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_ops import ensure

pytestmark = pytest.mark.usefixtures("seeded")


def v2_args(proc, **extra):
    return etcd_args(proc, datastore="etcdv2", **extra)


def test_info_reads_v2_pool_nodes_and_missing_felix_key(seeded, capsys):
    info = run_module("ippool_info", v2_args(seeded), capsys=capsys)
    (pool,) = info["pools"]
    assert (pool["name"], pool["cidr"], pool["ipip_mode"], pool["nat_outgoing"], pool["format"]) == (
        "192.168.0.0/16", "192.168.0.0/16", "Never", True, "v1-kv")
    assert info["felix"] == {"name": "global", "ipip_enabled": None, "vxlan_enabled": None, "vxlan_vni": None,
                             "vxlan_port": None, "key": V2_FELIX_KEY}
    nodes = {n["name"]: n for n in info["nodes"]}
    assert nodes["node1"]["ipv4_address"] == "10.0.1.5/24"
    assert nodes["node1"]["ipip_tunnel_address"] == "192.168.70.0"
    assert info["block_affinities"] == [{"node": "node1", "cidr": "192.168.70.0/26", "state": "confirmed"}]


def test_enable_ipip_sets_pool_fields_and_global_felix_key(seeded, capsys):
    before = seeded.raw.v2_index()
    result = run_module("ippool", v2_args(seeded, cidr="192.168.0.0/16", ipip_mode="always"), diff=True, capsys=capsys)
    assert result["changed"] is True
    assert seeded.raw.v2_get(V2_POOL_KEY) == V2_POOL_TEXT.replace('"ipip":"","ipip_mode":""', '"ipip":"tunl0","ipip_mode":"always"')
    assert seeded.raw.v2_get(V2_FELIX_KEY) == "true"
    assert [w["what"] for w in result["writes"]] == ["pool", "felix"]
    assert result["previous_felix"]["exists"] is False
    assert seeded.raw.v2_index() == before + 2
    assert result["pool"]["ipip_mode"] == "Always"

    again = run_module("ippool", v2_args(seeded, cidr="192.168.0.0/16", ipip_mode="Always"), capsys=capsys)
    assert again["changed"] is False and seeded.raw.v2_index() == before + 2

    # Roll back both: the pool byte for byte, and the Felix key back to absent.
    run_module("ippool", v2_args(seeded, restore=result["previous"]), capsys=capsys)
    run_module("ippool", v2_args(seeded, restore=result["previous_felix"]), capsys=capsys)
    assert seeded.raw.v2_get(V2_POOL_KEY) == V2_POOL_TEXT
    assert seeded.raw.v2_get(V2_FELIX_KEY) is None


def test_check_mode_leaves_the_v2_index(seeded, capsys):
    before = seeded.raw.v2_index()
    result = run_module("ippool", v2_args(seeded, name="192.168.0.0/16", ipip_mode="CrossSubnet"), check=True, capsys=capsys)
    assert result["changed"] is True
    assert seeded.raw.v2_index() == before and seeded.raw.v2_get(V2_POOL_KEY) == V2_POOL_TEXT


@pytest.mark.parametrize("args, fragment", [
    ({"cidr": "192.168.0.0/16", "vxlan_mode": "Always"}, "vxlan_mode: Always is not possible on the Calico v2 pool"),
    ({"cidr": "192.168.0.0/16", "ipip_mode": "Cross-Subnet"}, "ipip_mode"),
    ({"cidr": "10.0.0.0/8", "ipip_mode": "Always"}, "cidr"),
])
def test_v2_bad_input_writes_nothing(seeded, capsys, args, fragment):
    before = seeded.raw.v2_index()
    result = run_module("ippool", v2_args(seeded, **args), capsys=capsys)
    assert result["failed"] is True and fragment in result["msg"]
    assert seeded.raw.v2_index() == before


def test_v2_pool_value_not_json_is_reported(seeded, capsys):
    seeded.raw.v2("PUT", "/calico/v1/ipam/v4/pool/10.5.0.0-16", value="garbage")
    info = run_module("ippool_info", v2_args(seeded), capsys=capsys)
    assert [t["subject"] for t in info["traps"] if t["name"] == "unreadable_pool"] == ["/calico/v1/ipam/v4/pool/10.5.0.0-16"]


def test_v2_concurrent_writers_lose_nothing(seeded):
    """prevIndex compare-and-swap: two writers on different fields, repeatedly; both final values survive."""
    def writer(field, values):
        ds = EtcdV2Datastore(EtcdHTTP([seeded.url]))
        for value in values:
            ensure(ds, {"cidr": "192.168.0.0/16", field: value}, retries=50)

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(writer, "ipip_mode", ["Always", "Never"] * 5 + ["CrossSubnet"]),
                   pool.submit(writer, "nat_outgoing", [False, True] * 5 + [False])]
        for future in futures:
            future.result()
    value = json.loads(seeded.raw.v2_get(V2_POOL_KEY))
    assert (value["ipip"], value["ipip_mode"], value["masquerade"]) == ("tunl0", "cross-subnet", False)


def test_v2_through_real_ansible(seeded):
    result, _out = run_ansible("ippool", v2_args(seeded, cidr="192.168.0.0/16", ipip_mode="Always"))
    assert result["changed"] is True
    assert json.loads(seeded.raw.v2_get(V2_POOL_KEY))["ipip"] == "tunl0"


def test_pycalico_pool_value_with_the_cidr_alone_is_reported_and_enabled(seeded, capsys):
    """Calico 1.x / pycalico stored {"cidr": ...} alone for a pool with IPIP and NAT off (fixtures/calico/SOURCES.md)."""
    key = "/calico/v1/ipam/v4/pool/10.233.64.0-18"
    seeded.raw.v2("PUT", key, value='{"cidr": "10.233.64.0/18"}')
    info = run_module("ippool_info", v2_args(seeded), capsys=capsys)
    pools = {p["cidr"]: p for p in info["pools"]}
    assert pools["10.233.64.0/18"]["ipip_mode"] == "Never" and pools["10.233.64.0/18"]["nat_outgoing"] is False
    assert "unreadable_pool" not in [t["name"] for t in info["traps"]]
    change = run_module("ippool", v2_args(seeded, cidr="10.233.64.0/18", ipip_mode="Always"), capsys=capsys)
    assert change["changed"] is True and change["previous"]["text"] == '{"cidr": "10.233.64.0/18"}'
    assert json.loads(seeded.raw.v2_get(key))["ipip"] == "tunl0"
