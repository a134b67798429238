# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_tunnel_test_verdict
short_description: Whether IP protocol 4 passed between the node pairs of the pre-change tunnel test
version_added: 0.1.0
description:
  - Judges the outputs of the pre-change tunnel test (P(k8snet.calico.ipip_tunnel_test_plan#filter)) - a pair is ok
    only when both of its tunnels came up and both of its pings were answered; a missing output line is never ok.
  - Also names every rule of the nodes' own firewalls (C(iptables-save), C(nft list ruleset)) that drops or rejects
    IP protocol 4 (C(ipencap); C(ipip) in C(/etc/protocols) is protocol 94, another protocol).
  - C(message) says which pairs failed and what to open (AWS security groups; OpenStack, where C(ipip) means 94),
    or VXLAN where protocol 4 cannot pass.
options:
  _input:
    description: The plan the test ran.
    type: dict
    required: true
  setups:
    description:
      - For each host, its setup output lines (C(ok) or C(setup failed ...)), one per tunnel in the plan's order.
    type: dict
    required: true
  pings:
    description: For each host, its ping output lines (C(ok) or C(no reply)), one per tunnel in the plan's order.
    type: dict
    required: true
  firewalls:
    description: For each host, what C(iptables-save) and C(nft list ruleset) printed (empty where absent).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse the change when protocol 4 does not pass
  ansible.builtin.assert:
    that: verdict.ok
    fail_msg: "{{ verdict.message }}"
  vars:
    verdict: "{{ plan | k8snet.calico.ipip_tunnel_test_verdict(setups=setups, pings=pings, firewalls=firewalls) }}"
"""

RETURN = r"""
_value:
  description:
    - C(ok), C(pairs) (the plan's pairs with C(outcomes) per host and C(ok)), C(pairs_failed), C(firewall_rules)
      (host -> rules), C(message) (empty when ok) and C(warnings) (firewall rules found while every pair passed).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._tunnel_test import (
    TunnelTestInputError,
    tunnel_test_verdict,
)


def ipip_tunnel_test_verdict(plan, setups, pings, firewalls):
    try:
        return tunnel_test_verdict(plan, setups, pings, firewalls)
    except TunnelTestInputError as e:
        raise AnsibleFilterError("ipip_tunnel_test_verdict: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_tunnel_test_verdict": ipip_tunnel_test_verdict}
