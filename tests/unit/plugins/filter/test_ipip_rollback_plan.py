"""ipip_rollback_plan: what a rollback restores, from ippool change results."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_rollback_plan import ipip_rollback_plan

POOL_KEY = "/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool"
FELIX_KEY = "/calico/resources/v3/projectcalico.org/felixconfigurations/default"
OTHER_KEY = "/calico/resources/v3/projectcalico.org/ippools/second"


def previous(key, revision):
    return {"datastore": "etcdv3", "key": key, "kind": "IPPool", "exists": True, "revision": revision,
            "text": "{}", "object": {}}


def test_changed_pools_and_felix_once_with_the_last_revision():
    results = [
        {"changed": True, "previous": previous(POOL_KEY, "10"), "previous_felix": previous(FELIX_KEY, "11"),
         "writes": [{"key": POOL_KEY, "revision": "20", "what": "pool"},
                    {"key": FELIX_KEY, "revision": "21", "what": "felix"}]},
        {"changed": True, "previous": previous(OTHER_KEY, "12"), "previous_felix": previous(FELIX_KEY, "21"),
         "writes": [{"key": OTHER_KEY, "revision": "22", "what": "pool"},
                    {"key": FELIX_KEY, "revision": "23", "what": "felix"}]},
        {"changed": False, "previous": previous("/calico/x", "1"), "writes": []},
    ]
    plan = ipip_rollback_plan(results)
    assert [(p["restore"]["key"], p["restore"]["revision"], p["expected_revision"]) for p in plan] == [
        (POOL_KEY, "10", "20"), (FELIX_KEY, "11", "23"), (OTHER_KEY, "12", "22")]


def test_check_mode_results_restore_nothing():
    assert ipip_rollback_plan([{"changed": True, "previous": previous(POOL_KEY, "10"), "writes": []}]) == []


def test_input_must_be_a_list():
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        ipip_rollback_plan({"results": []})
