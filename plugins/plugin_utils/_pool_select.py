# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Which pools a list of pool names or CIDRs means: the one place that matches them (the role's ipip_pools, the
verdict's scope). Pure functions."""

from __future__ import annotations

import ipaddress


def pool_id(pool):
    """A pool's identity in reports and scopes: its name, or its CIDR when it has none (Calico v2)."""
    return pool.get("name") or pool.get("cidr")


def _network_text(text):
    try:
        return str(ipaddress.ip_network(str(text), strict=False))
    except ValueError:
        return None


def select_indexes(pools, wanted):
    """``(indexes, missing)``: the indexes of the pools an entry of ``wanted`` names - by name, by CIDR as written,
    or by the same network written another way (``192.168.1.0/16`` is ``192.168.0.0/16``) - and the entries that
    name no pool."""
    by_key = {}
    for index, pool in enumerate(pools):
        for key in (pool.get("name"), pool.get("cidr"), _network_text(pool.get("cidr"))):
            if key:
                by_key.setdefault(str(key), index)
    chosen, missing = set(), []
    for entry in wanted:
        index = by_key.get(str(entry))
        if index is None and "/" in str(entry):
            index = by_key.get(_network_text(entry) or "")
        if index is None:
            missing.append(entry)
        else:
            chosen.add(index)
    return chosen, missing


def target_pools(pools, wanted):
    """The pools a run changes: the IPv4 pools ``wanted`` names (every IPv4 pool when it is empty; IPIP is IPv4
    only). -> ``{"pools", "missing", "message"}``: ``message`` (why the run cannot go on) when an entry names no
    pool or no IPv4 pool is left, else None."""
    chosen, missing = select_indexes(pools, wanted) if wanted else (set(range(len(pools))), [])
    selected = [pool for index, pool in enumerate(pools) if index in chosen and ":" not in str(pool.get("cidr"))]
    ipv6 = [pool_id(pool) for index, pool in enumerate(pools) if index in chosen and ":" in str(pool.get("cidr"))]
    message = None
    if missing or not selected:
        known = ", ".join("%s %s" % (pool.get("name"), pool.get("cidr")) for pool in pools) or "no pools"
        if missing:
            what = "%s not found" % ", ".join(str(m) for m in missing)
        else:
            what = "no IPv4 pool found" + (" (%s: IPv6, and IPIP carries IPv4 only)" % ", ".join(ipv6) if ipv6 else "")
        message = "ipip_pools: %s; the datastore has %s." % (what, known)
    return {"pools": selected, "missing": missing, "message": message}
