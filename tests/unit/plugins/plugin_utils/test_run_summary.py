"""The run's result decided in one place (plugin_utils/_run_summary.py, filter ipip_run_summary)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_run_summary import ipip_run_summary

DIAGNOSIS_BAD = {"ok": False, "nodes": [{"host": "node1", "ok": False}, {"host": "node2", "ok": False}]}
DIAGNOSIS_OK = {"ok": True, "nodes": [{"host": "node1", "ok": True}, {"host": "node2", "ok": True}]}


def verdict(host, ok, converged):
    return {"host": host, "ok": ok, "converged": converged}


def test_every_host_ok_is_ok():
    out = ipip_run_summary([verdict("node1", True, True), verdict("node2", True, True)], ["node1", "node2"],
                           DIAGNOSIS_BAD)
    assert out["result"] == "ok" and out["unreachable"] == []
    assert (out["verification"]["hosts_ok"], out["verification"]["hosts_bad"]) == (2, 0)


def test_probe_failed_then_rolled_back_is_never_ok():
    # routes converged (the probe does not lower converged), the probe failed, the run restored the pools
    verdicts = [verdict("node1", False, True), verdict("node2", False, True)]
    out = ipip_run_summary(verdicts, ["node1", "node2"], DIAGNOSIS_BAD, goal="converged",
                           rollback={"performed": True, "reason": "verification_failed"})
    assert out["result"] == "rolled_back"
    assert out["verification"]["ok"] is False and out["verification"]["hosts_bad"] == 2


def test_the_restored_state_is_verified_on_its_own():
    """The failed change's verdicts stay the verification; the restored state's are the rollback's own."""
    failed = [verdict("node1", False, False), verdict("node2", False, False)]
    restored = [verdict("node1", False, True), verdict("node2", False, True)]
    out = ipip_run_summary(failed, ["node1", "node2"], DIAGNOSIS_BAD,
                           rollback={"performed": True, "reason": "verification_failed"}, rollback_verdicts=restored)
    assert out["result"] == "rolled_back"
    assert out["verification"]["nodes"] == failed and out["verification"]["converged"] is False
    assert out["rollback"]["verification"] == {"converged": True, "hosts_converged": 2, "hosts_not_converged": 0,
                                               "unreachable": [], "nodes": restored}


def test_a_restored_state_that_did_not_converge_or_lost_a_host_says_so():
    out = ipip_run_summary([verdict("node1", False, False)], ["node1", "node2"], DIAGNOSIS_BAD,
                           rollback={"performed": True, "reason": "verification_failed"},
                           rollback_verdicts=[verdict("node1", False, True)])
    assert out["result"] == "rolled_back"
    assert out["rollback"]["verification"]["converged"] is False
    assert out["rollback"]["verification"]["unreachable"] == ["node2"]
    with pytest.raises(AnsibleFilterError, match="rollback_verdicts: 5 is not a list"):
        ipip_run_summary([], ["node1"], DIAGNOSIS_BAD, rollback={"performed": True, "reason": "verification_failed"},
                         rollback_verdicts=5)


def test_requested_rollback_that_converged_is_ok():
    verdicts = [verdict("node1", False, True), verdict("node2", False, True)]
    out = ipip_run_summary(verdicts, ["node1", "node2"], DIAGNOSIS_BAD, goal="converged",
                           rollback={"performed": True, "reason": "requested"})
    assert out["result"] == "ok"


def test_a_host_without_verdict_is_unreachable_and_not_ok():
    out = ipip_run_summary([verdict("node1", True, True)], ["node1", "node2"], DIAGNOSIS_BAD)
    assert out["unreachable"] == ["node2"] and out["result"] == "unresolved"
    assert out["verification"]["ok"] is False and out["verification"]["hosts_bad"] == 1


def test_without_verification_the_diagnosis_decides():
    assert ipip_run_summary([], ["node1", "node2"], DIAGNOSIS_OK)["result"] == "ok"
    assert ipip_run_summary([], ["node1", "node2", "node3"], DIAGNOSIS_OK)["result"] == "unresolved"
    assert ipip_run_summary([], ["node1", "node2"], DIAGNOSIS_BAD)["verification"] is None


def test_ok_must_be_true_not_truthy():
    out = ipip_run_summary([{"host": "node1", "ok": "no", "converged": "no"}], ["node1"], DIAGNOSIS_BAD)
    assert out["result"] == "unresolved"


@pytest.mark.parametrize("kwargs, field", [
    ({"hosts": "node1"}, "hosts"),
    ({"verdicts": [5]}, "verdicts"),
    ({"verdicts": [{"ok": True}]}, "verdicts"),
    ({"diagnosis": None}, "diagnosis"),
    ({"goal": "done"}, "goal"),
    ({"rollback": {"performed": True, "reason": "why not"}}, "rollback.reason"),
    ({"rollback": "yes"}, "rollback"),
])
def test_bad_input_names_the_field(kwargs, field):
    args = {"verdicts": [], "hosts": ["node1"], "diagnosis": DIAGNOSIS_OK}
    args.update(kwargs)
    verdicts = args.pop("verdicts")
    with pytest.raises(AnsibleFilterError, match=r"ipip_run_summary: %s: " % field.replace(".", r"\.")):
        ipip_run_summary(verdicts, args["hosts"], args["diagnosis"],
                         **{k: v for k, v in args.items() if k not in ("hosts", "diagnosis")})


