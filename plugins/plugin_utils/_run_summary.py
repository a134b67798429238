# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""The run's outcome from its per-host verdicts: the one place that decides ``result``. Pure functions.

``result`` is ``ok`` only when every judged host met the run's goal and none was left out; ``rolled_back`` when the
enable run's own verification failed and it restored the previous pools (the change did not hold: never ``ok``,
whatever the restored state looks like); ``unresolved`` otherwise.

A rollback after a failed verification is itself verified: the restored state's verdicts are summarised on their own,
as ``rollback.verification`` (did every node go back to what Calico programs for the restored modes), and never mixed
with the verification of the change that failed.
"""

from __future__ import annotations

GOALS = ("ok", "converged")
RESULTS = ("ok", "unresolved", "rolled_back")
# Why a rollback ran: the enable run's verification failed (ipip_rollback_on_failure), or it was the job (rollback.yml).
ROLLBACK_REASONS = ("verification_failed", "requested")


class RunSummaryInputError(ValueError):
    """Inputs the summary cannot use; the message names the field and the value."""


def _hosts(value, field):
    if not isinstance(value, (list, tuple)) or not all(isinstance(h, str) for h in value):
        raise RunSummaryInputError("%s: %r is not a list of host names" % (field, value))
    return list(value)


def run_summary(hosts, verdicts, diagnosis, goal="ok", rollback=None, rollback_verdicts=None):
    """``{verification, unreachable, result, rollback}`` for the report.

    ``hosts``: the hosts the run judges. ``verdicts``: the per-host verdicts of the verification (empty when none
    ran: check mode, diagnose). ``diagnosis``: the verdict before any change. ``goal``: what verification waited
    for (``ok``, or ``converged`` after a rollback). ``rollback``: the rollback report (``performed``, ``reason``).
    ``rollback_verdicts``: after a rollback of a failed change, the verdicts of the restored state (judged by
    ``converged``); the rollback report then carries their ``verification``.
    """
    hosts = _hosts(hosts, "hosts")
    if goal not in GOALS:
        raise RunSummaryInputError("goal: %r is not one of %s" % (goal, ", ".join(GOALS)))
    verdicts = _verdicts(verdicts, "verdicts")
    rollback_verdicts = _verdicts(rollback_verdicts or [], "rollback_verdicts")
    if not isinstance(diagnosis, dict) or not isinstance(diagnosis.get("nodes"), list):
        raise RunSummaryInputError("diagnosis: %r is not a verdict (a mapping with nodes)" % (diagnosis,))
    rollback = rollback or {"performed": False}
    if not isinstance(rollback, dict):
        raise RunSummaryInputError("rollback: %r is not a mapping" % (rollback,))
    reason = rollback.get("reason", "requested")
    if rollback.get("performed") and reason not in ROLLBACK_REASONS:
        raise RunSummaryInputError("rollback.reason: %r is not one of %s" % (reason, ", ".join(ROLLBACK_REASONS)))
    if rollback.get("performed") and reason == "requested" and not verdicts and rollback_verdicts:
        # the rollback job: its verification is that of the restored pools, judged by convergence
        verdicts, goal, rollback_verdicts = rollback_verdicts, "converged", None

    judged = verdicts if verdicts else diagnosis["nodes"]
    seen = set(v.get("host") for v in judged)
    unreachable = [h for h in hosts if h not in seen]
    verification = None
    if verdicts:
        verification = {
            "ok": all(v.get("ok") is True for v in verdicts) and not unreachable,
            "converged": all(v.get("converged") is True for v in verdicts) and not unreachable,
            "hosts_ok": sum(1 for v in verdicts if v.get("ok") is True),
            "hosts_bad": sum(1 for v in verdicts if v.get("ok") is not True) + len(unreachable),
            "nodes": list(verdicts),
        }
        met = verification[goal]
    else:
        met = diagnosis.get("ok") is True and not unreachable
    if rollback.get("performed") and reason == "verification_failed":
        result = "rolled_back"
    else:
        result = "ok" if met else "unresolved"
    if rollback_verdicts:
        rollback = dict(rollback, verification=_restored(hosts, rollback_verdicts))
    return {"verification": verification, "unreachable": unreachable, "result": result, "rollback": rollback}


def _restored(hosts, verdicts):
    """The verification of the restored state: every host back to what Calico programs for the restored modes."""
    missing = [h for h in hosts if h not in set(v["host"] for v in verdicts)]
    return {
        "converged": all(v.get("converged") is True for v in verdicts) and not missing,
        "hosts_converged": sum(1 for v in verdicts if v.get("converged") is True),
        "hosts_not_converged": sum(1 for v in verdicts if v.get("converged") is not True) + len(missing),
        "unreachable": missing,
        "nodes": list(verdicts),
    }


def _verdicts(value, field):
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, dict) and "host" in v for v in value):
        raise RunSummaryInputError("%s: %r is not a list of host verdicts (mappings with a host)" % (field, value))
    return list(value)


def batch_failed(verdicts, max_fail_percentage):
    """Whether a batch of verification verdicts failed beyond ``max_fail_percentage`` (0-100), as Ansible's own
    max_fail_percentage reads it: more than that share of the batch is not ok. An empty batch never fails."""
    verdicts = _verdicts(verdicts, "verdicts")
    if isinstance(max_fail_percentage, bool) or not isinstance(max_fail_percentage, (int, float, str)):
        raise RunSummaryInputError("max_fail_percentage: %r is not a number from 0 to 100" % (max_fail_percentage,))
    try:
        limit = float(max_fail_percentage)
    except ValueError:
        raise RunSummaryInputError(
            "max_fail_percentage: %r is not a number from 0 to 100" % (max_fail_percentage,)) from None
    if not 0 <= limit <= 100:
        raise RunSummaryInputError("max_fail_percentage: %r is not a number from 0 to 100" % (max_fail_percentage,))
    failed = sum(1 for v in verdicts if v.get("ok") is not True)
    return bool(verdicts) and failed * 100 > limit * len(verdicts)


def verification_failed(verdicts):
    """Whether any host's verification verdict is not ok: what ipip_rollback_on_failure rolls back on."""
    return any(v.get("ok") is not True for v in _verdicts(verdicts, "verdicts"))


