"""verify --confirm ID: refutations re-checked by a second method (mpmath, literal GD, the plain flow)."""

from __future__ import annotations

import io

import mpmath
import pytest

import model.exact as exact
from model.errors import InvalidParameter
from verify import confirm_mp
from verify.cli import main
from verify.confirm import CONFIRMERS, confirm

#: The mpmath gradient vs model.exact: model.exact is good to RTOL = 1e-10 relative (dL/dxi1: relative
#: to its two parts), the mpmath rule at COARSE to about 1e-13 here; ten times RTOL covers both.
AGREEMENT = 10 * exact.RTOL
#: Points for the agreement: the C5.L9 and C5.L11 witnesses, an odd d with xi2 > 0, a larger xi1 (two of them
#: in the slow run only: the default run keeps CI within its time).
GRADIENT_POINTS = [(4, 4, 6.0, 0.0), pytest.param((16, 16, 7.0, 0.0), marks=pytest.mark.slow),
                   pytest.param((8, 5, 2.5, 4.0), marks=pytest.mark.slow), (16, 8, 20.0, 25.0)]
#: The r rule's error on int (r^2/2) e^{-r} dr = 1 (measured: 1.5e-13 at step 1/4, 6e-30 at 1/8), with room.
R_RULE_ERRORS = [(confirm_mp.COARSE.per_unit, "1e-12"), (confirm_mp.FINE.per_unit, "1e-25")]
#: Gauss-Legendre nodes refined at DPS + 10 digits integrate polynomials of degree <= 2n - 1 to about 10^-DPS.
NODES_EXACT = mpmath.mpf(10) ** (-confirm_mp.DPS)


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
    code, _, err = _run(["--confirm", "C9a"])
    assert code == 2 and "no independent confirmation" in err and "C11c" in err
    CONFIRMERS["M3"] = CONFIRMERS["C11b"]
    try:
        code, _, err = _run(["--confirm", "M3", "--profile", "quick"])
    finally:
        del CONFIRMERS["M3"]
    assert code == 2 and "not refuted" in err


@pytest.mark.slow
def test_c6_stands_under_literal_gd() -> None:
    """About a minute and a half: the message's counterexample by the plain flow, and literal GD at eta = 1 to
    t = 25,500."""
    outcome = confirm("C6")
    assert outcome.stands and "literal GD" in outcome.method and "plain gradient flow" in outcome.method, \
        outcome.line()
    assert "t = 501187:" in outcome.detail, outcome.line()


def test_a_c6_message_without_its_first_checkpoint_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="first at checkpoint"):
        CONFIRMERS["C6"]("xi1/xi2 <= 7/15 throughout")


def test_gauss_legendre_integrates_polynomials_of_degree_2n_minus_1_exactly() -> None:
    nodes, weights = confirm_mp._gauss_legendre(12)
    with mpmath.workdps(confirm_mp.DPS):
        worst = max(abs(mpmath.fdot(weights, [x ** (2 * k) for x in nodes]) - mpmath.mpf(2) / (2 * k + 1))
                    for k in range(12))
    assert worst < NODES_EXACT


@pytest.mark.parametrize(("per_unit", "error"), R_RULE_ERRORS)
def test_the_r_rule_integrates_r2_exp_minus_r_over_2_to_one(per_unit: int, error: str) -> None:
    """int_0^inf (r^2/2) e^{-r} dr = 1 by the double-exponential rule: COARSE's error is what the
    two-resolution estimate sees, FINE's is at the working precision."""
    with mpmath.workdps(confirm_mp.DPS):
        total = mpmath.fsum(w for _, w in confirm_mp._r_rule(per_unit))
        assert abs(total - 1) < mpmath.mpf(error)


@pytest.mark.parametrize("point", GRADIENT_POINTS)
def test_the_mpmath_gradient_agrees_with_model_exact(point: tuple[int, int, float, float]) -> None:
    N, d, xi1, xi2 = point
    mine = confirm_mp.family_gradient(N, d, xi1, xi2, confirm_mp.COARSE)
    theirs = exact.population(xi1, xi2, N, d)
    assert max(abs(float(m) / t - 1) for m, t in zip(mine, (theirs.grad_xi1, theirs.grad_xi2), strict=True)) < AGREEMENT


@pytest.mark.slow
def test_the_mpmath_error_estimate_covers_the_distance_to_a_finer_rule() -> None:
    """About 40 s: FINE vs 48 nodes a panel and step 1/16 at the C5.L9 witness."""
    g = confirm_mp.gradient_with_error(4, 4, 6.0, 0.0)
    finer = confirm_mp.family_gradient(4, 4, 6.0, 0.0, confirm_mp.Resolution(48, 48, 16))
    with mpmath.workdps(confirm_mp.DPS):
        assert abs(g.xi1 - finer[0]) <= g.error_xi1 and abs(g.xi2 - finer[1]) <= g.error_xi2


