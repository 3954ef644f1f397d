"""verify --set: the parametrised claims at a user's own (N, d, sigma, eta)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import model.exact as exact
import properties.dynamics as runs_
from model.errors import InvalidParameter
from properties.parameters import applied, parse
from verify.cli import main
from verify.render import summary_line


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stream=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_a_parametrised_claim_runs_at_the_given_n_and_d(tmp_path: Path) -> None:
    code, out, err = _run(["--claims", "C12a.population", "--set", "N=8,d=4", "--out", str(tmp_path),
                           "--json", "-"])
    assert code == 0, err
    report = json.loads(out)
    assert report["parameters"] == {"N": 8, "d": 4} and "not compared" in err
    line = summary_line(report)  # the committed verdicts are for (16, 8): none is called unexpected
    assert report["summary"]["unexpected"] == [] and report["summary"]["compared"] is False
    assert all(entry["expected"] is None and entry["as_expected"] is None for entry in report["claims"])
    assert "not compared with the committed verdicts (parameters N=8, d=4)" in line and "UNEXPECTED" not in line
    rows = report["claims"][0]["evidence"]["table"]
    assert rows[0]["binary"] == exact.population_loss(rows[0]["xi1"], rows[0]["xi2"], 8, 4)
    assert (runs_.MAIN_N, runs_.MAIN_D) == (16, 8)  # restored


def test_parameters_are_parsed_and_checked() -> None:
    assert parse(["N=32", "d=16,eta=0.1", "sigma=5"]) == {"N": 32, "d": 16, "eta": 0.1, "sigma": 5.0}
    for bad in ("N=0", "d=1", "eta=-1", "sigma=nan", "K=3", "N", "N=3.5"):
        with pytest.raises(InvalidParameter):
            parse([bad])
    with applied({"N": 4}):
        assert runs_.MAIN_N == 4
    assert runs_.MAIN_N == 16


def test_set_d_below_4_is_refused_for_the_claims_that_read_gd_runs(tmp_path: Path) -> None:
    # Lemma 12's sigma (the runs' W^0) needs a_{N,d}, defined for d >= 4: one line, exit 2, nothing run
    code, _, err = _run(["--claims", "C6,C12a.population", "--set", "d=3", "--out", str(tmp_path)])
    assert code == 2 and err.count("\n") == 1 and "C6 read GD runs" in err and "d >= 4" in err
    assert not (tmp_path / "report.json").exists()


def test_the_plot_title_follows_the_setting() -> None:
    with applied({"N": 32, "d": 16, "eta": 0.1}):
        assert runs_.plot_runs({})["title"] == "GD on the family, N = 32, d = 16, eta = 0.1"
    assert runs_.plot_runs({})["title"] == "GD on the family, N = 16, d = 8, eta = 0.05"


def test_set_is_refused_for_claims_that_are_not_parametrised(tmp_path: Path) -> None:
    code, _, err = _run(["--claims", "C9b", "--set", "N=8", "--out", str(tmp_path)])
    assert code == 2 and err.count("\n") == 1 and "parametrised" in err
    code, _, err = _run(["--claims", "C7", "--set", "N=zero", "--out", str(tmp_path)])
    assert code == 2 and err.count("\n") == 1 and "integer" in err


#: The GD claims that take --set; those that read the runs by decade to 1e9 need the full horizon (slow test).
_GD_CLAIMS = ("S7.flow", "C5.along", "C5.L8", "C5.L8.N", "C5.L10", "C6", "C8.xi1", "C8.xi2", "C8.steps")
_BY_DECADE = ("C7", "C7.term2", "C8.growth")


def _record_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, float]]:
    """Every (N, d, eta) a GD run is read at, from here on."""
    import model.dynamics as dynamics

    seen: list[tuple[int, int, float]] = []
    trajectories, trajectory, literal = dynamics.trajectories, dynamics.trajectory, dynamics.literal_trajectory

    def many(specs, **kwargs):  # type: ignore[no-untyped-def]
        seen.extend((N, d, eta) for N, d, _, eta, _ in specs)
        return trajectories(specs, **kwargs)

    def one(N, d, sigma, eta=dynamics.DEFAULT_ETA, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((N, d, eta))
        return trajectory(N, d, sigma, eta, **kwargs)

    def steps(N, d, sigma, eta, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((N, d, eta))
        return literal(N, d, sigma, eta, **kwargs)

    monkeypatch.setattr(dynamics, "trajectories", many)
    monkeypatch.setattr(dynamics, "trajectory", one)
    monkeypatch.setattr(dynamics, "literal_trajectory", steps)
    return seen


def test_gd_claims_read_only_the_runs_at_the_given_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # short horizons keep this to about 15 s cold (the runs' early steps are literal GD); the claims must
    # run (no error verdict) and read no run at another (N, d) or step size than the user's (eta = 1 and 5
    # are the claims' own other step sizes)
    from properties.catalog import load_claims
    from properties.engine import run_claim

    monkeypatch.setattr(runs_, "HORIZON", 10**3)
    monkeypatch.setattr(runs_, "RATIO_HORIZON", 10**3)
    monkeypatch.setattr(runs_, "LITERAL_STEPS", 100)
    monkeypatch.setattr(runs_, "OTHER_ETAS", ((1.0, 10**3), (5.0, 10**2)))
    seen = _record_runs(monkeypatch)
    claims = load_claims()
    with applied({"N": 8, "d": 4, "eta": 0.1, "sigma": 60.0}):
        results = {cid: run_claim(claims.get(cid), profile="quick") for cid in _GD_CLAIMS}
    verdicts = {cid: result.verdict for cid, result in results.items()}
    assert "error" not in verdicts.values(), verdicts
    # at sigma = 60 xi2's literal steps (~e^{-120}) lie below float64's spacing: xi2 cannot move, which is
    # no violation of C8.xi2 (said in its message), and S7.flow reports the change of xi2 as undefined
    assert verdicts["C8.xi2"] == "holds" and "does not move" in str(results["C8.xi2"].evidence["worst_case"])
    assert "nan" not in str(results["S7.flow"].evidence["worst_case"])
    assert seen and {(N, d) for N, d, _ in seen} == {(8, 4)}, set(seen)
    assert {eta for _, _, eta in seen} <= {0.1, 1.0, 5.0}


@pytest.mark.slow
def test_every_gd_claim_runs_at_a_users_setting(tmp_path: Path) -> None:
    # the full horizon (t = 1e9) at (N, d) = (8, 4): a few minutes
    code, out, err = _run(["--claims", ",".join(_GD_CLAIMS + _BY_DECADE), "--set", "N=8,d=4", "--out",
                           str(tmp_path), "--json", "-"])
    assert code == 0, err
    verdicts = {row["id"]: row["verdict"] for row in json.loads(out)["claims"]}
    assert "error" not in verdicts.values(), verdicts
