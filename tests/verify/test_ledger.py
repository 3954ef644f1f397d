"""verify.ledger: every constant the suite chose resolves to its current value, and the report shows them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import model.nearest as nearest
import properties.geometry as geometry
from verify.cli import main
from verify.ledger import LEDGER, assumptions


def test_every_ledger_row_resolves_to_the_value_in_the_code() -> None:
    rows = {row["name"]: row for row in assumptions()}
    assert len(rows) == len(LEDGER)
    assert rows["regime constant c in N >= c sqrt(d) ln d"]["value"] == geometry.REGIME_C
    assert rows["tie tolerance of the 1-NN rule"]["value"] == nearest.TIE_TOL
    assert all(row["value"] not in ("", None) and row["used_in"] for row in rows.values())


def test_the_report_carries_the_ledger_and_the_measured_constants(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["--claims", "C11d.lower,M3", "--out", str(tmp_path), "--profile", "quick"], stream=out, err=err) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert [row["name"] for row in report["assumptions"]] == [row[0] for row in LEDGER]
    text = (tmp_path / "report.md").read_text()
    assert "## Assumptions ledger" in text and "| regime constant c in N >= c sqrt(d) ln d | 1.0 |" in text
    assert "## Measured constants" in text and "- **C11d.lower** = " in text
