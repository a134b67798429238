"""Issue 7 (reliability), item 2: concurrent writers never lose an update, on every datastore.

What the existing test_ippool_concurrency.py does not cover, checked against what the datastore itself recorded:

1. the SAME field from two writers at once (ipipMode Always against CrossSubnet), repeatedly, on the real etcd's
   v3 and v2 APIs, and ipipMode against vxlanMode (only one of them may win);
2. a real race through the module's retries: a third party writes between the module's read and its
   compare-and-swap (hooked in-process, and through an interfering proxy in front of etcd for a real Ansible
   process); when the retries run out the module fails clearly and writes nothing (or says what it did write);
3. four ansible-playbook processes against the same pool at once, over several rounds;
4. the Kubernetes datastore and calicoctl v3 under concurrency, through their STAND-INS (k8s_standin.py: 409 on a
   stale resourceVersion; calicoctl_standin.py: "update conflict" on a stale resourceVersion).

The check (`account`) matches every version of the pool the datastore recorded (etcd v3: every mod_revision of the
key; etcd v2: its event history; the stand-ins: their write history) to exactly one write a writer reported, and
requires each version to be its predecessor with only that writer's fields set: a write based on a stale read (a
lost update), a write nobody reported, or a reported write the datastore does not have all fail it. The control
tests show that it does catch each of those. Nothing here waits for time: the writers meet at barriers, and the
races are either checked as a whole or forced deterministically.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from _reliability_env import EtcdTxnProxy
from conftest import (
    COLLECTIONS,
    FELIX_KEY,
    FELIX_TEXT,
    FIXTURES,
    POOL_KEY,
    POOL_TEXT,
    V2_FELIX_KEY,
    V2_POOL_KEY,
    V2_POOL_TEXT,
    etcd_args,
    json_callback_env,
    run_ansible,
    run_module,
)
from k8s_standin import KubeAPIStandIn

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import ConflictError
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_calicoctl import CalicoctlDatastore
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_etcdv2 import EtcdV2Datastore
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_etcdv3 import EtcdV3Datastore
from ansible_collections.k8snet.calico.plugins.module_utils._datastore_kubernetes import KubernetesDatastore
from ansible_collections.k8snet.calico.plugins.module_utils._etcd_http import EtcdHTTP
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_ops import ensure
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_plan import PlanError

POOL_NAME = "default-ipv4-ippool"
V2_CIDR = "192.168.0.0/16"
FIELDS = ("ipip_mode", "vxlan_mode", "nat_outgoing")
ROUNDS = 10

# One stored version of the pool: its revision (CAS token), the decoded object, and for etcd v2 the action etcd
# recorded for the write that made it (compareAndSwap = conditional on the index it replaced).
Version = namedtuple("Version", "revision obj action")


# -- the expected effect of a request, as the test reads the layouts (docs/calico-traps.md "Sources") ---------------
# Written independently of the code under test: a v3 / CRD pool keeps everything but the fields asked for.

V2_IPIP = {"Always": ("tunl0", "always"), "CrossSubnet": ("tunl0", "cross-subnet"), "Never": ("", "")}


def apply_v3(obj, request):
    new = copy.deepcopy(obj)
    spec = new["spec"]
    if "ipip_mode" in request:
        spec["ipipMode"] = request["ipip_mode"]
    if "vxlan_mode" in request:
        spec["vxlanMode"] = request["vxlan_mode"]
    if "nat_outgoing" in request:
        if request["nat_outgoing"]:
            spec["natOutgoing"] = True
        else:
            spec.pop("natOutgoing", None)  # Go's omitempty
    return new


def apply_v2(obj, request):
    new = copy.deepcopy(obj)
    if "ipip_mode" in request:
        new["ipip"], new["ipip_mode"] = V2_IPIP[request["ipip_mode"]]
    if "nat_outgoing" in request:
        new["masquerade"] = request["nat_outgoing"]
    return new


def fields_of(request):
    return {k: v for k, v in request.items() if k in FIELDS}


def without_resource_version(obj):
    """Without what the datastore itself sets on a write (the Kubernetes API server: resourceVersion, generation)."""
    obj = copy.deepcopy(obj)
    for owned in ("resourceVersion", "generation"):
        (obj.get("metadata") or {}).pop(owned, None)
    return obj


# -- what the datastores recorded -----------------------------------------------------------------------------

class V3Store:
    """Calico v3 on the suite's real etcd (v3 API). History: every mod_revision the key had."""

    name = "etcdv3"
    select = {"name": POOL_NAME}
    apply = staticmethod(apply_v3)

    def __init__(self, proc):
        self.proc = proc
        self.raw = proc.raw

    def datastore(self):
        return EtcdV3Datastore(EtcdHTTP([self.proc.url]))

    def args(self, **extra):
        return etcd_args(self.proc, name=POOL_NAME, **extra)

    def mark(self):
        return self.raw.revision()

    def versions(self, mark):
        """The version current at `mark` and every later one, oldest first (walking mod_revisions back)."""
        found = []
        rev = self.raw.revision()
        while True:
            text, mod = self.raw.get_at(POOL_KEY, rev)
            if text is None:
                break
            found.append(Version(str(mod), json.loads(text), None))
            if mod <= mark:
                break
            rev = mod - 1
        return found[::-1]

    def text(self):
        return self.raw.get(POOL_KEY)

    def put(self, text):
        """A write by someone else (no compare); returns its revision."""
        self.raw.put(POOL_KEY, text)
        return str(self.raw.mod_revision(POOL_KEY))


