"""``python -m verify --confirm ID``: re-check a refutation by a second, independent method.

The claim runs first (its verdict must be ``refuted``); the counterexample is read from its message and
recomputed another way, at higher precision, without the code path that refuted it (numbers the
message prints must agree with the recomputation to their printed digits, or the refutation does not
stand as stated):

* C11a.AW26: the printed density's integral at d = 2 by mpmath's tanh-sinh quadrature (30 digits),
  which handles the endpoint singularity (1 - t^2)^{-1/2} (the suite uses SymPy);
* C11b: E[tau_*] at the counterexample (N, d) by mpmath quadrature of t N f_d(t) F_d(t)^{N-1} (30 digits);
* C11c, C11c.AW26, C11c.a: P(tau_* <= 1 - eps) = F_d(1 - eps)^N with F_d the regularised incomplete beta
  function in mpmath at 40 digits (the suite uses SciPy's float64 betainc);
* C6: the refutation's own counterexample (eta = 0.05, the first checkpoint past 7/15) by the plain
  gradient flow below (its error box included); and literal GD, every step, with exact gradients (no
  flow at all) at eta = 1 from Lemma 12's sigma at (16, 8), to t = 25,500 (about a minute): xi1/xi2 must
  pass 7/15 (it does at t = 25,119);
* C5.L9, C5.L11: dL/dxi1, dL/dxi2 at the witness (N, d, xi1, xi2) in mpmath at 30 digits without
  model.exact (the same reduction, re-derived; Gauss-Legendre in alpha and beta, a double-exponential
  rule in the Laplace variable), at two resolutions whose difference is the error (about 1e-15);
  the lemma's bound in mpmath; stands if the step is on the failing side by more than the error
  (about 12 s each: ``verify.confirm_mp``);
* C5.along: GD's state at the first failing checkpoint of the sigma = 47 run by the plain gradient flow
  dx/ds = eta F(x) (DOP853 in log time at two tolerances, gradients from model.exact; no literal steps,
  no series), its distance to model.dynamics' GD added to the error; Lemma 9's bound in mpmath at
  every corner of the error box vs Delta xi1 (and a priori |Delta xi1| <= 2/d) (about 17 s);
* C8.steps: the same plain flow to the first failure and to the largest ratio (t = 1e9) of the
  sigma = 47 run; eta |dL/dxi2| vs eta e^{-xi2/15} (mpmath) at every corner of the error box (about 30 s).

A claim without a registered confirmation is refused (exit 2), naming the ones that have one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import mpmath
import numpy as np

import model.dynamics as dynamics
import model.exact as exact
import properties.dynamics as runs_
from model.errors import InvalidParameter
from properties.catalog import load_claims
from properties.engine import run_claim
from properties.expected import load_expected
from verify import confirm_mp

__all__ = ["CONFIRMERS", "Confirmation", "confirm"]

_PAIR = re.compile(r"\(N, d\) = \((\d+), (\d+)\)")
_POINT = re.compile(r"\(N, d, xi1, xi2\) = \((\d+), (\d+), ([^,()]+), ([^,()]+)\)")
_ALONG = re.compile(r"Lemma 9, sigma=([^:]+): first t = (\d+) \(xi1 = ([^,]+), xi2 = ([^)]+)\)")
_STEPS = re.compile(r"upper bound, sigma=([^:]+): first t = (\d+) \(xi1 = ([^,]+), xi2 = ([^,]+), step [^,]+, "
                    r"bound [^,]+, ratio ([^)]+)\), \d+ checkpoints, largest ratio (\S+) at t = (\d+)")
_MP_METHOD = (f"mpmath, {confirm_mp.DPS} digits, no model.exact: Gauss-Legendre in alpha and beta, double-exponential "
              "in r, two resolutions")
_FLOW_METHOD = "plain gradient flow (DOP853 in log time, two tolerances, model.exact gradients), bound in mpmath"


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


_C6_FIRST = re.compile(r"xi1/xi2 = [^ ]+ > 7/15 first at checkpoint t = (\d+)")


def _c6(message: str) -> Confirmation:
    """The message's own counterexample (eta = 0.05: the first checkpoint past 7/15) by the plain flow, over
    its error box; and, without any flow, literal GD at eta = 1 to where it passes 7/15 (t = 25,119)."""
    found = _C6_FIRST.search(message)
    if found is None:
        raise InvalidParameter("no 'xi1/xi2 = .. > 7/15 first at checkpoint t = ..' in the refutation: "
                               f"{message[:120]!r}")
    N, d, sigma = runs_.MAIN_N, runs_.MAIN_D, runs_.sigma_theorem(runs_.MAIN_N, runs_.MAIN_D)
    t_first = int(found.group(1))
    states = _States(N, d, sigma, runs_.ETA, [t_first])
    lowest = min(x1 / x2 for x1, x2 in states.corners(0))  # the smallest ratio over the error box
    eta, steps, at = 1.0, 25_500, 25_119
    run = dynamics.literal_gd(N, d, sigma, eta, steps=steps, record=dynamics.checkpoints(steps))
    k = int(list(run.t).index(at))
    ratio = float(run.xi1[k] / run.xi2[k])
    side = ">" if lowest > 7 / 15 else "<="
    return Confirmation(
        "C6", lowest > 7 / 15 and ratio > 7 / 15,
        "the plain gradient flow at the message's run; literal GD, every step, at eta = 1",
        f"(N, d, sigma, eta) = ({N}, {d}, {sigma:.6g}, {runs_.ETA:g}), t = {t_first}: {states.words(0)}, xi1/xi2 >= "
        f"{lowest:.6f} over the error box {side} 7/15; literal GD at eta = {eta:g}: xi1/xi2 = {ratio:.6f} at "
        f"t = {at} (xi1 = {float(run.xi1[k]):.10g}, xi2 = {float(run.xi2[k]):.10g})")


def _point(message: str) -> tuple[int, int, float, float]:
    """The witness (N, d, xi1, xi2) of a C5 refutation, inside Lemmas 9 and 11's hypotheses."""
    match = _POINT.search(message)
    if match is None:
        raise InvalidParameter(f"no '(N, d, xi1, xi2) = (.., .., .., ..)' witness in the refutation: {message[:120]!r}")
    try:
        xi1, xi2 = float(match.group(3)), float(match.group(4))
    except ValueError:
        raise InvalidParameter(f"unreadable xi1, xi2 in the witness {match.group(0)!r}") from None
    N, d = int(match.group(1)), int(match.group(2))
    if not (runs_.in_regime_nd(N, d) and 0 <= xi1 < math.inf and math.isfinite(xi2)):
        raise InvalidParameter(f"the witness {match.group(0)!r} is outside the lemmas' hypotheses "
                               "(d >= 4, N >= sqrt(d) log d, xi1 >= 0): it refutes nothing")
    return N, d, xi1, xi2


