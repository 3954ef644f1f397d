"""verify.plots: attached plot data becomes a PNG beside the report, embedded in report.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verify.plots import write_plots
from verify.render import markdown


def _report(evidence: dict[str, Any]) -> dict[str, Any]:
    claim = {"id": "C4", "statement": "s", "paper_ref": "p", "section": "S", "verdict": "holds", "expected": "holds",
             "as_expected": True, "evidence": evidence, "seconds": 0.1}
    return {"claims": [claim], "seed": 0, "profile": "ci", "started": "now", "seconds": 0.1, "versions": {},
            "summary": {"claims": 1, "holds": 1, "unexpected": []}}


def test_landscape_plot_is_written_and_embedded(tmp_path: Path) -> None:
    plot = {"kind": "landscape", "x": [0.0, 1.0, 2.0], "y": [0.0, 1.0], "z": [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]}
    report = _report({"plot": plot})
    written = write_plots(report, tmp_path)
    assert written == {"C4": "C4.png"}
    assert (tmp_path / "C4.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](C4.png)" in markdown(report, written)
    assert not list(tmp_path.glob("*.tmp"))


def test_no_plot_data_writes_nothing(tmp_path: Path) -> None:
    assert write_plots(_report({"examples": 3}), tmp_path) == {}
    assert not list(tmp_path.iterdir())


def test_panels_plot_is_written_with_a_log_axis_and_nonpositive_points(tmp_path: Path) -> None:
    line = {"x": [3.0, 4.0, 5.0], "y": [1e-30, 0.0, 2.5]}  # a 0 on a log axis is left out, not an error
    plot = {"kind": "panels", "x_label": "log10 T", "panels": [
        {"title": "a", "y_label": "y", "log_y": True, "series": {"error": line, "bound": {**line, "style": "--"}}},
        {"title": "b", "series": {"error": line}}]}
    assert write_plots(_report({"plot": plot}), tmp_path) == {"C4": "C4.png"}
    assert (tmp_path / "C4.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
