# Copyright (c) k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE, may change at any time: internal to k8snet.calico, not a public API.
"""Calico's own IP pool validation rules, applied before anything is written. Pure functions.

Rules: projectcalico/libcalico-go v1.7.3 lib/validator/validator.go (validateIPPool) for v1 pools; projectcalico/calico
libcalico-go/lib/validator/v3/validator.go, libcalico-go/lib/clientv3/ippool.go and the CRD's CEL rules for v3 pools.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List

from ansible_collections.k8snet.calico.plugins.module_utils._ippool_model import (
    CANONICAL_MODES,
    FMT_V1_API,
    FMT_V1_KV,
    NEVER,
    canonical_cidr,
)

LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


def validate_pool(pool: Dict[str, Any]) -> List[str]:
    """Every rule a normalised pool breaks, as messages naming the field, the value and what is allowed.

    An empty list means Calico would accept the pool.
    """
    errors = []
    cidr = pool.get("cidr")
    ipip = pool.get("ipip_mode")
    vxlan = pool.get("vxlan_mode")
    for field, value in (("ipip_mode", ipip), ("vxlan_mode", vxlan)):
        if value not in CANONICAL_MODES:
            errors.append("%s: %r is not one of %s" % (field, value, ", ".join(CANONICAL_MODES)))
    try:
        net = ipaddress.ip_network(canonical_cidr(cidr))
    except ValueError as exc:
        errors.append("cidr: %s" % exc)
        return errors
    legacy = pool.get("format") in (FMT_V1_API, FMT_V1_KV)

    if ipip not in (None, NEVER) and vxlan not in (None, NEVER):
        errors.append(
            "ipip_mode %s with vxlan_mode %s: Calico refuses both on one pool (\"Cannot enable both VXLAN and IPIP "
            "on the same IPPool\"); set the other one to Never" % (ipip, vxlan)
        )
    if net.version == 6 and ipip not in (None, NEVER):
        errors.append("ipip_mode: %s is not allowed on the IPv6 pool %s; IPIP is IPv4 only, use Never" % (ipip, cidr))
    if legacy and vxlan not in (None, NEVER):
        errors.append("vxlan_mode: %s needs Calico v3; pool %s is a Calico v2 pool" % (vxlan, cidr))
    for link_local in LINK_LOCAL:
        if net.version == link_local.version and net.overlaps(link_local):
            errors.append("cidr: %s overlaps the link-local range %s, which Calico refuses" % (cidr, link_local))

    block_size = pool.get("block_size")
    low, high = (20, 32) if net.version == 4 else (116, 128)
    if not isinstance(block_size, int) or isinstance(block_size, bool) or not low <= block_size <= high:
        errors.append("block_size: %r must be an integer from %d to %d for an IPv%d pool" % (block_size, low, high, net.version))
    elif not pool.get("disabled") and net.prefixlen > block_size:
        errors.append(
            "cidr: %s is smaller than one block (/%d); an enabled pool's prefix must be no longer than its block size"
            % (cidr, block_size)
        )
    if legacy and not pool.get("disabled"):
        minimum = 26 if net.version == 4 else 122  # v1 validateIPPool: an enabled v1 pool must be at least /26 or /122
        if net.prefixlen > minimum:
            errors.append("cidr: %s is smaller than /%d, the smallest enabled pool Calico v2 accepts" % (cidr, minimum))

    uses = pool.get("allowed_uses") or []
    if "LoadBalancer" in uses:  # LoadBalancer rules (Calico master)
        if ipip not in (None, NEVER) or vxlan not in (None, NEVER):
            errors.append("allowed_uses: a LoadBalancer pool cannot use IPIP or VXLAN; set both modes to Never")
        if (pool.get("node_selector") or "all()") != "all()":
            errors.append("node_selector: a LoadBalancer pool needs nodeSelector all(), not %r" % pool.get("node_selector"))
    return errors
