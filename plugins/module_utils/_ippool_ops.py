# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Read -> decide -> compare-and-swap loops over a Datastore. The decisions are in _ippool_plan.py (pure).

A lost compare-and-swap means someone else wrote in between: everything is read again and decided again, up to
`retries` times, so a concurrent update is never overwritten and the final write always starts from the latest
revision.

A write whose reply was lost (OutcomeUnknownError) is settled by reading the key back: the intended value there
means it landed (reported as written, with the snapshot taken before it as `previous`); the old value at the old
revision means it did not (tried again like a lost race); anything else, or no answer, fails "outcome unknown" and
still returns `previous`, so the undo is never lost.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.k8snet.calico.plugins.module_utils._datastore import (
    ConflictError,
    Datastore,
    DatastoreError,
    NewValue,
    OutcomeUnknownError,
    Record,
    WriteNotAppliedError,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_plan import PlanError, plan_change, snapshot_from_records

SERVER_OWNED_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


def gather(ds: Datastore, full: bool = True) -> Dict[str, Any]:
    """One read of everything that decides IPIP. `full=False` skips nodes and affinities (not needed to write)."""
    pools = ds.read_pools()
    felix = ds.read_felix()
    installation = ds.read_installation()
    nodes = ds.read_nodes() if full else []
    affinities = ds.read_block_affinities() if full else []
    return snapshot_from_records(ds.name, pools, felix, installation, nodes, affinities)


def ensure(ds: Datastore, request: Dict[str, Any], check_mode: bool = False, retries: int = 5) -> Dict[str, Any]:
    """Make one pool match the request. Returns the module result (without `diff` rendering)."""
    previous_by_key: Dict[str, Record] = {}
    written: List[Dict[str, Any]] = []
    conflicts = 0
    contended = ""
    for _attempt in range(retries + 1):
        snapshot = gather(ds, full=False)
        plan = plan_change(snapshot, request)  # PlanError propagates: nothing written for bad input
        main = plan["main_record"]
        try:
            if not check_mode:
                for write in plan["writes"]:
                    before = write["record"]
                    contended = before.key
                    try:
                        after = settled_swap(ds, before, write["new"])
                    except OutcomeUnknownError as exc:
                        previous_by_key.setdefault(before.key, before)
                        exc.partial = _partial_result(previous_by_key, written + [
                            {"key": before.key, "kind": before.kind, "revision": None, "what": write["what"],
                             "outcome": "unknown"}])
                        raise
                    previous_by_key.setdefault(before.key, before)
                    written.append({"key": after.key, "kind": after.kind, "revision": after.revision, "what": write["what"]})
        except ConflictError:
            conflicts += 1
            continue
        changed = bool(plan["writes"]) or bool(written)
        previous = previous_by_key.get(main.key, main)
        felix_writes = [w for w in plan["writes"] if w["what"] == "felix"]
        felix_key = felix_writes[0]["record"].key if felix_writes else next(
            (w["key"] for w in written if w["what"] == "felix"), None)
        result = {
            "changed": changed,
            "pool": plan["pool_after"],
            "previous": previous.to_dict(),
            "previous_felix": previous_by_key.get(felix_key, felix_writes[0]["record"] if felix_writes else None),
            "writes": written,
            "conflicts": conflicts,
            "via": plan["via"],
            "traps": plan["traps"],
            "diff": _diff(ds, plan),
        }
        if result["previous_felix"] is not None:
            result["previous_felix"] = result["previous_felix"].to_dict()
        return result
    raise ConflictError(gave_up_message(conflicts, contended, written), ds.endpoint,
                        "Find the other writer (another play, calico-node, the operator) and run again, or raise "
                        "retries", partial=_partial_result(previous_by_key, written))


def settled_swap(ds: Datastore, before: Record, new: NewValue) -> Record:
    """compare_and_swap; when its reply is lost, the key read back decides: the stored record if the write landed,
    WriteNotAppliedError (try again) if the key is untouched, OutcomeUnknownError otherwise."""
    try:
        return ds.compare_and_swap(before, new)
    except OutcomeUnknownError as lost:
        try:
            stored = ds.read(before.key, before.kind)
        except DatastoreError as exc:
            raise OutcomeUnknownError("%s (writing %s); reading it back failed too: %s" % (lost.message, before.key, exc),
                                      lost.endpoint, "Check the key by hand; `previous` holds the value before this run")
        intended = Record(before.key, before.kind, new is not None,
                          text=None if new is None else ds.serialise(before, new), obj=new)
        if _comparable(ds, stored) == _comparable(ds, intended):
            return stored
        if stored.exists == before.exists and str(stored.revision) == str(before.revision):
            raise WriteNotAppliedError("%s: the write did not land (%s)" % (before.key, lost.message), lost.endpoint)
        raise OutcomeUnknownError("%s (writing %s); it now holds another value at revision %s" % (
            lost.message, before.key, stored.revision), lost.endpoint,
            "Someone else wrote it too: inspect it; `previous` holds the value before this run")


def gave_up_message(conflicts: int, key: str, written: List[Dict[str, Any]]) -> str:
    """Why a change stopped: the object that kept changing under it, and what it had written before (a pool
    written before its Felix write lost must not go unreported)."""
    text = "gave up after %d compare-and-swap conflicts on %s: other writers keep changing it" % (conflicts, key)
    if written:
        text += "; already written: %s (see writes; previous can restore it)" % ", ".join(
            "%s (revision %s)" % (w["key"], w["revision"]) for w in written)
    return text


def _partial_result(previous_by_key: Dict[str, Record], written: List[Dict[str, Any]]) -> Dict[str, Any]:
    """What a change that gave up had already done, in the module result's terms; {} when it wrote nothing."""
    if not written:
        return {}
    first = {}
    for write in written:
        first.setdefault(write["what"], write["key"])
    main_key = first.get("pool") or first.get("installation")
    felix_key = first.get("felix")
    return {
        "changed": True,
        "writes": written,
        "previous": previous_by_key[main_key].to_dict() if main_key else None,
        "previous_felix": previous_by_key[felix_key].to_dict() if felix_key else None,
    }


def _diff(ds: Datastore, plan: Dict[str, Any]) -> Dict[str, Any]:
    writes = plan["writes"]
    if not writes:
        main = plan["main_record"]
        return {"before": main.obj, "after": main.obj, "before_header": main.key, "after_header": main.key}
    before = {w["record"].key: w["record"].obj if w["record"].exists else None for w in writes}
    after = {w["record"].key: w["new"] for w in writes}
    if len(writes) == 1:
        key = writes[0]["record"].key
        return {"before": before[key], "after": after[key], "before_header": key, "after_header": key}
    return {"before": before, "after": after, "before_header": ds.name, "after_header": ds.name}


def _comparable(ds: Datastore, record: Record) -> Any:
    """What must match for a restore to count as done: the exact bytes on etcd, the object elsewhere."""
    if not record.exists:
        return None
    if ds.name in ("etcdv3", "etcdv2") and record.text is not None:
        return record.text
    obj = record.obj
    if isinstance(obj, dict):
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_OWNED_METADATA}
    return obj


