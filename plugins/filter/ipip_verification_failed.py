# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_verification_failed
short_description: Whether any node's verification verdict is not ok
version_added: 0.1.0
description:
  - True when any verdict is not C(ok) - what the C(ipip) role's C(ipip_rollback_on_failure) rolls back on.
options:
  _input:
    description: Per-host verdicts (P(k8snet.calico.ipip_verdict#filter)'s C(nodes) entries).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Roll back when a node failed verification
  ansible.builtin.include_role: {name: k8snet.calico.ipip, tasks_from: rollback}
  when: verdicts | k8snet.calico.ipip_verification_failed
"""

RETURN = r"""
_value:
  description: true when a verdict is not ok.
  type: bool
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._run_summary import RunSummaryInputError, verification_failed


def ipip_verification_failed(verdicts):
    try:
        return verification_failed(verdicts)
    except RunSummaryInputError as e:
        raise AnsibleFilterError("ipip_verification_failed: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_verification_failed": ipip_verification_failed}
