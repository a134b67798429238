# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""A run's report, put together and rendered in one place: report.json's fields (docs/report.md), report.txt,
report.xml, the set_stats summary, the lines shown and the failure message. The result comes from run_summary
(the one place that decides it); the role only writes the files this returns. Pure functions."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ansible_collections.k8snet.calico.plugins.plugin_utils._report import (
    render_junit,
    render_table_with_warnings,
)
from ansible_collections.k8snet.calico.plugins.plugin_utils._run_summary import RunSummaryInputError, run_summary

SCHEMA = "k8snet.calico/ipip-report/v1"
FILES = ("report.json", "report.xml", "report.txt")


def _changes(changes):
    """(pools_changed {name or CIDR: bool}, pools_after [pool]) from the ippool loop's results (check mode: the
    pools as they would be; a failed or skipped item has no pool)."""
    if not isinstance(changes, (list, tuple)) or not all(isinstance(c, dict) for c in changes):
        raise RunSummaryInputError("changes: %r is not the list of the ippool task's loop results" % (changes,))
    changed, after = {}, []
    for result in changes:
        item = result.get("item") if isinstance(result.get("item"), dict) else {}
        changed[item.get("name") or item.get("cidr")] = result.get("changed") is True
        if isinstance(result.get("pool"), dict):
            after.append(result["pool"])
    return changed, after


def run_report(verdicts, hosts, diagnosis, calico, changes, mode, datastore, check_mode=False, rollback=None,
               rollback_verdicts=None, report_dir=".", backup_file=None, generated_at=None, encapsulation="IPIP"):
    """Everything the report phase writes and shows.

    Returns ``report`` (report.json's object), ``files`` ([{name, content}] for report.json, report.xml and
    report.txt), ``lines`` (what is shown at the end), ``summary`` (the set_stats ``ipip_summary``) and ``failure``
    (the message the run fails with, empty when ``result`` is ok). ``backup_file``: the backup this run saved, or
    None when it saved none."""
    if not isinstance(calico, dict) or not isinstance(calico.get("pools"), list):
        raise RunSummaryInputError("calico: %r is not the ippool_info result (a mapping with pools)" % (calico,))
    pools_changed, pools_after = _changes(changes)
    outcome = run_summary(hosts, verdicts, diagnosis, rollback=rollback, rollback_verdicts=rollback_verdicts)
    report = {
        "schema": SCHEMA,
        "generated_at": generated_at or datetime.now(timezone.utc).isoformat(),
        "check_mode": check_mode is True,
        "mode": None if outcome["rollback"].get("performed") else mode,
        "encapsulation": encapsulation,
        "datastore": datastore,
        "pools_before": calico["pools"],
        "pools_changed": pools_changed,
        "pools_after": pools_after,
        "traps": calico.get("traps") or [],
        "diagnosis": diagnosis,
    }
    report.update(outcome)
    judged = report["verification"] or diagnosis
    before = "Before: %s of %d nodes fine" % (diagnosis.get("hosts_ok"), len(diagnosis["nodes"]))
    text = render_table_with_warnings(diagnosis, title=before)
    if report["verification"]:
        how = "%s %s" % (encapsulation, report["mode"]) if report["mode"] else "pools restored"
        after = render_table_with_warnings(report["verification"], unreachable=report["unreachable"],
                                           title="After (%s): %s" % (how, report["result"]))
        text += "\n\n" + after
    paths = dict((name, "%s/%s" % (report_dir, name)) for name in FILES)
    failure = ""
    if report["result"] != "ok":
        failure = "%s: %s. See %s." % (
            "Rolled back (the change did not verify; the previous pools were restored)"
            if report["result"] == "rolled_back" else "Unresolved",
            ", ".join(["%s (unreachable)" % h for h in report["unreachable"]]
                      + [n["host"] for n in judged["nodes"] if n.get("ok") is not True]),
            paths["report.txt"])
    return {
        "report": report,
        "files": [{"name": "report.json", "content": json.dumps(report, indent=4, sort_keys=True) + "\n"},
                  {"name": "report.xml", "content": render_junit(judged, unreachable=report["unreachable"])},
                  {"name": "report.txt", "content": text}],
        "lines": text.splitlines() + ["Report: %s, report.xml, report.txt" % paths["report.json"]],
        "summary": {"result": report["result"], "check_mode": report["check_mode"], "mode": report["mode"],
                    "datastore": datastore,
                    "hosts_ok": judged.get("hosts_ok"), "hosts_bad": judged.get("hosts_bad"),
                    "unreachable": report["unreachable"], "pools_changed": pools_changed,
                    "rollback": report["rollback"],
                    "reports": {"json": paths["report.json"], "xml": paths["report.xml"], "txt": paths["report.txt"]},
                    "backup_file": backup_file},
        "failure": failure,
    }
