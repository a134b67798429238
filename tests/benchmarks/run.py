"""Run every benchmark and print ONE table (``make bench``). Raw results go to tests/output/bench/results.json.

Timings here are noisy (a shared 2-core machine): every figure is a median over repeats, and every comparison is
a ratio of two things measured in the same run, alternating. Nothing here asserts a time.

    .venv/bin/python tests/benchmarks/run.py [--quick] [--only parse,verdict,playbook,lab]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# makes ansible_collections.k8snet.calico importable
import _path  # noqa: E402,F401  pylint: disable=unused-import
from cluster import POOL, STATES, Cluster, single_table  # noqa: E402

from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import parse_links, parse_routes  # noqa: E402
from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import describe_node, parse_pools  # noqa: E402
from ansible_collections.k8snet.calico.plugins.plugin_utils._verdict import verdict  # noqa: E402

OUT = HERE.parents[1] / "tests" / "output" / "bench"


def _timed(fn, repeats, min_seconds=0.0):
    """Medians of wall and CPU seconds over *repeats* calls, or more until *min_seconds* of wall time have been
    measured (up to 100 calls): a median of three 20 ms calls on a loaded machine is mostly noise."""
    wall, cpu = [], []
    while len(wall) < repeats or (sum(wall) < min_seconds and len(wall) < 100):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


# ------------------------------------------------------------------------------------------------------ checks
def self_check():
    """The generator makes what it says: JSON and text parse alike; the verdict sees healthy, broken and mixed."""
    pools = parse_pools([POOL])
    seen = {}
    for state in STATES:
        cluster = Cluster(12, subnets=3, state=state)
        hosts = {}
        for k in range(cluster.n):
            routes = parse_routes(cluster.routes_json(k))[0]
            if routes != parse_routes(cluster.routes_text(k))[0]:
                raise SystemExit("bench: generator: JSON and text routes of %s differ" % cluster.names[k])
            links = parse_links(cluster.addr_json(k))[0]
            hosts[cluster.names[k]] = describe_node(routes, links, pools, "tunl0")
        result = verdict(hosts, cluster.calico_nodes(), cluster.affinities(), cluster.pools(), mode="Always")
        seen[state] = result["hosts_ok"]
    if seen != {"healthy": 12, "broken": 0, "mixed": 6}:
        raise SystemExit("bench: generator: unexpected verdicts %s" % seen)


# ------------------------------------------------------------------------------------------------------- parse
def bench_parse(sizes, repeats):
    rows = []
    for size in sizes:
        tables = dict((fmt, single_table(size, fmt)) for fmt in ("json", "text"))
        result = {}
        for fmt in ("json", "text"):
            count = len(parse_routes(tables[fmt])[0])
            wall, cpu = _timed(lambda text=tables[fmt]: parse_routes(text), repeats)
            result[fmt] = {"routes": count, "wall": wall, "cpu": cpu}
        rows.append({"size": size, **result})
    return rows


# ----------------------------------------------------------------------------------------------------- verdict
def verdict_one(n, repeats):
    """In its own process (so each size starts with a clean heap): inputs made as node_routes_info makes them
    (parse + describe_node of each node's JSON table), then the verdict timed, then its peak memory traced."""
    cluster = Cluster(n, subnets=4, state="mixed")
    pools = parse_pools([POOL])
    gc.disable()  # building the inputs only
    hosts = dict((cluster.names[k], describe_node(parse_routes(cluster.routes_json(k))[0],
                                                  parse_links(cluster.addr_json(k))[0], pools, "tunl0"))
                 for k in range(n))
    gc.enable()
    gc.collect()
    args = (hosts, cluster.calico_nodes(), cluster.affinities(), cluster.pools())
    check = verdict(*args, mode="Always")
    judged = sum(len(node["blocks"]) for node in check["nodes"])
    summary = {"hosts_ok": check["hosts_ok"], "causes": dict((k, v) for k, v in check["causes"].items() if v)}
    del check
    wall, cpu = _timed(lambda: verdict(*args, mode="Always"), repeats, min_seconds=1.0)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = verdict(*args, mode="Always")
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    del result
    import resource  # pylint: disable=import-outside-toplevel
    return {"nodes": n, "routes": judged, "wall": wall, "cpu": cpu, "us_per_route": wall / judged * 1e6,
            "cpu_us_per_route": cpu / judged * 1e6,
            "peak_bytes": peak, "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            **summary}


def bench_verdict(sizes, repeats):
    rows = []
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--verdict-one", str(n), "--repeats", str(repeats)],
                              stdout=subprocess.PIPE, text=True, check=True)
        rows.append(json.loads(proc.stdout))
    return rows


# ------------------------------------------------------------------------------------------------------- table
def machine():
    load = os.getloadavg()
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "processor": _cpu_model(), "load_average_at_start": [round(x, 2) for x in load]}


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def table(results):
    rows = []  # (measure, value, goal, met)

    def add(measure, value, goal="", met=None):
        rows.append((measure, value, goal, "" if met is None else ("yes" if met else "NO")))

    for row in results.get("parse", []):
        for fmt in ("json", "text"):
            r = row[fmt]
            goal = "< 0.5 s" if row["size"] == 100000 else ""
            add("parse %s, %d routes" % (fmt, r["routes"]),
                "%.3f s wall (%.3f s CPU), %.2f us/route" % (r["wall"], r["cpu"], r["wall"] / r["routes"] * 1e6),
                goal, r["wall"] < 0.5 if goal else None)
        add("  text/JSON ratio, %d routes" % row["size"], "%.2fx" % (row["text"]["wall"] / row["json"]["wall"]))
    for row in results.get("verdict", []):
        goal = "< 2 s" if row["nodes"] == 1000 else ""
        add("verdict %d nodes (%d routes)" % (row["nodes"], row["routes"]),
            "%.2f s wall (%.2f s CPU), %.2f us/route, peak %.0f MiB" % (
                row["wall"], row["cpu"], row["us_per_route"], row["peak_bytes"] / 2 ** 20),
            goal, row["wall"] < 2 if goal else None)
    verdicts = results.get("verdict", [])
    if len(verdicts) > 1:
        first, last = verdicts[0], verdicts[-1]
        add("  us/route at %d vs %d nodes" % (last["nodes"], first["nodes"]),
            "%.2fx (CPU time: %.2fx)" % (last["us_per_route"] / first["us_per_route"],
                                         last["cpu_us_per_route"] / first["cpu_us_per_route"]), "flat (~1x)")
    play = results.get("playbook")
    if play:
        t = play["timing"]
        add("diagnose.yml vs bare `ip -j route`, %d hosts" % play["hosts"],
            "%.1f s vs %.1f s = %.2fx" % (t["median"]["diagnose"], t["median"]["bare"], t["ratio"]),
            "<= 1.3x", t["ratio"] <= 1.3)
        if "cpu_ratio" in t:
            add("  CPU time, all processes of each run", "%.1f s vs %.1f s = %.2fx" % (
                t["cpu_median"]["diagnose"], t["cpu_median"]["bare"], t["cpu_ratio"]))
        for group, seconds in sorted(t["last_diagnose_tasks"].items(), key=lambda kv: -kv[1]):
            add("  diagnose: %s" % group, "%.1f s" % seconds)
        for config, c in sorted(play["counting"].items()):
            for phase in ("gather", "verify"):
                p = c[phase]
                add("%s per host, %s (%s)" % (phase, "attempt" if phase == "verify" else "run", config),
                    "%g module run(s), %g round trip(s)%s" % (
                        p["modules_per_attempt"], p["round_trips_per_attempt"],
                        ", %g attempts" % p["attempts"] if phase == "verify" else ""),
                    "1 module run", p["modules_per_attempt"] == 1 and p["modules_min"] >= 1)
            add("  route reads per host / result (%s)" % config, "%g / %s" % (c["route_reads"], c["result"]))
    lab = results.get("lab")
    if lab:
        add("lab: pool change -> last node's routes right", "%.2f s (agent side, %s)" % (
            lab["change_to_last_right_s"], ", ".join(lab["nodes"])))
        add("lab: last node right -> verification read it", "%.2f s (poll interval %s s)" % (
            lab["last_right_to_noticed_s"], lab["verify_interval_s"]))
        for node, seconds in sorted(lab["per_node_right_to_noticed_s"].items()):
            # (a read that started before the routes were right and read them after: no wait, shorter than a read)
            add("  %s: right -> read; polling wait; one read" % node, "%.2f s; %.2f s; %.2f s (%d attempt(s))" % (
                seconds, lab["per_node_polling_wait_s"][node], lab["per_node_read_s"][node],
                lab["per_node_attempts"][node]))
        add("lab: polling wait (right -> read, less the read)", "%.2f s" % max(lab["per_node_polling_wait_s"].values()),
            "within one poll interval", lab["within_one_interval"])
    else:
        add("lab: pool change -> last node right; -> verify notices", "not measured (--only without lab)",
            "within one poll interval")
    width = [max(len(str(r[i])) for r in rows + [("measure", "value", "goal", "met")]) for i in range(4)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(("measure", "value", "goal", "met"), width)),
             "  ".join("-" * w for w in width)]
    lines += ["  ".join(str(cell).ljust(w) for cell, w in zip(r, width)).rstrip() for r in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke run)")
    parser.add_argument("--only", default="parse,verdict,playbook,lab")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--verdict-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verdict_one:
        print(json.dumps(verdict_one(args.verdict_one, args.repeats or 3)))
        return
    only = set(args.only.split(","))
    quick = args.quick
    results = {"machine": machine(), "command": " ".join(["tests/benchmarks/run.py"] + sys.argv[1:])}
    self_check()
    if "parse" in only:
        print("bench: parse ...", file=sys.stderr)
        results["parse"] = bench_parse([1000, 10000] if quick else [1000, 10000, 100000], args.repeats or 7)
    if "verdict" in only:
        print("bench: verdict ...", file=sys.stderr)
        results["verdict"] = bench_verdict([100, 300] if quick else [100, 300, 1000, 2000], args.repeats or 3)
    if "playbook" in only:
        print("bench: playbooks (ansible-playbook, %s hosts) ..." % (10 if quick else 50), file=sys.stderr)
        import playbook_bench  # pylint: disable=import-outside-toplevel
        results["playbook"] = playbook_bench.main(OUT / "playbook", hosts=10 if quick else 50,
                                                  repeats=1 if quick else (args.repeats or 3))
    if "lab" in only:
        print("bench: lab (brings the lab up, runs enable_ipip once, takes it down) ...", file=sys.stderr)
        proc = subprocess.run([sys.executable, str(HERE / "lab_convergence.py"), "--out", str(OUT / "lab")],
                              stdout=subprocess.PIPE, text=True, check=True)
        results["lab"] = json.loads(proc.stdout)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    m = results["machine"]
    print("k8snet.calico benchmarks: %s, %d CPUs, Python %s, load average %s at start, %s at end" % (
        m["processor"], m["cpus"], m["python"], m["load_average_at_start"][0], m["load_average_at_end"][0]))
    print(table(results))
    print("(medians; raw results in %s)" % (OUT / "results.json"))


if __name__ == "__main__":
    main()
