#!/usr/bin/env bash
# The lab scenarios (extensions/molecule), one after the other on one lab host: each keeps the lab host (the VM) for
# the next one (K8SNET_LAB_KEEP_HOST=1: its destroy removes and checks only its topology); then the last scenario's
# destroy runs once more without it, which stops the lab host and checks that nothing of the lab is left. (Unsetting
# it for the whole last scenario would also stop the VM in that scenario's first destroy and boot it again.)
# Usage: tests/tools/molecule.sh [scenario...]; without arguments: all of them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$("$root/tests/tools/venv.sh")
export PATH="$venv/bin:$PATH"
ANSIBLE_COLLECTIONS_PATH=$("$root/tests/tools/collection-link.sh")
export ANSIBLE_COLLECTIONS_PATH
"$root/tests/tools/system-deps.sh" lab
cd "$root"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(seed crosssubnet vxlan rollback faults)
# A scenario that fails stops the run: its own destroy keeps the lab host, so stop it here (by its pid file).
trap '"$root/tests/lab/platform/labhost" status >/dev/null 2>&1 && "$root/tests/lab/platform/labhost" down' EXIT
total=$(date +%s)
export K8SNET_LAB_KEEP_HOST=1
for s in "${scenarios[@]}"; do
  start=$(date +%s)
  echo "=== molecule test -s $s"
  molecule test -s "$s"
  echo "=== molecule test -s $s: passed in $(( $(date +%s) - start )) s"
done
unset K8SNET_LAB_KEEP_HOST
echo "=== molecule destroy -s ${scenarios[-1]}: stop the lab host, check that nothing is left"
molecule destroy -s "${scenarios[-1]}"
echo "=== molecule: ${scenarios[*]} passed in $(( $(date +%s) - total )) s"
