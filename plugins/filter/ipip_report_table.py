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

from ansible_collections.k8snet.calico.plugins.plugin_utils._report import render_table


def out_of_scope_warnings(verdict):
    """One line per node with bad blocks (or tunnel problems) of pools outside the verdict's scope."""
    lines = []
    for node in verdict.get("nodes") or []:
        count = node.get("blocks_bad_out_of_scope") or 0
        problems = node.get("problems_out_of_scope") or []
        if not count and not problems:
            continue
        parts = []
        if count:
            first = next(b for b in node.get("blocks") or [] if b.get("in_scope") is False and b.get("cause") != "ok")
            parts.append("%d bad route(s) to blocks of pools this run did not change, first %s (pool %s): %s (%s)" % (
                count, first["block"], first.get("pool"), first["cause"], first["detail"]))
        parts.extend(problems)
        lines.append("warning: %s: %s" % (node.get("node") or node["host"], "; ".join(parts)))
    return lines


def ipip_report_table(verdict, title="", unreachable=None):
    if not isinstance(verdict, dict):
        raise AnsibleFilterError("ipip_report_table: input must be a verdict dict, got %s" % type(verdict).__name__)
    table = render_table(verdict, title=title, unreachable=unreachable or ())
    warnings = out_of_scope_warnings(verdict)
    return table + "".join(line + "\n" for line in warnings)


class FilterModule:
    def filters(self):
        return {"ipip_report_table": ipip_report_table}
