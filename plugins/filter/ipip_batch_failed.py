# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_batch_failed
short_description: Whether a batch of verified nodes failed beyond a percentage
version_added: 0.1.0
description:
  - For rollouts in serial batches (the C(enable_ipip) playbook's C(ipip_serial)), true when more than
    O(max_fail_percentage) percent of the batch's verdicts are not C(ok), as Ansible reads its own
    C(max_fail_percentage). The rollout then stops and the remaining nodes are reported as not verified.
  - An empty batch never fails.
options:
  _input:
    description: Per-host verdicts (P(k8snet.calico.ipip_verdict#filter)'s C(nodes) entries).
    type: list
    elements: dict
    required: true
  max_fail_percentage:
    description: The share of the batch (0 to 100) that may fail.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Stop the rollout when this batch failed beyond the percentage
  ansible.builtin.set_fact:
    stopped: "{{ batch_verdicts | k8snet.calico.ipip_batch_failed(max_fail_percentage=25) }}"
"""

RETURN = r"""
_value:
  description: true when the batch failed beyond the percentage.
  type: bool
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._run_summary import RunSummaryInputError, batch_failed


def ipip_batch_failed(verdicts, max_fail_percentage):
    try:
        return batch_failed(verdicts, max_fail_percentage)
    except RunSummaryInputError as e:
        raise AnsibleFilterError("ipip_batch_failed: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_batch_failed": ipip_batch_failed}
