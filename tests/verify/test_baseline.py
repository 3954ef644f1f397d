"""verify --baseline / --update-baseline: regression gating against an earlier report, and rewriting expectations."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from model.errors import InvalidParameter
from properties.expected import Expected, load_expected
from verify.baseline import DEFAULT_REL_TOL, compare, diff_table, updated_expected
from verify.cli import main

FAST = ["--profile", "quick"]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stream=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _entry(claim_id: str, verdict: str, **evidence: Any) -> dict[str, Any]:
    return {"id": claim_id, "verdict": verdict, "as_expected": True, "evidence": evidence}


def test_a_changed_verdict_in_the_baseline_exits_one_with_the_diff(tmp_path: Path) -> None:
    code, _, err = _run(["--claims", "M3,C9a", "--out", str(tmp_path / "old"), *FAST])
    assert code == 0, err
    old = json.loads((tmp_path / "old" / "report.json").read_text())
    old["claims"][1]["verdict"] = "refuted"  # M3 (registry order: C9a, M3) was refuted in the baseline
    (tmp_path / "old.json").write_text(json.dumps(old))
    code, out, err = _run(["--claims", "M3,C9a", "--out", str(tmp_path / "new"), "--baseline",
                           str(tmp_path / "old.json"), *FAST])
    assert code == 1, err
    assert "1 regression(s)" in out and "| M3 | verdict | refuted | holds | REGRESSION |" in out
    report = json.loads((tmp_path / "new" / "report.json").read_text())
    assert report["baseline"]["regressions"] == 1 and report["baseline"]["changes"][0]["id"] == "M3"


def test_the_same_baseline_exits_zero(tmp_path: Path) -> None:
    _run(["--claims", "M3", "--out", str(tmp_path / "old"), *FAST])
    code, out, _ = _run(["--claims", "M3", "--out", str(tmp_path / "new"), "--baseline",
                         str(tmp_path / "old" / "report.json"), *FAST])
    assert code == 0 and "0 regression(s)" in out


def test_malformed_baselines_exit_two_with_one_line(tmp_path: Path) -> None:
    for name, text in (("broken.json", "{not json"), ("other.json", json.dumps({"claims": []})),
                       ("entries.json", json.dumps({"schema": 1, "claims": [{"verdict": "holds"}]}))):
        (tmp_path / name).write_text(text)
        code, _, err = _run(["--claims", "M3", "--out", str(tmp_path / "r"), "--baseline", str(tmp_path / name)])
        assert code == 2 and err.count("\n") == 1 and "baseline" in err, (name, err)
    code, _, err = _run(["--claims", "M3", "--out", str(tmp_path / "r"), "--baseline", str(tmp_path / "none.json")])
    assert code == 2 and "cannot read the baseline" in err


def test_compare_classifies_every_kind_of_change() -> None:
    baseline = {"claims": [_entry("A", "holds"), _entry("B", "refuted", counterexample="x = 1"),
                           _entry("C", "measured", value=2.0), _entry("D", "error"),
                           _entry("E", "measured", value=1.0)]}
    report = {"claims": [_entry("A", "refuted", counterexample="x = 0"), _entry("B", "refuted", counterexample="x = 2"),
                         _entry("C", "measured", value=2.0 * (1 + 1e-3)), _entry("D", "holds"),
                         _entry("E", "measured", value=1.0 + 1e-9), _entry("F", "holds")]}
    changes = {c.id: c for c in compare(report, baseline, {"C": Expected("measured", value=2.0, rel_tol=1e-4)})}
    assert (changes["A"].kind, changes["A"].regression) == ("verdict", True)
    assert (changes["B"].kind, changes["B"].regression) == ("counterexample", True)
    assert (changes["C"].kind, changes["C"].regression) == ("value", True)  # moved 1e-3 > its own 1e-4
    assert (changes["D"].kind, changes["D"].regression) == ("verdict", False)  # error -> holds: an improvement
    assert "E" not in changes  # moved 1e-9 < DEFAULT_REL_TOL
    assert (changes["F"].kind, changes["F"].regression) == ("new", False)
    text = diff_table(list(changes.values()), "old.json")
    assert text.startswith("Baseline old.json: 3 regression(s), 1 improvement(s), 1 new claim(s)")
    assert DEFAULT_REL_TOL == 1e-6


def test_update_baseline_records_this_run_deliberately(tmp_path: Path) -> None:
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps({"schema": 1, "claims": {"M3": {"verdict": "refuted", "reason": "old"}}}))
    code, out, err = _run(["--claims", "M3", "--out", str(tmp_path / "r"), "--expected", str(expected),
                           "--update-baseline", *FAST])
    assert code == 0 and "expected verdicts rewritten" in out, err
    assert "M3" not in load_expected(expected)  # it holds now: no entry needed
    # a planted fault's or a user setting's verdicts are never recorded
    for extra in (["--fault", "readout_skips_first_example"], ["--set", "N=8"]):
        code, _, err = _run(["--claims", "C9a", *extra, "--out", str(tmp_path / "f"), "--expected", str(expected),
                             "--update-baseline", *FAST])
        assert code == 2 and err.count("\n") == 1 and "--update-baseline" in err


def test_update_baseline_refuses_errors() -> None:
    with pytest.raises(InvalidParameter, match="refusing"):
        updated_expected({"claims": [_entry("A", "error")]}, {})
