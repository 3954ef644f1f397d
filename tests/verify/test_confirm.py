"""verify --confirm ID: refutations re-checked by a second method (mpmath, literal GD)."""

from __future__ import annotations

import io

import pytest

from verify.cli import main
from verify.confirm import CONFIRMERS, confirm


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stream=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("claim_id", ["C11a.AW26", "C11b", "C11c", "C11c.AW26", "C11c.a"])
def test_the_geometry_refutations_stand_under_mpmath(claim_id: str) -> None:
    outcome = confirm(claim_id)
    assert outcome.stands and "mpmath" in outcome.method, outcome.line()


def test_the_cli_prints_one_line_and_exits_zero_when_the_refutation_stands() -> None:
    code, out, _ = _run(["--confirm", "C11c"])
    assert code == 0 and out.count("\n") == 1 and "(N, d) = (17, 25)" in out and "STANDS" in out


def test_a_claim_without_a_confirmation_or_not_refuted_exits_two() -> None:
    code, _, err = _run(["--confirm", "C8.steps"])
    assert code == 2 and "no independent confirmation" in err and "C11c" in err
    CONFIRMERS["M3"] = CONFIRMERS["C11b"]
    try:
        code, _, err = _run(["--confirm", "M3", "--profile", "quick"])
    finally:
        del CONFIRMERS["M3"]
    assert code == 2 and "not refuted" in err


@pytest.mark.slow
def test_c6_stands_under_literal_gd() -> None:
    """About a minute: literal GD at eta = 1 to t = 25,500."""
    outcome = confirm("C6")
    assert outcome.stands and "literal GD" in outcome.method, outcome.line()