class V2Store:
    """Calico v2 on the suite's real etcd (v2 keys API). History: etcd's v2 event history of the key (wait=true
    with waitIndex), each event with the action etcd recorded and the node it replaced."""

    name = "etcdv2"
    select = {"cidr": V2_CIDR}
    apply = staticmethod(apply_v2)

    def __init__(self, proc):
        self.proc = proc
        self.raw = proc.raw

    def datastore(self):
        return EtcdV2Datastore(EtcdHTTP([self.proc.url]))

    def args(self, **extra):
        return etcd_args(self.proc, datastore="etcdv2", cidr=V2_CIDR, **extra)

    def node(self, key=V2_POOL_KEY):
        body, _index = self.raw.v2("GET", key)
        return body.get("node") or {}

    def mark(self):
        return int(self.node()["modifiedIndex"])

    def versions(self, mark):
        base = None
        found = []
        index = mark + 1
        last = int(self.node()["modifiedIndex"])
        while index <= last:  # only indexes that exist, so wait=true never waits
            event, _index = self.raw.v2("GET", "%s?wait=true&waitIndex=%d" % (V2_POOL_KEY, index))
            node, prev = event["node"], event.get("prevNode") or {}
            if base is None:
                base = Version(str(prev["modifiedIndex"]), json.loads(prev["value"]), None)
            found.append(Version(str(node["modifiedIndex"]), json.loads(node["value"]), event["action"]))
            index = int(node["modifiedIndex"]) + 1
        if base is None:
            node = self.node()
            base = Version(str(node["modifiedIndex"]), json.loads(node["value"]), None)
        return [base] + found

    def text(self):
        return self.raw.v2_get(V2_POOL_KEY)

    def put(self, text):
        body, _index = self.raw.v2("PUT", V2_POOL_KEY, value=text)
        return str(body["node"]["modifiedIndex"])


# -- the writers ---------------------------------------------------------------------------------------------

def race(rounds, writers, retries, before_round=None):
    """Every writer in its own thread with its own datastore client; all of them start each round together (a
    barrier; `before_round` runs once while they wait). writers: [(name, make_datastore, request or
    [request per round])]. Returns the outcomes: {writer, round, request, result | error}."""
    barrier = threading.Barrier(len(writers), action=before_round, timeout=300)
    outcomes = []

    def run(name, make_datastore, requests):
        ds = make_datastore()
        try:
            for rnd in range(rounds):
                request = requests[rnd] if isinstance(requests, list) else requests
                barrier.wait()
                outcome = {"writer": name, "round": rnd, "request": request}
                try:
                    outcome["result"] = ensure(ds, request, retries=retries)
                except (ConflictError, PlanError) as exc:
                    outcome["error"] = exc
                outcomes.append(outcome)
        except BaseException:
            barrier.abort()  # let the other writers stop instead of waiting for this one
            raise

    with ThreadPoolExecutor(len(writers)) as pool:
        futures = [pool.submit(run, *writer) for writer in writers]
        for future in futures:
            future.result()
    return outcomes


def claims_of(outcome):
    """The pool writes an outcome says it made: [(revision, based_on)], based_on known for the first one only
    (`previous` is the pool as read before the first write)."""
    result = outcome.get("result")
    if result is None:
        partial = getattr(outcome.get("error"), "partial", None) or {}  # a conflict after some writes
        written = partial.get("writes") or []
        previous = partial.get("previous")
    else:
        written = result["writes"]
        previous = result["previous"]
    claims = []
    for write in written:
        if write["what"] == "pool":
            based_on = str(previous["revision"]) if previous and not claims else None
            claims.append((str(write["revision"]), based_on))
    return claims


