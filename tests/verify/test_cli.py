"""``python -m verify`` in-process: exit codes, the table, the report files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from verify.cli import main

FAST = ["--profile", "quick"]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stream=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_list_shows_the_pointwise_claims_and_invariants() -> None:
    code, out, _ = _run(["--list"])
    ids = [line.split()[0] for line in out.splitlines()]
    assert code == 0 and {"C2", "C9a", "C9b", "C9c"} | {f"M{i}" for i in range(1, 10)} <= set(ids)


def test_run_writes_reports_and_exits_zero(tmp_path: Path) -> None:
    code, out, err = _run(["--claims", "C9a,M3", "--out", str(tmp_path), *FAST])
    assert code == 0, err
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "  holds  " in rows["C9a"] and "  holds  " in rows["M3"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert {"claims", "seed", "versions", "schema", "summary"} <= set(report)
    entry = report["claims"][0]
    assert {"id", "statement", "paper_ref", "verdict", "expected", "evidence", "seconds"} <= set(entry)
    assert [c["id"] for c in report["claims"]] == ["C9a", "M3"] and entry["verdict"] == "holds"
    assert (tmp_path / "report.md").read_text().startswith("# onenn-verify report")
    assert "[ 1/2] C9a" in err  # progress goes to stderr


def test_changed_expected_verdict_exits_one(tmp_path: Path) -> None:
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps({"claims": {"M3": {"verdict": "refuted", "reason": "planted"}}}))
    code, out, _ = _run(["--claims", "M3", "--out", str(tmp_path), "--expected", str(expected), *FAST])
    assert code == 1 and "holds (expected refuted)" in out and "UNEXPECTED: M3" in out


def test_unknown_claim_exits_two_with_one_line(tmp_path: Path) -> None:
    code, out, err = _run(["--claims", "C1", "--out", str(tmp_path)])
    assert code == 2 and out == "" and err.count("\n") == 1 and "no claim with ID 'C1'" in err


def test_bad_option_exits_two() -> None:
    code, _, err = _run(["--no-such-option"])
    assert code == 2 and err.startswith("verify: usage error")


def test_unwritable_output_exits_two_before_running(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = _run(["--claims", "M3", "--out", str(blocker / "sub")])
    assert code == 2 and "cannot write the report" in err


def test_json_to_stdout_is_machine_readable(tmp_path: Path) -> None:
    code, out, _ = _run(["--claims", "M3", "--out", str(tmp_path), "--json", "-", *FAST])
    assert code == 0 and json.loads(out)["claims"][0]["id"] == "M3"


def test_quiet_prints_only_the_summary(tmp_path: Path) -> None:
    code, out, err = _run(["--claims", "M3", "--out", str(tmp_path), "-q", *FAST])
    assert code == 0 and err == "" and out.count("\n") == 1 and out.startswith("1 claims: 1 holds")


def test_help_states_the_exit_codes() -> None:
    code, out, _ = _run(["--help"])
    assert code == 0 and "Exit status" in out and "--claims" in out


def test_planted_fault_turns_the_gate_red_and_prints_the_counterexample(tmp_path: Path) -> None:
    code, out, _ = _run(["--claims", "M1", "--out", str(tmp_path), "--fault", "unstable_softmax", *FAST])
    assert code == 1 and "refuted (expected holds)" in out and "planted fault unstable_softmax" in out
    assert "Failing test case: weights_are_probabilities(" in out
    assert "reproduce: python -m verify --claims M1 --seed 0 --profile quick --fault unstable_softmax" in out
    assert json.loads((tmp_path / "report.json").read_text())["fault"] == "unstable_softmax"


def test_unknown_fault_exits_two(tmp_path: Path) -> None:
    code, _, err = _run(["--claims", "M1", "--out", str(tmp_path), "--fault", "nope"])
    assert code == 2 and "no planted fault 'nope'" in err


def test_empty_claim_selection_is_a_usage_error(tmp_path: Path) -> None:
    for empty in (",", "", " , "):
        code, _, err = _run(["--claims", empty, "--out", str(tmp_path)])
        assert code == 2 and "names no claim ID" in err


def test_expected_file_with_an_unknown_id_exits_two(tmp_path: Path) -> None:
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps({"claims": {"C9B": {"verdict": "refuted"}}}))
    code, _, err = _run(["--claims", "M3", "--out", str(tmp_path), "--expected", str(expected)])
    assert code == 2 and "unknown claim IDs: C9B" in err


def test_internal_error_exits_two_with_one_line(tmp_path: Path, monkeypatch: object) -> None:
    import verify.cli

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(verify.cli, "run_claims", broken)  # type: ignore[attr-defined]
    code, _, err = _run(["--claims", "M3", "--out", str(tmp_path)])
    assert code == 2 and err.strip().splitlines()[-1] == "verify: internal error: RuntimeError: boom"


def test_fault_outside_the_selection_says_so(tmp_path: Path) -> None:
    code, _, err = _run(["--claims", "M3", "--out", str(tmp_path), "--fault", "ties_broken_by_index", *FAST])
    assert code == 0 and "none of which is selected" in err


def _without_timings(report: dict[str, object]) -> dict[str, object]:
    """The report with what legitimately differs between runs removed: timings and the start time."""
    drop = {"seconds", "started", "jobs"}

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in drop}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(report)  # type: ignore[return-value]


def test_two_jobs_give_the_same_report_as_one(tmp_path: Path) -> None:
    claims = "C9a,M3,C2,C12b"
    code1, out1, _ = _run(["--claims", claims, "--out", str(tmp_path / "a"), "--json", "-", *FAST])
    code2, out2, err2 = _run(["--claims", claims, "--out", str(tmp_path / "b"), "--json", "-", "--jobs", "2", *FAST])
    assert code1 == code2 == 0, err2
    one, two = json.loads(out1), json.loads(out2)
    assert [c["id"] for c in two["claims"]] == [c["id"] for c in one["claims"]]  # registry order, not finish order
    assert _without_timings(one) == _without_timings(two)


def test_jobs_below_one_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _run(["--claims", "M3", "--out", str(tmp_path), "--jobs", "0"])
    assert code == 2 and err.count("\n") == 1 and "--jobs" in err


def test_a_dask_local_cluster_gives_the_same_report_as_the_local_run(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    claims = "C9a,M3,C12b"
    _, local, _ = _run(["--claims", claims, "--out", str(tmp_path / "a"), "--json", "-", *FAST])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster:
        code, remote, err = _run(["--claims", claims, "--out", str(tmp_path / "b"), "--json", "-",
                                  "--scheduler", cluster.scheduler_address, *FAST])
    assert code == 0, err
    assert _without_timings(json.loads(local)) == _without_timings(json.loads(remote))


def test_an_unreachable_scheduler_exits_two_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    import verify.runner

    monkeypatch.setattr(verify.runner, "DASK_CONNECT_TIMEOUT", 2)
    code, _, err = _run(["--claims", "M3", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2 and err.count("\n") == 1 and "Dask scheduler" in err