def _c5_point(claim_id: str, lemma: int) -> Callable[[str], Confirmation]:
    """Lemma 9 (Delta xi1 <= bound) or Lemma 11 (Delta xi2 >= bound) at the witness, in mpmath."""

    def check(message: str) -> Confirmation:
        N, d, xi1, xi2 = _point(message)
        g = confirm_mp.gradient_with_error(N, d, xi1, xi2)
        with mpmath.workdps(confirm_mp.DPS):
            if lemma == 9:
                step, error, bound = -g.xi1 / d, g.error_xi1 / d, confirm_mp.lemma9_bound(N, d, xi1, xi2)
                fails, side, name = step - error > bound, (">", "<="), "Delta xi1 = -(1/d) dL/dxi1"
            else:
                step, error, bound = -g.xi2, g.error_xi2, confirm_mp.lemma11_bound(N, d, xi1, xi2)
                fails, side, name = step + error < bound, ("<", ">="), "Delta xi2 = -dL/dxi2"
            return Confirmation(claim_id, bool(fails), _MP_METHOD,
                                f"at (N, d, xi1, xi2) = ({N}, {d}, {xi1!r}, {xi2!r}) {name} = {mpmath.nstr(step, 20)} "
                                f"(+- {mpmath.nstr(error, 2)}) {side[0 if fails else 1]} Lemma {lemma}'s bound "
                                f"{mpmath.nstr(bound, 20)}")

    return check


