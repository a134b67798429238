"""kubespray fit: the group_vars kubespray's inventory needs for the pool it manages (docs/kubespray.md), judged on the
pools as the KDD CRD sample normalises (kdd-ippool-crd.json, renamed to kubespray's default-pool)."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_kubespray_fit import ipip_kubespray_fit
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_model import normalise_pool
from ansible_collections.k8snet.calico.plugins.plugin_utils._kubespray import kubespray_fit
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import load


def pool(name="default-pool", **spec):
    obj = load("kdd-ippool-crd.json")
    obj["metadata"]["name"] = name
    obj["spec"].update(spec)
    return normalise_pool(obj, "kubernetes", "/apis/crd.projectcalico.org/v1/ippools/" + name, "1")


# the incident's kubespray inventory: BGP without encapsulation
INCIDENT = {"calico_ipip_mode": "Never", "calico_vxlan_mode": "Never", "calico_network_backend": "bird"}


def test_after_enabling_ipip_the_inventory_must_follow():
    before = pool()
    after = pool(ipipMode="CrossSubnet")
    fit = kubespray_fit([after, before], INCIDENT)
    assert fit["group_vars"] == {"calico_ipip_mode": "CrossSubnet", "calico_vxlan_mode": "Never",
                                 "calico_network_backend": "bird"}
    assert fit["mismatch"] == ["calico_ipip_mode"]
    trap = fit["trap"]
    assert (trap["name"], trap["subject"], trap["group_vars"]) == ("kubespray_inventory_mismatch", "default-pool",
                                                                   fit["group_vars"])
    assert "is now ipipMode CrossSubnet, vxlanMode Never, but its inventory says calico_ipip_mode: Never" in trap["message"]
    assert "Your inventory doesn't match the current cluster configuration" in trap["message"]
    assert "ipipEnabled: true once calico_ipip_mode is CrossSubnet" in trap["message"]
    assert trap["message"].endswith("calico_ipip_mode: CrossSubnet, calico_vxlan_mode: Never, "
                                    "calico_network_backend: bird")
    assert fit["lines"] == [
        "kubespray: set these in its inventory (group_vars/k8s_cluster/k8s-net-calico.yml) before its next cluster.yml:",
        "  calico_ipip_mode: CrossSubnet", "  calico_vxlan_mode: Never", "  calico_network_backend: bird"]
    assert "would be" in kubespray_fit([after], INCIDENT, check_mode=True)["trap"]["message"]


def test_unset_variables_are_kubesprays_defaults():
    fit = kubespray_fit([pool(ipipMode="Always")], {})
    assert fit["current"] == {"calico_ipip_mode": "Never", "calico_vxlan_mode": "Always",
                              "calico_network_backend": "vxlan"}
    assert fit["mismatch"] == ["calico_ipip_mode", "calico_vxlan_mode", "calico_network_backend"]


def test_an_inventory_that_matches_has_no_trap():
    aligned = dict(INCIDENT, calico_ipip_mode="Always")
    fit = kubespray_fit([pool(ipipMode="Always")], aligned)
    assert fit["trap"] is None and fit["mismatch"] == []
    assert fit["lines"][0] == "kubespray: its inventory already matches pool default-pool:"


def test_the_pool_kubespray_manages_is_found_by_calico_pool_name():
    pools = [pool("default-ipv4-ippool", ipipMode="Always"), pool("k8s-pods")]
    fit = kubespray_fit(pools, dict(INCIDENT, calico_pool_name="k8s-pods"))
    assert fit["pool"] == "k8s-pods" and fit["trap"] is None
    missing = kubespray_fit(pools, INCIDENT)
    assert missing["found"] is False and missing["trap"] is None
    assert missing["lines"] == ["kubespray: its pool default-pool (calico_pool_name) is not in the datastore; "
                                "nothing to align"]


def test_a_rolled_back_pool_against_an_already_updated_inventory():
    """After a rollback the live pool is Never again: an inventory already set to Always must go back too."""
    fit = kubespray_fit([pool()], dict(INCIDENT, calico_ipip_mode="Always"))
    assert fit["mismatch"] == ["calico_ipip_mode"]
    assert "ipipEnabled: false" in fit["trap"]["message"]


def test_filter_checks_its_input():
    with pytest.raises(AnsibleFilterError, match="input must be a list of pools, got dict"):
        ipip_kubespray_fit({"name": "default-pool"})
    assert ipip_kubespray_fit([copy.deepcopy(pool())], INCIDENT)["trap"] is None