def account(versions, outcomes, apply, others=()):
    """Problems in how the writers' outcomes fit what the datastore recorded; [] when every version is exactly one
    reported write, based on the version before it, changing only that writer's fields; and every "no change"
    rests on a recorded version that already had the writer's values.

    versions: [Version], oldest first; versions[0] was current before the writers started.
    others: revisions the test itself wrote (resets, third parties): no writer reports them.
    A write reported with revision "superseded" (calicoctl: overwritten before it could be read back) is matched
    by the revision it was based on.
    """
    problems = []
    by_revision = {}
    by_base = {}
    for outcome in outcomes:
        result = outcome.get("result")
        if result is not None and result["changed"] != bool(result["writes"]):
            problems.append(("changed does not match writes", outcome["writer"], outcome["round"]))
        for revision, based_on in claims_of(outcome):
            if revision == "superseded":
                if based_on is None or based_on in by_base:
                    problems.append(("superseded write cannot be placed", outcome["writer"], outcome["round"]))
                by_base[based_on] = (outcome, based_on)
            elif revision in by_revision:
                problems.append(("revision reported by two writes", revision))
            else:
                by_revision[revision] = (outcome, based_on)
    matched = set()
    for before, version in zip(versions, versions[1:]):
        if version.revision in others:
            continue
        claim = by_revision.get(version.revision) or by_base.get(before.revision)
        if claim is None:
            problems.append(("a version no writer reported", version.revision, version.obj))
            continue
        matched.add(id(claim))
        outcome, based_on = claim
        if based_on is not None and based_on != before.revision:
            problems.append(("write not based on the latest revision", version.revision, "based on", based_on,
                             "latest", before.revision, outcome["writer"]))
        if version.action not in (None, "compareAndSwap"):
            problems.append(("etcd recorded an unconditional write", version.revision, version.action))
        expected = apply(before.obj, fields_of(outcome["request"]))
        if without_resource_version(version.obj) != without_resource_version(expected):
            problems.append(("version is not its predecessor with only the writer's fields", version.revision,
                             outcome["writer"], version.obj, expected))
    for claim in list(by_revision.values()) + list(by_base.values()):
        if id(claim) not in matched:
            problems.append(("reported write the datastore does not have", claim[0]["writer"], claim[0]["round"],
                             claims_of(claim[0])))
    revisions = {v.revision: v for v in versions}
    for outcome in outcomes:
        result = outcome.get("result")
        if result is None or result["changed"]:
            continue
        seen = revisions.get(str(result["previous"]["revision"]))
        if seen is None or apply(seen.obj, fields_of(outcome["request"])) != seen.obj:
            problems.append(("no change reported on a version without the writer's values", outcome["writer"],
                             outcome["round"], result["previous"]["revision"]))
    return problems


STORES = {"etcdv3": V3Store, "etcdv2": V2Store}


# -- 1. the same field from two writers -------------------------------------------------------------------------

@pytest.mark.parametrize("retries", [0, 20], ids=["conflicts-reported", "conflicts-retried"])
@pytest.mark.parametrize("store_name", ["etcdv3", "etcdv2"])
def test_same_field_two_values_at_once_every_write_on_the_latest_revision(seeded, store_name, retries):
    """Each round the pool is put back to ipipMode Never, then writer A sets Always and writer B CrossSubnet at the
    same time, so both must write and their compare-and-swaps collide. Each outcome is a write on the latest
    revision or (retries 0) a reported conflict that wrote nothing; the pool ends with one of the two values and
    no other field changed."""
    store = STORES[store_name](seeded)
    if store_name == "etcdv2":
        # Calico v2's global IpInIpEnabled already on: the writers write the pool only (the Felix key write and a
        # conflict on it are test_conflict_after_a_write_reports_what_was_written's subject).
        seeded.raw.v2("PUT", V2_FELIX_KEY, value="true")
    base_text = store.text()
    resets = []
    mark = store.mark()
    outcomes = race(ROUNDS, [("A", store.datastore, dict(store.select, ipip_mode="Always")),
                             ("B", store.datastore, dict(store.select, ipip_mode="CrossSubnet"))], retries,
                    before_round=lambda: resets.append(store.put(base_text)))
    versions = store.versions(mark)
    assert account(versions, outcomes, store.apply, others=resets) == []
    assert len(outcomes) == 2 * ROUNDS and len(resets) == ROUNDS
    revisions = [v.revision for v in versions]
    for rnd, reset in enumerate(resets):
        this = [o for o in outcomes if o["round"] == rnd]
        written = revisions.index(resets[rnd + 1]) if rnd + 1 < ROUNDS else len(versions)
        written -= revisions.index(reset) + 1
        if retries:  # both must have written: the second one on the first one's write
            assert written == 2 and all(o["result"]["changed"] for o in this), this
        else:  # the first to write wins; the other wrote too (it read after) or reported the conflict
            assert written == 2 - len([o for o in this if "error" in o]) >= 1, this
    for outcome in outcomes:
        if "error" in outcome:
            assert retries == 0 and isinstance(outcome["error"], ConflictError), outcome
            assert "gave up after 1 compare-and-swap conflicts" in str(outcome["error"])
    final = json.loads(store.text())
    assert final == versions[-1].obj
    base = json.loads(base_text)
    value = "Always" if final == store.apply(base, {"ipip_mode": "Always"}) else "CrossSubnet"
    assert final == store.apply(base, {"ipip_mode": value})  # one writer's value, every other field as before
    if store_name == "etcdv3":
        assert seeded.raw.get(FELIX_KEY) == FELIX_TEXT
    else:
        assert seeded.raw.v2_get(V2_FELIX_KEY) == "true"


