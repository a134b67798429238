# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_cloud_check
short_description: Whether the nodes run where IPIP cannot pass at all (Azure)
version_added: 0.1.0
description:
  - From each node's C(platform) (M(k8snet.calico.node_routes_info), read from its DMI strings), the hosts that run
    on Azure, which does not carry IP-in-IP between VMs, and the message the C(ipip) role refuses the change with
    (use VXLAN instead); null when no host is on Azure.
options:
  _input:
    description: Host name -> the host's M(k8snet.calico.node_routes_info) result.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse IPIP where it cannot pass
  ansible.builtin.assert:
    that: check.message is none
    fail_msg: "{{ check.message }}"
  vars:
    check: "{{ {'node1': node1_routes} | k8snet.calico.ipip_cloud_check }}"
"""

RETURN = r"""
_value:
  description: C(azure) (the hosts on Azure) and C(message) (the refusal, or null).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._cloud import CloudInputError, cloud_check


def ipip_cloud_check(hosts):
    try:
        return cloud_check(hosts)
    except CloudInputError as e:
        raise AnsibleFilterError("ipip_cloud_check: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_cloud_check": ipip_cloud_check}
