"""What a change reports when it loses compare-and-swaps: the read -> decide -> write loop (ensure) over an
in-memory datastore that keeps revisions, and the pure parts (the give-up message, calicoctl's read-back)."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import POOL, ConflictError, Record
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_calicoctl import SUPERSEDED, written_record
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_ops import ensure, gave_up_message
from ansible_collections.k8snet.calico.tests.unit.calico_fixtures import FELIX_KEY, POOL_KEY, load
from ansible_collections.k8snet.calico.tests.unit.memory_datastore import MemoryDatastore


def new_datastore():
    return MemoryDatastore({POOL_KEY: load("kdd-ippool-crd.json")}, FELIX_KEY,
                           load("kdd-felixconfiguration-kubespray.json"))


def felix_switched_off_again(ds):
    felix = copy.deepcopy(ds.objects[FELIX_KEY][1])
    felix["spec"]["logSeverityScreen"] = "Debug"
    ds.put(FELIX_KEY, felix)


def test_a_conflict_is_retried_on_a_fresh_read():
    ds = new_datastore()

    def disable_once(d):
        del d.before_write[POOL_KEY]
        pool = copy.deepcopy(d.objects[POOL_KEY][1])
        pool["spec"]["disabled"] = True
        d.put(POOL_KEY, pool)

    ds.before_write[POOL_KEY] = disable_once
    result = ensure(ds, {"name": "default-ipv4-ippool", "ipip_mode": "Always"})
    assert result["conflicts"] == 1 and result["previous"]["revision"] == "2"
    assert ds.objects[POOL_KEY][1]["spec"]["ipipMode"] == "Always" and ds.objects[POOL_KEY][1]["spec"]["disabled"]


def test_giving_up_before_any_write_names_the_object_and_reports_nothing_written():
    ds = new_datastore()
    ds.before_write[POOL_KEY] = lambda d: d.put(POOL_KEY, d.objects[POOL_KEY][1])
    with pytest.raises(ConflictError) as caught:
        ensure(ds, {"name": "default-ipv4-ippool", "ipip_mode": "Always"}, retries=2)
    assert str(caught.value) == ("memory: gave up after 3 compare-and-swap conflicts on %s: other writers keep "
                                 "changing it. Find the other writer (another play, calico-node, the operator) and "
                                 "run again, or raise retries" % POOL_KEY)
    assert caught.value.partial == {}
    assert ds.objects[POOL_KEY][1]["spec"]["ipipMode"] == "Never"


def test_giving_up_after_the_pool_was_written_reports_that_write():
    """The pool write goes through, the Felix write keeps losing: the error must not hide the pool change."""
    ds = new_datastore()
    ds.before_write[FELIX_KEY] = felix_switched_off_again
    with pytest.raises(ConflictError) as caught:
        ensure(ds, {"name": "default-ipv4-ippool", "ipip_mode": "Always", "fix_felix_ipip": True}, retries=1)
    assert ds.objects[POOL_KEY][0] == 2 and ds.objects[POOL_KEY][1]["spec"]["ipipMode"] == "Always"
    partial = caught.value.partial
    assert partial["changed"] is True
    assert partial["writes"] == [{"key": POOL_KEY, "kind": POOL, "revision": "2", "what": "pool"}]
    assert (partial["previous"]["key"], partial["previous"]["revision"]) == (POOL_KEY, "1")
    assert partial["previous"]["object"]["spec"]["ipipMode"] == "Never"
    assert partial["previous_felix"] is None  # the Felix object was never written
    assert "gave up after 2 compare-and-swap conflicts on %s" % FELIX_KEY in str(caught.value)
    assert "already written: %s (revision 2)" % POOL_KEY in str(caught.value)


def test_gave_up_message():
    assert gave_up_message(3, "/k", []) == "gave up after 3 compare-and-swap conflicts on /k: other writers keep changing it"
    assert gave_up_message(1, "/f", [{"key": "/p", "revision": "9"}, {"key": "/q", "revision": "10"}]).endswith(
        "; already written: /p (revision 9), /q (revision 10) (see writes; previous can restore it)")


def calicoctl_v3_pool():
    return load("calicoctl-v3-ippool-list.json")["items"][0]


def test_calicoctl_read_back_of_our_own_write_keeps_its_revision():
    sent = calicoctl_v3_pool()
    sent["spec"]["ipipMode"] = "Always"
    stored = copy.deepcopy(sent)
    stored["metadata"]["resourceVersion"] = "1202"
    stored["metadata"]["generation"] = 2  # server-owned metadata may differ
    read_back = Record("calicoctl:IPPool/default-ipv4-ippool", POOL, True, "1202", json.dumps(stored), stored, "calicoctl")
    assert written_record(sent, read_back) is read_back


def test_calicoctl_read_back_of_someone_elses_write_is_not_reported_as_ours():
    sent = calicoctl_v3_pool()
    sent["spec"]["ipipMode"] = "Always"
    theirs = copy.deepcopy(sent)
    theirs["spec"]["disabled"] = True
    theirs["metadata"]["resourceVersion"] = "1203"
    read_back = Record("calicoctl:IPPool/default-ipv4-ippool", POOL, True, "1203", json.dumps(theirs), theirs, "calicoctl")
    record = written_record(sent, read_back)
    assert record.revision == SUPERSEDED and record.obj == sent and record.key == read_back.key
    gone = Record(read_back.key, POOL, False, None, None, None, "calicoctl")
    assert written_record(sent, gone).revision == SUPERSEDED
