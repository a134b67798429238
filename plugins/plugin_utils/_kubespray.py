# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""What a kubespray inventory must say about the pool kubespray manages, once this collection changed it. Pure.

kubespray's roles/network_plugin/calico (docs/kubespray.md): kubespray manages one pool, ``calico_pool_name``
(default ``default-pool``); its next ``cluster.yml`` asserts (``roles/network_plugin/calico/tasks/check.yml``) that
``calico_ipip_mode`` and ``calico_vxlan_mode`` match the live pool ("Your inventory doesn't match the current cluster
configuration"), and ``install.yml`` re-applies FelixConfiguration ``ipipEnabled`` from ``calico_ipip_mode`` (and
``vxlanEnabled`` from ``calico_vxlan_mode``). IPIP needs BIRD, which kubespray runs only with
``calico_network_backend: bird``.
"""

from __future__ import annotations

# kubespray's own defaults (roles/network_plugin/calico_defaults/defaults/main.yml)
KUBESPRAY_DEFAULTS = {
    "calico_pool_name": "default-pool",
    "calico_ipip_mode": "Never",
    "calico_vxlan_mode": "Always",
    "calico_network_backend": "vxlan",
}
GROUP_VARS_FILE = "group_vars/k8s_cluster/k8s-net-calico.yml"
TRAP = "kubespray_inventory_mismatch"


def _get(mapping, key):
    try:
        value = mapping.get(key) if mapping is not None else None
    except Exception:  # pylint: disable=broad-except  # hostvars of a host that has none of these
        value = None
    return KUBESPRAY_DEFAULTS[key] if value is None or value == "" else str(value)


def kubespray_fit(pools, inventory_vars=None, check_mode=False):
    """``pools``: normalised pools (``name``, ``ipip_mode``, ``vxlan_mode``) as the run leaves them, first match wins,
    so a changed pool listed before the pools as read overrides them. ``inventory_vars``: the kubespray inventory's
    variables for a cluster host (hostvars), kubespray's defaults where unset.

    -> ``{pool, found, current, group_vars, mismatch, trap, lines}``: ``group_vars`` is what the inventory must say
    for the pool as it is, ``mismatch`` the variables that differ, ``trap`` the report entry (None when nothing
    differs or the pool is absent), ``lines`` what to show."""
    name = _get(inventory_vars, "calico_pool_name")
    current = {key: _get(inventory_vars, key)
               for key in ("calico_ipip_mode", "calico_vxlan_mode", "calico_network_backend")}
    pool = next((p for p in pools or [] if isinstance(p, dict) and p.get("name") == name), None)
    result = {"pool": name, "found": pool is not None, "current": current, "group_vars": {}, "mismatch": [],
              "trap": None}
    if pool is None:
        result["lines"] = ["kubespray: its pool %s (calico_pool_name) is not in the datastore; nothing to align"
                           % name]
        return result
    ipip = pool.get("ipip_mode") or "Never"
    vxlan = pool.get("vxlan_mode") or "Never"
    wanted = {
        "calico_ipip_mode": ipip,
        "calico_vxlan_mode": vxlan,
        # kubespray drops BIRD with vxlan (and none); IPIP routes need it
        "calico_network_backend": "bird" if ipip != "Never" else current["calico_network_backend"],
    }
    mismatch = [key for key in wanted if wanted[key] != current[key]]
    result["group_vars"] = wanted
    result["mismatch"] = mismatch
    settings = ["%s: %s" % item for item in wanted.items()]
    if not mismatch:
        result["lines"] = ["kubespray: its inventory already matches pool %s:" % name] + ["  " + s for s in settings]
        return result
    result["lines"] = ["kubespray: set these in its inventory (%s) before its next cluster.yml:" % GROUP_VARS_FILE] + [
        "  " + s for s in settings]
    result["trap"] = {
        "name": TRAP,
        "subject": name,
        "group_vars": wanted,
        "message": (
            "kubespray manages pool %s, which %s ipipMode %s, vxlanMode %s, but its inventory says %s. kubespray's "
            "next cluster.yml fails with \"Your inventory doesn't match the current cluster configuration\", and it "
            "re-applies FelixConfiguration ipipEnabled from calico_ipip_mode (%s). Set in its group_vars (%s): %s"
            % (name, "would be" if check_mode else "is now", ipip, vxlan,
               ", ".join("%s: %s" % (key, current[key]) for key in mismatch),
               "ipipEnabled: true once calico_ipip_mode is %s" % ipip if ipip != "Never"
               else "ipipEnabled: false", GROUP_VARS_FILE, ", ".join(settings))),
    }
    return result
