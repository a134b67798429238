# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Named traps: states in which enabling IPIP on a pool does not give working tunnels. Pure functions.

Each trap is {"name", "subject", "message"}; the message says what happens and what to do. Sources: the
Calico files named in each trap's comment; docs/calico-traps.md lists them with the Calico documentation.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Optional

from ansible_collections.k8snet.calico.plugins.module_utils._ippool_model import (
    CANONICAL_MODES,
    NEVER,
    installation_pool_entry,
    installation_pool_modes,
)


def _is_ipv4_interface(address: Any) -> bool:
    """`10.39.0.5/24` or a bare `10.39.0.5` (Calico v2 without network_v4)."""
    try:
        ipaddress.IPv4Interface(address)
    except (ValueError, TypeError):
        return False
    return True


def _trap(name: str, subject: Any, message: str) -> Dict[str, Any]:
    return {"name": name, "subject": subject, "message": message}


def felix_traps(pools: List[Dict[str, Any]], felix: Optional[Dict[str, Any]], datastore: Optional[str]) -> List[Dict[str, Any]]:
    """The traps of the Felix configuration *felix* with *pools*: IPIP (VXLAN) pools Felix will not serve."""
    traps: List[Dict[str, Any]] = []
    if felix is None:
        return traps
    ipip_pools = [p for p in pools if p["ipip_mode"] != NEVER and not p.get("disabled")]
    enabled = felix.get("ipip_enabled")
    if datastore == "etcdv2":
        # Calico v2 (libcalico-go v1.7.3 lib/client/config.go): Felix only runs IPIP when the global key
        # IpInIpEnabled is true.
        if enabled is not True and ipip_pools:
            traps.append(_trap(
                "felix_ipip_disabled", "felix",
                "the Calico v2 global key %s is %s, so Felix will not create tunl0 for the IPIP pools; "
                "set it to true (the ippool module does this when it enables IPIP, as calicoctl v1 does)"
                % (felix.get("key"), "absent" if enabled is None else "false")))
    elif enabled is False:
        # felix/calc/encapsulation_resolver.go: explicit ipipEnabled overrides what Felix would derive from the
        # pools (kubespray writes false).
        traps.append(_trap(
            "felix_ipip_disabled", "felix",
            "FelixConfiguration %s sets ipipEnabled: false (kubespray writes this): Felix will not create tunl0 "
            "even with IPIP pools; set it to true or remove it (ippool fix_felix_ipip: true)" % felix.get("name")))
    if datastore != "etcdv2" and felix.get("vxlan_enabled") is False and any(
            p["vxlan_mode"] != NEVER and not p.get("disabled") for p in pools):
        # felix/calc/encapsulation_resolver.go: explicit vxlanEnabled overrides what Felix would derive from the
        # pools (kubespray writes false when calico_vxlan_mode is Never).
        traps.append(_trap(
            "felix_vxlan_disabled", "felix",
            "FelixConfiguration %s sets vxlanEnabled: false (kubespray writes this): Felix will not create "
            "vxlan.calico even with VXLAN pools; set it to true or remove it (ippool fix_felix_vxlan: true)"
            % felix.get("name")))
    return traps


