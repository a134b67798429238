"""Old against new by machine instructions: parse and verdict of this checkout against another git revision.

    .venv/bin/python tests/benchmarks/instructions.py REV [--nodes 100,300]

Wall and CPU times on a shared 2-core machine vary by several percent from run to run; the instructions a piece of
work executes (valgrind's callgrind) do not, so a change of a fraction of a percent can be seen. Both checkouts
run the same synthetic cluster (this checkout's cluster.py) with PYTHONHASHSEED=0, in one run, alternating; each
figure is the instructions of the work minus those of the same process without it (start-up, imports, building the
inputs). The other revision is checked out in a temporary git worktree and removed afterwards. Needs valgrind.
Nothing here asserts anything: it prints one table of ratios (new / old; below 1 is faster).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = ("parse_json", "parse_text", "verdict")


def measure_in_child(repo, what, nodes):
    """Run in a child process (one per measurement): import *repo*'s collection, build the inputs, do *what*."""
    spec = importlib.util.spec_from_file_location("k8snet_tests_bootstrap", Path(repo) / "tests" / "conftest.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    sys.path.insert(0, str(HERE))
    from cluster import POOL, Cluster  # this checkout's generator, for both revisions

    from ansible_collections.k8snet.calico.plugins.module_utils._iproute_parse import parse_links, parse_routes
    from ansible_collections.k8snet.calico.plugins.module_utils._route_classify import describe_node, parse_pools
    from ansible_collections.k8snet.calico.plugins.plugin_utils._verdict import verdict

    cluster = Cluster(nodes)
    tables = {"json": [cluster.routes_json(k) for k in range(nodes)],
              "text": [cluster.routes_text(k) for k in range(nodes)]}
    pools = parse_pools([POOL])
    hosts = dict((cluster.names[k], describe_node(parse_routes(tables["json"][k])[0],
                                                  parse_links(cluster.addr_json(k))[0], pools, "tunl0"))
                 for k in range(nodes))
    if what.startswith("parse_"):
        for table in tables[what[len("parse_"):]]:
            parse_routes(table)
    elif what == "verdict":
        verdict(hosts, cluster.calico_nodes(), cluster.affinities(), cluster.pools(), mode="Always")


def instructions(repo, what, nodes):
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                           __file__, "--child", str(repo), what, str(nodes)],
                          env=env, capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", proc.stderr).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", nargs="?", help="the git revision to compare with")
    parser.add_argument("--nodes", default="100,300", help="cluster sizes (nodes), comma-separated")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure_in_child(args.child[0], args.child[1], int(args.child[2]))
        return
    if not args.rev or not shutil.which("valgrind"):
        raise SystemExit("instructions.py: give a git revision, and install valgrind (apt-get install valgrind)")
    old = Path(tempfile.mkdtemp(prefix="k8snet-bench-")) / "old"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(old), args.rev], check=True)
    try:
        print("%-24s %15s %15s %8s" % ("work (%s -> this checkout)" % args.rev[:12], "old", "new", "new/old"))
        for nodes in [int(n) for n in args.nodes.split(",")]:
            for what in WORK:
                if what.startswith("parse_") and nodes != int(args.nodes.split(",")[0]):
                    continue  # one table per node: the first size says it
                counts = {}
                for repo in (old, REPO):  # old, then new: each the work minus the same process without it
                    counts[repo] = instructions(repo, what, nodes) - instructions(repo, "none", nodes)
                label = "%s, %d nodes" % (what, nodes)
                print("%-24s %15d %15d %8.4f" % (label, counts[old], counts[REPO], counts[REPO] / counts[old]))
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(old)], check=False)
        shutil.rmtree(old.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
