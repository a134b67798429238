"""The lab benchmark's reading of its moments (tests/benchmarks/lab_convergence.py), on a real agent log captured
from the lab (tests/unit/fixtures/lab/agent-node2.log: the faults scenario's node2, etcd down included)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
from ansible_collections.k8snet.calico.tests.benchmarks import lab_convergence

LOG = (HERE / "fixtures" / "lab" / "agent-node2.log").read_text()
EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def at(text):
    return datetime.fromisoformat(text)


def test_the_ipip_pool_seen_and_the_next_birdc_configure():
    seen, right = lab_convergence.agent_moments(LOG, EPOCH)
    assert seen == at("2026-11-29T01:21:49.668+00:00")    # "pools 192.168.0.0/16 ipip=always"
    assert right == at("2026-11-29T01:21:55.132+00:00")   # the configure after it, not the one at start-up


def test_lines_before_since_are_ignored():
    # after the change: the agent's later note about the pool, and no `birdc configure` after it
    assert lab_convergence.agent_moments(LOG, at("2026-11-29T01:21:50+00:00")) == (
        at("2026-11-29T01:21:58.558+00:00"), None)


def test_summary_takes_the_first_change_the_last_right_and_the_last_read():
    agents = {"node1": (at("2026-11-29T01:21:49.600+00:00"), at("2026-11-29T01:21:53.000+00:00")),
              "node2": (at("2026-11-29T01:21:49.668+00:00"), at("2026-11-29T01:21:55.132+00:00"))}
    read_at = {"node1": at("2026-11-29T01:21:54.000+00:00"), "node2": at("2026-11-29T01:21:56.132+00:00")}
    summary = lab_convergence.summarize(agents, read_at, 2)
    assert summary["change_to_last_right_s"] == 5.532
    assert summary["last_right_to_noticed_s"] == 1.0
    assert summary["per_node_right_to_noticed_s"] == {"node1": 1.0, "node2": 1.0}
    assert summary["within_one_interval"] is True
    assert lab_convergence.summarize(agents, dict(read_at, node2=at("2026-11-29T01:21:58+00:00")), 2)[
        "within_one_interval"] is False


def test_the_polling_wait_is_right_to_noticed_less_the_read_that_noticed():
    agents = {"node1": (at("2026-11-29T03:48:56.000+00:00"), at("2026-11-29T03:48:58.000+00:00"))}
    read_at = {"node1": at("2026-11-29T03:49:09.000+00:00")}   # 11 s after right
    # one attempt of 10.5 s: it started 0.5 s after the routes were right
    first = lab_convergence.summarize(agents, read_at, 2, {"node1": (1, 10.5)})
    assert first["per_node_read_s"] == {"node1": 10.5}
    assert first["per_node_polling_wait_s"] == {"node1": 0.5}
    assert first["within_one_interval"] is True
    # three attempts in 34 s with 2 s between them: 10 s a read; 11 s - 10 s = 1 s of wait
    third = lab_convergence.summarize(agents, read_at, 2, {"node1": (3, 34.0)})
    assert third["per_node_read_s"] == {"node1": 10.0}
    assert third["per_node_polling_wait_s"] == {"node1": 1.0}
    # reads of 5 s: the deciding one started 6 s after the routes were right, more than the 2 s interval
    slow = lab_convergence.summarize(agents, read_at, 2, {"node1": (1, 5.0)})
    assert slow["per_node_polling_wait_s"] == {"node1": 6.0}
    assert slow["within_one_interval"] is False
