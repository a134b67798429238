#!/usr/bin/env bash
# Create or refresh .venv-oldest: the oldest ansible-core the collection claims (meta/runtime.yml requires_ansible
# ">=2.16.0", so the newest 2.16.x patch) with what the unit and functional tests need; print its path.
# ansible-core 2.16 runs on controller Python 3.10-3.12: take the newest of those that actually runs (pyenv shims on
# PATH may exist and still fail), found by the version it reports, not by its path.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV_OLDEST:-$root/.venv-oldest}
# The 2.16 line: pip takes its newest patch release.
core_spec='ansible-core>=2.16,<2.17'

# shellcheck source=tests/tools/_venv_lib.sh
. "$root/tests/tools/_venv_lib.sh"

stamp=$venv/.requirements.sha256
want=$( (echo "$core_spec"; cat "$0" "$root/requirements.txt" "$root/tests/unit/requirements.txt") | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    py=$(pick_python 10 12) \
      || { echo "venv-oldest.sh: no working Python 3.10-3.12 found (ansible-core 2.16 needs one)" >&2; exit 1; }
    echo "venv-oldest.sh: creating $venv with $py ($("$py" --version 2>&1))" >&2
    "$py" -m venv "$venv"
  fi
  # (this machine's pip.conf names local find-links folders that may be absent: drop those warnings)
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' >&2 || true
  # the collection's controller requirements and the unit tests' (tests/unit/requirements.txt), ansible-core held at
  # 2.16, the test runner with what tests/functional's helpers import (yaml), and what test_awx_runner.py runs the
  # playbooks with (ansible-runner; ansible-builder for the execution environment's bindep check)
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$core_spec" -r "$root/requirements.txt" \
    -r "$root/tests/unit/requirements.txt" 'pytest>=8' 'pyyaml>=6' 'ansible-runner>=2.4' 'ansible-builder>=3.0' 2>&1 | grep -v '^WARNING: Location' >&2 || true
  "$venv/bin/python" - <<'EOF' || { echo "venv-oldest.sh: install failed" >&2; exit 1; }
import ansible, ansible_runner, jmespath, netaddr, pytest, yaml  # noqa: F401
from ansible.release import __version__
assert __version__.startswith("2.16."), "ansible-core %s is not 2.16.x" % __version__
EOF
  echo "$want" > "$stamp"
fi
echo "$venv"
