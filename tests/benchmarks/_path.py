"""Make this checkout importable as ``ansible_collections.k8snet.calico`` (as tests/conftest.py does for pytest)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".ansible" / "collections"
_link = COLLECTIONS / "ansible_collections" / "k8snet" / "calico"
if not _link.exists():
    _link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(REPO, _link)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))
