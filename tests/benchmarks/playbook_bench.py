"""Real ansible-playbook runs over a synthetic cluster: the diagnose playbook against a bare one, and what the role
does on each host per phase, counted from the run's own -vvv output.

Every host is a local connection (no network): ``ansible_connection: local`` and ``ansible_python_interpreter`` a
two-line wrapper that names the host (BENCH_NODE) and puts a stand-in ``ip`` first on PATH. The stand-in prints the
host's captured tables from tests/benchmarks/cluster.py (``ip -j`` JSON), so the role runs node_routes_info exactly
as on a node, live mode included. The datastore is the calicoctl stand-in of tests/functional (state in a JSON
file), so the playbooks run unmodified: preflight reads pools and nodes through it, enable writes the pool.

For the verify phase the stand-in answers with the broken table for the first ``healthy_after`` route reads of a
host and with the healthy one after that, like a node whose BIRD reprograms the routes some time after the pool
change: with healthy_after=2 the gather read and the first verify attempt see the broken table, the second attempt
the healthy one.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from cluster import POOL, Cluster

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CALICOCTL_STANDIN = REPO / "tests" / "functional" / "calicoctl_standin.py"

IP_STANDIN = r"""#!/bin/bash
# STAND-IN for iproute2's ip (benchmarks only): prints host $BENCH_NODE's captured table.
d="$BENCH_DIR/hosts/$BENCH_NODE"
json=; what=
for a in "$@"; do
  case "$a" in -j) json=1 ;; route) what=routes ;; addr) what=addr ;; esac
done
[ -n "$what" ] || { echo "ip stand-in: unsupported: $*" >&2; exit 1; }
echo "$(date +%s.%N) $BENCH_NODE $*" >> "$BENCH_DIR/ip.log"
if [ "$what" = routes ]; then
  n=$(( $(cat "$d/reads" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$d/reads"
  after=$(cat "$d/healthy_after" 2>/dev/null || echo 1000000000)
  if [ "$n" -gt "$after" ]; then echo healthy > "$d/state"; else echo broken > "$d/state"; fi
fi
state=$(cat "$d/state" 2>/dev/null || echo broken)
if [ -n "$json" ]; then cat "$d/$state.$what.json"; else cat "$d/$state.$what.txt"; fi
"""

BARE_PLAYBOOK = """---
# The baseline: what a user would otherwise do, read each node's routes once.
- name: Read every node's routes
  hosts: calico_nodes
  gather_facts: false
  tasks:
    - name: ip -j route
      ansible.builtin.command: ip -j route
      changed_when: false
"""


def _write(path, text, mode=None):
    path.write_text(text)
    if mode:
        path.chmod(mode)


class Lab:
    """The work directory: inventory, per-host captures and wrappers, stand-ins, extra vars."""

    def __init__(self, workdir, hosts=50, subnets=5):
        self.dir = Path(workdir)
        if self.dir.exists():
            shutil.rmtree(self.dir)
        (self.dir / "bin").mkdir(parents=True)
        self.cluster_broken = Cluster(hosts, subnets=subnets, state="broken")
        self.cluster_healthy = Cluster(hosts, subnets=subnets, state="healthy")
        self.names = self.cluster_broken.names
        _write(self.dir / "bin" / "ip", IP_STANDIN, 0o755)
        _write(self.dir / "bin" / "calicoctl", "#!/bin/sh\nCALICOCTL_STANDIN_STATE=%s exec %s %s \"$@\"\n" % (
            self.dir / "calicoctl-state.json", sys.executable, CALICOCTL_STANDIN), 0o755)
        inventory = {"calico_nodes": {"hosts": {}}}
        for k, name in enumerate(self.names):
            hdir = self.dir / "hosts" / name
            hdir.mkdir(parents=True)
            for state, cluster in (("broken", self.cluster_broken), ("healthy", self.cluster_healthy)):
                _write(hdir / ("%s.routes.json" % state), cluster.routes_json(k))
                _write(hdir / ("%s.routes.txt" % state), cluster.routes_text(k))
                _write(hdir / ("%s.addr.json" % state), cluster.addr_json(k))
                _write(hdir / ("%s.addr.txt" % state), cluster.addr_text(k))
            _write(hdir / "python", "#!/bin/sh\nBENCH_NODE=%s BENCH_DIR=%s PATH=%s:$PATH exec %s \"$@\"\n" % (
                name, self.dir, self.dir / "bin", sys.executable), 0o755)
            inventory["calico_nodes"]["hosts"][name] = {
                "ansible_connection": "local", "ansible_python_interpreter": str(hdir / "python")}
        _write(self.dir / "inventory.json", json.dumps(inventory, indent=1))
        _write(self.dir / "bare.yml", BARE_PLAYBOOK)
        # The verify timeout limits the wall time of the whole batch, counted from its start: on a loaded machine the
        # last of 50 hosts get their first read tens of seconds later, so it is generous here; the counting needs
        # the second attempt to happen, not a deadline.
        _write(self.dir / "vars.json", json.dumps({
            "ipip_datastore": {"datastore": "calicoctl", "calicoctl_path": str(self.dir / "bin" / "calicoctl")},
            "ipip_report_dir": str(self.dir / "report"), "ipip_fail_on_unresolved": False,
            "ipip_verify_interval": 1, "ipip_verify_timeout": 600}))

    def reset(self, healthy_after=None):
        """Fresh datastore (one pool, IPIP Never, the 50 nodes) and route-read counters."""
        nodes = [{"kind": "Node", "apiVersion": "projectcalico.org/v3", "metadata": {"name": n["name"]},
                  "spec": {"bgp": {"ipv4Address": n["ipv4_address"]}}} for n in self.cluster_broken.calico_nodes()]
        pool = {"kind": "IPPool", "apiVersion": "projectcalico.org/v3",
                "metadata": {"name": "default-ipv4-ippool", "resourceVersion": "1201"},
                "spec": {"cidr": POOL, "vxlanMode": "Never", "ipipMode": "Never", "natOutgoing": True,
                         "blockSize": 26, "nodeSelector": "all()"}}
        felix = {"kind": "FelixConfiguration", "apiVersion": "projectcalico.org/v3",
                 "metadata": {"name": "default", "resourceVersion": "1100"}, "spec": {}}
        state = {"api": "v3", "pools": [pool], "nodes": nodes, "felix": felix}
        _write(self.dir / "calicoctl-state.json", json.dumps(state))
        for name in self.names:
            hdir = self.dir / "hosts" / name
            for f in ("reads", "state", "healthy_after"):
                (hdir / f).unlink(missing_ok=True)
            if healthy_after is not None:
                _write(hdir / "healthy_after", str(healthy_after))
        (self.dir / "ip.log").unlink(missing_ok=True)
        shutil.rmtree(self.dir / "report", ignore_errors=True)
        (self.dir / "report").mkdir()

    def run(self, playbook, verbosity=0, env=None, check=True):
        """``(wall seconds, CPU seconds, output)``: CPU is user + system time of ansible-playbook and everything it
        started (workers, modules, stand-ins), which the machine's other load does not inflate as much as wall."""
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.dir / "inventory.json"), str(playbook),
                "-e", "@%s" % (self.dir / "vars.json")]
        if verbosity:
            argv.append("-" + "v" * verbosity)
        environ = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"),
                       ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                       ANSIBLE_LOCAL_TEMP=str(self.dir / "tmp-local"), ANSIBLE_REMOTE_TMP=str(self.dir / "tmp-remote"),
                       ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_STDOUT_CALLBACK="default")
        environ.update(env or {})
        started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(argv, env=environ, cwd=str(self.dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, check=False)
        elapsed, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if check and proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-40:])
            raise RuntimeError("%s failed (rc=%d):\n%s" % (" ".join(argv), proc.returncode, tail))
        return elapsed, cpu, proc.stdout

    def route_reads(self):
        counts = defaultdict(int)
        for line in (self.dir / "ip.log").read_text().splitlines():
            _t, host, args = line.split(" ", 2)
            if " route " in " %s " % args:
                counts[host] += 1
        return counts


