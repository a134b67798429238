# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Decide what to write for a requested pool change, from one consistent read. Pure: no I/O.

`snapshot_from_records` turns what a backend read into normalised pools/felix/nodes/affinities and traps;
`plan_change` turns a snapshot and a request into the writes (each one record + its new value) or a PlanError.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

from ansible_collections.k8snet.calico.plugins.module_utils._calico_cluster import (
    V1_GLOBAL_IPIP_KEY,
    NodeFormatError,
    affinity_from_key,
    affinity_from_object,
    felix_from_object,
    felix_from_v1_value,
    node_from_object,
    node_name_of,
    nodes_from_v1_keys,
)
from ansible_collections.k8snet.calico.plugins.module_utils._datastore import FELIX, Record
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_model import (
    FMT_CRD,
    FMT_V1_API,
    FMT_V1_KV,
    NEVER,
    ModeError,
    PoolFormatError,
    desired_installation,
    desired_pool_object,
    installation_pool_entry,
    installation_pool_modes,
    normalise_pool,
    parse_ipip_mode,
    parse_vxlan_mode,
    select_pool,
)
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_traps import felix_traps, find_traps
from ansible_collections.k8snet.calico.plugins.module_utils._ippool_validate import validate_pool

OPERATOR_FAIL = "fail"
OPERATOR_EDIT_INSTALLATION = "edit_installation"


class PlanError(ValueError):
    """The request cannot be carried out; the message names the field, the value and what is allowed."""


def snapshot_from_records(datastore: str, pools: List[Record], felix: Optional[Record] = None,
                          installation: Optional[Record] = None, nodes: Optional[List[Record]] = None,
                          affinities: Optional[List[Record]] = None) -> Dict[str, Any]:
    normalised = []
    traps = []
    for record in pools:
        try:
            normalised.append(normalise_pool(record.obj, datastore, record.key, record.revision))
        except PoolFormatError as exc:
            traps.append({"name": "unreadable_pool", "subject": record.key,
                          "message": "%s is not a readable Calico IP pool (%s); it was skipped: value %r"
                          % (record.key, exc, (record.text or "")[:120])})
    felix_state = None
    if felix is not None:
        if datastore == "etcdv2":
            felix_state = felix_from_v1_value(felix.obj if felix.exists else None, felix.key)
        elif felix.exists:
            try:
                felix_state = felix_from_object(felix.obj, felix.key)
            except ValueError:
                traps.append({"name": "unreadable_felix_configuration", "subject": felix.key,
                              "message": "%s is not a readable FelixConfiguration; IPIP may still be off" % felix.key})
    node_list: List[Dict[str, Any]] = []
    if nodes:
        if datastore == "etcdv2":
            node_list = nodes_from_v1_keys((r.key, r.obj if isinstance(r.obj, str) else r.text or "") for r in nodes)
        else:
            for record in nodes:
                try:
                    node_list.append(node_from_object(record.obj, datastore))
                except NodeFormatError as exc:
                    name = node_name_of(record.obj)
                    traps.append({"name": "unreadable_node", "subject": name or record.key,
                                  "message": "Calico node %s: %s; the node was skipped (key %s)"
                                  % (name or "(no name)", exc, record.key)})
    affinity_list = []
    for record in affinities or []:
        try:
            if record.key.startswith("/calico/"):
                item = affinity_from_key(record.key, record.text)
            else:
                item = affinity_from_object(record.obj)
        except NodeFormatError as exc:
            traps.append({"name": "unreadable_block_affinity", "subject": record.key,
                          "message": "block affinity %s: %s; it was skipped" % (record.key, exc)})
            continue
        if item is not None:
            affinity_list.append(item)
    inst_obj = installation.obj if installation is not None and installation.exists else None
    traps.extend(find_traps(normalised, felix_state, node_list, inst_obj, datastore))
    return {
        "datastore": datastore,
        "pools": normalised,
        "pool_records": {r.key: r for r in pools},
        "felix": felix_state,
        "felix_record": felix,
        "installation": installation if inst_obj is not None else None,
        "nodes": node_list,
        "block_affinities": affinity_list,
        "traps": traps,
    }


