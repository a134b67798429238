"""k8snet.calico.ippool / ippool_info against a real etcd v3 (Calico v3 layout:
libcalico-go/lib/backend/model/resource.go)."""

from __future__ import annotations

import json

import pytest
from conftest import FELIX_KEY, FELIX_TEXT, POOL_KEY, POOL_TEXT, etcd_args, run_ansible, run_module, warnings_of

pytestmark = pytest.mark.usefixtures("seeded")


def test_info_reads_pools_felix_nodes_affinities_and_traps(seeded, capsys):
    result = run_module("ippool_info", etcd_args(seeded), capsys=capsys)
    assert result["changed"] is False
    pools = {p["name"]: p for p in result["pools"]}
    assert set(pools) == {"default-ipv4-ippool", "default-ipv6-ippool"}
    v4 = pools["default-ipv4-ippool"]
    assert (v4["cidr"], v4["ipip_mode"], v4["vxlan_mode"], v4["nat_outgoing"], v4["block_size"]) == (
        "192.168.0.0/16", "Never", "Never", True, 26)
    assert v4["raw"] == json.loads(POOL_TEXT)
    assert v4["key"] == POOL_KEY and v4["datastore"] == "etcdv3"
    assert result["felix"]["ipip_enabled"] is False
    assert {n["name"]: n["ipv4_prefix_length"] for n in result["nodes"]} == {"node1": 24, "node2": 32}
    assert {(a["node"], a["cidr"]) for a in result["block_affinities"]} == {
        ("node1", "192.168.70.0/26"), ("node2", "192.168.80.0/26")}
    names = {(t["name"], t["subject"]) for t in result["traps"]}
    assert ("felix_ipip_disabled", "felix") in names
    assert ("node_address_slash32", "node2") in names
    assert any("felix_ipip_disabled" in w for w in warnings_of(result))


def test_set_always_changes_exactly_ipipmode_then_idempotent(seeded, capsys):
    """Issue 3 'Done when': exactly spec.ipipMode changes; a second run reports no change."""
    before_rev = seeded.raw.revision()
    result = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert result["changed"] is True, result
    stored = seeded.raw.get(POOL_KEY)
    assert stored == POOL_TEXT.replace('"ipipMode":"Never"', '"ipipMode":"Always"')
    assert seeded.raw.revision() == before_rev + 1  # one write, no felix write without fix_felix_ipip
    assert result["pool"]["ipip_mode"] == "Always"
    assert result["previous"]["text"] == POOL_TEXT
    assert [w["what"] for w in result["writes"]] == ["pool"]
    assert any("felix_ipip_disabled" in w for w in warnings_of(result))

    again = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert again["changed"] is False
    assert again["writes"] == []
    assert seeded.raw.revision() == before_rev + 1


def test_v1_spelling_is_written_canonically(seeded, capsys):
    result = run_module("ippool", etcd_args(seeded, cidr="192.168.0.0/16", ipip_mode="cross-subnet"), capsys=capsys)
    assert result["changed"] is True
    assert json.loads(seeded.raw.get(POOL_KEY))["spec"]["ipipMode"] == "CrossSubnet"


def test_check_mode_reports_change_and_leaves_revision(seeded, capsys):
    before_rev = seeded.raw.revision()
    result = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always", fix_felix_ipip=True),
                        check=True, diff=True, capsys=capsys)
    assert result["changed"] is True
    assert result["pool"]["ipip_mode"] == "Always"
    assert result["diff"]["before"][POOL_KEY]["spec"]["ipipMode"] == "Never"
    assert result["diff"]["after"][POOL_KEY]["spec"]["ipipMode"] == "Always"
    assert result["diff"]["after"][FELIX_KEY]["spec"]["ipipEnabled"] is True
    assert seeded.raw.revision() == before_rev
    assert seeded.raw.get(POOL_KEY) == POOL_TEXT


def test_fix_felix_ipip_sets_true_and_returns_previous_felix(seeded, capsys):
    result = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always", vxlan_mode="Never",
                                            fix_felix_ipip=True), capsys=capsys)
    assert [w["what"] for w in result["writes"]] == ["pool", "felix"]
    felix = json.loads(seeded.raw.get(FELIX_KEY))
    assert felix["spec"]["ipipEnabled"] is True
    assert felix["spec"]["vxlanEnabled"] is True  # untouched
    assert result["previous_felix"]["text"] == FELIX_TEXT
    info = run_module("ippool_info", etcd_args(seeded), capsys=capsys)
    assert "felix_ipip_disabled" not in {t["name"] for t in info["traps"]}


def test_restore_previous_byte_for_byte_with_cas(seeded, capsys):
    change = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always", nat_outgoing=False),
                        capsys=capsys)
    assert json.loads(seeded.raw.get(POOL_KEY))["spec"].get("natOutgoing") is None
    written = change["writes"][0]["revision"]
    back = run_module("ippool", etcd_args(seeded, restore=change["previous"], expected_revision=written), capsys=capsys)
    assert back["changed"] is True
    assert seeded.raw.get(POOL_KEY) == POOL_TEXT
    again = run_module("ippool", etcd_args(seeded, restore=change["previous"]), capsys=capsys)
    assert again["changed"] is False


def test_restore_refuses_when_someone_changed_the_pool_since(seeded, capsys):
    change = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    seeded.raw.put(POOL_KEY, POOL_TEXT.replace('"ipipMode":"Never"', '"ipipMode":"CrossSubnet"'))
    rev = seeded.raw.revision()
    result = run_module("ippool", etcd_args(seeded, restore=change["previous"],
                                            expected_revision=change["writes"][0]["revision"]), capsys=capsys)
    assert result["failed"] is True
    assert "someone changed it" in result["msg"]
    assert seeded.raw.revision() == rev


