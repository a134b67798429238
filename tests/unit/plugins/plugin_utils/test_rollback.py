"""rollback_plan on the results a loop of k8snet.calico.ippool tasks registers, failed ones included.

The results are made by the module's own code: ensure() over an in-memory datastore that keeps revisions and lets a
third party write before a compare-and-swap, wrapped the way ippool's main() returns them (exit_json, or fail_json
with the ConflictError's partial result) and the way Ansible registers a loop item (item, ansible_loop_var). The
plan is then played back with the module's restore(), in reverse as roles/ipip/tasks/rollback.yml does, so each test
shows what a rollback really puts back.
"""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import ConflictError
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_ops import ensure, restore
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_plan import PlanError
from ansible_collections.k8snet.calico.plugins.plugin_utils._rollback import (
    check_backup,
    choose_backup,
    rollback_outcome,
    rollback_plan,
)
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import load
from ansible_collections.k8snet.calico.tests.unit.memory_datastore import MemoryDatastore

PREFIX = "/apis/crd.projectcalico.org/v1/"
POOL_A = PREFIX + "ippools/default-ipv4-ippool"
POOL_B = PREFIX + "ippools/second-ipv4-ippool"
FELIX_KEY = PREFIX + "felixconfigurations/default"
CIDR_A = "192.168.0.0/16"
CIDR_B = "10.244.0.0/16"


def second_pool():
    pool = load("kdd-ippool-crd.json")
    pool["metadata"]["name"] = "second-ipv4-ippool"
    pool["spec"]["cidr"] = CIDR_B
    return pool


def new_datastore():
    """Two pools and kubespray's FelixConfiguration."""
    return MemoryDatastore({POOL_A: load("kdd-ippool-crd.json"), POOL_B: second_pool()}, FELIX_KEY,
                           load("kdd-felixconfiguration-kubespray.json"))


def another_writer_on_felix(times=None):
    """Someone keeps changing an unrelated Felix field (ipipEnabled stays false), `times` times (None: always)."""
    done = []

    def write(ds):
        if times is not None and len(done) >= times:
            return
        felix = copy.deepcopy(ds.objects[FELIX_KEY][1])
        felix["spec"]["logSeverityScreen"] = "Debug" if len(done) % 2 == 0 else "Warning"
        ds.put(FELIX_KEY, felix)
        done.append(ds.objects[FELIX_KEY][0])

    return write, done


def run_item(ds, cidr, check_mode=False, retries=1):
    """One loop item as Ansible registers it: what ippool's main() returns for ensure(), or its fail_json."""
    request = {"cidr": cidr, "ipip_mode": "Always", "vxlan_mode": "Never", "fix_felix_ipip": True,
               "strip_legacy_ipip": False, "operator_managed": "fail"}
    item = {"ansible_loop_var": "item", "item": {"cidr": cidr},
            "invocation": {"module_args": dict(request, retries=retries)}}
    try:
        result = ensure(ds, request, check_mode, retries)
    except PlanError as exc:
        return dict(item, failed=True, msg=str(exc))
    except ConflictError as exc:
        return dict(item, failed=True, msg=str(exc), endpoint=exc.endpoint, **exc.partial)
    result.pop("diff")
    return dict(item, failed=False, **result)


def roll_back(ds, plan):
    """roles/ipip/tasks/rollback.yml: restore each entry, last first, with its expected revision."""
    return [restore(ds, entry["restore"], entry["expected_revision"]) for entry in reversed(plan)]


def test_pool_written_then_felix_lost_is_in_the_plan_and_rolled_back():
    """The case the plan used to drop: the item failed, but the pool had been written."""
    ds = new_datastore()
    original = ds.state()
    ds.before_write[FELIX_KEY], interfered = another_writer_on_felix()
    result = run_item(ds, CIDR_A)
    assert result["failed"] is True and result["changed"] is True, result
    assert "already written: %s (revision 2)" % POOL_A in result["msg"]
    assert ds.objects[POOL_A][1]["spec"]["ipipMode"] == "Always"

    plan = rollback_plan([result])
    assert [(e["restore"]["key"], e["restore"]["revision"], e["expected_revision"]) for e in plan] == [
        (POOL_A, "1", "2")]
    assert plan[0]["restore"]["object"] == original[POOL_A][1]

    del ds.before_write[FELIX_KEY]  # the other writer has stopped
    felix_now = ds.objects[FELIX_KEY]
    (restored,) = roll_back(ds, plan)
    assert restored["changed"] is True
    assert ds.objects[POOL_A][1] == original[POOL_A][1]  # the pool as it was
    assert ds.objects[FELIX_KEY] == felix_now and len(interfered) == 2  # the other writer's Felix kept