def _parse_request(request: Dict[str, Any]) -> Dict[str, Any]:
    try:
        ipip = parse_ipip_mode(request["ipip_mode"]) if request.get("ipip_mode") is not None else None
        vxlan = parse_vxlan_mode(request["vxlan_mode"]) if request.get("vxlan_mode") is not None else None
    except ModeError as exc:
        raise PlanError(str(exc))
    nat = request.get("nat_outgoing")
    if nat is not None and not isinstance(nat, bool):
        raise PlanError("nat_outgoing: %r is not a boolean (true or false)" % (nat,))
    if request.get("name") is None and request.get("cidr") is None:
        raise PlanError("name or cidr: one of them must select the pool")
    return {"ipip": ipip, "vxlan": vxlan, "nat": nat}


def plan_change(snapshot: Dict[str, Any], request: Dict[str, Any]) -> Dict[str, Any]:
    """-> {"writes": [{"record", "new", "what"}], "pool_before", "pool_after", "main_record", "traps"}.

    request keys: name|cidr, ipip_mode, vxlan_mode, nat_outgoing, strip_legacy_ipip, fix_felix_ipip,
    fix_felix_vxlan, operator_managed (fail|edit_installation). Raises PlanError; nothing is written then.
    """
    wanted = _parse_request(request)
    datastore = snapshot["datastore"]
    try:
        pool = select_pool(snapshot["pools"], request.get("name"), request.get("cidr"))
    except LookupError as exc:
        unreadable = [t["subject"] for t in snapshot["traps"] if t["name"] == "unreadable_pool"]
        raise PlanError("%s: %s%s" % ("cidr" if request.get("cidr") is not None else "name", exc,
                                      "; unreadable pool keys: %s" % ", ".join(unreadable) if unreadable else ""))
    record: Record = snapshot["pool_records"][pool["key"]]

    ipip = wanted["ipip"]
    vxlan = wanted["vxlan"]
    # Keep the other encapsulation consistent only when asked: turning on one while the other is on is an error
    # that names both fields, rather than a silent switch.
    final_ipip = pool["ipip_mode"] if ipip is None else ipip
    final_vxlan = pool["vxlan_mode"] if vxlan is None else vxlan
    if final_ipip != NEVER and final_vxlan != NEVER:
        raise PlanError(
            "ipip_mode %s with vxlan_mode %s: Calico refuses IPIP and VXLAN on the same pool (%s); set vxlan_mode: "
            "Never together with ipip_mode (or the reverse)" % (final_ipip, final_vxlan, pool["name"]))
    if pool["format"] in (FMT_V1_API, FMT_V1_KV) and vxlan not in (None, NEVER):
        raise PlanError("vxlan_mode: %s is not possible on the Calico v2 pool %s (v2 has no VXLAN); use ipip_mode"
                        % (vxlan, pool["name"]))

    legacy = pool.get("legacy_ipip")
    strip = bool(request.get("strip_legacy_ipip"))
    if legacy is not None and not strip and ipip is not None and ipip != pool["ipip_mode"]:
        raise PlanError(
            "pool %s has the legacy field spec.ipip=%s, which overrides spec.ipipMode ("
            "https://docs.tigera.io/calico/latest/reference/resources/ippool), so setting "
            "ipip_mode: %s would have no effect; set strip_legacy_ipip: true to remove it" % (pool["name"], legacy, ipip))

    writes = []
    traps = list(snapshot["traps"])
    main_record = record
    if pool.get("operator_managed") and (ipip is not None or vxlan is not None or wanted["nat"] is not None):
        pool_after = dict(pool, ipip_mode=final_ipip, vxlan_mode=final_vxlan,
                          nat_outgoing=pool["nat_outgoing"] if wanted["nat"] is None else wanted["nat"])
        changes_pool = (pool_after["ipip_mode"], pool_after["vxlan_mode"], pool_after["nat_outgoing"]) != (
            pool["ipip_mode"], pool["vxlan_mode"], pool["nat_outgoing"])
        installation = snapshot.get("installation")
        mode = request.get("operator_managed") or OPERATOR_FAIL
        entry = installation_pool_entry(installation.obj, pool["cidr"]) if installation is not None else None
        if mode == OPERATOR_FAIL:
            if changes_pool or (entry is not None and _entry_differs(entry, pool_after)):
                raise PlanError(
                    "operator_managed: pool %s carries app.kubernetes.io/managed-by=tigera-operator; the operator "
                    "reverts direct edits within minutes ("
                    "https://docs.tigera.io/calico/latest/reference/installation/api). Set operator_managed: "
                    "edit_installation to change the Installation's encapsulation instead" % pool["name"])
        else:
            if entry is None:
                raise PlanError("operator_managed: edit_installation, but no Installation `default` with a "
                                "calicoNetwork.ipPools entry for cidr %s was found" % pool["cidr"])
            errors = validate_pool(pool_after)
            if errors:
                raise PlanError("; ".join(errors))
            new_inst = desired_installation(installation.obj, pool["cidr"], final_ipip, final_vxlan, wanted["nat"])
            if new_inst != installation.obj:
                writes.append({"record": installation, "new": new_inst, "what": "installation"})
            main_record = installation
        return {"writes": writes, "pool_before": pool, "pool_after": pool_after, "main_record": main_record,
                "traps": traps, "via": "installation"}

    try:
        new_obj = desired_pool_object(record.obj, ipip, vxlan, wanted["nat"], strip_legacy=strip and pool["format"] == FMT_CRD)
    except ModeError as exc:
        raise PlanError(str(exc))
    pool_after = normalise_pool(new_obj, datastore, record.key, record.revision)
    if new_obj != record.obj:
        errors = validate_pool(pool_after)
        if errors:
            raise PlanError("pool %s: %s" % (pool["name"], "; ".join(errors)))
        writes.append({"record": record, "new": new_obj, "what": "pool"})

    # Felix traps the change brings (vxlanEnabled: false matters once a pool has VXLAN), then those it fixes
    pools_after = [p for p in snapshot["pools"] if p["key"] != pool_after["key"]] + [pool_after]
    known = set(t["name"] for t in traps)
    traps += [t for t in felix_traps(pools_after, snapshot.get("felix"), datastore) if t["name"] not in known]
    felix_write = _felix_write(pools_after, snapshot, request)
    if felix_write is not None:
        writes.append(felix_write)
        traps = [t for t in traps if t["name"] not in felix_write["fixes"]]  # this write is those traps' fix
    return {"writes": writes, "pool_before": pool, "pool_after": pool_after, "main_record": main_record,
            "traps": traps, "via": "pool"}