def test_ipip_against_vxlan_exactly_one_wins_each_round(seeded):
    """From a pool with neither, A turns IPIP on and B VXLAN on, at once, ROUNDS times. Calico refuses both on one
    pool: whoever writes second must decide on the first one's write and refuse, naming both fields. Two
    successes would mean one decided on a stale read (and its write overwrote the other)."""
    store = V3Store(seeded)
    resets = []

    def reset():
        seeded.raw.put(POOL_KEY, POOL_TEXT)
        resets.append(str(seeded.raw.mod_revision(POOL_KEY)))

    mark = store.mark()
    outcomes = race(ROUNDS, [("ipip", store.datastore, dict(store.select, ipip_mode="Always")),
                             ("vxlan", store.datastore, dict(store.select, vxlan_mode="Always"))], 5,
                    before_round=reset)
    versions = store.versions(mark)
    assert len(resets) == ROUNDS
    for rnd in range(ROUNDS):
        this = [o for o in outcomes if o["round"] == rnd]
        won = [o for o in this if "result" in o]
        lost = [o for o in this if "error" in o]
        assert len(won) == 1 and len(lost) == 1 and won[0]["result"]["changed"], this
        assert isinstance(lost[0]["error"], PlanError)
        message = str(lost[0]["error"])
        assert "ipip_mode Always with vxlan_mode Always" in message and "Calico refuses IPIP and VXLAN" in message
        assert "set vxlan_mode: Never together with ipip_mode" in message
        # In etcd: the reset, then exactly the winner's write on it.
        start = [v.revision for v in versions].index(resets[rnd])
        stop = [v.revision for v in versions].index(resets[rnd + 1]) if rnd + 1 < ROUNDS else len(versions)
        assert stop - start == 2, versions[start:stop]
        assert account(versions[start:stop], this, apply_v3) == []


# -- the checker can fail --------------------------------------------------------------------------------------

def test_account_catches_a_write_on_a_stale_read(seeded):
    """Control: B reads, A writes, B writes its stale copy with a blind put (no compare). The history shows a
    version that no writer reported on its predecessor, and B's version is A's predecessor plus B's field."""
    store = V3Store(seeded)
    mark = store.mark()
    stale_ds = store.datastore()
    (stale,) = [r for r in stale_ds.read_pools() if r.key == POOL_KEY]
    a = ensure(store.datastore(), dict(store.select, nat_outgoing=False))
    blind = json.loads(stale.text)
    blind["spec"]["ipipMode"] = "Always"
    seeded.raw.put(POOL_KEY, json.dumps(blind, separators=(",", ":")))
    b = {"changed": True, "writes": [{"what": "pool", "revision": str(seeded.raw.mod_revision(POOL_KEY))}],
         "previous": stale.to_dict()}
    outcomes = [{"writer": "A", "round": 0, "request": {"nat_outgoing": False}, "result": a},
                {"writer": "B", "round": 0, "request": {"ipip_mode": "Always"}, "result": b}]
    problems = account(store.versions(mark), outcomes, apply_v3)
    assert [p[0] for p in problems] == ["write not based on the latest revision",
                                        "version is not its predecessor with only the writer's fields"]


def test_account_catches_unreported_and_phantom_writes(seeded):
    store = V3Store(seeded)
    mark = store.mark()
    result = ensure(store.datastore(), dict(store.select, ipip_mode="Always"))
    outcome = {"writer": "A", "round": 0, "request": {"ipip_mode": "Always"}, "result": result}
    assert account(store.versions(mark), [outcome], apply_v3) == []
    seeded.raw.put(POOL_KEY, seeded.raw.get(POOL_KEY))  # someone nobody reported
    assert [p[0] for p in account(store.versions(mark), [outcome], apply_v3)] == ["a version no writer reported"]
    failed = {"writer": "B", "round": 0, "request": {"ipip_mode": "Never"}, "error": ConflictError("x")}
    failed["error"].partial = {"writes": [{"what": "pool", "revision": "999999"}],  # a write etcd does not have
                               "previous": result["previous"]}
    problems = account(store.versions(mark), [outcome, failed], apply_v3)
    assert "reported write the datastore does not have" in [p[0] for p in problems]


# -- 2. a real race through the module's retries ----------------------------------------------------------------