def test_vxlan_to_ipip_needs_both_fields(seeded, capsys):
    seeded.raw.put(POOL_KEY, POOL_TEXT.replace('"vxlanMode":"Never"', '"vxlanMode":"Always"'))
    rev = seeded.raw.revision()
    bad = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert bad["failed"] is True and "vxlan_mode" in bad["msg"] and "Never" in bad["msg"]
    assert seeded.raw.revision() == rev
    good = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always", vxlan_mode="Never"),
                      capsys=capsys)
    assert good["changed"] is True
    assert json.loads(seeded.raw.get(POOL_KEY))["spec"]["vxlanMode"] == "Never"


BAD_INPUTS = [
    ({"name": "default-ipv4-ippool", "ipip_mode": "ALWAYS"}, ["ipip_mode", "ALWAYS", "CrossSubnet"]),
    ({"name": "default-ipv4-ippool", "ipip_mode": "Always", "vxlan_mode": "Always"}, ["ipip_mode Always", "vxlan_mode Always"]),
    ({"name": "default-ipv6-ippool", "ipip_mode": "Always"}, ["ipip_mode", "IPv6"]),
    ({"name": "no-such-pool", "ipip_mode": "Always"}, ["name", "no-such-pool", "default-ipv4-ippool"]),
    ({"name": "x; rm -rf / #", "ipip_mode": "Always"}, ["name", "x; rm -rf / #"]),
    ({"cidr": "10.9.0.0/16", "ipip_mode": "Always"}, ["cidr", "10.9.0.0/16"]),
    ({"cidr": "not-a-cidr", "ipip_mode": "Always"}, ["cidr", "not-a-cidr"]),
    ({"ipip_mode": "Always"}, ["name", "cidr", "restore"]),
    ({"name": "default-ipv4-ippool", "retries": -1}, ["retries", "-1"]),
    ({"restore": {"key": "/etc/passwd", "text": "x", "datastore": "etcdv3"}}, ["restore", "/etc/passwd"]),
    ({"restore": {"nothing": True}}, ["restore", "previous"]),
]


@pytest.mark.parametrize("args, fragments", BAD_INPUTS)
def test_bad_input_names_field_value_and_writes_nothing(seeded, capsys, args, fragments):
    rev = seeded.raw.revision()
    result = run_module("ippool", etcd_args(seeded, **args), capsys=capsys)
    assert result.get("failed") is True, result
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    assert "Traceback" not in json.dumps(result)
    assert seeded.raw.revision() == rev


def test_value_that_is_not_json_or_not_a_pool_is_named(seeded, capsys):
    seeded.raw.put("/calico/resources/v3/projectcalico.org/ippools/garbled", "{not json")
    seeded.raw.put("/calico/resources/v3/projectcalico.org/ippools/node-ish", '{"kind":"Node"}')
    rev = seeded.raw.revision()
    info = run_module("ippool_info", etcd_args(seeded), capsys=capsys)
    unreadable = {t["subject"] for t in info["traps"] if t["name"] == "unreadable_pool"}
    assert unreadable == {"/calico/resources/v3/projectcalico.org/ippools/garbled",
                          "/calico/resources/v3/projectcalico.org/ippools/node-ish"}
    bad = run_module("ippool", etcd_args(seeded, name="garbled", ipip_mode="Always"), capsys=capsys)
    assert bad["failed"] and "ippools/garbled" in bad["msg"]
    # The readable pool is still managed normally.
    ok = run_module("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always"), capsys=capsys)
    assert ok["changed"] is True
    assert seeded.raw.revision() == rev + 1


def test_unreachable_endpoint_is_named_with_advice(capsys):
    result = run_module("ippool_info", {"datastore": "etcdv3", "etcd_endpoints": ["http://127.0.0.1:9"]}, capsys=capsys)
    assert result["failed"] is True
    assert "http://127.0.0.1:9" in result["msg"] and "Check that etcd runs" in result["msg"]


def test_failover_to_the_next_endpoint(seeded, capsys):
    result = run_module("ippool_info", {"datastore": "etcdv3", "etcd_endpoints": ["http://127.0.0.1:9", seeded.url]},
                        capsys=capsys)
    assert len(result["pools"]) == 2


def test_missing_endpoints_option(capsys):
    result = run_module("ippool_info", {"datastore": "etcdv3"}, capsys=capsys)
    assert result["failed"] is True and "etcd_endpoints" in result["msg"]


def test_through_real_ansible_check_then_change_then_idempotent(seeded):
    args = etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="Always")
    rev = seeded.raw.revision()
    checked, _out = run_ansible("ippool", args, check=True, diff=True)
    assert checked["changed"] is True and seeded.raw.revision() == rev
    changed, _out = run_ansible("ippool", args)
    assert changed["changed"] is True
    assert seeded.raw.get(POOL_KEY) == POOL_TEXT.replace('"ipipMode":"Never"', '"ipipMode":"Always"')
    again, _out = run_ansible("ippool", args)
    assert again["changed"] is False
    restored, _out = run_ansible("ippool", etcd_args(seeded, restore=changed["previous"]))
    assert restored["changed"] is True and seeded.raw.get(POOL_KEY) == POOL_TEXT


def test_through_real_ansible_bad_mode_is_rejected_without_traceback(seeded):
    rev = seeded.raw.revision()
    result, output = run_ansible("ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="always-on"))
    assert result["failed"] is True
    assert "ipip_mode" in result["msg"] and "always-on" in result["msg"] and "CrossSubnet" in result["msg"]
    assert "Traceback" not in output
    assert seeded.raw.revision() == rev
