"""Make this checkout importable as ``ansible_collections.k8snet.calico``: the same bootstrap pytest uses."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("k8snet_tests_bootstrap", Path(__file__).resolve().parents[1] / "conftest.py")
_spec.loader.exec_module(importlib.util.module_from_spec(_spec))
