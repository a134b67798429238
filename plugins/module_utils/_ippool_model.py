# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Calico IP pool formats: mode spellings, one normalised shape, and the exact object to store.

Pure functions only (no I/O). Format facts come from Calico's source, cited by file below (paths in
projectcalico/calico; "v1.7.3" is projectcalico/libcalico-go v1.7.3, behind Calico v2.6). docs/calico-traps.md
"Sources" lists them with the Calico documentation.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any, Dict, Optional, Tuple

ALWAYS = "Always"
CROSS_SUBNET = "CrossSubnet"
NEVER = "Never"
CANONICAL_MODES = (ALWAYS, CROSS_SUBNET, NEVER)

# What a user may write for ipip_mode: the v3 values, plus the v1 spellings (v1.7.3 lib/ipip/ipip.go: `always`,
# `cross-subnet`; `off` is what `calicoctl config set ipip off` and CALICO_IPV4POOL_IPIP used). Anything else,
# including other casings, is refused: the v3 validator is case-sensitive (libcalico-go/lib/validator/v3/validator.go).
IPIP_MODE_INPUTS = {
    "Always": ALWAYS,
    "CrossSubnet": CROSS_SUBNET,
    "Never": NEVER,
    "always": ALWAYS,
    "cross-subnet": CROSS_SUBNET,
    "off": NEVER,
}
VXLAN_MODE_INPUTS = {"Always": ALWAYS, "CrossSubnet": CROSS_SUBNET, "Never": NEVER}

# Operator Installation `encapsulation` <-> (ipipMode, vxlanMode) (tigera/operator
# pkg/controller/ippool/pool_controller.go, ToProjectCalico).
ENCAPSULATION_TO_MODES = {
    "IPIP": (ALWAYS, NEVER),
    "IPIPCrossSubnet": (CROSS_SUBNET, NEVER),
    "VXLAN": (NEVER, ALWAYS),
    "VXLANCrossSubnet": (NEVER, CROSS_SUBNET),
    "None": (NEVER, NEVER),
}
MODES_TO_ENCAPSULATION = {modes: enc for enc, modes in ENCAPSULATION_TO_MODES.items()}

OPERATOR_LABEL = "app.kubernetes.io/managed-by"
OPERATOR_LABEL_VALUE = "tigera-operator"

# Pool formats, told apart by shape (see pool_format()).
FMT_V3 = "v3"  # projectcalico.org/v3 IPPool: etcdv3 value, calicoctl v3, Calico API server
FMT_CRD = "crd"  # crd.projectcalico.org/v1 IPPool as stored in Kubernetes
FMT_V1_API = "v1-api"  # calicoctl v1 `kind: ipPool` (v1.7.3 lib/api/ippool.go)
V1_KV_FIELDS = frozenset(("cidr", "ipip", "ipip_mode", "vxlan_mode", "masquerade", "ipam", "disabled"))
FMT_V1_KV = "v1-kv"  # Calico v2 etcd value at /calico/v1/ipam/v4/pool/<cidr-> (v1.7.3 lib/backend/model/ippool.go)

V3_API_VERSION = "projectcalico.org/v3"
CRD_API_VERSION = "crd.projectcalico.org/v1"


class PoolFormatError(ValueError):
    """A stored object is not a Calico IP pool in any known format."""


class ModeError(ValueError):
    """A mode spelling nobody accepts."""


def parse_ipip_mode(value: Any, field: str = "ipip_mode") -> str:
    """Return the canonical v3 mode for a user-supplied IPIP mode, or raise ModeError naming what is allowed."""
    if isinstance(value, str) and value in IPIP_MODE_INPUTS:
        return IPIP_MODE_INPUTS[value]
    raise ModeError(
        "%s: %r is not an IPIP mode; use one of Always, CrossSubnet, Never (the v1 spellings always, "
        "cross-subnet, off are accepted too; values are case-sensitive)" % (field, value)
    )


def parse_vxlan_mode(value: Any, field: str = "vxlan_mode") -> str:
    if isinstance(value, str) and value in VXLAN_MODE_INPUTS:
        return VXLAN_MODE_INPUTS[value]
    raise ModeError("%s: %r is not a VXLAN mode; use one of Always, CrossSubnet, Never (case-sensitive)" % (field, value))


def parse_encapsulation(value: Any) -> Tuple[str, str]:
    """Operator `encapsulation` -> (ipip_mode, vxlan_mode)."""
    if isinstance(value, str) and value in ENCAPSULATION_TO_MODES:
        return ENCAPSULATION_TO_MODES[value]
    raise ModeError(
        "encapsulation: %r is not an operator encapsulation; use one of %s"
        % (value, ", ".join(sorted(ENCAPSULATION_TO_MODES)))
    )


