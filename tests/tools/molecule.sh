#!/usr/bin/env bash
# The lab scenarios (extensions/molecule). Each brings the lab up and tears it down, and fails if anything of the lab
# is left. Usage: tests/tools/molecule.sh [scenario...]; without arguments: seed and crosssubnet. The rollback
# scenario is run by hand for now (tests/tools/molecule.sh rollback): it has not passed a full run yet.
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
[ ${#scenarios[@]} -gt 0 ] || scenarios=(seed crosssubnet)
for s in "${scenarios[@]}"; do
  start=$(date +%s)
  echo "=== molecule test -s $s"
  molecule test -s "$s"
  echo "=== molecule test -s $s: passed in $(( $(date +%s) - start )) s"
done
