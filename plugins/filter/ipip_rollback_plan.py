# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_rollback_plan
short_description: Turn pool change results into the objects a rollback must restore
version_added: 0.1.0
description:
  - From the registered results of M(k8snet.calico.ippool) changes (a list, for example C(register) of a loop's
    C(results)), returns one entry per stored object that was written, with its exact previous value and the
    revision the last change left it at.
  - Pass each entry's C(restore) and C(expected_revision) to M(k8snet.calico.ippool); it then refuses to overwrite
    an object someone changed since.
  - Failed results count too when they list C(writes). M(k8snet.calico.ippool) fails when its compare-and-swap
    retries run out on one object after another write went through (the pool written, then the Felix configuration
    write kept losing), and its result still has C(writes) and C(previous); the objects it did write are restored.
options:
  _input:
    description: Results of M(k8snet.calico.ippool) tasks.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Save what a rollback needs
  ansible.builtin.copy:
    content: "{{ pool_changes.results | k8snet.calico.ipip_rollback_plan | to_nice_json }}"
    dest: /var/backups/calico-pools.json
    mode: "0600"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The objects to restore, in the order they were first written.
  type: list
  elements: dict
  contains:
    restore: {description: The object as it was before the change (ippool's C(previous))., type: dict}
    expected_revision: {description: The revision the last change left the object at., type: str}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._rollback import rollback_plan


def ipip_rollback_plan(results):
    if not isinstance(results, list):
        raise AnsibleFilterError("ipip_rollback_plan: input must be a list of ippool results, got %s"
                                 % type(results).__name__)
    return rollback_plan(results)


class FilterModule:
    def filters(self):
        return {"ipip_rollback_plan": ipip_rollback_plan}