def encapsulation_for(ipip_mode: str, vxlan_mode: str) -> str:
    return MODES_TO_ENCAPSULATION[(ipip_mode, vxlan_mode)]


def effective_v3_mode(value: Any) -> str:
    """How Calico acts on a stored v3 mode value: only the exact strings Always/CrossSubnet enable anything.

    libcalico-go/lib/backend/k8s/resources/ippool.go (IPPoolV3ToV1): anything else, e.g. lowercase `always` written
    straight into a CRD, means no encapsulation. An absent value defaults to Never.
    """
    return value if value in (ALWAYS, CROSS_SUBNET) else NEVER


def v1_mode(enabled: bool, mode: Any) -> str:
    """v1 `ipip: {enabled, mode}` -> v3 mode. Empty mode means always (v1.7.3 lib/ipip DefaultMode)."""
    if not enabled:
        return NEVER
    return CROSS_SUBNET if mode == "cross-subnet" else ALWAYS


def cidr_key(cidr: str) -> str:
    """`192.168.0.0/16` -> `192.168.0.0-16`, the form used in etcd keys."""
    return cidr.replace("/", "-")


def pool_format(obj: Any) -> str:
    """Tell a stored pool's format from its shape; raise PoolFormatError for anything else."""
    if not isinstance(obj, dict):
        raise PoolFormatError("expected a JSON object, got %s" % type(obj).__name__)
    kind = obj.get("kind")
    api = obj.get("apiVersion")
    if kind == "IPPool" and api == V3_API_VERSION:
        return FMT_V3
    if kind == "IPPool" and api == CRD_API_VERSION:
        return FMT_CRD
    if kind == "ipPool" and api == "v1":
        return FMT_V1_API
    # A Calico v2 pool value holds only what is set: pycalico's IPPool.to_json (projectcalico/libcalico,
    # calico_containers/pycalico/datastore_datatypes.py) writes {"cidr": ...} alone for a pool with IPIP and NAT off.
    if kind is None and "cidr" in obj and ("masquerade" in obj or "ipip" in obj or "ipam" in obj
                                           or (api is None and set(obj) <= V1_KV_FIELDS)):
        return FMT_V1_KV
    raise PoolFormatError(
        "not a Calico IP pool (kind=%r, apiVersion=%r); expected IPPool projectcalico.org/v3 or "
        "crd.projectcalico.org/v1, ipPool v1, or a Calico v2 pool value" % (kind, api)
    )


def _spec(obj: Dict[str, Any]) -> Dict[str, Any]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise PoolFormatError("pool has no spec object")
    return spec


def _default_block_size(cidr: str) -> int:
    return 122 if ":" in cidr else 26


