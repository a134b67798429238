# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_run_report
short_description: Put a run's report together and render it (report.json, report.xml, report.txt, set_stats)
version_added: 0.1.0
description:
  - The ipip role's report phase in one value, so that no field, total or message is computed in YAML - the
    C(result) from P(k8snet.calico.ipip_run_summary#filter), the report's fields (docs/report.md), the three files'
    contents, the lines shown, the set_stats summary and the message the run fails with.
  - Every text it returns is marked unsafe - it quotes datastore values (node and pool names) that ansible-core
    before 2.19 would otherwise template again when the text is used.
options:
  _input:
    description: The per-host verdicts of the verification; empty when none ran (check mode, diagnose).
    type: list
    elements: dict
    required: true
  hosts:
    description: The hosts the run judges; those without a verdict are unreachable.
    type: list
    elements: str
    required: true
  diagnosis:
    description: The verdict before any change (P(k8snet.calico.ipip_verdict#filter)).
    type: dict
    required: true
  calico:
    description: The M(k8snet.calico.ippool_info) result the run started from (C(pools), C(traps)).
    type: dict
    required: true
  changes:
    description: The results of the M(k8snet.calico.ippool) loop (empty when nothing was changed).
    type: list
    elements: dict
    required: true
  mode:
    description: The IPIP mode the run set.
    type: str
    required: true
  datastore:
    description: The datastore kind (C(etcdv3), C(etcdv2), C(kubernetes), C(calicoctl)).
    type: str
    required: true
  check_mode:
    description: Whether the run is in check mode.
    type: bool
    default: false
  rollback:
    description: The rollback report (C(performed), C(reason), ...), or null when none ran.
    type: dict
  rollback_verdicts:
    description: After a rollback, the per-host verdicts of the restored state.
    type: list
    elements: dict
  report_dir:
    description: The directory the files go to (named in the summary and the messages).
    type: str
    default: .
  backup_file:
    description: The backup file this run saved, or null when it saved none.
    type: str
  encapsulation:
    description: The encapsulation the run turned on (the role's C(ipip_encapsulation)).
    type: str
    choices: [IPIP, VXLAN]
    default: IPIP
"""

EXAMPLES = r"""
- name: Put the report together
  ansible.builtin.set_fact:
    run_report: >-
      {{ verdicts | k8snet.calico.ipip_run_report(hosts=ansible_play_hosts_all, diagnosis=diagnosis, calico=calico,
                                                  changes=changes.results, mode='Always', datastore='etcdv3') }}

- name: Write the files
  ansible.builtin.copy:
    content: "{{ item.content }}"
    dest: "/tmp/report/{{ item.name }}"
    mode: "0644"
  loop: "{{ run_report.files }}"
"""

RETURN = r"""
_value:
  description: The report and its renderings.
  type: dict
  contains:
    report: {description: report.json's object (docs/report.md)., type: dict}
    files: {description: "C(name) and C(content) of report.json, report.xml and report.txt.", type: list}
    lines: {description: The tables and the reports' paths, one line each., type: list, elements: str}
    summary: {description: The set_stats C(ipip_summary) (docs/report.md)., type: dict}
    failure: {description: The message the run fails with; empty when C(result) is C(ok)., type: str}
"""

from ansible.errors import AnsibleFilterError

try:  # ansible-core >= 2.19 never templates what a filter returned (and wrap_var cannot rebuild its lazy containers)
    from ansible.template import trust_as_template  # noqa: F401  pylint: disable=unused-import

    def _unsafe(value):
        return value
except ImportError:  # ansible-core < 2.19 templates a plain string again when it is used: mark the texts unsafe
    from ansible.utils.unsafe_proxy import wrap_var as _unsafe

from ansible_collections.k8snet.calico.plugins.plugin_utils._run_report import run_report
from ansible_collections.k8snet.calico.plugins.plugin_utils._run_summary import RunSummaryInputError


def ipip_run_report(verdicts, hosts, diagnosis, calico, changes, mode, datastore, check_mode=False, rollback=None,
                    rollback_verdicts=None, report_dir=".", backup_file=None, encapsulation="IPIP"):
    try:
        report = run_report(verdicts, hosts, diagnosis, calico, changes, mode, datastore, check_mode=check_mode,
                            rollback=rollback, rollback_verdicts=rollback_verdicts, report_dir=report_dir,
                            backup_file=backup_file, encapsulation=encapsulation)
        return _unsafe(report)
    except RunSummaryInputError as e:
        raise AnsibleFilterError("ipip_run_report: %s" % e)


class FilterModule:
    def filters(self):
        return {"ipip_run_report": ipip_run_report}