def _agrees(printed: str, value: float, slack: float) -> bool:
    """Whether a number printed in the message equals ``value`` to its printed digits (plus ``slack``)."""
    try:
        exponent = Decimal(printed.strip()).as_tuple().exponent
    except InvalidOperation:
        raise InvalidParameter(f"unreadable number {printed!r} in the refutation") from None
    half_unit = 0.5 * 10.0 ** int(exponent) if isinstance(exponent, int) else math.inf
    return abs(float(printed) - value) <= half_unit + slack


class _States:
    """GD's states at ``times`` by the plain flow, with the half-widths of the error box around them."""

    def __init__(self, N: int, d: int, sigma: float, eta: float, times: Sequence[int]) -> None:
        run = dynamics.trajectory(N, d, sigma, eta, t_max=runs_.HORIZON)  # the refuting run (cached by the claim)
        try:
            gd = np.array([run.at(t) for t in times], dtype=np.float64)
        except KeyError as exc:
            raise InvalidParameter(f"not a checkpoint of the GD run {(N, d, sigma, eta)}: {exc}") from None
        rough, fine = (confirm_mp.plain_flow(N, d, sigma, eta, times, rtol=rtol) for rtol in confirm_mp.FLOW_RTOLS)
        self.N, self.d, self.eta, self.x = N, d, eta, fine
        self.integration = np.abs(fine - rough)  # (T, 2)
        self.to_gd = gd - fine  # GD (model.dynamics) minus the plain flow
        self.box = self.integration + np.abs(self.to_gd)  # GD lies in it, so does the flow's error

    def corners(self, k: int) -> list[tuple[float, float]]:
        (x1, x2), (b1, b2) = self.x[k], self.box[k]
        return [(float(x1 + s1 * b1), float(x2 + s2 * b2)) for s1 in (-1, 1) for s2 in (-1, 1)]

    def words(self, k: int) -> str:
        return (f"the plain flow at (xi1, xi2) = ({self.x[k, 0]:.8g}, {self.x[k, 1]:.8g}) (integration error "
                f"{self.integration[k].max():.1g}; GD by model.dynamics minus it: ({self.to_gd[k, 0]:.2g}, "
                f"{self.to_gd[k, 1]:.2g}))")


def _main_failure(pattern: re.Pattern[str], message: str, what: str) -> tuple[tuple[int, int, float, float],
                                                                          re.Match[str]]:
    """(N, d, sigma, eta) of the main run at Lemma 12's sigma and its failure's match in the message."""
    N, d, eta, sigma = runs_.MAIN_N, runs_.MAIN_D, runs_.ETA, runs_.sigma_theorem(runs_.MAIN_N, runs_.MAIN_D)
    match = {m.group(1): m for m in pattern.finditer(message)}.get(runs_.sigma_label(sigma).removeprefix("sigma="))
    if match is None:
        raise InvalidParameter(f"no '{what}, sigma={sigma:g}: first t = ..' failure in the refutation: "
                               f"{message[:120]!r}")
    return (N, d, sigma, eta), match