def interfere(monkeypatch, cls, third_party, key, times=None):
    """Make a third party write between the module's read and its compare-and-swap: wrap the backend's
    compare_and_swap so that, before the module's write of `key` goes out, `third_party(n)` writes (n = 0, 1, ...;
    at most `times` times, None for always). Returns the revisions the third party wrote."""
    real = cls.compare_and_swap
    written = []

    def compare_and_swap(self, record, new):
        if record.key == key and (times is None or len(written) < times):
            written.append(third_party(len(written)))
        return real(self, record, new)

    monkeypatch.setattr(cls, "compare_and_swap", compare_and_swap)
    return written


# The third party changes ANOTHER field (NAT) of the pool; the module only sets ipipMode.
NAT_OFF = {"etcdv3": POOL_TEXT.replace('"natOutgoing":true,', ""),
           "etcdv2": V2_POOL_TEXT.replace('"masquerade":true', '"masquerade":false')}
BACKENDS = {"etcdv3": EtcdV3Datastore, "etcdv2": EtcdV2Datastore}
STORE_KEYS = {"etcdv3": POOL_KEY, "etcdv2": V2_POOL_KEY}


@pytest.mark.parametrize("store_name", ["etcdv3", "etcdv2"])
def test_third_party_write_between_read_and_cas_is_kept(seeded, store_name, monkeypatch, capsys):
    """The module (main(), in-process) reads, a third party turns NAT off, the module's compare-and-swap loses;
    it reads again and writes ipipMode on the third party's version: NAT stays off."""
    store = STORES[store_name](seeded)
    mark = store.mark()
    third = interfere(monkeypatch, BACKENDS[store_name], lambda n: store.put(NAT_OFF[store_name]),
                      STORE_KEYS[store_name], times=1)
    result = run_module("ippool", store.args(ipip_mode="CrossSubnet"), capsys=capsys)
    assert result["changed"] is True and result["conflicts"] == 1, result
    assert result["previous"]["revision"] == third[0]
    assert json.loads(result["previous"]["text"]) == json.loads(NAT_OFF[store_name])
    versions = store.versions(mark)
    assert [v.revision for v in versions[1:]] == [third[0], result["writes"][0]["revision"]]
    assert versions[-1].obj == store.apply(json.loads(NAT_OFF[store_name]), {"ipip_mode": "CrossSubnet"})
    assert json.loads(store.text()) == versions[-1].obj
    if store_name == "etcdv3":  # byte for byte: the stored text is the third party's with only ipipMode changed
        assert store.text() == NAT_OFF["etcdv3"].replace('"ipipMode":"Never"', '"ipipMode":"CrossSubnet"')
    else:
        assert versions[-1].action == "compareAndSwap"
    outcome = {"writer": "module", "round": 0, "request": {"ipip_mode": "CrossSubnet"}, "result": result}
    assert account(versions, [outcome], store.apply, others=third) == []


@pytest.mark.parametrize("store_name", ["etcdv3", "etcdv2"])
def test_retries_exhausted_fails_clearly_and_writes_nothing(seeded, store_name, monkeypatch, capsys):
    """A third party writes before every compare-and-swap: after 1 + retries attempts the module fails, names the
    pool and the way out, and etcd holds the third party's writes only."""
    store = STORES[store_name](seeded)
    mark = store.mark()
    texts = [NAT_OFF[store_name], store.text()]  # NAT off, on, off: a different version each time
    third = interfere(monkeypatch, BACKENDS[store_name], lambda n: store.put(texts[n % 2]), STORE_KEYS[store_name])
    v2_index = seeded.raw.v2_index()
    result = run_module("ippool", store.args(ipip_mode="Always", retries=2), capsys=capsys)
    assert result["failed"] is True and not result.get("changed"), result
    assert not result.get("writes")
    assert "gave up after 3 compare-and-swap conflicts" in result["msg"]
    assert STORE_KEYS[store_name] in result["msg"] and "retries" in result["msg"]
    assert len(third) == 3
    versions = store.versions(mark)
    assert [v.revision for v in versions[1:]] == third  # nothing but the third party's writes
    assert json.loads(store.text()) == json.loads(texts[0])
    if store_name == "etcdv2":
        assert seeded.raw.v2_index() == v2_index + 3 and seeded.raw.v2_get(V2_FELIX_KEY) is None
    else:
        assert seeded.raw.get(FELIX_KEY) == FELIX_TEXT


FELIX_INTERFERENCE = {
    # kubespray's FelixConfiguration, ipipEnabled still false, another field changed each time
    "etcdv3": (FELIX_KEY, lambda raw, n: raw.put(FELIX_KEY, FELIX_TEXT.replace(
        '"logSeverityScreen":"Info"', '"logSeverityScreen":"%s"' % ("Debug" if n % 2 == 0 else "Info")))),
    # someone keeps switching Calico v2's global IpInIpEnabled off
    "etcdv2": (V2_FELIX_KEY, lambda raw, n: raw.v2("PUT", V2_FELIX_KEY, value="false")),
}


