# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_kubespray_fit
short_description: What a kubespray inventory must set for the pool kubespray manages
version_added: 0.1.0
description:
  - kubespray manages one Calico pool, C(calico_pool_name) (default C(default-pool)). Its next C(cluster.yml) asserts
    that the inventory's C(calico_ipip_mode) and C(calico_vxlan_mode) match the live pool and fails with
    C(Your inventory doesn't match the current cluster configuration) otherwise; it also re-applies FelixConfiguration
    C(ipipEnabled) from C(calico_ipip_mode).
  - Given the pools as a run leaves them and the kubespray inventory's variables, returns the group_vars kubespray
    needs (C(calico_ipip_mode), C(calico_vxlan_mode), and C(calico_network_backend=bird) when the pool uses IPIP),
    which of them differ from the inventory (unset ones taken at kubespray's defaults V(Never), V(Always), V(vxlan)),
    and, when any differ, a trap entry for the report.
options:
  _input:
    description:
      - Normalised pools (as M(k8snet.calico.ippool_info) returns them, or M(k8snet.calico.ippool)'s C(pool)). The
        first pool with the name counts, so list the pools as changed before the pools as read.
    type: list
    elements: dict
    required: true
  inventory_vars:
    description: The kubespray inventory's variables for a cluster host, for example C(hostvars[groups['k8s_cluster'][0]]).
    type: dict
    default: {}
  check_mode:
    description: Word the trap for a check-mode run (the pool I(would be) changed).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Show what the kubespray inventory must say now
  ansible.builtin.debug:
    msg: "{{ (pools.pools | k8snet.calico.ipip_kubespray_fit(hostvars[groups['k8s_cluster'][0]])).lines }}"
"""

RETURN = r"""
_value:
  description: The fit.
  type: dict
  contains:
    pool: {description: "The pool kubespray manages (C(calico_pool_name)).", type: str}
    found: {description: Whether that pool is among the pools given., type: bool}
    current: {description: "The inventory's C(calico_ipip_mode), C(calico_vxlan_mode), C(calico_network_backend).", type: dict}
    group_vars: {description: What the inventory must set for the pool as it is (empty when it is not found)., type: dict}
    mismatch: {description: The variables that differ., type: list, elements: str}
    trap: {description: "C({name: kubespray_inventory_mismatch, subject, message, group_vars}), or null.", type: dict}
    lines: {description: What to show a person., type: list, elements: str}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._kubespray import kubespray_fit


def ipip_kubespray_fit(pools, inventory_vars=None, check_mode=False):
    if not isinstance(pools, list):
        raise AnsibleFilterError("ipip_kubespray_fit: input must be a list of pools, got %s" % type(pools).__name__)
    return kubespray_fit(pools, inventory_vars, bool(check_mode))


class FilterModule:
    def filters(self):
        return {"ipip_kubespray_fit": ipip_kubespray_fit}
