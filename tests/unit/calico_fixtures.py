"""The Calico objects the unit tests start from (tests/unit/fixtures/calico/, sources in its SOURCES.md) and the
datastore keys they are stored under: one copy for every test that builds a datastore from them."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "calico"
POOL_KEY = "/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool"
FELIX_KEY = "/apis/crd.projectcalico.org/v1/felixconfigurations/default"


def load(name):
    """The fixture `name` as a Python object."""
    return json.loads((FIXTURES / name).read_text())