@pytest.mark.parametrize("store_name", ["etcdv3", "etcdv2"])
def test_conflict_after_a_write_reports_what_was_written(seeded, store_name, monkeypatch, capsys):
    """The pool write succeeds, then the Felix write keeps losing to a third party until the retries run out. The
    module fails, and says so, but it did change the pool: the result must say changed, list the pool's write
    with the revision etcd recorded and give `previous`, so that the change can be seen and rolled back."""
    store = STORES[store_name](seeded)
    mark = store.mark()
    felix_key, felix_write = FELIX_INTERFERENCE[store_name]
    interfere(monkeypatch, BACKENDS[store_name], lambda n: felix_write(seeded.raw, n), felix_key)
    extra = {"fix_felix_ipip": True} if store_name == "etcdv3" else {}
    result = run_module("ippool", store.args(ipip_mode="Always", retries=1, **extra), capsys=capsys)
    versions = store.versions(mark)
    assert len(versions) == 2  # the pool was written once, by the module
    assert result["failed"] is True, result
    assert "gave up after 2 compare-and-swap conflicts on %s" % felix_key in result["msg"]
    assert result.get("changed") is True
    assert result.get("writes") == [{"key": STORE_KEYS[store_name], "kind": "ippool", "revision": versions[1].revision,
                                     "what": "pool"}]
    assert "already written: %s (revision %s)" % (STORE_KEYS[store_name], versions[1].revision) in result["msg"]
    assert result["previous"]["revision"] == versions[0].revision and result["previous"]["key"] == STORE_KEYS[store_name]
    assert versions[1].obj == store.apply(versions[0].obj, {"ipip_mode": "Always"})


class InterferingProxy(EtcdTxnProxy):
    """EtcdTxnProxy whose hook is `third_party(n)` writing straight to etcd before the module's compare-and-swap, at
    most `times` times (None: always); it counts the transactions and keeps what each write returned."""

    def __init__(self, target, third_party, times=None):
        self.written = []
        self.transactions = 0

        def on_txn(_body):
            self.transactions += 1
            if times is None or len(self.written) < times:
                self.written.append(third_party(len(self.written)))

        super().__init__(target, on_txn)


@pytest.fixture
def proxy(seeded):
    proxies = []

    def start(third_party, times=None):
        proxies.append(InterferingProxy(seeded.url, third_party, times))
        return proxies[-1]

    yield start
    for started in proxies:
        started.stop()


def test_real_ansible_process_rereads_after_losing_the_race(seeded, proxy):
    """The same race in a real `ansible` process: its first transaction reaches etcd after a third party's write."""
    store = V3Store(seeded)
    mark = store.mark()
    interfering = proxy(lambda n: store.put(NAT_OFF["etcdv3"]), times=1)
    result, output = run_ansible("ippool", dict(etcd_args(seeded, name=POOL_NAME, ipip_mode="CrossSubnet"),
                                                etcd_endpoints=[interfering.url]))
    assert result["changed"] is True and result["conflicts"] == 1, output
    assert interfering.transactions == 2
    assert store.text() == NAT_OFF["etcdv3"].replace('"ipipMode":"Never"', '"ipipMode":"CrossSubnet"')
    outcome = {"writer": "ansible", "round": 0, "request": {"ipip_mode": "CrossSubnet"}, "result": result}
    assert account(store.versions(mark), [outcome], apply_v3, others=interfering.written) == []


def test_real_ansible_process_gives_up_after_its_retries(seeded, proxy):
    store = V3Store(seeded)
    mark = store.mark()
    texts = [NAT_OFF["etcdv3"], POOL_TEXT]
    interfering = proxy(lambda n: store.put(texts[n % 2]))
    result, output = run_ansible("ippool", dict(etcd_args(seeded, name=POOL_NAME, ipip_mode="CrossSubnet", retries=1),
                                                etcd_endpoints=[interfering.url]))
    assert result.get("failed") is True and not result.get("changed"), output
    assert "gave up after 2 compare-and-swap conflicts on %s" % POOL_KEY in result["msg"]
    assert [v.revision for v in store.versions(mark)[1:]] == interfering.written
    assert store.text() == texts[1]


# -- 3. parallel ansible-playbook processes -------------------------------------------------------------------

def write_play(directory, name, task_args):
    """A one-task play (JSON is YAML) using k8snet.calico.ippool on localhost."""
    path = directory / ("%s.yml" % name)
    path.write_text(json.dumps([{"name": "change the pool (%s)" % name, "hosts": "localhost", "gather_facts": False,
                                 "tasks": [{"name": "ippool", "k8snet.calico.ippool": task_args}]}], indent=1))
    return path


