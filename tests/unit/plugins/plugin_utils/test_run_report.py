"""The report phase in one value (plugin_utils/_run_report.py, filter ipip_run_report): report.json's fields, the
three files, the set_stats summary and the failure message, on verdicts made by ipip_verdict from the seed's own
captures (node1 before and after the fix)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.k8snet.calico.plugins.filter.ipip_run_report import ipip_run_report
from ansible_collections.k8snet.calico.plugins.filter.ipip_verdict import ipip_verdict
from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import parse_routes
from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import describe_node, parse_pools
from ansible_collections.k8snet.calico.tests.unit.iproute_fixtures import capture

NODES = [{"name": "node1", "ipv4_address": "10.39.0.110/24"}, {"name": "node2", "ipv4_address": "10.39.3.75/24"}]
AFFINITIES = [{"node": "node1", "cidr": "192.168.70.0/26"}, {"node": "node2", "cidr": "192.168.169.192/26"}]
POOL_NEVER = {"name": "default-ipv4-ippool", "cidr": "192.168.0.0/16", "ipip_mode": "Never", "vxlan_mode": "Never"}
POOL_ALWAYS = dict(POOL_NEVER, ipip_mode="Always")
CALICO = {"pools": [POOL_NEVER], "traps": [{"name": "felix_ipip_disabled", "subject": "default", "message": "m"}]}
CHANGES = [{"item": {"name": "default-ipv4-ippool", "cidr": "192.168.0.0/16"}, "changed": True, "pool": POOL_ALWAYS}]


def node1(state):
    # routes only (the seed's captures give no tunnel device to judge): the blocks decide
    facts = describe_node(parse_routes(capture("seed-%s.routes.txt" % state))[0], None,
                          parse_pools(["192.168.0.0/16"]), "tunl0")
    return {"node1": facts}


DIAGNOSIS = ipip_verdict(node1("before"), nodes=NODES, affinities=AFFINITIES, pools=[POOL_NEVER])
AFTER = ipip_verdict(node1("after"), nodes=NODES, affinities=AFFINITIES, pools=[POOL_ALWAYS])["nodes"]


def report(verdicts=tuple(AFTER), hosts=("node1",), **kwargs):
    args = dict(diagnosis=DIAGNOSIS, calico=CALICO, changes=CHANGES, mode="Always", datastore="etcdv2",
                report_dir="/tmp/r", backup_file="/tmp/r/pool-backup.json")
    args.update(kwargs)
    return ipip_run_report(list(verdicts), list(hosts), **args)


def test_a_verified_run_is_ok_with_every_field_and_file():
    out = report()
    assert AFTER[0]["ok"] is True and DIAGNOSIS["nodes"][0]["ok"] is False  # the seed: broken, then fixed
    rep = out["report"]
    assert rep["result"] == "ok" and rep["mode"] == "Always" and rep["schema"] == "k8snet.calico/ipip-report/v1"
    assert rep["pools_changed"] == {"default-ipv4-ippool": True} and rep["pools_after"] == [POOL_ALWAYS]
    assert rep["pools_before"] == [POOL_NEVER] and rep["traps"] == CALICO["traps"]
    assert rep["verification"]["hosts_ok"] == 1 and rep["unreachable"] == []
    files = dict((f["name"], f["content"]) for f in out["files"])
    assert sorted(files) == ["report.json", "report.txt", "report.xml"]
    assert json.loads(files["report.json"]) == json.loads(json.dumps(rep))
    assert files["report.txt"].startswith("Before: 0 of 1 nodes fine") and "After (IPIP Always): ok" in files["report.txt"]
    assert ET.fromstring(files["report.xml"]).find("testsuite/testcase/failure") is None
    assert out["failure"] == ""
    assert out["summary"] == {
        "result": "ok", "check_mode": False, "mode": "Always", "datastore": "etcdv2", "hosts_ok": 1, "hosts_bad": 0,
        "unreachable": [], "pools_changed": {"default-ipv4-ippool": True}, "rollback": {"performed": False},
        "reports": {"json": "/tmp/r/report.json", "xml": "/tmp/r/report.xml", "txt": "/tmp/r/report.txt"},
        "backup_file": "/tmp/r/pool-backup.json"}
    assert out["lines"][-1] == "Report: /tmp/r/report.json, report.xml, report.txt"


def test_bad_blocks_of_pools_outside_the_run_are_warnings_under_the_table():
    outside = dict(AFTER[0], blocks_bad_out_of_scope=1, blocks=[
        {"block": "10.244.1.0/26", "pool": "flat-pool", "in_scope": False, "cause": "via_gateway",
         "detail": "next hop 10.39.0.1 is the default gateway"}])
    text = report([outside])["files"][2]["content"]
    assert ("warning: node1: 1 bad route(s) to blocks of pools this run did not change, first 10.244.1.0/26 (pool "
            "flat-pool): via_gateway (next hop 10.39.0.1 is the default gateway)") in text


def test_unresolved_names_the_unreachable_and_the_bad_hosts():
    bad = [dict(AFTER[0], ok=False)]
    out = report(bad, hosts=("node1", "node2"))
    assert out["report"]["result"] == "unresolved" and out["summary"]["hosts_bad"] == 2
    assert out["failure"] == "Unresolved: node2 (unreachable), node1. See /tmp/r/report.txt."


def test_a_rollback_is_named_and_has_no_mode():
    out = report([dict(AFTER[0], ok=False)], rollback={"performed": True, "reason": "verification_failed"},
                 rollback_verdicts=DIAGNOSIS["nodes"])
    assert out["report"]["result"] == "rolled_back" and out["report"]["mode"] is None
    assert out["summary"]["mode"] is None
    assert out["failure"].startswith("Rolled back (the change did not verify; the previous pools were restored): node1")
    assert "After (pools restored): rolled_back" in out["files"][2]["content"]


def test_check_mode_reports_the_diagnosis():
    out = report([], changes=[dict(CHANGES[0], changed=True)], check_mode=True, backup_file=None)
    assert out["report"]["verification"] is None and out["report"]["check_mode"] is True
    assert out["summary"]["hosts_bad"] == 1 and out["summary"]["backup_file"] is None
    assert "After" not in out["files"][2]["content"]


def test_a_nameless_pool_is_keyed_by_its_cidr_and_a_failed_item_has_no_pool_after():
    out = report(changes=[{"item": {"name": None, "cidr": "10.244.0.0/16"}, "changed": False, "failed": True}])
    assert out["report"]["pools_changed"] == {"10.244.0.0/16": False} and out["report"]["pools_after"] == []


def test_no_text_is_templated_again():
    """Node and pool names come from the datastore: ansible-core < 2.19 templates a plain string again when it is
    used (the filter returns its texts unsafe), 2.19+ never templates what a filter returned."""
    payload = "{{ 7 * 6 }}"
    calico = dict(CALICO, pools=[dict(POOL_NEVER, name="evil" + payload)])
    changes = [{"item": {"name": "evil" + payload}, "changed": True, "pool": POOL_ALWAYS}]
    out = report([dict(AFTER[0], ok=False, host="node1" + payload)], hosts=["node1" + payload], calico=calico,
                 changes=changes)
    templar = Templar(loader=DataLoader())
    for text in [f["content"] for f in out["files"]] + out["lines"] + [out["failure"]]:
        assert str(templar.template(text)) == str(text)
    assert payload in out["failure"] and payload in out["files"][0]["content"]


@pytest.mark.parametrize("kwargs, field", [
    ({"calico": {"traps": []}}, "calico"),
    ({"changes": "x"}, "changes"),
    ({"changes": [5]}, "changes"),
    ({"diagnosis": {"ok": True}}, "diagnosis"),
])
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(AnsibleFilterError, match="ipip_run_report: %s: " % field):
        report(**kwargs)
