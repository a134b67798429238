"""Issue 15: the run's result is never a false "ok". Real ansible-playbook runs of enable_ipip.yml against the
suite's etcd and the namespace nodes of _reliability_env.py.

A run whose routes verify but whose probe through the tunnel fails, with ipip_rollback_on_failure, rolls the pools
back: its result is ``rolled_back`` and it exits non-zero (before: the report graded the pre-rollback verdicts by
``converged``, which the probe does not lower, and said ``result: ok``, exit 0).

The probe's failing target is 255.255.255.255: ping refuses a broadcast address without -b and exits at once, so
the probe fails without sending a packet anywhere (the nodes' ``raw`` commands run on this machine with the local
connection; no test sends traffic outside the lab's namespaces).
"""

from __future__ import annotations

import json

import pytest
from _reliability_env import Cluster, can_make_namespaces, etcd_dump, run_playbook, seed_cluster
from conftest import POOL_KEY, POOLS

pytestmark = pytest.mark.skipif(not can_make_namespaces(), reason="needs root, iproute2 and /usr/bin/python3")

TARGET_KEY = POOLS + "ipip-pool"
SILENT_TARGET = "255.255.255.255"


def target_pool_text():
    # The pool this run changes holds no blocks: with no ipip driver here no namespace can have a real tunl0, so the
    # routes verify (only the untouched pool's, judged by its own mode) and only the probe can fail.
    return json.dumps({
        "kind": "IPPool", "apiVersion": "projectcalico.org/v3",
        "metadata": {"name": "ipip-pool", "uid": "7a1c0000-0000-4000-8000-000000000099",
                     "creationTimestamp": "2026-10-01T08:00:00Z"},
        "spec": {"cidr": "10.250.0.0/16", "vxlanMode": "Never", "ipipMode": "Never", "natOutgoing": True,
                 "blockSize": 26, "nodeSelector": "all()", "allowedUses": ["Workload", "Tunnel"]}},
        separators=(",", ":"))


@pytest.fixture
def nodes(tmp_path):
    (tmp_path / "cluster").mkdir()
    with Cluster.made(tmp_path / "cluster") as cluster:
        yield cluster


def test_probe_failure_with_rollback_is_rolled_back_and_exits_non_zero(etcd, nodes, tmp_path):
    raw = etcd.raw
    seed_cluster(raw)
    raw.put(TARGET_KEY, target_pool_text())
    nodes.settle()
    before = etcd_dump(raw)
    report = tmp_path / "report"
    report.mkdir()
    inventory = nodes.inventory({"datastore": "etcdv3", "etcd_endpoints": [etcd.url]},
                                {"ipip_report_dir": str(report), "ipip_verify_timeout": 4, "ipip_verify_interval": 1},
                                name="inventory-probe.json")
    rc, output, _log = run_playbook("enable_ipip.yml", inventory, tmp_path, extra_vars={
        "ipip_pools": ["ipip-pool"], "ipip_probe": True, "ipip_probe_targets": [SILENT_TARGET],
        "ipip_rollback_on_failure": True})
    assert "Traceback" not in output

    data = json.loads((report / "report.json").read_text())
    verified = {n["host"]: n for n in data["verification"]["nodes"]}
    # the premise: the routes verified, only the probe failed
    for host in ("node1", "node2"):
        assert verified[host]["blocks_bad"] == 0 and verified[host]["converged"] is True, verified[host]
        assert verified[host]["probe"] == {SILENT_TARGET: "no reply"}, verified[host]
        assert verified[host]["ok"] is False
    assert data["rollback"]["performed"] is True and data["rollback"]["reason"] == "verification_failed"
    assert data["result"] == "rolled_back", data["result"]
    # the restored pools were verified on every node, as the rollback's own result
    restored = data["rollback"]["verification"]
    assert restored["converged"] is True and restored["hosts_converged"] == 2, restored
    assert {n["host"] for n in restored["nodes"]} == {"node1", "node2"}
    assert rc != 0, output[-3000:]
    assert "Rolled back (the change did not verify" in output
    # the change was undone: the pool as stored before, every other key untouched
    after = etcd_dump(raw)
    assert after[TARGET_KEY][0] == before[TARGET_KEY][0]
    assert {k: v for k, v in after.items() if k != TARGET_KEY} == {k: v for k, v in before.items() if k != TARGET_KEY}
    assert after[POOL_KEY] == before[POOL_KEY]
    summary = (report / "report.txt").read_text()
    assert "rolled_back" in summary, summary


def test_the_role_main_entry_point_rolls_back_as_the_playbook_does(etcd, nodes, tmp_path):
    """include_role of k8snet.calico.ipip (tasks/main.yml) honours ipip_rollback_on_failure, as enable_ipip.yml
    does (before: main documented the option and never rolled back). Verification fails on every node here (nothing
    creates tunl0 in the namespaces), so the pool must come back as stored."""
    raw = etcd.raw
    seed_cluster(raw)
    nodes.settle()
    before = etcd_dump(raw)
    report = tmp_path / "report"
    report.mkdir()
    playbook = tmp_path / "site.yml"
    playbook.write_text(
        "- hosts: calico_nodes\n  gather_facts: false\n  tasks:\n"
        "    - name: The whole flow\n      ansible.builtin.include_role: {name: k8snet.calico.ipip}\n")
    inventory = nodes.inventory({"datastore": "etcdv3", "etcd_endpoints": [etcd.url]},
                                {"ipip_report_dir": str(report), "ipip_verify_timeout": 3, "ipip_verify_interval": 1,
                                 "ipip_rollback_on_failure": True}, name="inventory-main.json")
    rc, output, _log = run_playbook(str(playbook), inventory, tmp_path)
    assert "Traceback" not in output
    assert rc != 0, output[-3000:]
    assert raw.get(POOL_KEY) == before[POOL_KEY][0], "the pool was not rolled back"
    data = json.loads((report / "report.json").read_text())
    assert data["rollback"]["performed"] is True and data["result"] == "rolled_back", data["rollback"]
    # the verification of the change (failed) and that of the restored pools (converged back) are both reported
    assert data["verification"]["ok"] is False
    restored = data["rollback"]["verification"]
    assert restored["converged"] is True and {n["host"] for n in restored["nodes"]} == {"node1", "node2"}, restored