def _entry_differs(entry: Dict[str, Any], pool_after: Dict[str, Any]) -> bool:
    try:
        return installation_pool_modes(entry) != (pool_after["ipip_mode"], pool_after["vxlan_mode"])
    except ModeError:
        return True


# FelixConfiguration fields the ippool module may set to true, with the request key that asks for it and the trap
# that write fixes.
FELIX_FIXES = (("ipipEnabled", "ipip_enabled", "ipip_mode", "fix_felix_ipip", "felix_ipip_disabled"),
               ("vxlanEnabled", "vxlan_enabled", "vxlan_mode", "fix_felix_vxlan", "felix_vxlan_disabled"))


def _felix_write(pools: List[Dict[str, Any]], snapshot: Dict[str, Any], request: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Felix must run IPIP (VXLAN) for an IPIP (VXLAN) pool to work (felix/calc/encapsulation_resolver.go); *pools*
    are the pools after the change."""
    needed = [fix for fix in FELIX_FIXES if any(p[fix[2]] != NEVER and not p.get("disabled") for p in pools)]
    if not needed:
        return None
    record = snapshot.get("felix_record")
    felix = snapshot.get("felix")
    datastore = snapshot["datastore"]
    if datastore == "etcdv2":
        if needed[0][0] != "ipipEnabled":
            return None  # (Calico v2 had no VXLAN)
        # Calico v2's client sets the global IpInIpEnabled=true whenever it writes an IPIP pool
        # (libcalico-go v1.7.3 lib/client/ippool.go, maybeEnableIPIP); a direct etcd write must do the same or Felix
        # never creates tunl0.
        if felix is not None and felix.get("ipip_enabled") is True:
            return None
        if record is None:
            record = Record(V1_GLOBAL_IPIP_KEY, FELIX, exists=False, datastore=datastore)
        return {"record": record, "new": "true", "what": "felix", "fixes": ["felix_ipip_disabled"]}
    if record is None or not record.exists or felix is None:
        return None
    # false (kubespray) or unset: set true, as libcalico-go's maybeEnableIPIP does for Calico <= v3.22 (before
    # v3.23 Felix does not derive either from the pools).
    fixes = [fix for fix in needed if request.get(fix[3]) and felix.get(fix[1]) is not True]
    if not fixes:
        return None
    return {"record": record, "new": desired_felix_object(record.obj, [fix[0] for fix in fixes]), "what": "felix",
            "fixes": [fix[4] for fix in fixes]}


def desired_felix_object(obj: Dict[str, Any], fields=("ipipEnabled",)) -> Dict[str, Any]:
    new = copy.deepcopy(obj)
    for field in fields:
        new.setdefault("spec", {})[field] = True
    return new
