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


def test_set_is_refused_for_claims_that_are_not_parametrised(tmp_path: Path) -> None:
    code, _, err = _run(["--claims", "C9b", "--set", "N=8", "--out", str(tmp_path)])
    assert code == 2 and err.count("\n") == 1 and "parametrised" in err
    code, _, err = _run(["--claims", "C7", "--set", "N=zero", "--out", str(tmp_path)])
    assert code == 2 and err.count("\n") == 1 and "integer" in err
