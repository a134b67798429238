# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_report_junit
short_description: Render an IPIP verdict as JUnit XML for CI
version_added: 0.1.0
description:
  - One test case per node; a node with bad routes or tunnel problems fails, and the failure lists each bad route
    with its cause. Unreachable hosts are failed test cases too.
  - Bad blocks of pools outside the verdict's scope (C(in_scope=false)) and their tunnel problems never fail a test
    case; they are listed in its C(system-out).
options:
  _input:
    description: A verdict from P(k8snet.calico.ipip_verdict#filter).
    type: dict
    required: true
  suite:
    description: Test suite name.
    type: str
    default: k8snet.calico.ipip
  unreachable:
    description: Hosts that could not be reached.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Write the JUnit report
  ansible.builtin.copy:
    content: "{{ ipip_result | k8snet.calico.ipip_report_junit }}"
    dest: /tmp/report.xml
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The XML document.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._report import render_junit


def ipip_report_junit(verdict, suite="k8snet.calico.ipip", unreachable=None):
    if not isinstance(verdict, dict):
        raise AnsibleFilterError("ipip_report_junit: input must be a verdict dict, got %s" % type(verdict).__name__)
    return render_junit(verdict, suite=suite, unreachable=unreachable or ())


class FilterModule:
    def filters(self):
        return {"ipip_report_junit": ipip_report_junit}
