#!/usr/bin/env bash
# Run ansible-test on this collection without Docker.
# ansible-test needs the collection at .../ansible_collections/k8snet/calico as a real directory (not a
# symlink), and, offline, a pip bootstrap script in its cache (written below).
# Usage: tests/tools/ansible-test.sh sanity|units [ansible-test options...]
# `units` installs tests/unit/requirements.txt (what the unit tests import besides ansible-core and pytest) into
# ansible-test's venv (--requirements).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$("$root/tests/tools/venv.sh")
export PATH="$venv/bin:$PATH"

# Offline stand-in for the get-pip.py that ansible-test would download for its per-test venvs:
# it installs pip from the interpreter's own ensurepip, then the pinned packages from PyPI.
python "$root/tests/tools/ansible_test_pip_stub.py"

ns=$(awk '/^namespace:/{print $2}' "$root/galaxy.yml")
name=$(awk '/^name:/{print $2}' "$root/galaxy.yml")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/$ns/$name
mkdir -p "$dest"
# ansible-test looks at what git tracks plus untracked files that are not ignored: copy exactly those.
(cd "$root" && { git ls-files -z; git ls-files -z --others --exclude-standard; } | sort -zu |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -C "$dest" -xf -
(cd "$dest" && git init -q && git add -A >/dev/null 2>&1)

cmd=$1; shift
if [ "$cmd" = units ]; then set -- --requirements "$@"; fi
py=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
rc=0
(cd "$dest" && ansible-test "$cmd" --venv --python "$py" --color no "$@") || rc=$?
rm -rf "$root/tests/output/$cmd"; mkdir -p "$root/tests/output"
if [ -d "$dest/tests/output" ]; then cp -a "$dest/tests/output/." "$root/tests/output/"; fi
exit $rc
