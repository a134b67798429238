"""Concurrent writers against a real etcd: no update is ever lost.

Two writers change different fields of the same pool, repeatedly and at the same time. Afterwards every version
the key ever had (etcd keeps the history) is checked: each field must hold the value its own writer last wrote at
or before that revision. A write based on a stale read would put an old value back and fail the check; the
control test shows the checker does catch such a lost update.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import POOL_KEY, POOL_TEXT, etcd_args, run_ansible

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import ConflictError
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_etcdv3 import EtcdV3Datastore
from ansible_collections.k8snet.calico.plugins.module_utils._etcd_http import EtcdHTTP
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_ops import ensure

pytestmark = pytest.mark.usefixtures("seeded")


def datastore(proc):
    return EtcdV3Datastore(EtcdHTTP([proc.url]))


def fields(text):
    spec = json.loads(text)["spec"]
    return {"ipip_mode": spec.get("ipipMode"), "nat_outgoing": bool(spec.get("natOutgoing"))}


def lost_updates(raw, start_rev, writes):
    """Versions of the pool in which a field does not hold its writer's latest value. writes: {field: [(rev, value)]}"""
    initial = fields(POOL_TEXT)
    problems = []
    seen = set()
    for rev in range(start_rev, raw.revision() + 1):
        text, mod = raw.get_at(POOL_KEY, rev)
        if text is None or mod in seen:
            continue
        seen.add(mod)
        state = fields(text)
        for field, history in writes.items():
            expected = initial[field]
            for written_rev, value in sorted(history):
                if written_rev <= mod:
                    expected = value
            if state[field] != expected:
                problems.append((mod, field, state[field], expected))
    return problems


def test_conflict_is_retried_from_a_fresh_read(seeded):
    """A write lands between our read and our compare-and-swap: we lose the CAS, re-read, and keep its change."""
    ds = datastore(seeded)
    real_cas = ds.compare_and_swap
    interfered = []

    def cas_with_interference(record, new):
        if not interfered:
            interfered.append(True)
            seeded.raw.put(POOL_KEY, POOL_TEXT.replace('"natOutgoing":true', '"natOutgoing":true,"disabled":true'))
        return real_cas(record, new)

    ds.compare_and_swap = cas_with_interference
    result = ensure(ds, {"name": "default-ipv4-ippool", "ipip_mode": "Always"}, retries=3)
    assert result["conflicts"] == 1
    spec = json.loads(seeded.raw.get(POOL_KEY))["spec"]
    assert spec["ipipMode"] == "Always" and spec["disabled"] is True


def test_conflicts_beyond_retries_are_reported(seeded):
    ds = datastore(seeded)
    real_cas = ds.compare_and_swap
    counter = {"n": 0}

    def always_interfere(record, new):
        counter["n"] += 1
        seeded.raw.put(POOL_KEY, POOL_TEXT.replace('"blockSize":26', '"blockSize":26,"x":%d' % counter["n"]))
        return real_cas(record, new)

    ds.compare_and_swap = always_interfere
    with pytest.raises(ConflictError, match="gave up after 3 compare-and-swap conflicts"):
        ensure(ds, {"name": "default-ipv4-ippool", "ipip_mode": "Always"}, retries=2)
    assert json.loads(seeded.raw.get(POOL_KEY))["spec"]["ipipMode"] == "Never"


def test_checker_catches_a_lost_update(seeded):
    """Control: a naive read-modify-write without CAS loses B's update, and lost_updates() says so."""
    start = seeded.raw.revision()
    stale = json.loads(seeded.raw.get(POOL_KEY))  # naive writer A reads
    b = ensure(datastore(seeded), {"name": "default-ipv4-ippool", "nat_outgoing": False})  # B writes
    stale["spec"]["ipipMode"] = "Always"
    seeded.raw.put(POOL_KEY, json.dumps(stale, separators=(",", ":")))  # A writes its stale copy back
    a_rev = seeded.raw.mod_revision(POOL_KEY)
    writes = {"nat_outgoing": [(int(b["writes"][0]["revision"]), False)], "ipip_mode": [(a_rev, "Always")]}
    assert lost_updates(seeded.raw, start, writes) == [(a_rev, "nat_outgoing", True, False)]


def test_two_threads_change_the_same_pool_repeatedly_and_lose_nothing(seeded):
    start = seeded.raw.revision()
    rounds = 15
    writes = {"ipip_mode": [], "nat_outgoing": []}
    conflicts = []
    barrier = threading.Barrier(2)

    def writer(field, values):
        ds = datastore(seeded)
        barrier.wait()
        for value in values:
            result = ensure(ds, {"name": "default-ipv4-ippool", field: value}, retries=50)
            conflicts.append(result["conflicts"])
            for write in result["writes"]:
                writes[field].append((int(write["revision"]), value))

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(writer, "ipip_mode", ["Always" if i % 2 == 0 else "Never" for i in range(rounds)]),
                   pool.submit(writer, "nat_outgoing", [i % 2 == 1 for i in range(rounds)])]
        for future in futures:
            future.result()
    assert len(writes["ipip_mode"]) == rounds and len(writes["nat_outgoing"]) == rounds
    assert lost_updates(seeded.raw, start, writes) == []
    final = fields(seeded.raw.get(POOL_KEY))
    assert final == {"ipip_mode": "Always", "nat_outgoing": False}  # both writers' last values (round 14)
    # Every version is one of the 2*rounds writes: nothing else was written.
    assert seeded.raw.mod_revision(POOL_KEY) - start == 2 * rounds


def test_two_ansible_processes_at_once(seeded):
    """The same through real Ansible: two ad-hoc runs in parallel, each changing one field."""
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(run_ansible, "ippool", etcd_args(seeded, name="default-ipv4-ippool", ipip_mode="CrossSubnet"))
        b = pool.submit(run_ansible, "ippool", etcd_args(seeded, name="default-ipv4-ippool", nat_outgoing=False))
        ra, rb = a.result()[0], b.result()[0]
    assert ra["changed"] and rb["changed"], (ra, rb)
    assert fields(seeded.raw.get(POOL_KEY)) == {"ipip_mode": "CrossSubnet", "nat_outgoing": False}