def test_a_loop_with_a_partial_failure_and_a_full_change_restores_everything_it_wrote():
    """Item 1 writes pool A, then loses every Felix write (2 tries); item 2 writes pool B and the Felix
    configuration (the other writer has stopped). The plan: pool A, pool B, the Felix configuration as item 2
    found it (with the other writer's change, which a rollback must not undo)."""
    ds = new_datastore()
    original = ds.state()
    ds.before_write[FELIX_KEY], interfered = another_writer_on_felix(times=2)
    results = [run_item(ds, CIDR_A), run_item(ds, CIDR_B)]
    assert [r["failed"] for r in results] == [True, False]
    assert [w["key"] for w in results[0]["writes"]] == [POOL_A]
    assert [w["key"] for w in results[1]["writes"]] == [POOL_B, FELIX_KEY]
    felix_before_item_2 = results[1]["previous_felix"]["object"]
    assert felix_before_item_2["spec"]["logSeverityScreen"] == "Warning" and len(interfered) == 2

    plan = rollback_plan(results)
    assert [(e["restore"]["key"], e["restore"]["revision"], e["expected_revision"]) for e in plan] == [
        (POOL_A, "1", "2"), (POOL_B, "1", "2"), (FELIX_KEY, "3", "4")]

    roll_back(ds, plan)
    assert ds.objects[POOL_A][1] == original[POOL_A][1] and ds.objects[POOL_B][1] == original[POOL_B][1]
    assert ds.objects[FELIX_KEY][1] == felix_before_item_2  # ipipEnabled false again, the other field kept


def test_every_object_a_failed_or_changed_result_wrote_is_in_the_plan():
    ds = new_datastore()
    ds.before_write[FELIX_KEY], _interfered = another_writer_on_felix(times=2)
    results = [run_item(ds, CIDR_A), run_item(ds, CIDR_B)]
    written = {w["key"] for r in results for w in r.get("writes") or []}
    assert {e["restore"]["key"] for e in rollback_plan(results)} == written == {POOL_A, POOL_B, FELIX_KEY}


def test_a_failure_before_any_write_restores_nothing():
    """Gave up on the pool itself: nothing was written, the result has no writes, nothing to restore."""
    ds = new_datastore()
    ds.before_write[POOL_A] = lambda d: d.put(POOL_A, d.objects[POOL_A][1])
    result = run_item(ds, CIDR_A)
    assert result["failed"] is True and "writes" not in result and "changed" not in result, result
    assert rollback_plan([result]) == []


def test_a_refused_request_restores_nothing():
    ds = new_datastore()
    result = run_item(ds, "172.16.0.0/16")  # no such pool: PlanError, nothing written
    assert result["failed"] is True and "no IP pool with cidr" in result["msg"]
    assert rollback_plan([result]) == []


def test_check_mode_and_a_second_run_restore_nothing():
    """Check mode writes nothing (changed, but no writes); a run after the change finds nothing to do."""
    ds = new_datastore()
    checked = run_item(ds, CIDR_A, check_mode=True)
    assert checked["changed"] is True and checked["writes"] == []
    assert rollback_plan([checked]) == []
    first = run_item(ds, CIDR_A)
    again = run_item(ds, CIDR_A)
    assert first["changed"] is True and again["changed"] is False and again["writes"] == []
    assert rollback_plan([again]) == []


@pytest.mark.parametrize("skipped", [{"skipped": True, "changed": False, "item": {"cidr": CIDR_A},
                                      "ansible_loop_var": "item"}, None, "text"])
def test_items_that_are_not_module_results_are_ignored(skipped):
    ds = new_datastore()
    ds.before_write[FELIX_KEY], _interfered = another_writer_on_felix()
    partial = run_item(ds, CIDR_A)
    assert [e["restore"]["key"] for e in rollback_plan([skipped, partial])] == [POOL_A]


