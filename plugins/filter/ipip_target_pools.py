# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_target_pools
short_description: The pools a run changes, from pool names or CIDRs
version_added: 0.1.0
description:
  - The IPv4 pools O(wanted) names (every IPv4 pool when it is empty), matched as P(k8snet.calico.ipip_verdict#filter)
    matches its O(k8snet.calico.ipip_verdict#filter:scope) - by name, by CIDR as written, or by the same network
    written another way. IPv6 pools are never chosen (IPIP carries IPv4 only).
  - C(message) says why the run cannot go on - an entry that names no pool, or no IPv4 pool left - listing the pools
    the datastore has; null otherwise.
options:
  _input:
    description: The pools (M(k8snet.calico.ippool_info)'s C(pools)).
    type: list
    elements: dict
    required: true
  wanted:
    description: Pool names or CIDRs (the role's C(ipip_pools)); empty means every IPv4 pool.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Choose the pools to change
  ansible.builtin.set_fact:
    targets: "{{ calico.pools | k8snet.calico.ipip_target_pools(['default-ipv4-ippool']) }}"
"""

RETURN = r"""
_value:
  description: C(pools) (the chosen pools, in the datastore's order), C(missing) (entries naming no pool), C(message).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._pool_select import target_pools


def ipip_target_pools(pools, wanted):
    if not isinstance(pools, list) or not all(isinstance(p, dict) for p in pools):
        raise AnsibleFilterError("ipip_target_pools: %r is not a list of pools" % (pools,))
    if isinstance(wanted, str) or not isinstance(wanted, list):
        raise AnsibleFilterError("ipip_target_pools: wanted: %r is not a list of pool names or CIDRs" % (wanted,))
    return target_pools(pools, wanted)


class FilterModule:
    def filters(self):
        return {"ipip_target_pools": ipip_target_pools}