@pytest.mark.parametrize("claim_id", ["C5.L9", pytest.param("C5.L11", marks=pytest.mark.slow)])
def test_the_increment_refutations_stand_under_mpmath(claim_id: str) -> None:
    """About 13 s each."""
    outcome = confirm(claim_id)
    assert outcome.stands and "mpmath" in outcome.method and "(+- " in outcome.detail, outcome.line()


@pytest.mark.parametrize(("claim_id", "message"), [
    ("C5.L9", "(N, d, xi1, xi2) = (16, 8, 1.0, 5.0): Delta xi1 = 0.00577 vs bound 3.945"),
    pytest.param("C5.L11", "(N, d, xi1, xi2) = (16, 8, 1.0, 1.0): Delta xi2 = 0.00223 vs bound 1.41e-05",
                 marks=pytest.mark.slow),
])
def test_a_witness_where_the_lemma_holds_does_not_stand(claim_id: str, message: str) -> None:
    """About 8 s each: the lemmas hold at these points (Delta xi1 = 0.0058 < 3.9; Delta xi2 = 0.0022 > 1.4e-5)."""
    outcome = CONFIRMERS[claim_id](message)
    assert not outcome.stands and "DOES NOT STAND" in outcome.line(), outcome.line()


@pytest.mark.parametrize(("message", "match"), [
    ("Delta xi1 = -0.004 vs bound -0.148", "no '\\(N, d, xi1, xi2\\)"),
    ("(N, d, xi1, xi2) = (16, 3, 1.0, 1.0)", "outside the lemmas' hypotheses"),  # d < 4: no a_(N,d)
    ("(N, d, xi1, xi2) = (2, 16, 1.0, 1.0)", "outside the lemmas' hypotheses"),  # N < sqrt(d) log d
    ("(N, d, xi1, xi2) = (16, 8, -1.0, 1.0)", "outside the lemmas' hypotheses"),  # xi1 < 0
    ("(N, d, xi1, xi2) = (16, 8, one, 1.0)", "unreadable"),
])
def test_a_witness_missing_or_outside_the_hypotheses_is_refused(message: str, match: str) -> None:
    with pytest.raises(InvalidParameter, match=match):
        CONFIRMERS["C5.L9"](message)


@pytest.mark.slow
@pytest.mark.parametrize(("claim_id", "state_words"), [("C5.along", "(xi1, xi2) = (100.0"),
                                                        ("C8.steps", "t = 1000000000")])
def test_the_trajectory_refutations_stand_under_the_plain_flow(claim_id: str, state_words: str) -> None:
    """About 20 s (C5.along, flow to t = 5e7) and 30 s (C8.steps, to 1e9) after the claim."""
    outcome = confirm(claim_id)
    assert outcome.stands and "plain gradient flow" in outcome.method and state_words in outcome.detail, \
        outcome.line()


@pytest.mark.parametrize("xi2", [pytest.param("47", marks=pytest.mark.slow), "20"])
def test_c5_along_where_lemma_9_holds_or_at_a_fake_state_does_not_stand(xi2: str) -> None:
    """About 6 s each: at t = 1e6 GD is at (28.514, 47) where Lemma 9 holds; xi2 = 20 there is a fake state
    (at it the bound would fail: -40)."""
    message = f"Lemma 9, sigma=47: first t = 1000000 (xi1 = 28.514, xi2 = {xi2}), 1 of 89 checkpoints"
    outcome = CONFIRMERS["C5.along"](message)
    assert not outcome.stands and ("NOT the state" in outcome.detail) == (xi2 == "20"), outcome.line()


def test_c8_steps_where_the_step_bound_holds_does_not_stand() -> None:
    """About 9 s: at t = 1e6 and 1e7 of the sigma = 47 run the xi2 step is far below eta e^{-xi2/15}."""
    message = ("upper bound, sigma=47: first t = 1000000 (xi1 = 28.514, xi2 = 47, step 1e-16, bound 0.0022, "
               "ratio 1.01), 5 checkpoints, largest ratio 60.4 at t = 10000000")
    outcome = CONFIRMERS["C8.steps"](message)
    assert not outcome.stands and "NOT exceeded" in outcome.detail, outcome.line()


@pytest.mark.parametrize("claim_id", ["C5.along", "C8.steps"])
def test_a_trajectory_message_without_the_sigma_47_run_is_refused(claim_id: str) -> None:
    message = ("Lemma 9, sigma=3: first t = 50118723 (xi1 = 99.607, xi2 = 92.833), 14 of 89 checkpoints; "
               "upper bound, sigma=3: first t = 501187234 (xi1 = 212.58, xi2 = 205.02, step 1.407e-07, "
               "bound 5.796e-08, ratio 2.427), 4 checkpoints, largest ratio 60.2 at t = 1000000000")
    with pytest.raises(InvalidParameter, match="sigma=47"):
        CONFIRMERS[claim_id](message)
