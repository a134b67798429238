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
  - With O(backup_file), it also chooses the backup as the C(ipip) role's rollback does - O(_input) (the backup this
    run saved), else O(given) (the variable C(ipip_backup)), else the file (O(file_text)) - and returns C(source)
    and C(message) (why nothing can be restored and what to give instead, or null), also when the backup is for
    another datastore than O(datastore).
options:
  _input:
    description: The backup, as JSON text or as an object (with O(backup_file) - the backup this run saved, or null).
    type: raw
    required: true
  given:
    description: The backup given as a variable (C(ipip_backup)), or null.
    type: raw
  backup_file:
    description: The backup file's path (C(ipip_backup_file)); turns on the choice of source.
    type: str
  file_text:
    description: The backup file's text, or null when the file does not exist.
    type: str
  datastore:
    description: The datastore the backup must be for (C(ipip_datastore.datastore)).
    type: str
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
    source:
      description: With O(backup_file) - where the backup comes from (the report's C(rollback.backup_from)).
      type: str
    message:
      description: With O(backup_file) - why nothing can be restored and what to give instead, or null.
      type: str
"""

from ansible_collections.k8snet.calico.plugins.plugin_utils._rollback import check_backup, choose_backup


def ipip_rollback_backup(value, given=None, backup_file=None, file_text=None, datastore=None):
    if backup_file is None:
        return check_backup(value)
    return choose_backup(value, given, backup_file, file_text, datastore)


class FilterModule:
    def filters(self):
        return {"ipip_rollback_backup": ipip_rollback_backup}