# ------------------------------------------------------------------------------------------------ -vvv counting
_TASK = re.compile(r"^TASK \[(?P<name>.*)\] \*+$")
_TASK_PATH = re.compile(r"^task path: (?P<path>\S+):\d+$")
_OP = re.compile(r"^<(?P<host>[^>]+)> (?P<op>EXEC|PUT|FETCH) (?P<rest>.*)$")
_RETRY = re.compile(r"^FAILED - RETRYING: \[(?P<host>[^\]]+)\]")


def count_ops(output, interpreter_marker="/hosts/"):
    """Per phase (task file name) and host: round trips (EXEC/PUT/FETCH), module executions (EXECs that start the
    host's Python), attempts (1 + retries). Phases are the task files of the role, or the playbook."""
    phase = None
    ops = defaultdict(lambda: defaultdict(lambda: {"round_trips": 0, "modules": 0, "retries": 0}))
    for line in output.splitlines():
        match = _TASK_PATH.match(line)
        if match:
            phase = Path(match.group("path")).stem
            continue
        match = _OP.match(line)
        if match and phase:
            entry = ops[phase][match.group("host")]
            entry["round_trips"] += 1
            if match.group("op") == "EXEC" and interpreter_marker in match.group("rest"):
                entry["modules"] += 1
            continue
        match = _RETRY.match(line)
        if match and phase:
            ops[phase][match.group("host")]["retries"] += 1
    return ops


