# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_host_verdict
short_description: One host's verification verdict from its last read of the routes
version_added: 0.1.0
description:
  - When the routes were read, the verdict O(check) gave for this host, with C(read_at) (when they were read, by
    the node's clock).
  - When they were not (the host stopped answering, the module failed), a verdict that is not ok and says why -
    C(unreachable) or C(routes could not be read) and the connection's or the module's own words - with the keys
    of a judged verdict (P(k8snet.calico.ipip_unjudged_verdict#filter)).
  - Either way with C(attempts) (the reads it took) and C(verify_s).
options:
  _input:
    description: The registered result of the last M(k8snet.calico.node_routes_info) read.
    type: dict
    required: true
  host:
    description: The inventory host name.
    type: str
    required: true
  check:
    description: P(k8snet.calico.ipip_verdict#filter)'s result for this host alone; null when the routes were not read.
    type: dict
  verify_s:
    description: Seconds from the first read's start to the verdict.
    type: float
"""

EXAMPLES = r"""
- name: Record this node's verdict
  ansible.builtin.set_fact:
    verdict: >-
      {{ routes | k8snet.calico.ipip_host_verdict(host=inventory_hostname,
                                                 check=check if routes.routes is defined else none, verify_s=3.2) }}
"""

RETURN = r"""
_value:
  description: The host's verdict (P(k8snet.calico.ipip_verdict#filter)'s C(nodes) entry, with C(read_at),
    C(attempts) and C(verify_s)).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._run_summary import RunSummaryInputError, host_verdict


def ipip_host_verdict(read, host, check=None, verify_s=None):
    try:
        return host_verdict(host, read, check, verify_s)
    except RunSummaryInputError as e:
        raise AnsibleFilterError("ipip_host_verdict: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_host_verdict": ipip_host_verdict}
