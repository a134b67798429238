"""plan_change: the pure decision of what to write, from records built out of the shared samples."""

from __future__ import annotations

import json

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import FELIX, INSTALLATION, POOL, Record
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_plan import PlanError, plan_change, snapshot_from_records
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import load


def rec(key, kind, obj, exists=True):
    return Record(key, kind, exists, "7", json.dumps(obj) if obj is not None else None, obj, "x")


def kdd_snapshot(labels=None, legacy=None):
    pool = load("kdd-ippool-crd.json")
    if labels:
        pool["metadata"]["labels"] = labels
    if legacy:
        pool["spec"]["ipip"] = legacy
    return snapshot_from_records(
        "kubernetes", [rec("/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool", POOL, pool)],
        rec("/apis/crd.projectcalico.org/v1/felixconfigurations/default", FELIX, load("kdd-felixconfiguration-kubespray.json")),
        rec("/apis/operator.tigera.io/v1/installations/default", INSTALLATION, load("operator-installation.json")))


def test_plain_change_writes_pool_and_only_fixes_felix_when_asked():
    plan = plan_change(kdd_snapshot(), {"name": "default-ipv4-ippool", "ipip_mode": "Always"})
    assert [w["what"] for w in plan["writes"]] == ["pool"]
    plan = plan_change(kdd_snapshot(), {"name": "default-ipv4-ippool", "ipip_mode": "Always", "fix_felix_ipip": True})
    assert [w["what"] for w in plan["writes"]] == ["pool", "felix"]
    assert plan["writes"][1]["new"]["spec"]["ipipEnabled"] is True


def test_no_change_no_writes():
    assert plan_change(kdd_snapshot(), {"name": "default-ipv4-ippool", "ipip_mode": "Never"})["writes"] == []


@pytest.mark.parametrize("request_, fragment", [
    ({"name": "default-ipv4-ippool", "vxlan_mode": "Always", "ipip_mode": "CrossSubnet"}, "vxlan_mode"),
    ({"name": "default-ipv4-ippool", "ipip_mode": "Alway"}, "ipip_mode: 'Alway'"),
    ({"name": "default-ipv4-ippool", "nat_outgoing": "yes"}, "nat_outgoing: 'yes' is not a boolean"),
    ({"ipip_mode": "Always"}, "name or cidr"),
    ({"cidr": "10.0.0.0/8", "ipip_mode": "Always"}, "cidr: no IP pool with cidr '10.0.0.0/8'"),
])
def test_refusals(request_, fragment):
    with pytest.raises(PlanError) as err:
        plan_change(kdd_snapshot(), request_)
    assert fragment in str(err.value)


def test_operator_managed_fails_or_edits_installation():
    snap = kdd_snapshot(labels={"app.kubernetes.io/managed-by": "tigera-operator"})
    with pytest.raises(PlanError, match="operator_managed: pool default-ipv4-ippool carries"):
        plan_change(snap, {"name": "default-ipv4-ippool", "ipip_mode": "Always"})
    plan = plan_change(snap, {"name": "default-ipv4-ippool", "ipip_mode": "Always", "operator_managed": "edit_installation"})
    (write,) = plan["writes"]
    assert write["what"] == "installation"
    assert write["new"]["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "IPIP"
    assert plan["pool_after"]["ipip_mode"] == "Always"


def test_legacy_ipip_needs_strip():
    snap = kdd_snapshot(legacy={"enabled": False})
    with pytest.raises(PlanError, match="strip_legacy_ipip"):
        plan_change(snap, {"name": "default-ipv4-ippool", "ipip_mode": "Always"})
    plan = plan_change(snap, {"name": "default-ipv4-ippool", "ipip_mode": "Always", "strip_legacy_ipip": True})
    assert "ipip" not in plan["writes"][0]["new"]["spec"]


def test_etcdv2_always_sets_global_felix_key_when_enabling():
    snap = snapshot_from_records("etcdv2", [rec("/calico/v1/ipam/v4/pool/192.168.0.0-16", POOL, json.loads(
        '{"cidr":"192.168.0.0/16","ipip":"","ipip_mode":"","masquerade":true,"ipam":true,"disabled":false}'))],
        Record("/calico/v1/config/IpInIpEnabled", FELIX, exists=False, datastore="etcdv2"))
    plan = plan_change(snap, {"cidr": "192.168.0.0/16", "ipip_mode": "cross-subnet"})
    assert [(w["what"], w["new"]) for w in plan["writes"]][1] == ("felix", "true")
    assert plan["writes"][0]["new"]["ipip_mode"] == "cross-subnet"


def test_switching_to_vxlan_fixes_felix_vxlan_only_when_asked():
    felix = load("kdd-felixconfiguration-kubespray.json")
    felix["spec"].update(ipipEnabled=True, vxlanEnabled=False)
    snapshot = snapshot_from_records(
        "kubernetes", [rec("/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool", POOL,
                           load("kdd-ippool-crd.json"))],
        rec("/apis/crd.projectcalico.org/v1/felixconfigurations/default", FELIX, felix))
    change = {"name": "default-ipv4-ippool", "ipip_mode": "Never", "vxlan_mode": "Always"}
    plan = plan_change(snapshot, change)
    assert [w["what"] for w in plan["writes"]] == ["pool"]
    assert [t["name"] for t in plan["traps"]] == ["felix_vxlan_disabled"]
    plan = plan_change(snapshot, dict(change, fix_felix_vxlan=True, fix_felix_ipip=True))
    assert [w["what"] for w in plan["writes"]] == ["pool", "felix"]
    assert plan["writes"][1]["new"]["spec"]["vxlanEnabled"] is True
    assert plan["writes"][1]["new"]["spec"]["ipipEnabled"] is True  # (already: no IPIP pool asks for it)
    assert "felix_vxlan_disabled" not in [t["name"] for t in plan["traps"]]
