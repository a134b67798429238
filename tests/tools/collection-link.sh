#!/usr/bin/env bash
# The one place that makes this checkout the installed k8snet.calico for the tests and tools: a link at
# <repo>/.ansible/collections/ansible_collections/k8snet/calico (what ANSIBLE_COLLECTIONS_PATH points at in the
# Makefile, tests/tools/molecule.sh and tests/conftest.py). Idempotent; prints the collections path.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
collections=$root/.ansible/collections
mkdir -p "$collections/ansible_collections/k8snet"
ln -sfn "$root" "$collections/ansible_collections/k8snet/calico"
echo "$collections"