GOOD_BACKUP = {"datastore": "etcdv3", "saved_at": "2026-12-07T10:00:00Z", "restore": [
    {"restore": {"key": "/calico/resources/v3/projectcalico.org/ippools/p", "text": "{}"}, "expected_revision": "7"}]}


@pytest.mark.parametrize("value", [GOOD_BACKUP, json.dumps(GOOD_BACKUP), json.dumps(GOOD_BACKUP).encode()])
def test_a_backup_as_object_or_text_is_used(value):
    assert check_backup(value) == {"backup": GOOD_BACKUP, "problem": None}


@pytest.mark.parametrize("value,words", [
    ("{not json", "not valid JSON (Expecting property name"),
    ("[" * 100000, "not valid JSON"),
    ("[1]", "it is list, not a JSON object"),
    ({"restore": []}, "datastore: None"),
    ({"datastore": "etcdv3", "restore": "nope"}, "restore: 'nope' is not a non-empty list"),
    ({"datastore": "etcdv3", "restore": []}, "restore: [] is not a non-empty list"),
    ({"datastore": "etcdv3", "restore": [5]}, "restore[0]: 5 has no restore object"),
    ({"datastore": "etcdv3", "restore": [{"restore": {"key": 5}, "expected_revision": "1"}]}, "restore[0].restore.key: 5"),
    ({"datastore": "etcdv3", "restore": [{"restore": {"key": "/calico/x"}}]}, "restore[0]: no expected_revision"),
], ids=["not-json", "deep", "list", "no-datastore", "restore-string", "restore-empty", "entry-int", "key-int",
        "no-revision"])
def test_a_backup_that_cannot_be_used_names_the_field(value, words):
    checked = check_backup(value)
    assert checked["backup"] is None
    assert words in checked["problem"] and checked["problem"].endswith("not a backup written by enable_ipip")


BACKUP = {"datastore": "etcdv3", "saved_at": "2026-12-07T00:00:00+00:00",
          "restore": [{"restore": {"key": "/calico/resources/v3/projectcalico.org/ippools/p", "value": "{}"},
                       "expected_revision": 7}]}


@pytest.mark.parametrize("saved, given, file_text, source", [
    (BACKUP, {"not": "used"}, "not used", "the backup this run saved"),
    (None, BACKUP, "not used", "the variable ipip_backup"),
    (None, None, json.dumps(BACKUP), "/r/pool-backup.json"),
])
def test_the_backup_is_chosen_in_order(saved, given, file_text, source):
    chosen = choose_backup(saved, given, "/r/pool-backup.json", file_text, "etcdv3")
    assert chosen == {"backup": BACKUP, "source": source, "message": None}


@pytest.mark.parametrize("saved, given, file_text, datastore, message", [
    (None, None, None, "etcdv3", "No backup to restore: the backup file /r/pool-backup.json (ipip_backup_file) does "
                                 "not exist on the controller"),
    (None, None, "{not json", "etcdv3", "The backup in /r/pool-backup.json cannot be used: it is not valid JSON"),
    (None, {"datastore": "etcdv3", "restore": []}, None, "etcdv3",
     "The backup in the variable ipip_backup cannot be used: restore: [] is not a non-empty list"),
    (BACKUP, None, None, "kubernetes", "the backup this run saved holds objects of datastore etcdv3, but "
                                       "ipip_datastore.datastore is kubernetes; nothing was restored."),
])
def test_an_unusable_backup_says_why_and_what_to_give(saved, given, file_text, datastore, message):
    chosen = choose_backup(saved, given, "/r/pool-backup.json", file_text, datastore)
    assert chosen["backup"] is None and chosen["message"].startswith(message)
    assert "restored" in chosen["message"]


def test_the_rollback_outcome_names_what_was_restored_and_the_file_only_when_it_was_used():
    results = [{"item": BACKUP["restore"][0], "changed": True}]
    from_file = rollback_outcome(results, "requested", "/r/pool-backup.json", "/r/pool-backup.json")
    assert from_file == {"performed": True, "reason": "requested", "backup_from": "/r/pool-backup.json",
                         "backup_file": "/r/pool-backup.json",
                         "restored": {"/calico/resources/v3/projectcalico.org/ippools/p": True}}
    saved = rollback_outcome(results, "verification_failed", "the backup this run saved", "/r/pool-backup.json")
    assert saved["backup_file"] is None and saved["reason"] == "verification_failed"