def _c5_along(message: str) -> Confirmation:
    (N, d, sigma, eta), match = _main_failure(_ALONG, message, "Lemma 9")
    t = int(match.group(2))
    states = _States(N, d, sigma, eta, [t])
    steps, bounds, margins = [], [], []
    for x1, x2 in states.corners(0):
        result = exact.population(x1, x2, N, d)
        steps.append(-result.grad_xi1 / d)
        bounds.append(confirm_mp.lemma9_bound(N, d, x1, x2))
        margins.append(steps[-1] - result.errors["grad_xi1"] / d - bounds[-1])
    agree = all(_agrees(match.group(2 + i), float(states.x[0, i - 1]), float(states.box[0, i - 1])) for i in (1, 2))
    fails = min(margins) > 0
    a_priori = max(bounds) < mpmath.mpf(-2) / d  # |dL/dxi1| <= 2 (|y_hat - y_*| <= 2, |d y_hat/d xi1| <= 1)
    return Confirmation(
        "C5.along", agree and fails, _FLOW_METHOD,
        f"(N, d, sigma, eta) = ({N}, {d}, {sigma:g}, {eta:g}), t = {t}: {states.words(0)}"
        + ("" if agree else ", NOT the state the message prints")
        + f": over the error box Delta xi1 in [{min(steps):.6g}, {max(steps):.6g}] {'>' if fails else 'not above'} "
        f"Lemma 9's bound in [{mpmath.nstr(min(bounds), 8)}, {mpmath.nstr(max(bounds), 8)}]"
        + (f"; a priori every Delta xi1 >= -2/d = {-2 / d:g} (|dL/dxi1| <= 2)" if a_priori else ""))


def _log_ratios(states: _States, k: int) -> tuple[float, float, float]:
    """Lemma 13's upper bound at checkpoint k: the ratio step / bound at the flow's state, and the smallest
    and largest log ratio over the error box's corners, widened by the step's relative quadrature error."""
    logs = []
    for x1, x2 in [*states.corners(k), (float(states.x[k, 0]), float(states.x[k, 1]))]:
        result = exact.population(x1, x2, states.N, states.d)
        step = -states.eta * result.grad_xi2
        if step <= 0:
            raise InvalidParameter(f"the xi2 step at ({x1}, {x2}) is {step!r}, not positive")
        with mpmath.workdps(confirm_mp.DPS):
            log_ratio = float(mpmath.log(step) - mpmath.log(confirm_mp.step_bound(states.eta, x2)))
        logs.append((log_ratio, result.errors["grad_xi2"] / abs(result.grad_xi2)))
    return (math.exp(logs[-1][0]), min(v - e for v, e in logs), max(v + e for v, e in logs))


def _c8_steps(message: str) -> Confirmation:
    (N, d, sigma, eta), match = _main_failure(_STEPS, message, "upper bound")
    first, largest = int(match.group(2)), int(match.group(7))
    times = sorted({first, largest})
    states = _States(N, d, sigma, eta, times)
    rows = {t: _log_ratios(states, times.index(t)) for t in times}
    k = times.index(first)
    agree = (all(_agrees(match.group(2 + i), float(states.x[k, i - 1]), float(states.box[k, i - 1])) for i in (1, 2))
             and all(_agrees(printed, rows[t][0], rows[t][0] * (math.exp(rows[t][2] - rows[t][1]) - 1))
                     for printed, t in ((match.group(5), first), (match.group(6), largest))))
    fails = all(row[1] > 0 for row in rows.values())
    said = "; ".join(f"t = {t}: {states.words(times.index(t))}, eta |dL/dxi2| / (eta e^(-xi2/15)) = {row[0]:.6g} "
                     f"(in [{math.exp(row[1]):.6g}, {math.exp(row[2]):.6g}] over the error box)"
                     for t, row in rows.items())
    return Confirmation("C8.steps", agree and fails, _FLOW_METHOD,
                        f"(N, d, sigma, eta) = ({N}, {d}, {sigma:g}, {eta:g}): {said}"
                        + ("" if agree else "; the message's state or ratios are NOT these")
                        + ("" if fails else "; the bound is NOT exceeded beyond the error everywhere"))


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
    "C5.L9": _c5_point("C5.L9", 9),
    "C5.L11": _c5_point("C5.L11", 11),
    "C5.along": _c5_along,
    "C8.steps": _c8_steps,
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