def _allowed_restore_key(ds: Datastore, key: str) -> bool:
    if ds.name in ("etcdv3", "etcdv2"):
        return key.startswith("/calico/") and "/../" not in key and not key.endswith("/..")
    if ds.name == "kubernetes":
        return key.startswith(("/apis/crd.projectcalico.org/", "/apis/projectcalico.org/", "/apis/operator.tigera.io/"))
    return key.startswith("calicoctl:")


def restore(ds: Datastore, previous: Any, expected_revision: Optional[str] = None, check_mode: bool = False,
            retries: int = 5) -> Dict[str, Any]:
    """Write a `previous` record back. With expected_revision, only if the object is still at that revision
    (i.e. nobody changed it since the run that returned `previous`)."""
    try:
        target = Record.from_dict(previous)
    except ValueError as exc:
        raise PlanError(str(exc))
    if target.datastore and target.datastore != ds.name:
        raise PlanError("restore: this `previous` came from datastore %s, not %s" % (target.datastore, ds.name))
    if not _allowed_restore_key(ds, target.key):
        raise PlanError("restore: key %r is not a Calico object of datastore %s; refusing to write it" % (target.key, ds.name))
    conflicts = 0
    for _attempt in range(retries + 1):
        current = ds.read(target.key, target.kind)
        if _comparable(ds, current) == _comparable(ds, target):
            return {"changed": False, "restored": target.to_dict(), "conflicts": conflicts, "writes": [],
                    "diff": {"before": current.obj, "after": target.obj, "before_header": target.key, "after_header": target.key}}
        if expected_revision is not None and str(current.revision) != str(expected_revision):
            raise ConflictError(
                "%s is at revision %s, not %s: someone changed it after the run that returned `previous`; not restoring"
                % (target.key, current.revision, expected_revision), ds.endpoint,
                "Inspect the object and restore by hand, or run without expected_revision to overwrite")
        diff = {"before": current.obj, "after": target.obj, "before_header": target.key, "after_header": target.key}
        if check_mode:
            return {"changed": True, "restored": target.to_dict(), "conflicts": conflicts, "writes": [], "diff": diff}
        if not target.exists:
            new: Any = None
        elif ds.name in ("etcdv3", "etcdv2") and target.text is not None:
            new = target.text  # byte for byte
        else:
            new = target.obj
        try:
            after = settled_swap(ds, current, new)
        except OutcomeUnknownError as exc:
            exc.partial = {"changed": True, "restored": target.to_dict(), "writes": [
                {"key": target.key, "kind": target.kind, "revision": None, "what": "restore", "outcome": "unknown"}]}
            raise
        except WriteNotAppliedError:
            conflicts += 1  # still at the expected revision: the next attempt checks that again
            continue
        except ConflictError:
            conflicts += 1
            if expected_revision is not None:
                raise
            continue
        return {"changed": True, "restored": target.to_dict(), "conflicts": conflicts, "diff": diff,
                "writes": [{"key": after.key, "kind": after.kind, "revision": after.revision, "what": "restore"}]}
    raise ConflictError("gave up restoring %s after %d compare-and-swap conflicts" % (target.key, conflicts), ds.endpoint,
                        "Find the other writer and run again")