def unjudged_verdict(host, problem):
    """The verdict of a host whose routes could not be judged (unreachable, unreadable, not verified): not ok, not
    converged, no blocks, *problem* as its one problem. The same keys as a judged node's verdict."""
    if not isinstance(host, str) or not host:
        raise RunSummaryInputError("host: %r is not a host name" % (host,))
    if not isinstance(problem, str) or not problem:
        raise RunSummaryInputError("problem: %r is not a text saying why the host was not judged" % (problem,))
    return {"host": host, "node": None, "ok": False, "converged": False, "blocks": [], "blocks_ok": 0,
            "blocks_bad": 0, "first_bad": None, "blocks_bad_out_of_scope": 0, "problems_out_of_scope": [],
            "problems": [problem]}


def host_verdict(host, read, check, verify_s):
    """One host's verdict from its verification's last read (the node_routes_info result ``read``): ``check`` (the
    judged verdict, ipip_verdict's result for this host alone) with ``read_at`` when the routes were read, else an
    unjudged verdict saying why (``unreachable: `` or ``routes could not be read: `` and the connection's or
    module's own words); with ``attempts`` (reads it took) and ``verify_s`` (seconds)."""
    if not isinstance(read, dict):
        raise RunSummaryInputError("read: %r is not a node_routes_info result" % (read,))
    if "routes" in read:
        if not isinstance(check, dict) or not isinstance(check.get("nodes"), list) or len(check["nodes"]) != 1:
            raise RunSummaryInputError("check: %r is not the verdict of this one host" % (check,))
        verdict = dict(check["nodes"][0], read_at=(read.get("source") or {}).get("read_at"))
    else:
        words = str(read.get("module_stderr") or "").strip() or read.get("msg") or "unknown error"
        verdict = unjudged_verdict(host, ("unreachable: " if read.get("unreachable") else
                                          "routes could not be read: ") + str(words))
    verdict["attempts"] = read.get("attempts", 1)
    verdict["verify_s"] = verify_s
    return verdict
