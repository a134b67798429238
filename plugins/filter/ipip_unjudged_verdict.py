# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_unjudged_verdict
short_description: The verdict of a node whose routes could not be judged
version_added: 0.1.0
description:
  - For a host that is unreachable, whose routes could not be read, or that was not verified (a rollout stopped),
    returns a verdict with the keys of a judged node's (P(k8snet.calico.ipip_verdict#filter)), not C(ok), not
    C(converged), no blocks, and the reason as its one problem.
options:
  _input:
    description: The inventory host name.
    type: str
    required: true
  problem:
    description: Why the host was not judged.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Record that this node was not verified
  ansible.builtin.set_fact:
    verdict: "{{ inventory_hostname | k8snet.calico.ipip_unjudged_verdict('not verified: the rollout stopped') }}"
"""

RETURN = r"""
_value:
  description: The verdict (C(host), C(node)=null, C(ok)=false, C(converged)=false, C(blocks)=[], C(problems), ...).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._run_summary import RunSummaryInputError, unjudged_verdict


def ipip_unjudged_verdict(host, problem):
    try:
        return unjudged_verdict(host, problem)
    except RunSummaryInputError as e:
        raise AnsibleFilterError("ipip_unjudged_verdict: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_unjudged_verdict": ipip_unjudged_verdict}
