#!/usr/bin/env bash
# The lab scenarios (extensions/molecule), one after the other on one lab host: every scenario but the last keeps the
# lab host (the VM) for the next one (K8SNET_LAB_KEEP_HOST=1) and removes and checks only its topology; the last one
# stops the lab host and checks that nothing of the lab is left. Usage: tests/tools/molecule.sh [scenario...];
# without arguments: all of them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$("$root/tests/tools/venv.sh")
export PATH="$venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.ansible/collections"
mkdir -p "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/k8snet"
ln -sfn "$root" "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/k8snet/calico"
"$root/tests/tools/system-deps.sh" lab
cd "$root"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(seed crosssubnet rollback faults)
# A scenario that fails stops the run: its own destroy keeps the lab host, so stop it here (by its pid file).
trap '"$root/tests/lab/platform/labhost" status >/dev/null 2>&1 && "$root/tests/lab/platform/labhost" down' EXIT
total=$(date +%s)
for i in "${!scenarios[@]}"; do
  s=${scenarios[$i]}
  if [ "$i" -lt $((${#scenarios[@]} - 1)) ]; then export K8SNET_LAB_KEEP_HOST=1; else unset K8SNET_LAB_KEEP_HOST; fi
  start=$(date +%s)
  echo "=== molecule test -s $s"
  molecule test -s "$s"
  echo "=== molecule test -s $s: passed in $(( $(date +%s) - start )) s"
done
echo "=== molecule: ${scenarios[*]} passed in $(( $(date +%s) - total )) s"
