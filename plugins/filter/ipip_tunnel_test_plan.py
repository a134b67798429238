# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_tunnel_test_plan
short_description: Which node pairs test IP protocol 4 before the change, with which throwaway tunnels
version_added: 0.1.0
description:
  - For the pre-change tunnel test (the role's C(ipip_preflight_tunnel_test)), one node pair per pair of subnets
    (the first host of each subnet by name), and with O(ipip_mode=Always) also one pair inside each subnet of two
    or more hosts, since Always encapsulates same-subnet traffic too.
  - Each pair gets one IPIP tunnel on each of its hosts, named C(k8snet-t<index>) (never C(tunl0)), with two /32
    addresses from O(address_range).
  - Fails naming the field when O(address_range) is not set, not IPv4, overlaps a pool or a node subnet, or is too
    small for two addresses per pair.
options:
  _input:
    description: The node verdicts of the diagnosis (P(k8snet.calico.ipip_verdict#filter)'s C(nodes)), which give
      each host's address and subnet.
    type: list
    elements: dict
    required: true
  address_range:
    description: The IPv4 range the test addresses are taken from; no pool, node or service may use it.
    type: str
    required: true
  pools:
    description: The CIDRs of every pool, which the range must not overlap.
    type: list
    elements: str
    required: true
  ipip_mode:
    description: The IPIP mode about to be set.
    type: str
    choices: [Always, CrossSubnet]
    required: true
"""

EXAMPLES = r"""
- name: Plan the pre-change tunnel test
  ansible.builtin.set_fact:
    plan: >-
      {{ diagnosis.nodes | k8snet.calico.ipip_tunnel_test_plan(address_range='198.18.0.0/24',
                                                              pools=['192.168.0.0/16'], ipip_mode='CrossSubnet') }}
"""

RETURN = r"""
_value:
  description:
    - C(pairs) (each with C(index), C(name), C(hosts), C(subnets)) and C(tunnels), for each host the list of its
      tunnels (C(name), C(local), C(remote), C(address), C(peer)) in the order its outputs are read.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._tunnel_test import TunnelTestInputError, tunnel_test_plan


def ipip_tunnel_test_plan(nodes, address_range, pools, ipip_mode):
    try:
        return tunnel_test_plan(nodes, address_range, pools, ipip_mode)
    except TunnelTestInputError as e:
        raise AnsibleFilterError("ipip_tunnel_test_plan: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_tunnel_test_plan": ipip_tunnel_test_plan}
