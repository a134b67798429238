# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_rollback_outcome
short_description: The report's rollback entry from the restore loop's results
version_added: 0.1.0
description:
  - Turns the results of the M(k8snet.calico.ippool) C(restore) loop into the report's C(rollback) - C(performed),
    C(reason), C(backup_from), C(backup_file) (only when the backup came from that file, else null) and C(restored)
    (each restored key and whether it was written).
options:
  _input:
    description: The restore loop's results.
    type: list
    elements: dict
    required: true
  reason:
    description: Why the rollback ran.
    type: str
    choices: [verification_failed, requested]
    required: true
  source:
    description: Where the backup came from (P(k8snet.calico.ipip_rollback_backup#filter)'s C(source)).
    type: str
    required: true
  backup_file:
    description: The backup file's path (C(ipip_backup_file)).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Record the rollback
  ansible.builtin.set_fact:
    rollback_report: >-
      {{ restored.results | k8snet.calico.ipip_rollback_outcome(reason='requested', source=checked.source,
                                                                backup_file='ipip-report/pool-backup.json') }}
"""

RETURN = r"""
_value:
  description: The report's C(rollback) (docs/report.md).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._rollback import rollback_outcome
from ansible_collections.k8snet.calico.plugins.plugin_utils._run_summary import ROLLBACK_REASONS


def ipip_rollback_outcome(results, reason, source, backup_file):
    if reason not in ROLLBACK_REASONS:
        raise AnsibleFilterError("ipip_rollback_outcome: reason: %r is not one of %s"
                                 % (reason, ", ".join(ROLLBACK_REASONS)))
    if not isinstance(results, list):
        raise AnsibleFilterError("ipip_rollback_outcome: %r is not the restore loop's results" % (results,))
    return rollback_outcome(results, reason, source, backup_file)


class FilterModule:
    def filters(self):
        return {"ipip_rollback_outcome": ipip_rollback_outcome}