def start_playbook(play, workdir):
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), str(play), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCAL_TEMP=str(workdir / "ansible-tmp"),
               ANSIBLE_HOME=str(workdir / "ansible-home"), **json_callback_env())
    env.pop("ANSIBLE_CONFIG", None)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(workdir))


def finish_playbook(proc):
    out, err = proc.communicate(timeout=300)
    data = json.loads(out[out.find("{"):])
    return proc.returncode, data["plays"][0]["tasks"][0]["hosts"]["localhost"], out + err


PLAYBOOK_ROUNDS = [("CrossSubnet", False), ("CrossSubnet", False), ("Always", True), ("Always", True)]


def test_four_playbook_processes_at_once_over_several_rounds(seeded, tmp_path):
    """Each round four ansible-playbook processes run at once against the same pool: two want ipip_mode X, two
    want nat_outgoing Y. Exactly one of each pair writes (the other finds its value there, possibly after losing a
    compare-and-swap), both fields survive, every process exits 0; a round whose values are already there
    writes nothing and every process reports no change."""
    store = V3Store(seeded)
    base = json.loads(store.text())
    for rnd, (ipip, nat) in enumerate(PLAYBOOK_ROUNDS):
        requests = {"ipip-1": {"ipip_mode": ipip}, "ipip-2": {"ipip_mode": ipip},
                    "nat-1": {"nat_outgoing": nat}, "nat-2": {"nat_outgoing": nat}}
        plays = {name: write_play(tmp_path, "%s-round%d" % (name, rnd), store.args(**request))
                 for name, request in requests.items()}
        already = json.loads(store.text()) == apply_v3(base, {"ipip_mode": ipip, "nat_outgoing": nat})
        mark = store.mark()
        procs = {name: start_playbook(play, tmp_path) for name, play in plays.items()}  # all four at once
        finished = {name: finish_playbook(proc) for name, proc in procs.items()}
        outcomes = []
        for name, (rc, result, output) in finished.items():
            assert rc == 0 and not result.get("failed"), (rnd, name, output[-3000:])
            outcomes.append({"writer": name, "round": rnd, "request": requests[name], "result": result})
        versions = store.versions(mark)
        assert account(versions, outcomes, apply_v3) == [], (rnd, outcomes)
        changed = sorted(name for name, (_rc, result, _out) in finished.items() if result["changed"])
        if already:
            assert changed == [] and store.mark() == mark, (rnd, changed)  # not a single write to etcd
        else:
            assert [name.split("-")[0] for name in changed] == ["ipip", "nat"], (rnd, changed)
            assert len(versions) == 3
        assert json.loads(store.text()) == apply_v3(base, {"ipip_mode": ipip, "nat_outgoing": nat})


# -- 4. Kubernetes and calicoctl datastores, through their stand-ins ----------------------------------------------

K8S_TOKEN = "standin-token-concurrency-0123456789"
CRD = ("crd.projectcalico.org", "v1")
STANDIN = Path(__file__).resolve().parent / "calicoctl_standin.py"


class KubeStore:
    """The Kubernetes datastore (CRDs) on the Kubernetes API STAND-IN. History: the stand-in's accepted writes."""

    name = "kubernetes"
    select = {"name": POOL_NAME}
    apply = staticmethod(apply_v3)
    key = CRD + ("ippools", POOL_NAME)

    def __init__(self):
        self.api = KubeAPIStandIn(K8S_TOKEN, [CRD])
        self.api.put_object(*CRD, "ippools", json.loads((FIXTURES / "kdd-ippool-crd.json").read_text()))

    def datastore(self):
        return KubernetesDatastore(host=self.api.url, api_key=K8S_TOKEN)

    def mark(self):
        return len(self.api.history)

    def versions(self, mark):
        entries = [e for e in self.api.history if e["key"] == self.key]
        before = [e for e in self.api.history[:mark] if e["key"] == self.key][-1]
        return [Version(e["to"], e["object"], None) for e in [before] + entries[entries.index(before) + 1:]]

    def current(self):
        return self.api.get_object(*self.key)


