"""pytest bootstrap: make this checkout importable as ``ansible_collections.k8snet.calico``.

The collection is linked into ``<repo>/.ansible/collections/ansible_collections/k8snet/calico`` by
tests/tools/collection-link.sh (the one place that makes it, for ``make``, molecule and these tests), so tests
import plugins exactly as Ansible does. Benchmarks import this module too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".ansible" / "collections"
_link = COLLECTIONS / "ansible_collections" / "k8snet" / "calico"
if not _link.exists():
    subprocess.run([str(REPO / "tests" / "tools" / "collection-link.sh")], check=True, stdout=subprocess.DEVNULL)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))
