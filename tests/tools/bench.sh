#!/usr/bin/env bash
# make bench: the benchmarks of tests/benchmarks (parsers, controller verdict, real ansible-playbook runs over a
# synthetic 50-host cluster on local connections, and one enable_ipip run on the lab, lab_convergence.py). Prints one
# table; raw results in tests/output/bench/.
# Takes several minutes; not part of `make test`. Arguments are passed on (e.g. --quick, --only parse,verdict).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$("$root/tests/tools/venv.sh")
export ANSIBLE_COLLECTIONS_PATH="$root/.ansible/collections"
exec "$venv/bin/python" "$root/tests/benchmarks/run.py" "$@"