class CalicoctlStore:
    """calicoctl v3 (the calicoctl STAND-IN, one process per call, state in a file). History: the stand-in's."""

    name = "calicoctl"
    select = {"name": POOL_NAME}
    apply = staticmethod(apply_v3)

    def __init__(self, directory):
        self.launcher = directory / "calicoctl"
        self.launcher.write_text("#!%s\nimport runpy\nrunpy.run_path(%r, run_name='__main__')\n"
                                 % (sys.executable, str(STANDIN)))
        self.launcher.chmod(0o755)
        self.state = directory / "state.json"
        self.pools = json.loads((FIXTURES / "calicoctl-v3-ippool-list.json").read_text())["items"]
        self.state.write_text(json.dumps({"api": "v3", "pools": self.pools, "felix": None, "nodes": []}))
        self.env = dict(os.environ, CALICOCTL_STANDIN_STATE=str(self.state))

    def run(self, argv, data):
        proc = subprocess.run(argv, input=data, capture_output=True, text=True, env=self.env, timeout=120, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def datastore(self):
        return CalicoctlDatastore(self.run, str(self.launcher))

    def history(self):
        path = Path(str(self.state) + ".history")
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def mark(self):
        return len(self.history())

    def versions(self, mark):
        entries = self.history()
        base = entries[mark - 1]["object"] if mark else self.pools[0]
        base = Version(base["metadata"]["resourceVersion"], base, None)
        return [base] + [Version(e["to"], e["object"], None) for e in entries[mark:]]

    def current(self):
        return json.loads(self.state.read_text())["pools"][0]


@pytest.fixture
def kube():
    store = KubeStore()
    yield store
    store.api.stop()


@pytest.fixture
def calicoctl_v3(tmp_path):
    return CalicoctlStore(tmp_path)


@pytest.mark.parametrize("retries", [0, 20], ids=["conflicts-reported", "conflicts-retried"])
@pytest.mark.parametrize("store_fixture", ["kube", "calicoctl_v3"])
def test_kubernetes_and_calicoctl_two_writers_lose_nothing(store_fixture, retries, request):
    """Two writers at once, ROUNDS times: A switches ipipMode, B natOutgoing, each round to a new value. Every
    version the stand-in accepted is one reported write on the version before it (409 / "update conflict"
    otherwise), so neither writer's field is ever put back; with retries 0 a lost race is reported instead."""
    store = request.getfixturevalue(store_fixture)
    base = store.current()
    mark = store.mark()
    ipip = [dict(store.select, ipip_mode="Always" if i % 2 == 0 else "CrossSubnet") for i in range(ROUNDS)]
    nat = [dict(store.select, nat_outgoing=i % 2 == 1) for i in range(ROUNDS)]
    outcomes = race(ROUNDS, [("ipip", store.datastore, ipip), ("nat", store.datastore, nat)], retries)
    versions = store.versions(mark)
    assert account(versions, outcomes, store.apply) == []
    for outcome in outcomes:
        if "error" in outcome:
            assert retries == 0 and isinstance(outcome["error"], ConflictError), outcome
            assert "gave up after 1 compare-and-swap conflicts on" in str(outcome["error"])
            assert not outcome["error"].partial  # nothing was written
        elif retries:
            assert outcome["result"]["changed"], outcome  # every round asks for a new value
    if retries:
        assert len(versions) == 1 + 2 * ROUNDS
        final = store.current()
        assert without_resource_version(final) == without_resource_version(
            apply_v3(base, {"ipip_mode": ipip[-1]["ipip_mode"], "nat_outgoing": nat[-1]["nat_outgoing"]}))


def test_calicoctl_write_overtaken_before_read_back_is_not_reported_as_the_latest(calicoctl_v3, monkeypatch, capsys):
    """calicoctl `replace` prints no resourceVersion, so the backend reads the pool back. When a third party
    replaced it in between, that version is theirs: reporting its revision as the module's own would let a later
    `restore` with `expected_revision` (the role's rollback) overwrite the third party's change unnoticed."""
    store = calicoctl_v3
    monkeypatch.setenv("CALICOCTL_STANDIN_STATE", str(store.state))
    real_run = CalicoctlDatastore._run
    third = []

    def run(self, argv, data=None):
        out = real_run(self, argv, data)
        if "replace" in argv and not third:  # right after the module's replace: the third party's
            pool = store.current()
            pool["spec"]["disabled"] = True
            rc, _out, err = store.run([str(store.launcher), "replace", "-f", "-"], json.dumps(pool))
            assert rc == 0, err
            third.append(store.current()["metadata"]["resourceVersion"])
        return out

    monkeypatch.setattr(CalicoctlDatastore, "_run", run)
    args = {"datastore": "calicoctl", "calicoctl_path": str(store.launcher)}
    result = run_module("ippool", dict(args, name=POOL_NAME, ipip_mode="Always"), capsys=capsys)
    assert result["changed"] is True and third, result
    (write,) = result["writes"]
    assert [h["to"] for h in store.history()] == ["1202", third[0]]  # the module's version, then the third party's
    assert write["revision"] != third[0]
    assert write["revision"] == "superseded"  # its own (1202) was gone when it was read back
    monkeypatch.setattr(CalicoctlDatastore, "_run", real_run)
    # The rollback as the role runs it: refused, and the third party's change is still there.
    back = run_module("ippool", dict(args, restore=result["previous"], expected_revision=write["revision"]),
                      capsys=capsys)
    assert back["failed"] is True and "not restoring" in back["msg"], back
    assert store.current()["spec"]["disabled"] is True and store.current()["spec"]["ipipMode"] == "Always"