def per_host(ops, phase, hosts):
    """Medians over the node hosts of one phase: modules, round trips and attempts; plus min/max of modules."""
    rows = [ops.get(phase, {}).get(h, {"round_trips": 0, "modules": 0, "retries": 0}) for h in hosts]
    attempts = [r["retries"] + 1 for r in rows]
    return {"modules": statistics.median(r["modules"] for r in rows),
            "modules_min": min(r["modules"] for r in rows), "modules_max": max(r["modules"] for r in rows),
            "round_trips": statistics.median(r["round_trips"] for r in rows),
            "attempts": statistics.median(attempts),
            "modules_per_attempt": statistics.median(r["modules"] / a for r, a in zip(rows, attempts)),
            "round_trips_per_attempt": statistics.median(r["round_trips"] / a for r, a in zip(rows, attempts))}


def counting(lab, pipelining):
    """One enable_ipip run at -vvv: gather, then verify with the routes right from the second attempt on."""
    lab.reset(healthy_after=2)
    env = {"ANSIBLE_PIPELINING": "True" if pipelining else "False"}
    _elapsed, _cpu, output = lab.run(REPO / "playbooks" / "enable_ipip.yml", verbosity=3, env=env)
    (lab.dir / ("enable_ipip.pipelining-%s.vvv.log" % pipelining)).write_text(output)
    ops = count_ops(output)
    reads = lab.route_reads()
    report = json.loads((lab.dir / "report" / "report.json").read_text())
    return {"gather": per_host(ops, "gather", lab.names), "verify": per_host(ops, "verify", lab.names),
            "route_reads": statistics.median(reads[h] for h in lab.names), "result": report["result"],
            "pool_after": [p.get("ipip_mode") for p in report.get("pools_after") or []]}


_LOG_LINE = re.compile(r"^(?P<date>\S+ \S+),(?P<ms>\d+) .*?\| (?P<what>TASK \[.*?\]|PLAY RECAP)")


def task_times(log):
    """Seconds from each task's header to the next one's, from ansible's own timestamped log (ANSIBLE_LOG_PATH),
    grouped: the module task of gather, the datastore read, the verdict, the report files, argument-spec validation,
    include_role (none since the playbooks import the role statically), and every other task."""
    import datetime  # pylint: disable=import-outside-toplevel
    groups = defaultdict(float)
    previous = None
    for line in log.read_text().splitlines():
        match = _LOG_LINE.match(line)
        if not match:
            continue
        stamp = datetime.datetime.strptime(match.group("date"), "%Y-%m-%d %H:%M:%S").timestamp() + \
            int(match.group("ms")) / 1000.0
        if previous is not None:
            name = previous[1]
            if "Read this node's routes" in name:
                group = "gather module task"
            elif "Validating arguments against arg spec" in name:
                group = "argument-spec validation (on every host)"
            elif not name.startswith("TASK [k8snet.calico.ipip :"):
                group = "include_role"
            elif "Write report.json" in name:
                group = "report files"
            elif "Read pools, Felix configuration" in name:
                group = "datastore read (ippool_info, once)"
            elif "Judge every node's routes" in name:
                group = "verdict (ipip_verdict, once)"
            else:
                group = "other tasks"
            groups[group] += stamp - previous[0]
        previous = (stamp, match.group("what"))
    return dict(groups)


def timing(lab, repeats):
    """diagnose.yml vs the bare playbook, alternating, ``repeats`` times each; medians and their ratio, for wall
    time and for the CPU time of all the processes of each run."""
    times, cpu_times = {"diagnose": [], "bare": []}, {"diagnose": [], "bare": []}
    log = lab.dir / "diagnose.log"
    for _repeat in range(repeats):
        for name, playbook in (("bare", lab.dir / "bare.yml"), ("diagnose", REPO / "playbooks" / "diagnose.yml")):
            lab.reset()
            log.unlink(missing_ok=True)
            elapsed, cpu, _output = lab.run(playbook, env={"ANSIBLE_LOG_PATH": str(log)} if name == "diagnose" else None)
            times[name].append(elapsed)
            cpu_times[name].append(cpu)
    report = json.loads((lab.dir / "report" / "report.json").read_text())
    medians = dict((name, statistics.median(values)) for name, values in times.items())
    cpu_medians = dict((name, statistics.median(values)) for name, values in cpu_times.items())
    return {"runs": times, "median": medians, "ratio": medians["diagnose"] / medians["bare"],
            "cpu_runs": cpu_times, "cpu_median": cpu_medians, "cpu_ratio": cpu_medians["diagnose"] / cpu_medians["bare"],
            "last_diagnose_tasks": task_times(log),
            "diagnosis_hosts_bad": report["diagnosis"]["hosts_bad"], "diagnosis_causes": report["diagnosis"]["causes"]}


def main(workdir, hosts=50, repeats=5):
    lab = Lab(workdir, hosts=hosts)
    return {"hosts": hosts, "repeats": repeats, "timing": timing(lab, repeats),
            "counting": {"default": counting(lab, False), "pipelining": counting(lab, True)}}


if __name__ == "__main__":
    print(json.dumps(main(REPO / "tests" / "output" / "bench" / "playbook", repeats=int(sys.argv[1]) if len(sys.argv) > 1
                          else 1), indent=1))
