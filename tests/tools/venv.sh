#!/usr/bin/env bash
# Create or refresh the project's virtualenv (.venv) and print its path.
# ansible-core >= 2.20 needs Python >= 3.12: take the newest interpreter >= 3.12 that actually runs
# (pyenv shims on PATH may exist and still fail), else the newest python3 there is; pip then picks the
# newest ansible-core that interpreter allows.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$root/.venv}

# shellcheck source=tests/tools/_venv_lib.sh
. "$root/tests/tools/_venv_lib.sh"

stamp=$venv/.requirements.sha256
want=$(cat "$root/requirements.txt" "$root/test-requirements.txt" | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    if ! py=$(pick_python 12 99); then
      py=$(pick_python 8 11) || { echo "venv.sh: no working python3 found" >&2; exit 1; }
      echo "venv.sh: no Python >= 3.12 here; using $py (pip will choose an older ansible-core)" >&2
    fi
    echo "venv.sh: creating $venv with $py ($("$py" --version 2>&1))" >&2
    "$py" -m venv "$venv"
  fi
  # (this machine's pip.conf names local find-links folders that may be absent: drop those warnings)
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' >&2 || true
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/test-requirements.txt" 2>&1 \
    | grep -v '^WARNING: Location' >&2 || true
  "$venv/bin/python" -c 'import ansible, molecule, netaddr, jmespath' || { echo "venv.sh: install failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
echo "$venv"