def legacy_ipip(obj: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The deprecated `spec.ipip` of a CRD pool, if present."""
    if pool_format(obj) != FMT_CRD:
        return None
    value = _spec(obj).get("ipip")
    return value if isinstance(value, dict) else None


def normalise_pool(obj: Any, datastore: str, key: Optional[str] = None, revision: Optional[str] = None) -> Dict[str, Any]:
    """Any stored pool -> one shape. Modes are what Calico will actually do (effective), not the raw strings."""
    fmt = pool_format(obj)
    raw = copy.deepcopy(obj)
    if fmt in (FMT_V3, FMT_CRD):
        spec = _spec(obj)
        metadata = obj.get("metadata") or {}
        cidr = spec.get("cidr")
        ipip = effective_v3_mode(spec.get("ipipMode"))
        nat = bool(spec.get("natOutgoing", False))
        legacy = spec.get("ipip") if fmt == FMT_CRD else None
        if isinstance(legacy, dict):
            # resources/ippool.go ConvertFromK8s: a legacy spec.ipip overrides ipipMode; nat-outgoing is OR-ed in.
            ipip = v1_mode(bool(legacy.get("enabled")), legacy.get("mode"))
        if fmt == FMT_CRD and spec.get("nat-outgoing"):
            nat = True
        labels = metadata.get("labels") or {}
        result = {
            "name": metadata.get("name"),
            "cidr": cidr,
            "ipip_mode": ipip,
            "vxlan_mode": effective_v3_mode(spec.get("vxlanMode")),
            "nat_outgoing": nat,
            "disabled": bool(spec.get("disabled", False)),
            "block_size": spec.get("blockSize") or (_default_block_size(cidr) if isinstance(cidr, str) else None),
            "node_selector": spec.get("nodeSelector") or "all()",
            "allowed_uses": spec.get("allowedUses") or ["Workload", "Tunnel"],
            "ipip_mode_stored": spec.get("ipipMode"),
            "vxlan_mode_stored": spec.get("vxlanMode"),
            "legacy_ipip": legacy if isinstance(legacy, dict) else None,
            "operator_managed": labels.get(OPERATOR_LABEL) == OPERATOR_LABEL_VALUE,
        }
    elif fmt == FMT_V1_API:
        spec = obj.get("spec") or {}
        cidr = (obj.get("metadata") or {}).get("cidr")
        ipip_cfg = spec.get("ipip") or {}
        result = {
            "name": cidr,  # v1 pools have no name: the CIDR is their identity
            "cidr": cidr,
            "ipip_mode": v1_mode(bool(ipip_cfg.get("enabled")), ipip_cfg.get("mode")),
            "vxlan_mode": NEVER,
            "nat_outgoing": bool(spec.get("nat-outgoing", False)),
            "disabled": bool(spec.get("disabled", False)),
            "block_size": _default_block_size(cidr) if isinstance(cidr, str) else None,
            "node_selector": "all()",
            "allowed_uses": ["Workload", "Tunnel"],
            "ipip_mode_stored": ipip_cfg.get("mode") if ipip_cfg else None,
            "vxlan_mode_stored": None,
            "legacy_ipip": None,
            "operator_managed": False,
        }
    else:  # FMT_V1_KV
        cidr = obj.get("cidr")
        result = {
            "name": cidr,
            "cidr": cidr,
            # v1 KV: `ipip` is the tunnel interface name, "" when off; ipip_mode "" means always.
            "ipip_mode": v1_mode(bool(obj.get("ipip")), obj.get("ipip_mode")),
            "vxlan_mode": effective_v3_mode(obj.get("vxlan_mode")),
            "nat_outgoing": bool(obj.get("masquerade", False)),
            "disabled": bool(obj.get("disabled", False)),
            "block_size": _default_block_size(cidr) if isinstance(cidr, str) else None,
            "node_selector": "all()",
            "allowed_uses": ["Workload", "Tunnel"],
            "ipip_mode_stored": obj.get("ipip_mode"),
            "vxlan_mode_stored": None,
            "legacy_ipip": None,
            "operator_managed": False,
        }
    if not isinstance(result["cidr"], str) or not result["cidr"]:
        raise PoolFormatError("pool has no cidr")
    result.update({"format": fmt, "datastore": datastore, "key": key, "revision": revision, "raw": raw})
    return result


def desired_pool_object(
    obj: Dict[str, Any],
    ipip_mode: Optional[str] = None,
    vxlan_mode: Optional[str] = None,
    nat_outgoing: Optional[bool] = None,
    strip_legacy: bool = False,
) -> Dict[str, Any]:
    """The stored object after the change, in the object's own format and canonical spelling.

    Fields not asked for are left exactly as stored, including key order, so an unchanged pool compares equal and
    a changed one differs only in the fields asked for. Modes must already be canonical (parse_*_mode).
    """
    fmt = pool_format(obj)
    new = copy.deepcopy(obj)
    if fmt in (FMT_V3, FMT_CRD):
        spec = new["spec"]
        if strip_legacy and fmt == FMT_CRD:
            legacy = spec.pop("ipip", None)
            legacy_nat = spec.pop("nat-outgoing", None)
            # Keep what Calico was doing (the legacy field wins on read) unless the caller decides.
            if ipip_mode is None and isinstance(legacy, dict):
                ipip_mode = v1_mode(bool(legacy.get("enabled")), legacy.get("mode"))
            if nat_outgoing is None and legacy_nat and not spec.get("natOutgoing"):
                nat_outgoing = True
        if ipip_mode is not None:
            spec["ipipMode"] = ipip_mode
        if vxlan_mode is not None:
            spec["vxlanMode"] = vxlan_mode
        if nat_outgoing is not None:
            # Go's `natOutgoing,omitempty`: false is stored by leaving the field out.
            if nat_outgoing:
                spec["natOutgoing"] = True
            else:
                spec.pop("natOutgoing", None)
        if fmt == FMT_V3:
            # resourceVersion is never part of the stored etcd value.
            (new.get("metadata") or {}).pop("resourceVersion", None)
    elif fmt == FMT_V1_API:
        if vxlan_mode not in (None, NEVER):
            raise ModeError("vxlan_mode: %r is not possible on a Calico v2 (v1 API) pool; VXLAN needs Calico v3" % vxlan_mode)
        spec = new.setdefault("spec", {})
        if ipip_mode is not None:
            if ipip_mode == NEVER:
                spec.pop("ipip", None)  # absent ipip object == off
            else:
                # v1.7.3 lib/api/ippool.go: `enabled` defaults to false in code (the docs are wrong): always write it.
                spec["ipip"] = {"enabled": True, "mode": "always" if ipip_mode == ALWAYS else "cross-subnet"}
        if nat_outgoing is not None:
            spec["nat-outgoing"] = bool(nat_outgoing)
    else:  # FMT_V1_KV
        if vxlan_mode not in (None, NEVER):
            raise ModeError("vxlan_mode: %r is not possible on a Calico v2 (etcd v2) pool; VXLAN needs Calico v3" % vxlan_mode)
        if ipip_mode is not None:
            # ipip is the interface name ("tunl0" on, "" off), ipip_mode "" / always / cross-subnet.
            new["ipip"] = "" if ipip_mode == NEVER else "tunl0"
            new["ipip_mode"] = {ALWAYS: "always", CROSS_SUBNET: "cross-subnet", NEVER: ""}[ipip_mode]
        if nat_outgoing is not None:
            new["masquerade"] = bool(nat_outgoing)
    return new


def desired_installation(
    installation: Dict[str, Any], cidr: str, ipip_mode: str, vxlan_mode: str, nat_outgoing: Optional[bool]
) -> Dict[str, Any]:
    """The operator Installation with the entry for `cidr` set to the requested encapsulation."""
    new = copy.deepcopy(installation)
    entry = installation_pool_entry(new, cidr)
    if entry is None:
        raise PoolFormatError("the Installation has no calicoNetwork.ipPools entry with cidr %s" % cidr)
    entry["encapsulation"] = encapsulation_for(ipip_mode, vxlan_mode)
    if nat_outgoing is not None:
        entry["natOutgoing"] = "Enabled" if nat_outgoing else "Disabled"
    return new


def installation_pool_entry(installation: Dict[str, Any], cidr: str) -> Optional[Dict[str, Any]]:
    pools = ((installation.get("spec") or {}).get("calicoNetwork") or {}).get("ipPools") or []
    for entry in pools:
        if isinstance(entry, dict) and entry.get("cidr") == cidr:
            return entry
    return None


def installation_pool_modes(entry: Dict[str, Any]) -> Tuple[str, str]:
    """Modes an Installation entry asks for; an absent encapsulation is the operator default."""
    enc = entry.get("encapsulation")
    if enc is None:
        return (NEVER, NEVER) if ":" in str(entry.get("cidr", "")) else (ALWAYS, NEVER)
    return parse_encapsulation(enc)


def go_json(obj: Any) -> str:
    """Serialise like Go's encoding/json (what Calico writes to etcd, model/keys.go SerializeValue).

    Compact separators, keys in the given order, raw UTF-8, and Go's HTML-safe escapes for <, > and & (and
    U+2028/U+2029), so an untouched field keeps its exact bytes. Those characters never occur outside strings
    in JSON, so replacing them in the text is safe.
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def select_pool(pools: list, name: Optional[str] = None, cidr: Optional[str] = None) -> Dict[str, Any]:
    """Pick one normalised pool by name or CIDR; raise LookupError listing what exists, or saying why `cidr` can
    name no pool (not a CIDR, host bits set)."""
    if cidr is not None:
        try:
            wanted = canonical_cidr(cidr)
        except ValueError as exc:
            raise LookupError(str(exc))
        found = [p for p in pools if _same_cidr(p["cidr"], wanted)]
        what = "cidr %r" % cidr
    else:
        found = [p for p in pools if p["name"] == name]
        what = "name %r" % name
    if len(found) == 1:
        return found[0]
    existing = ", ".join("%s (%s)" % (p["name"], p["cidr"]) for p in pools) or "none"
    if not found:
        raise LookupError("no IP pool with %s; pools in the datastore: %s" % (what, existing))
    raise LookupError("%d IP pools match %s: %s; select by name" % (len(found), what, existing))


def canonical_cidr(cidr: Any) -> str:
    """`10.1.0.0/16` stays; `10.1.2.3/16` raises (not masked); bad text raises. ValueError says why."""
    if not isinstance(cidr, str) or "/" not in cidr:
        raise ValueError("%r is not a valid CIDR (expected address/prefix, e.g. 192.168.0.0/16)" % (cidr,))
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise ValueError("%r is not a valid CIDR: %s (expected address/prefix, e.g. 192.168.0.0/16)" % (cidr, exc))
    if net.network_address != ipaddress.ip_interface(cidr).ip:
        raise ValueError("%r is not masked: host bits are set (the network is %s)" % (cidr, net))
    return str(net)


def _same_cidr(a: str, b: str) -> bool:
    try:
        return canonical_cidr(a) == canonical_cidr(b)
    except ValueError:
        return a == b
