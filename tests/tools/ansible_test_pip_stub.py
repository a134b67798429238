"""Offline stand-in for the get-pip.py that ansible-test downloads for its per-test venvs (tests/tools/ansible-test.sh
runs this first): written into ansible-test's cache under the name it looks for, for the pip version this
ansible-test pins; it installs pip from the interpreter's own ensurepip, then the pinned packages from PyPI. Run with
the Python of the venv that has ansible-test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from ansible_test._internal import python_requirements

STUB = """import subprocess
import sys
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade"] + args)
"""


def main():
    found = re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages))
    if not found:
        return  # this ansible-test pins no pip version: nothing to stand in for
    stub = Path.home() / ".ansible" / "test" / "cache" / ("get_pip_%s.py" % found.group(1).replace(".", "_"))
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_text(STUB)


if __name__ == "__main__":
    main()
