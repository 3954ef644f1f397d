"""``pytest --claim ID`` selects the tests of that claim by exact ID (``-k C1`` would also pick C10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _collected(*args: str) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in run.stdout.splitlines() if "::" in line]


def test_claim_option_selects_by_exact_id() -> None:
    ids = _collected("--claim", "M1", "tests/properties/test_claims.py")
    assert ids == ["tests/properties/test_claims.py::test_claim_verdict[M1]"]  # not M10


def test_claim_option_also_selects_the_faults_that_target_the_claim() -> None:
    ids = _collected("--claim", "M10", "tests/properties")
    assert ids and all("M10" in i for i in ids) and any("test_faults" in i for i in ids)


def test_unknown_claim_id_is_a_usage_error() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--claim", "C99", "tests/properties/test_claims.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0 and "unknown claim ID" in run.stderr + run.stdout
