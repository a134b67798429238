"""Lab benchmark: from the pool change to the last node's routes being right (agent side), and to the role's
verification noticing it (goal: within one poll interval, ``ipip_verify_interval``).

Brings the embedded lab up with the seed incident (as ``make lab``: node1 + node2, the Calico v2 layout), runs the
collection's ``enable_ipip`` playbook once (no probe), reads three moments, and takes the lab down. All three are
read by the lab host's clock (the VM's), so no clock offset between host and VM enters:

- change:  the first calico-node stand-in that saw the pool with IPIP (the agents poll etcd every 0.5 s, so the pool
           write happened at most 0.5 s before);
- right:   per node, the first ``birdc configure`` after that, which switches BIRD's kernel routes to tunl0 (BIRD swaps
           them within tens of milliseconds, lab-notes); the last node's is "the last node's routes are right";
- noticed: per node, ``read_at`` in report.json: when the verification attempt that found the node right read its
           routes (node_routes_info's own timestamp).

right -> noticed is the polling wait plus the duration of the read that noticed (under the lab VM's emulation a
module run takes about ten seconds, on a real node a fraction of one). The report's ``attempts`` and ``verify_s``
per node give that duration, (verify_s - (attempts - 1) * interval) / attempts, so the polling wait, right ->
noticed less one read, is what the goal (within one poll interval) is judged on.

    tests/benchmarks/lab_convergence.py [--out DIR]      prints one JSON object; run by tests/benchmarks/run.py
    tests/benchmarks/lab_convergence.py --from-report R  the same from a run that already happened on the lab that
                                                         is up (the molecule scenarios print it after converge)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LABHOST = REPO / "tests" / "lab" / "platform" / "labhost"
LAB = REPO / "tests" / "tools" / "lab.sh"
INVENTORY = REPO / "extensions" / "molecule" / "shared" / "inventory.py"
AGENT_LINE = re.compile(r"^(\S+Z) calico-node-standin\[(\w+)\]: (.*)$")


def _stamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def agent_moments(log_text, since):
    """From one agent log: (when it saw a pool with IPIP, its first `birdc configure` after that), after *since*."""
    seen = right = None
    for line in log_text.splitlines():
        match = AGENT_LINE.match(line)
        if not match:
            continue
        when, msg = _stamp(match.group(1)), match.group(3)
        if when < since:
            continue
        if seen is None and msg.startswith("datastore: pools") and re.search(r"ipip=(?!off)", msg):
            seen = when
        elif seen is not None and right is None and msg.startswith("birdc configure: Reconfigured"):
            right = when
    return seen, right


def summarize(agents, read_at, interval, reads=None):
    """agents: node -> (seen, right); read_at: node -> the deciding read; reads: node -> (attempts, verify_s) from
    the report (None: judge right -> noticed as a whole). Seconds between the moments."""
    missing = sorted(n for n, moments in agents.items() if None in moments)
    if missing:
        raise SystemExit("lab_convergence: no IPIP change and BIRD reconfiguration in the agent log of %s"
                         % ", ".join(missing))
    change = min(moments[0] for moments in agents.values())
    right = max(moments[1] for moments in agents.values())
    noticed = max(read_at.values())
    right_to_noticed = {n: (read_at[n] - agents[n][1]).total_seconds() for n in sorted(agents)}
    summary = {
        "nodes": sorted(agents),
        "change_to_last_right_s": round((right - change).total_seconds(), 3),
        "last_right_to_noticed_s": round((noticed - right).total_seconds(), 3),
        "per_node_right_to_noticed_s": {n: round(s, 3) for n, s in right_to_noticed.items()},
        "verify_interval_s": interval,
    }
    if reads is None:
        summary["within_one_interval"] = (noticed - right).total_seconds() <= interval
        return summary
    read_s = {n: (reads[n][1] - (reads[n][0] - 1) * interval) / reads[n][0] for n in sorted(agents)}
    waits = {n: max(0.0, right_to_noticed[n] - read_s[n]) for n in sorted(agents)}
    summary.update({
        "per_node_attempts": {n: reads[n][0] for n in sorted(agents)},
        "per_node_read_s": {n: round(s, 3) for n, s in read_s.items()},
        "per_node_polling_wait_s": {n: round(s, 3) for n, s in waits.items()},
        "within_one_interval": max(waits.values()) <= interval,
    })
    return summary


def lab_logs():
    """The agents' log folder as the host sees it (the lab host's shared folder)."""
    shared = subprocess.run([str(LABHOST), "exec", "--", "sh", "-c", "echo $K8SNET_LAB_SHARED"], check=True,
                            capture_output=True, text=True).stdout.strip()
    return Path(shared) / "topology-logs"


def from_report(report_path, since, interval):
    """The three moments of a finished enable_ipip run (its report.json) on the lab that is up."""
    report = json.loads(Path(report_path).read_text())
    nodes = report["verification"]["nodes"]
    read_at = {n["node"]: _stamp(n["read_at"]) for n in nodes}
    reads = {n["node"]: (n["attempts"], n["verify_s"]) for n in nodes}
    logs = lab_logs()
    agents = {n: agent_moments((logs / n / "agent.log").read_text(), since) for n in read_at}
    return summarize(agents, read_at, interval, reads)


def run(out):
    env = dict(os.environ, LAB_SCENARIO="seed", LAB_FLAVOUR="v2", LAB_REPORTS=str(out / "reports"),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"))
    subprocess.run([str(LAB), "up"], check=True, env=env, stdout=sys.stderr)
    try:
        started = _stamp(subprocess.run([str(LABHOST), "exec", "--", "date", "-u", "+%Y-%m-%dT%H:%M:%S.%3NZ"],
                                        check=True, capture_output=True, text=True).stdout.strip())
        interval = 2
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(INVENTORY), "k8snet.calico.enable_ipip",
             "-e", json.dumps({"ipip_probe": False, "ipip_verify_interval": interval})],
            env=env, capture_output=True, text=True, check=False)
        (out / "ansible.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode:
            raise SystemExit("lab_convergence: enable_ipip failed (%s), see %s" % (proc.returncode, out / "ansible.log"))
        return from_report(out / "reports" / "enable" / "report.json", started, interval)
    finally:
        subprocess.run([str(LAB), "down"], check=False, env=env, stdout=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--out", default=str(REPO / "tests" / "output" / "bench" / "lab"))
    ap.add_argument("--from-report", help="report.json of a run on the lab that is up (no lab up/down)")
    ap.add_argument("--interval", type=float, default=2, help="with --from-report: the run's ipip_verify_interval")
    args = ap.parse_args()
    if args.from_report:
        # a fresh lab: every IPIP line in the agents' logs comes from that run
        print(json.dumps(from_report(args.from_report, datetime.min.replace(tzinfo=timezone.utc), args.interval)))
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(json.dumps(run(out), indent=1))


if __name__ == "__main__":
    main()
