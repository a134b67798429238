"""tests/tools/galaxy.sh, step 1: what the built tarball holds. Nothing that galaxy.yml's build_ignore should keep
out is in it (caches, reports, lab output, virtualenvs, benchmarks), and no shipped test file refers to what is left
out (tests/benchmarks, tests/lab). Usage: galaxy_contents.py TARBALL; exit 1 naming each problem."""

from __future__ import annotations

import fnmatch
import re
import sys
import tarfile

LEFT_OUT = ["*.pytest_cache*", "*__pycache__*", "*.pyc", "ipip-report*", "*/ipip-report*", "lab-report*",
            ".venv*", ".ansible/*", ".git/*", "tests/output*", "tests/benchmarks*", "tests/lab*", "extensions*",
            "*.tar.gz", "Makefile"]
# by path, as a Python import (ansible_collections.k8snet.calico.tests.benchmarks...) or as a path component
REFERS = re.compile(r"tests[/.]benchmarks|tests[/.]lab\b|[\"']benchmarks[\"']")
problems = []
with tarfile.open(sys.argv[1]) as tar:
    for member in tar.getmembers():
        name = member.name.rstrip("/")
        for pattern in LEFT_OUT:
            if fnmatch.fnmatch(name, pattern):
                problems.append("%s: should be left out by build_ignore (matches %s)" % (name, pattern))
        if member.isfile() and name.startswith("tests/") and name.endswith((".py", ".sh")):
            text = tar.extractfile(member).read().decode("utf-8", "replace")
            for lineno, line in enumerate(text.splitlines(), 1):
                if REFERS.search(line) and not line.lstrip().startswith("#"):
                    problems.append("%s:%d: refers to a directory the tarball leaves out: %s"
                                    % (name, lineno, line.strip()))
for problem in problems:
    print("galaxy: " + problem, file=sys.stderr)
sys.exit(1 if problems else 0)
