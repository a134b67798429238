# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_report_table
short_description: Render an IPIP verdict as a table a person reads at a glance
version_added: 0.1.0
description:
  - One line per node with its subnet, tunnel state, the number of remote blocks routed right and wrong, the first
    bad route and its cause. Unreachable hosts get a line saying so.
  - Below the table, one warning line per node whose blocks of pools outside the verdict's scope (pools the run did
    not change) are routed wrong, or whose tunnel problems matter only to such pools; these do not fail the node.
options:
  _input:
    description: A verdict from P(k8snet.calico.ipip_verdict#filter).
    type: dict
    required: true
  title:
    description: A first line above the table.
    type: str
    default: ""
  unreachable:
    description: Hosts that could not be reached.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Show the verification table
  ansible.builtin.debug:
    msg: "{{ (ipip_result | k8snet.calico.ipip_report_table(title='after')).splitlines() }}"
"""

RETURN = r"""
_value:
  description: The table, lines separated by newlines.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._report import render_table_with_warnings


def ipip_report_table(verdict, title="", unreachable=None):
    if not isinstance(verdict, dict):
        raise AnsibleFilterError("ipip_report_table: input must be a verdict dict, got %s" % type(verdict).__name__)
    return render_table_with_warnings(verdict, title=title, unreachable=unreachable or ())


class FilterModule:
    def filters(self):
        return {"ipip_report_table": ipip_report_table}
