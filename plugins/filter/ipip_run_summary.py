# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ipip_run_summary
short_description: Decide a run's result from its per-host verdicts
version_added: 0.1.0
description:
  - The one place where the ipip role decides a run's C(result) (report.json, set_stats C(ipip_summary), the exit
    status) from the per-host verdicts of M(k8snet.calico.node_routes_info) judged by P(k8snet.calico.ipip_verdict#filter).
  - C(ok) only when every judged host met the goal and no host was left unjudged (unreachable).
  - C(rolled_back) when the enable run's own verification failed and it restored the previous pools
    (O(rollback) with C(reason=verification_failed)); never C(ok), whatever the restored routes look like.
  - C(unresolved) otherwise.
options:
  _input:
    description: The per-host verdicts of the verification; empty when no verification ran (check mode, diagnose).
    type: list
    elements: dict
    required: true
  hosts:
    description: The hosts the run judges; those without a verdict are unreachable.
    type: list
    elements: str
    required: true
  diagnosis:
    description: The verdict before any change (P(k8snet.calico.ipip_verdict#filter)); decides when no verification ran.
    type: dict
    required: true
  goal:
    description: What verification waited for.
    type: str
    choices: [ok, converged]
    default: ok
  rollback:
    description:
      - The rollback report (C(performed), C(reason)); C(reason) is C(verification_failed) or C(requested).
    type: dict
  report:
    description:
      - The report's other fields (schema, pools, traps, diagnosis...). When given, the filter returns them with
        C(verification), C(unreachable) and C(result) added (the whole report in one value), so that a field that is
        null stays null (ansible-core < 2.19 renders a template that is only a null value as an empty string).
    type: dict
  rollback_verdicts:
    description:
      - After a rollback of a failed change, the per-host verdicts of the restored state (each judged by its pool's
        restored mode). The returned C(rollback) then has its own C(verification) (C(converged),
        C(hosts_converged), C(hosts_not_converged), C(unreachable), C(nodes)), apart from the failed change's.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Decide the result
  ansible.builtin.set_fact:
    summary: "{{ verdicts | k8snet.calico.ipip_run_summary(hosts=ansible_play_hosts_all, diagnosis=diagnosis) }}"
"""

RETURN = r"""
_value:
  description: The run's outcome (with O(report), the report's fields and the outcome's).
  type: dict
  contains:
    result: {description: "C(ok), C(unresolved) or C(rolled_back).", type: str}
    rollback:
      description: O(rollback), with C(verification) of the restored state when O(rollback_verdicts) was given.
      type: dict
    unreachable: {description: The hosts without a verdict., type: list, elements: str}
    verification:
      description: Totals and the verdicts (C(ok), C(converged), C(hosts_ok), C(hosts_bad), C(nodes)); null when none ran.
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.plugin_utils._run_summary import RunSummaryInputError, run_summary


def ipip_run_summary(verdicts, hosts, diagnosis, goal="ok", rollback=None, report=None, rollback_verdicts=None):
    if report is not None and not isinstance(report, dict):
        raise AnsibleFilterError("ipip_run_summary: report: %r is not a dict" % (report,))
    try:
        summary = run_summary(hosts, verdicts, diagnosis, goal=goal, rollback=rollback,
                              rollback_verdicts=rollback_verdicts)
    except RunSummaryInputError as e:
        raise AnsibleFilterError("ipip_run_summary: %s" % e)
    return summary if report is None else dict(report, **summary)


class FilterModule:
    def filters(self):
        return {"ipip_run_summary": ipip_run_summary}