def test_unjudged_verdict_has_a_judged_verdicts_keys_and_is_never_ok():
    from ansible_collections.k8snet.calico.plugins.filter.ipip_unjudged_verdict import ipip_unjudged_verdict
    from ansible_collections.k8snet.calico.plugins.filter.ipip_verdict import ipip_verdict
    judged = ipip_verdict({"node1": {"addresses": [{"dev": "eth0", "address": "10.39.0.110", "prefixlen": 24,
                                                    "cidr": "10.39.0.110/24"}], "uplink": "eth0", "routes": []}},
                          pools=[{"name": "p", "cidr": "192.168.0.0/16", "ipip_mode": "Always"}])["nodes"][0]
    out = ipip_unjudged_verdict("node9", "unreachable: ssh timed out")
    expected = (False, False, [], ["unreachable: ssh timed out"])
    assert (out["ok"], out["converged"], out["blocks"], out["problems"]) == expected
    # the report and the run summary read the same keys of both (address/subnet/tunnel only a judged node has)
    assert set(out) <= set(judged) | {"node"}
    with pytest.raises(AnsibleFilterError, match="problem: '' is not a text"):
        ipip_unjudged_verdict("node9", "")


def _batch(*oks):
    return [{"host": "node%d" % i, "ok": ok} for i, ok in enumerate(oks)]


@pytest.mark.parametrize("oks, percentage, failed", [
    ((True, False), 100, False), ((True, False), 50, False), ((True, False), 49, True),
    ((True, True), 0, False), ((True, False), 0, True), ((True, False), "0", True),
    ((), 0, False),                               # an empty batch never fails
    ((True, None), 0, True),                      # only ok: true is ok
])
def test_batch_failed_as_ansible_reads_max_fail_percentage(oks, percentage, failed):
    from ansible_collections.k8snet.calico.plugins.filter.ipip_batch_failed import ipip_batch_failed
    assert ipip_batch_failed(_batch(*oks), percentage) is failed


@pytest.mark.parametrize("percentage", [-1, 101, "half", None, True, float("nan")])
def test_batch_failed_names_a_bad_percentage(percentage):
    from ansible_collections.k8snet.calico.plugins.filter.ipip_batch_failed import ipip_batch_failed
    with pytest.raises(AnsibleFilterError, match="ipip_batch_failed: max_fail_percentage: "):
        ipip_batch_failed(_batch(True), percentage)


def test_verification_failed_when_any_verdict_is_not_ok():
    from ansible_collections.k8snet.calico.plugins.filter.ipip_verification_failed import ipip_verification_failed
    assert ipip_verification_failed(_batch(True, True)) is False
    assert ipip_verification_failed(_batch(True, False)) is True
    assert ipip_verification_failed([]) is False
    with pytest.raises(AnsibleFilterError, match="ipip_verification_failed: verdicts: "):
        ipip_verification_failed([{"ok": True}])


def test_host_verdict_from_a_read_that_worked():
    from ansible_collections.k8snet.calico.plugins.filter.ipip_host_verdict import ipip_host_verdict
    check = {"nodes": [{"host": "node1", "ok": True, "converged": True, "problems": []}]}
    read = {"routes": [], "source": {"read_at": "2026-12-07T12:00:00Z"}, "attempts": 3}
    out = ipip_host_verdict(read, host="node1", check=check, verify_s=4.2)
    assert out == {"host": "node1", "ok": True, "converged": True, "problems": [], "read_at": "2026-12-07T12:00:00Z",
                   "attempts": 3, "verify_s": 4.2}
    assert "read_at" not in check["nodes"][0]  # the input is not changed


@pytest.mark.parametrize("read, problem", [
    ({"unreachable": True, "msg": "Failed to connect", "module_stderr": "Error: no container with name k8snet-node3\n"},
     "unreachable: Error: no container with name k8snet-node3"),   # the connection's own words first
    ({"unreachable": True, "msg": "Failed to connect"}, "unreachable: Failed to connect"),
    ({"failed": True, "msg": "ip: command not found"}, "routes could not be read: ip: command not found"),
    ({"failed": True}, "routes could not be read: unknown error"),
])
def test_host_verdict_from_a_read_that_failed_is_never_ok(read, problem):
    from ansible_collections.k8snet.calico.plugins.filter.ipip_host_verdict import ipip_host_verdict
    out = ipip_host_verdict(read, host="node3", check=None, verify_s=1.0)
    assert out["ok"] is False and out["converged"] is False and out["problems"] == [problem]
    assert out["attempts"] == 1 and out["blocks"] == []


def test_host_verdict_names_bad_input():
    from ansible_collections.k8snet.calico.plugins.filter.ipip_host_verdict import ipip_host_verdict
    with pytest.raises(AnsibleFilterError, match="ipip_host_verdict: read: "):
        ipip_host_verdict("x", host="n")
    with pytest.raises(AnsibleFilterError, match="ipip_host_verdict: check: "):
        ipip_host_verdict({"routes": []}, host="n", check={"nodes": []})
