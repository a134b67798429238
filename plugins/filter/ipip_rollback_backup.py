# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_rollback_backup
short_description: Check a rollback backup that enable_ipip saved
version_added: 0.1.0
description:
  - Takes a backup as the enable phase wrote it (the JSON text of the file, or the object itself, as published with
    C(set_stats)) and says whether a rollback can use it.
  - Never fails; a backup that cannot be used comes back with C(problem) naming the field that is wrong, so a role
    can stop before anything is written, with the same message on every ansible-core version.
options:
  _input:
    description: The backup, as JSON text or as an object.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check the backup file
  ansible.builtin.set_fact:
    backup_checked: >-
      {{ lookup('ansible.builtin.file', 'ipip-report/pool-backup.json') | k8snet.calico.ipip_rollback_backup }}

- name: Stop when it cannot be used
  ansible.builtin.fail:
    msg: "{{ backup_checked.problem }}"
  when: backup_checked.problem is not none
"""

RETURN = r"""
_value:
  description: Exactly one of C(backup) and C(problem) is set.
  type: dict
  contains:
    backup:
      description: The backup object (C(datastore), C(saved_at), C(restore)), or null.
      type: dict
    problem:
      description: What is wrong with it, or null.
      type: str
"""

from ansible_collections.k8snet.calico.plugins.plugin_utils._rollback import check_backup


def ipip_rollback_backup(value):
    return check_backup(value)


class FilterModule:
    def filters(self):
        return {"ipip_rollback_backup": ipip_rollback_backup}
