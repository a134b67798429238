"""Access to the iproute2 captures in tests/unit/fixtures/iproute."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "iproute"
# Tables captured both as text and as JSON by fixtures/iproute/capture.sh.
PAIRED_TABLES = ("seed-before", "seed-after", "crosssubnet", "always", "felix-proto80", "linkdown", "ecmp")


def capture(name: str) -> str:
    return (FIXTURES / name).read_text()
