"""The lab benchmark's reading of its moments (tests/benchmarks/lab_convergence.py), on a real agent log captured
from the lab (tests/unit/fixtures/lab/agent-node2.log: the faults scenario's node2, etcd down included)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "benchmarks"))

import lab_convergence  # noqa: E402  pylint: disable=wrong-import-position

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