def find_traps(
    pools: List[Dict[str, Any]],
    felix: Optional[Dict[str, Any]] = None,
    nodes: Optional[List[Dict[str, Any]]] = None,
    installation: Optional[Dict[str, Any]] = None,
    datastore: Optional[str] = None,
) -> List[Dict[str, Any]]:
    traps = []
    ipip_pools = [p for p in pools if p["ipip_mode"] != NEVER and not p.get("disabled")]
    cross_subnet = any(p["ipip_mode"] == "CrossSubnet" or p["vxlan_mode"] == "CrossSubnet" for p in pools)

    for pool in pools:
        subject = pool["name"]
        for field, stored in (("ipipMode", pool.get("ipip_mode_stored")), ("vxlanMode", pool.get("vxlan_mode_stored"))):
            if pool.get("format") in ("v3", "crd") and stored is not None and stored not in CANONICAL_MODES:
                # resources/ippool.go IPPoolV3ToV1: an unrecognised value acts as no encapsulation.
                traps.append(_trap(
                    "mode_not_canonical", subject,
                    "pool %s stores %s %r, which Calico reads as Never (values are case-sensitive); "
                    "set it to Always, CrossSubnet or Never" % (subject, field, stored)))
        if pool.get("legacy_ipip") is not None:
            # resources/ippool.go IPPoolv1v3Converter: the legacy field wins on every read, so a later ipipMode edit
            # is ignored.
            traps.append(_trap(
                "legacy_ipip_overrides_mode", subject,
                "pool %s still has the Calico v2 field spec.ipip=%s, which overrides spec.ipipMode=%r (Calico "
                "acts as %s); remove it (ippool strip_legacy_ipip: true, or rewrite the pool with calicoctl)"
                % (subject, pool["legacy_ipip"], pool.get("ipip_mode_stored"), pool["ipip_mode"])))
        if pool.get("operator_managed"):
            # tigera/operator pool_controller.go (calico#9100): the operator reconciles labelled pools every 5 minutes.
            traps.append(_trap(
                "operator_managed_pool", subject,
                "pool %s is managed by tigera-operator (label app.kubernetes.io/managed-by=tigera-operator): a "
                "direct edit is reverted; change the Installation's calicoNetwork.ipPools[].encapsulation instead "
                "(ippool operator_managed: edit_installation)" % subject))
            entry = installation_pool_entry(installation, pool["cidr"]) if installation else None
            if entry is not None:
                try:
                    wanted = installation_pool_modes(entry)
                except ValueError:
                    wanted = None
                if wanted is not None and wanted != (pool["ipip_mode"], pool["vxlan_mode"]):
                    traps.append(_trap(
                        "operator_installation_mismatch", subject,
                        "the Installation asks for encapsulation %s on %s but the pool has ipipMode %s, vxlanMode %s:"
                        " the operator will put the Installation's value back" % (
                            entry.get("encapsulation"), pool["cidr"], pool["ipip_mode"], pool["vxlan_mode"])))
        if pool["ipip_mode"] != NEVER and pool["vxlan_mode"] != NEVER:
            traps.append(_trap(
                "ipip_and_vxlan", subject,
                "pool %s has both IPIP (%s) and VXLAN (%s); Calico refuses this, set one of them to Never"
                % (subject, pool["ipip_mode"], pool["vxlan_mode"])))
        if pool["vxlan_mode"] != NEVER:
            # clientv3/ippool.go: IPIP and VXLAN cannot both be on one pool, so enabling IPIP replaces the pool's
            # VXLAN; a kubespray default cluster is VXLAN Always.
            traps.append(_trap(
                "vxlan_pool", subject,
                "pool %s (%s) uses VXLAN (vxlanMode %s): enabling IPIP on it sets vxlanMode to Never, replacing VXLAN "
                "(the role refuses this unless ipip_replace_vxlan: true; leave the pool out with ipip_pools). Its "
                "routes go through vxlan.calico, programmed by Felix" % (subject, pool["cidr"], pool["vxlan_mode"])))
        if pool["ipip_mode"] != NEVER and ":" in pool["cidr"]:
            traps.append(_trap("ipip_on_ipv6", subject, "IPv6 pool %s has IPIP %s; IPIP is IPv4 only" % (subject, pool["ipip_mode"])))

    traps.extend(felix_traps(pools, felix, datastore))

    for node in nodes or []:
        subject = node["name"]
        if not node.get("ipv4_address"):
            traps.append(_trap(
                "node_without_address", subject,
                "node %s has no Calico IPv4 address recorded; BGP and IPIP routes to it cannot be built" % subject))
        elif not _is_ipv4_interface(node["ipv4_address"]):
            traps.append(_trap(
                "node_address_invalid", subject,
                "node %s has the BGP address %r, which is not an IPv4 address (a.b.c.d/prefix); BGP and IPIP routes "
                "to it cannot be built" % (subject, node["ipv4_address"])))
        elif node.get("ipv4_prefix_length") is None:
            traps.append(_trap(
                "node_address_without_prefix", subject,
                "node %s has the address %s without its subnet prefix; CrossSubnet cannot tell which peers share "
                "its subnet (Calico v2: set network_v4; v3: ipv4Address as address/prefix)" % (subject, node["ipv4_address"])))
        elif node["ipv4_prefix_length"] == 32:
            # calico#2380, #3003: a /32 makes every peer look remote, so CrossSubnet tunnels everything.
            traps.append(_trap(
                "node_address_slash32", subject,
                "node %s has the BGP address %s: with a /32 every peer looks like another subnet%s; record the real "
                "prefix (calico-node IP=autodetect with IP_AUTODETECTION_METHOD=can-reach=<node IP>)"
                % (subject, node["ipv4_address"], ", so CrossSubnet tunnels all traffic" if cross_subnet else "")))
        if ipip_pools and not node.get("ipip_tunnel_address"):
            traps.append(_trap(
                "node_without_tunnel_address", subject,
                "node %s has no IPIP tunnel address although IPIP pools exist; calico-node allocates one within "
                "seconds of the change; if it stays empty restart calico-node on that node" % subject))
    return traps
