# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_probe_verdict
short_description: Add the tunnel probe's outcomes to a node's verdict
version_added: 0.1.0
description:
  - Returns the node's verdict with C(probe) (each pinged address and its outcome, C(ok) or C(no reply)), C(ok)
    false unless every address answered, and a problem per silent address.
  - When the probe read the tunnel's MTU, also C(probe_mtu) (C(full_size) and C(over_size) per address) - packets
    of exactly the tunnel's MTU with DF set must cross (a silent one is an MTU black hole, a problem), and one byte more must be
    refused; a path that refuses full-size packets loudly (C(path_mtu_below_tunnel)), and an over-size packet that
    is not refused (C(tunnel_mtu_not_enforced), C(oversize_dropped_silently)), are warnings.
  - An address without an outcome line (the probe's output cut short) counts as silent, never as answered.
options:
  _input:
    description: The node's verdict (one entry of P(k8snet.calico.ipip_verdict#filter)'s C(nodes)).
    type: dict
    required: true
  addresses:
    description: The addresses the probe pinged, in order.
    type: list
    elements: str
    required: true
  outcomes:
    description:
      - The output lines of the role's C(files/probe.sh) - C(mtu <tunnel MTU>) (or C(mtu -)), then one per
        address in the same order, C(<reach> <full> <over>), for example C(ok ok refused:1480).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Add the probe results to this node's verdict
  ansible.builtin.set_fact:
    verdict: "{{ verdict | k8snet.calico.ipip_probe_verdict(addresses, probe.stdout_lines) }}"
"""

RETURN = r"""
_value:
  description: The verdict with C(probe), C(probe_mtu), C(ok), C(problems) and C(warnings) updated.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._probe import ProbeInputError, probe_verdict


def ipip_probe_verdict(verdict, addresses, outcomes):
    try:
        return probe_verdict(verdict, addresses, outcomes)
    except ProbeInputError as e:
        raise AnsibleFilterError("ipip_probe_verdict: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_probe_verdict": ipip_probe_verdict}
