"""``python -m verify --confirm ID``: re-check a refutation by a second, independent method.

The claim runs first (its verdict must be ``refuted``); the counterexample is read from its message and
recomputed another way, at higher precision, without the code path that refuted it:

* C11a.AW26: the printed density's integral at d = 2 by mpmath's tanh-sinh quadrature (30 digits),
  which handles the endpoint singularity (1 - t^2)^{-1/2} (the suite uses SymPy);
* C11b: E[tau_*] at the counterexample (N, d) by mpmath quadrature of t N f_d(t) F_d(t)^{N-1} (30 digits);
* C11c, C11c.AW26, C11c.a: P(tau_* <= 1 - eps) = F_d(1 - eps)^N with F_d the regularised incomplete beta
  function in mpmath at 40 digits (the suite uses SciPy's float64 betainc);
* C6: literal GD, every step, with exact gradients (no integrator) at eta = 1 from Lemma 12's sigma at
  (16, 8), to t = 25,500 (about a minute): xi1/xi2 must pass 7/15 (it does at t = 25,119).

A claim without a registered confirmation is refused (exit 2), naming the ones that have one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import mpmath

from model.errors import InvalidParameter
from properties.catalog import load_claims
from properties.engine import run_claim
from properties.expected import load_expected

__all__ = ["CONFIRMERS", "Confirmation", "confirm"]

_PAIR = re.compile(r"\(N, d\) = \((\d+), (\d+)\)")


@dataclass(frozen=True)
class Confirmation:
    """Whether the refutation stands under the second method, how it was checked, and the numbers."""

    claim_id: str
    stands: bool
    method: str
    detail: str

    def line(self) -> str:
        word = "STANDS" if self.stands else "DOES NOT STAND"
        return f"{self.claim_id}: the refutation {word} ({self.method}): {self.detail}"


def _pair(message: str) -> tuple[int, int]:
    match = _PAIR.search(message)
    if match is None:
        raise InvalidParameter(f"no '(N, d) = (.., ..)' counterexample in the refutation: {message[:120]!r}")
    return int(match.group(1)), int(match.group(2))


def _k(d: int) -> mpmath.mpf:
    return mpmath.gamma(mpmath.mpf(d) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(d - 1) / 2))


def _cdf(t: mpmath.mpf, d: int) -> mpmath.mpf:
    m = mpmath.mpf(d - 1) / 2
    return mpmath.betainc(m, m, 0, (1 + t) / 2, regularized=True)


def _c11a_aw26(message: str) -> Confirmation:
    with mpmath.workdps(30):
        printed = 2 * _k(2)  # [AW26]'s normaliser at d = 2
        total = mpmath.quad(lambda t: printed * (1 - t * t) ** mpmath.mpf(-0.5), [-1, 0, 1])
        return Confirmation("C11a.AW26", abs(total - 1) > mpmath.mpf("1e-20"), "mpmath tanh-sinh, 30 digits",
                            f"the printed density at d = 2 integrates to {mpmath.nstr(total, 15)}, not 1")


def _c11b(message: str) -> Confirmation:
    N, d = _pair(message)
    with mpmath.workdps(30):
        def density(t: mpmath.mpf) -> mpmath.mpf:
            return N * _k(d) * (1 - t * t) ** (mpmath.mpf(d - 3) / 2) * _cdf(t, d) ** (N - 1)

        mean = mpmath.quad(lambda t: t * density(t), [-1, 0, 1])
        bound = mpmath.mpf(2) / (N + 1) ** 2
        return Confirmation("C11b", mean < bound, "mpmath quadrature of t N f_d F_d^(N-1), 30 digits",
                            f"at (N, d) = ({N}, {d}) E[tau_*] = {mpmath.nstr(mean, 20)} < 2/(N+1)^2 = "
                            f"{mpmath.nstr(bound, 20)}")


def _c11c(claim_id: str, eps: Callable[[int, int], mpmath.mpf], form: str) -> Callable[[str], Confirmation]:
    def check(message: str) -> Confirmation:
        N, d = _pair(message)
        with mpmath.workdps(40):
            p = _cdf(1 - eps(N, d), d) ** N
            return Confirmation(claim_id, p < 1 / mpmath.e, "mpmath regularised incomplete beta, 40 digits",
                                f"at (N, d) = ({N}, {d}) P(tau_* <= 1 - {form}) = {mpmath.nstr(p, 25)} < 1/e = "
                                f"{mpmath.nstr(1 / mpmath.e, 25)}")

    return check


def _c6(message: str) -> Confirmation:
    import model.dynamics as dynamics
    import properties.dynamics as runs_

    N, d, eta, steps, at = runs_.MAIN_N, runs_.MAIN_D, 1.0, 25_500, 25_119
    sigma = runs_.sigma_theorem(N, d)
    run = dynamics.literal_gd(N, d, sigma, eta, steps=steps, record=dynamics.checkpoints(steps))
    k = int(list(run.t).index(at))
    ratio = float(run.xi1[k] / run.xi2[k])
    return Confirmation("C6", ratio > 7 / 15, "literal GD, every step, exact gradients, no integrator",
                        f"(N, d, sigma, eta) = ({N}, {d}, {sigma:.6g}, {eta:g}): xi1/xi2 = {ratio:.6f} > 7/15 at "
                        f"t = {at} (xi1 = {float(run.xi1[k]):.10g}, xi2 = {float(run.xi2[k]):.10g})")


#: The claims with an independent confirmation, by ID.
CONFIRMERS: dict[str, Callable[[str], Confirmation]] = {
    "C11a.AW26": _c11a_aw26,
    "C11b": _c11b,
    "C11c": _c11c("C11c", lambda N, d: (2 * N * _k(d)) ** (mpmath.mpf(-2) / (d - 3)), "(2 N k_d)^(-2/(d-3))"),
    "C11c.AW26": _c11c("C11c.AW26", lambda N, d: (4 * N * _k(d)) ** (mpmath.mpf(-2) / (d - 3)),
                       "(4 N k_d)^(-2/(d-3))"),
    "C11c.a": _c11c("C11c.a", lambda N, d: (2 * N * mpmath.sqrt(d)) ** (mpmath.mpf(-2) / (d - 3)),
                    "(2 N sqrt(d))^(-2/(d-3))"),
    "C6": _c6,
}


def confirm(claim_id: str, *, seed: int = 0, profile: str = "ci") -> Confirmation:
    """Run ``claim_id`` and re-check its refutation by the registered second method (module docstring)."""
    if claim_id not in CONFIRMERS:
        raise InvalidParameter(f"no independent confirmation is registered for {claim_id!r}; "
                               f"registered: {', '.join(CONFIRMERS)}")
    expected = load_expected()
    claim = load_claims().get(claim_id)
    result = run_claim(claim, seed=seed, profile=profile, expected=expected.get(claim_id))
    if result.verdict != "refuted":
        raise InvalidParameter(f"{claim_id} is {result.verdict} in this run, not refuted: nothing to confirm")
    return CONFIRMERS[claim_id](str(result.evidence.get("message", "")))
