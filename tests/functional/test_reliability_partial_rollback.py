"""A pool change that fails part-way can still be rolled back: enable_ipip.yml writes the pool, then the Felix
configuration write keeps losing to another writer until ippool's retries run out. The run must fail (with the
module's own message), but the backup must hold the pool it did write, and playbooks/rollback.yml must put that pool
back byte for byte while leaving the other writer's Felix configuration alone.

The race is forced, not waited for: an HTTP proxy in front of the suite's real etcd (as in
test_reliability_concurrency.py) writes the Felix configuration straight to etcd just before forwarding any
transaction on that key, so every compare-and-swap of it loses, and nothing else. Nodes are the network namespaces
of _reliability_env.py, read by the real node_routes_info.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from _reliability_env import EtcdTxnProxy, can_make_namespaces, cluster_fixtures, etcd_dump, run_playbook
from conftest import FELIX_KEY, FELIX_TEXT, POOL_KEY, POOL_TEXT

pytestmark = pytest.mark.skipif(not can_make_namespaces(), reason="needs root, iproute2 and /usr/bin/python3")

ENABLE_TASK = "TASK [k8snet.calico.ipip : Set the IPIP mode on each chosen pool]"
SAVE_TASK = "TASK [k8snet.calico.ipip : Save the exact previous objects of everything written, for a rollback]"
RESTORE_TASK = "TASK [k8snet.calico.ipip : Restore each saved object]"
ROLE_RETRIES = 5  # ippool's default; the role does not set it


class FelixInterferingProxy(EtcdTxnProxy):
    """Forwards everything to etcd; before a transaction that compares the Felix configuration's key, another
    writer changes that object (an unrelated field, ipipEnabled still false), so the transaction loses."""

    def __init__(self, raw, target):
        self.interfered = []
        self.transactions = []
        felix_key = base64.b64encode(FELIX_KEY.encode()).decode()

        def on_txn(body):
            keys = [c.get("key") for c in json.loads(body).get("compare") or []]
            self.transactions.append([base64.b64decode(k).decode() for k in keys if k])
            if felix_key in keys:
                severity = "Debug" if len(self.interfered) % 2 == 0 else "Warning"
                raw.put(FELIX_KEY, FELIX_TEXT.replace('"logSeverityScreen":"Info"',
                                                      '"logSeverityScreen":"%s"' % severity))
                self.interfered.append(raw.mod_revision(FELIX_KEY))

        super().__init__(target, on_txn)


nodes, seeded_cluster = cluster_fixtures("reliability-partial")


@pytest.fixture
def felix_proxy(seeded_cluster):
    proxy = FelixInterferingProxy(seeded_cluster.raw, seeded_cluster.url)
    yield proxy
    proxy.stop()


def inventory(nodes, endpoint, report_dir, **extra):
    # the option's name before 0.2.0 (now ipip_fix_felix_ipip): the deprecated name must keep working
    vars_ = {"ipip_report_dir": str(report_dir), "ipip_verify_timeout": 2, "ipip_verify_interval": 1,
             "ipip_fix_felix_ipip_enabled": True}
    vars_.update(extra)
    return nodes.inventory({"datastore": "etcdv3", "etcd_endpoints": [endpoint]}, vars_,
                           name="inventory-%s.json" % uuid.uuid4().hex[:6])


def task_output(output, title):
    """The console lines of one task (up to the next TASK/PLAY header); '' when it did not run."""
    start = output.find(title)
    if start < 0:
        return ""
    end = min([i for i in (output.find("\nTASK [", start + 1), output.find("\nPLAY ", start + 1)) if i > 0],
              default=len(output))
    return output[start:end]


def test_pool_written_before_felix_lost_is_saved_and_rolled_back(seeded_cluster, nodes, felix_proxy, tmp_path):
    etcd = seeded_cluster
    report = tmp_path / "report"
    report.mkdir()
    rc, output, _log = run_playbook("enable_ipip.yml", inventory(nodes, felix_proxy.url, report), tmp_path,
                                    extra_vars={"ipip_pools": ["default-ipv4-ippool"]})
    assert "Traceback" not in output
    assert "[DEPRECATED] ipip_fix_felix_ipip_enabled will be removed in k8snet.calico 2.0.0; use ipip_fix_felix_ipip" \
        in " ".join(output.split()), output[-3000:]

    # The premise: the pool went through, then every Felix compare-and-swap lost to the other writer.
    pool_after = json.loads(etcd.raw.get(POOL_KEY))
    assert pool_after["spec"]["ipipMode"] == "Always", output[-3000:]
    assert len(felix_proxy.interfered) == ROLE_RETRIES + 1
    assert json.loads(etcd.raw.get(FELIX_KEY))["spec"]["ipipEnabled"] is False  # the other writer's version
    assert etcd.raw.mod_revision(FELIX_KEY) == felix_proxy.interfered[-1]

    # The run fails, on the pool task, with the module's own message naming what it had already written...
    assert rc != 0, output[-3000:]
    enable = task_output(output, ENABLE_TASK)
    assert "failed: [" in enable, output[-6000:]
    pool_revision = etcd.raw.mod_revision(POOL_KEY)
    assert "gave up after %d compare-and-swap conflicts on %s" % (ROLE_RETRIES + 1, FELIX_KEY) in enable
    assert "already written: %s (revision %d)" % (POOL_KEY, pool_revision) in enable
    # ...and verification never starts on a half-done change.
    assert "Wait for this node's tunnel routes" not in output

    # ...but only after the backup of what was written was saved.
    assert "changed: [" in task_output(output, SAVE_TASK), output[-6000:]
    backup = json.loads((report / "pool-backup.json").read_text())
    assert backup["datastore"] == "etcdv3"
    (saved,) = backup["restore"]  # the pool only: the Felix configuration was never written by this run
    assert saved["restore"]["key"] == POOL_KEY and saved["restore"]["text"] == POOL_TEXT
    assert saved["expected_revision"] == str(pool_revision)

    # The rollback, straight to etcd (the other writer has stopped): the pool is back byte for byte, the other
    # writer's Felix configuration is kept, nothing else in the datastore changed.
    felix_text = etcd.raw.get(FELIX_KEY)
    before = etcd_dump(etcd.raw)
    rollback_report = tmp_path / "rollback-report"
    rollback_report.mkdir()
    rc, output, _log = run_playbook("rollback.yml", inventory(nodes, etcd.url, rollback_report,
                                                              ipip_backup_file=str(report / "pool-backup.json")),
                                    tmp_path)
    assert "Traceback" not in output
    assert rc == 0, output[-3000:]  # the nodes' routes are what Calico programs for the restored mode
    assert "changed: [" in task_output(output, RESTORE_TASK), output[-6000:]
    assert etcd.raw.get(POOL_KEY) == POOL_TEXT
    assert etcd.raw.get(FELIX_KEY) == felix_text
    after = etcd_dump(etcd.raw)
    assert {k: v for k, v in after.items() if k != POOL_KEY} == {k: v for k, v in before.items() if k != POOL_KEY}
    data = json.loads((rollback_report / "report.json").read_text())
    assert data["rollback"]["performed"] is True and data["rollback"]["restored"] == {POOL_KEY: True}


def test_rerun_after_a_full_change_reports_no_change_and_keeps_the_backup(seeded_cluster, nodes, tmp_path):
    """Control: without interference the change completes (pool and Felix in the backup); a second run changes
    nothing, reports no change on the pool task and leaves the backup of the first run as it was."""
    etcd = seeded_cluster
    report = tmp_path / "report"
    report.mkdir()
    inventory_file = inventory(nodes, etcd.url, report, ipip_fail_on_unresolved=False)
    pools = {"ipip_pools": ["default-ipv4-ippool"]}
    rc, output, _log = run_playbook("enable_ipip.yml", inventory_file, tmp_path, extra_vars=pools)
    assert rc == 0, output[-3000:]
    assert "changed: [" in task_output(output, ENABLE_TASK)
    backup_text = (report / "pool-backup.json").read_text()
    saved = json.loads(backup_text)["restore"]
    assert [(s["restore"]["key"], s["restore"]["text"]) for s in saved] == [(POOL_KEY, POOL_TEXT),
                                                                            (FELIX_KEY, FELIX_TEXT)]
    state = etcd_dump(etcd.raw)

    rc, output, _log = run_playbook("enable_ipip.yml", inventory_file, tmp_path, extra_vars=pools)
    assert rc == 0, output[-3000:]
    enable = task_output(output, ENABLE_TASK)
    assert "ok: [" in enable and "changed: [" not in enable and "failed: [" not in enable, enable
    assert "skipping: [" in task_output(output, SAVE_TASK)
    assert (report / "pool-backup.json").read_text() == backup_text
    assert etcd_dump(etcd.raw) == state
