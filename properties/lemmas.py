"""The increment lemmas along GD on the family: C5 (Lemmas 8-11, pointwise and along the runs), C8.xi1, C8.steps.

References (THEORY.md IDs): C5 ([AW26] Lemmas 8-11), C8 (Lemma 13 and its proof), C1.readout (Delta xi1 =
-(1/d) dL/dxi1, Delta xi2 = -dL/dxi2). The runs, the setting and a_{N,d} come from :mod:`properties.dynamics`
(read at call time); gradients from :mod:`model.exact`. Nothing here is statistical.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from numpy.typing import NDArray

import model.dynamics as dynamics
import model.exact as exact
import properties.dynamics as runs_
from properties.dynamics import SECTION
from properties.registry import Inconclusive, Measurement, attach, check, claim

# --- C5: the increment bounds, pointwise ------------------------------------------------------------


def _increments(xi1: float, xi2: float, N: int, d: int) -> tuple[float, float, float, float]:
    """(Delta xi1, its error, Delta xi2, its error): one GD step divided by eta (C1.readout)."""
    result = exact.population(xi1, xi2, N, d)
    return (-result.grad_xi1 / d, result.errors["grad_xi1"] / d, -result.grad_xi2, result.errors["grad_xi2"])


def lemma9_rhs(xi1: float, xi2: float, N: int, d: int) -> float:
    """(2N/d) e^{-4 xi1/(N+1)^2} - a_{N,d} / (d N^3 e) e^{2 (xi1 - xi2)} (Lemma 9's upper bound on Delta xi1)."""
    negative = runs_.a_nd(N, d) / (d * N**3 * math.e) * math.exp(2 * (xi1 - xi2))
    return 2 * N / d * math.exp(-4 * xi1 / (N + 1) ** 2) - negative


def lemma11_rhs(xi1: float, xi2: float, N: int, d: int) -> float:
    """e^{2 a_{N,d} xi1 - 2 xi2} / ((N+1)^3 e) (Lemma 11's lower bound on Delta xi2)."""
    return math.exp(2 * runs_.a_nd(N, d) * xi1 - 2 * xi2) / ((N + 1) ** 3 * math.e)


_POINTS = st.tuples(st.sampled_from((4, 8, 16, 32, 64)), st.sampled_from((4, 5, 8, 16)),
                    st.floats(0.0, 300.0), st.floats(-10.0, 300.0))


@claim("C5.L9", section=SECTION, given={"point": _POINTS}, budget=0.1, target=True)
def lemma9(point: tuple[int, int, float, float]) -> None:
    """For xi1 >= 0 and N >= sqrt(d) log d: Delta xi1 <= (2N/d) e^{-4 xi1/(N+1)^2} - a_{N,d}/(d N^3 e) e^{2(xi1 - xi2)}.
    [AW26] Lemma 9 (xi1 increment, upper bound), claim C5.L9

    Delta xi1 = -(1/d) dL/dxi1 by quadrature; a violation must exceed the quadrature error estimate.
    Searched by Hypothesis over N in {4..64}, d in {4..16}, xi1 in [0, 300], xi2 in [-10, 300].
    """
    N, d, xi1, xi2 = point
    assume(runs_.in_regime_nd(N, d))
    step, error, _, _ = _increments(xi1, xi2, N, d)
    bound = lemma9_rhs(xi1, xi2, N, d)
    excess = step - error - bound
    check(excess <= 0, margin=-excess, ratio=(step - error) / bound if bound > 0 else math.inf,
          message=f"(N, d, xi1, xi2) = ({N}, {d}, {xi1!r}, {xi2!r}): Delta xi1 = {step!r} (+- {error:.2g}) "
          f"vs bound {bound!r}")


@claim("C5.L11", section=SECTION, given={"point": _POINTS}, budget=0.1, target=True)
def lemma11(point: tuple[int, int, float, float]) -> None:
    """For xi1 >= 0 and N >= sqrt(d) log d: Delta xi2 >= e^{2 a_{N,d} xi1 - 2 xi2} / ((N+1)^3 e).
    [AW26] Lemma 11 (xi2 increment, lower bound), claim C5.L11

    Delta xi2 = -dL/dxi2 = E[q_0 (q_* - sum q_j^2)] by quadrature; a violation must exceed its error
    estimate. Searched by Hypothesis over the same box as C5.L9.
    """
    N, d, xi1, xi2 = point
    assume(runs_.in_regime_nd(N, d))
    _, _, step, error = _increments(xi1, xi2, N, d)
    bound = lemma11_rhs(xi1, xi2, N, d)
    excess = bound - (step + error)
    check(excess <= 0, margin=-excess, ratio=bound / (step + error) if step + error > 0 else math.inf,
          message=f"(N, d, xi1, xi2) = ({N}, {d}, {xi1!r}, {xi2!r}): Delta xi2 = {step!r} (+- {error:.2g}) "
          f"vs bound {bound!r}")


@claim("C5.along", section=SECTION)
def lemmas_along_trajectories() -> None:
    """Lemmas 9 and 11 hold at every checkpoint of the long runs (inside the hypotheses: xi1 >= 0, N >= sqrt(d) log d).
    [AW26] Lemmas 9 and 11 along GD, claim C5.along

    Every run of the module inside the lemmas' hypotheses on (N, d) (the main runs, the (N, d) grid,
    eta = 1 and eta = 5; not N = 2 at d = 8), at its checkpoints with xi1 >= 0. A checkpoint fails
    when the bound is exceeded by more than the quadrature's relative accuracy of the increment. The
    evidence lists, per run and lemma, the first failing checkpoint and how many fail; the message
    leads with the main runs (N = 16, d = 8, eta = 0.05).
    """
    failures: dict[str, dict[str, object]] = {}
    first: tuple[int, str] | None = None
    main = runs_.runs()
    inside = {name: run for name, run in runs_.all_runs().items() if runs_.in_regime(run)}
    if not inside:
        raise Inconclusive("no run lies inside the lemmas' hypotheses on (N, d)")
    for label_, run in inside.items():
        N, d = run.N, run.d
        keep = run.xi1 >= 0
        for name, excess in (
            ("Lemma 9", [(-g1 / d - lemma9_rhs(a, b, N, d)) / max(abs(g1) / d, 1e-300)
                         for a, b, g1 in zip(run.xi1, run.xi2, run.grad1, strict=True)]),
            ("Lemma 11", [(lemma11_rhs(a, b, N, d) + g2) / max(abs(g2), 1e-300)
                          for a, b, g2 in zip(run.xi1, run.xi2, run.grad2, strict=True)]),
        ):
            bad = [k for k, e in enumerate(excess) if e > exact.RTOL and keep[k]]
            if bad:
                k = bad[0]
                failures[f"{name}, {label_}"] = {"first_t": int(run.t[k]), "xi1": float(run.xi1[k]),
                                                 "xi2": float(run.xi2[k]), "relative_excess": float(excess[k]),
                                                 "failing_checkpoints": len(bad), "checkpoints": int(run.t.size)}
                if label_ in main and (first is None or int(run.t[k]) < first[0]):
                    first = (int(run.t[k]), f"{name} at {label_}")
    attach("failures", failures)
    where = "" if first is None else f"; in the main runs first at t = {first[0]} ({first[1]})"
    check(not failures, margin=-float(len(failures)),
          message=f"{len(failures)} (lemma, run) pairs of {2 * len(inside)} fail{where}: "
          + "; ".join(f"{key}: first t = {v['first_t']} (xi1 = {v['xi1']:.5g}, xi2 = {v['xi2']:.5g}), "
                      f"{v['failing_checkpoints']} of {v['checkpoints']} checkpoints" for key, v in failures.items()))


# --- Lemmas 8, 10, 13 and Lemma 14's second term, along the runs -----------------------------------


def lemma8_lhs(grad1: np.ndarray, grad2: np.ndarray) -> np.ndarray:
    """(1/eta)(d Delta xi1 + 2 Delta xi2) with raw GD steps: d (-(1/d) dL/dxi1) + 2 (-dL/dxi2) (C1.readout)."""
    return -grad1 - 2 * grad2


def log_implied_c_d(run: dynamics.Trajectory) -> NDArray[np.float64]:
    """log of the C_d that makes Lemma 8 tight at each checkpoint: log(lhs e^{6 xi1} / (1 - 1/(2N))).

    -inf where the left side is 0 and NaN where it is negative (Lemma 8 then has no C_d > 0 there).
    """
    lhs = lemma8_lhs(run.grad1, run.grad2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(lhs) + 6 * run.xi1 - math.log(1 - 1 / (2 * run.N)))


def measured_c_d(run: dynamics.Trajectory) -> float:
    """The largest C_d with Lemma 8 true at every checkpoint of ``run``: min of lhs e^{6 xi1} / (1 - 1/(2N))."""
    log_c = log_implied_c_d(run)
    if not np.all(np.isfinite(log_c)):
        return -math.inf
    return float(np.exp(np.min(log_c)))


@claim("C5.L8", section=SECTION, kind="measure")
def lemma8_constant() -> Measurement:
    """(1/eta)(d Delta xi1 + 2 Delta xi2) >= (1 - 1/(2N)) C_d e^{-6 xi1}: the implied C_d = poly(d), measured along GD.
    [AW26] Lemma 8 (C_d unspecified), claim C5.L8

    Delta here is the raw GD step (the lemma divides by eta itself). Value: the largest C_d for which
    the inequality holds at every checkpoint of both runs (N = 16, d = 8); this C_d is the one used by
    C5.L10, C8.xi1 and C7's check of Theorem 1's sigma condition.
    """
    by_run = {label: measured_c_d(run) for label, run in runs_.runs().items()}
    value = min(by_run.values())
    where = {}
    for label, run in runs_.runs().items():
        k = int(np.nanargmin(log_implied_c_d(run)))
        where[label] = f"t = {int(run.t[k])} (xi1 = {run.xi1[k]:.4g}, xi2 = {run.xi2[k]:.4g})"
    return Measurement(value, f"C_d by run: {by_run}; each minimum is met at {where}",
                       {"by_run": by_run, "at": where})


#: N values of C5.L8.N (at d = 8 and W^0 with sigma = 50): the regime's bottom to the quadrature's top.
C_D_N = (8, 16, 32, 64, 128, 256, 512, 1024)


@claim("C5.L8.N", section=SECTION, kind="measure")
def lemma8_constant_in_n() -> Measurement:
    """Lemma 8's C_d = poly(d) does not depend on N: the implied C_d at W^0 over N = 8..1024 (d = 8), smallest.
    [AW26] Lemma 8 (C_d unspecified, a function of d), claim C5.L8.N

    Along every run of C5.L8 and C7.grid the implied C_d is smallest at t = 0 (C7.grid reports where),
    where xi1 = 0 and e^{-6 xi1} = 1: C_d(N) = lhs(0, sigma) / (1 - 1/(2N)), with lhs = (1/eta)(d Delta
    xi1 + 2 Delta xi2). Value: the smallest C_d(N) over C_D_N. Trend: N C_d(N). If N C_d(N) settles at
    a constant, C_d falls like 1/N and a C_d free of N would have to be 0; the lemma then needs a
    factor of order 1/N.
    """
    d, sigma = runs_.MAIN_D, 50.0
    values = {}
    for N in C_D_N:
        result = exact.population(0.0, sigma, N, d)
        lhs = float(lemma8_lhs(np.array([result.grad_xi1]), np.array([result.grad_xi2]))[0])
        values[N] = lhs / (1 - 1 / (2 * N))
    scaled = {N: N * c for N, c in values.items()}
    power = runs_.power_law(list(values)[-4:], list(values.values())[-4:])
    return Measurement(min(values.values()), f"C_d(N) at d = {d}, W^0 (sigma = {sigma:g}): "
                       + ", ".join(f"{N}: {c:.4g}" for N, c in values.items())
                       + "; N C_d(N): " + ", ".join(f"{N}: {v:.3f}" for N, v in scaled.items())
                       + f"; over N = {list(values)[-4]}..{C_D_N[-1]} C_d "
                       + ("goes like" if math.isnan(power) else "falls like" if power < 0 else "grows like")
                       + f" N^{power:.3g}",
                       {"C_d_by_N": values, "N_times_C_d": scaled, "power_last_4": power})


def c_d() -> float:
    """The C_d measured by C5.L8 (reused wherever a lemma or Theorem 1 needs it)."""
    return min(measured_c_d(run) for run in runs_.runs().values())


def c_d_by_pair() -> dict[tuple[int, int], float]:
    """One C_d per (N, d): the largest with Lemma 8 true at every checkpoint of every run at that (N, d).

    Over the runs inside the hypotheses on (N, d); at (16, 8) this is C5.L8's value (the runs at
    eta = 1 and 5 start from the same W^0, where the minimum sits). A non-positive value means Lemma 8
    has no C_d > 0 on that (N, d).
    """
    pairs: dict[tuple[int, int], float] = {}
    for run in runs_.all_runs().values():
        if runs_.in_regime(run):
            pair = (run.N, run.d)
            pairs[pair] = min(pairs.get(pair, math.inf), measured_c_d(run))
    return pairs


def judged_c_d() -> tuple[dict[str, tuple[dynamics.Trajectory, float]], list[str]]:
    """The runs C5.L10 and C8.xi1 judge, each with its (N, d)'s C_d (c_d_by_pair), and the runs left out
    because Lemma 8 has no positive C_d at their (N, d) (none so far; they are named in the evidence)."""
    pairs = c_d_by_pair()
    judged, left_out = {}, []
    for name, run in runs_.all_runs().items():
        if runs_.in_regime(run):
            if pairs[(run.N, run.d)] > 0:
                judged[name] = (run, pairs[(run.N, run.d)])
            else:
                left_out.append(name)
    return judged, left_out


def _fitting_checkpoints(run: dynamics.Trajectory, constant: float) -> NDArray[np.bool_]:
    """The checkpoints where Lemma 8 is tight with this C_d (where C_d was measured): Lemma 10 holds there
    by construction, up to 2 Delta xi2 - 2 e^{2 xi1 - 2 xi2} (about e^{-2 sigma} at t = 0)."""
    with np.errstate(invalid="ignore"):  # NaN (a negative lhs) compares False: never fitted
        return np.asarray(log_implied_c_d(run) <= math.log(constant) + 1e-12)


def lemma10_rhs(xi1: np.ndarray, xi2: np.ndarray, N: int, constant: float) -> np.ndarray:
    """(1 - 1/(2N)) C_d e^{-6 xi1} - 2 e^{2 xi1 - 2 xi2} (Lemma 10's lower bound on (d/eta) Delta xi1)."""
    with np.errstate(over="ignore"):
        return (1 - 1 / (2 * N)) * constant * np.exp(-6 * xi1) - 2 * np.exp(2 * xi1 - 2 * xi2)


def xi1_steps(grad1: np.ndarray) -> np.ndarray:
    """The xi1 step per unit eta/d from dL/dxi1: -dL/dxi1 (C1.readout)."""
    return -grad1


def lemma13_log_bounds(xi2: np.ndarray, N: int, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """log of Lemma 13's explicit bounds on the raw xi2 step: eta e^{-2 xi2} / ((N+1)^3 e) and eta e^{-xi2/15}."""
    return math.log(eta) - 2 * xi2 - 3 * math.log(N + 1) - 1, math.log(eta) - xi2 / 15


@claim("C5.L10", section=SECTION)
def lemma10_along() -> None:
    """(d/eta) Delta xi1 >= (1 - 1/(2N)) C_d e^{-6 xi1} - 2 e^{2 xi1 - 2 xi2} at every checkpoint, C_d from C5.L8.
    [AW26] Lemma 10, claim C5.L10

    Raw GD steps: (d/eta) Delta xi1 = -dL/dxi1. Every run inside the hypotheses on (N, d), each with
    one C_d per (N, d) (c_d_by_pair: C_d falls with N, C5.L8.N, so one C_d for all N would be ~0; at
    (16, 8) it is C5.L8's value). Since Lemma 10's right side is Lemma 8's minus 2 e^{2 xi1 - 2 xi2},
    and -dL/dxi1 is Lemma 8's left side minus 2 Delta xi2, Lemma 10 amounts to Lemma 8's slack plus
    2 e^{2 xi1 - 2 xi2} - 2 Delta xi2 >= 0. At the checkpoint where C_d was measured (t = 0 in every
    run) Lemma 8's slack is 0, so that checkpoint holds by construction, up to e^{-2 sigma}: the
    evidence gives the worst excess away from those checkpoints too, which is where the lemma is tested.
    """
    worst, where = -math.inf, ""
    elsewhere, elsewhere_at = -math.inf, ""
    judged, left_out = judged_c_d()
    for label, (run, constant) in judged.items():
        N = run.N
        rhs = lemma10_rhs(run.xi1, run.xi2, N, constant)
        lhs = -run.grad1
        excess = (rhs - lhs) / np.maximum(np.abs(lhs), 1e-300)
        k = int(np.argmax(excess))
        if excess[k] > worst:
            worst = float(excess[k])
            where = (f"{label}, C_d = {constant:.4g}, t = {int(run.t[k])} (xi1 = {run.xi1[k]:.5g}, "
                     f"xi2 = {run.xi2[k]:.5g})")
        away = np.where(_fitting_checkpoints(run, constant), -np.inf, excess)
        j = int(np.argmax(away))
        if away[j] > elsewhere:
            elsewhere, elsewhere_at = float(away[j]), f"{label}, t = {int(run.t[j])}"
    attach("left_out_no_positive_C_d", left_out)
    check(worst <= exact.RTOL, margin=exact.RTOL - worst,
          message=f"{len(judged)} runs (C_d at ({runs_.MAIN_N}, {runs_.MAIN_D}) = {c_d():.6g}; one per (N, d)): "
          f"largest excess of the bound over -dL/dxi1, relative: {worst:.3g} at {where}; away from the checkpoints "
          f"where C_d was measured (which hold by construction): {elsewhere:.3g} at {elsewhere_at}"
          + (f"; left out, no positive C_d: {left_out}" if left_out else ""))


@claim("C8.xi1", section=SECTION)
def xi1_nondecreasing_while() -> None:
    """xi1 does not decrease while 8 xi1 <= 2 xi2 + log(C_d (1 - 1/(2N)) / 2) (C_d from C5.L8), at every checkpoint.
    [AW26] Lemma 13 (proof), claim C8.xi1

    The runs and C_d of C5.L10. The region is exactly where Lemma 10's right side is >= 0, so inside it
    this follows from C5.L10 at the same checkpoint (as in the paper's proof): a failure here would
    show up in C5.L10 too; it is kept as the statement Lemma 13 uses.
    """
    worst, where, inside = math.inf, "", 0
    for label, (run, constant) in judged_c_d()[0].items():
        region = 8 * run.xi1 <= 2 * run.xi2 + math.log(constant * (1 - 1 / (2 * run.N)) / 2)
        inside += int(region.sum())
        step = xi1_steps(run.grad1)[region]
        if step.size and float(step.min()) < worst:
            k = int(np.argmin(step))
            worst, where = float(step.min()), f"{label}, t = {int(run.t[region][k])}"
    if inside == 0:
        raise Inconclusive("no checkpoint of the runs lies in Lemma 13's region "
                           "8 xi1 <= 2 xi2 + log(C_d (1 - 1/(2N)) / 2)")
    check(worst >= 0, margin=worst, message=f"{inside} checkpoints in the region; smallest xi1 step / eta there "
          f"{worst!r} ({where})")


@claim("C8.steps", section=SECTION)
def lemma13_step_bounds() -> None:
    """eta e^{-2 xi2} / ((N+1)^3 e) <= Delta xi2 <= eta e^{-xi2/15} at every checkpoint (raw GD steps).
    [AW26] Lemma 13 (proof, explicit step bounds), claim C8.steps

    The main runs and the runs at eta = 1 and 5 (Lemma 13 states no step-size condition). Compared in logs
    (the steps reach 1e-45). A checkpoint fails when a bound is exceeded by more than
    the error budget in log: the step's quadrature error (RTOL) plus the bound's change under an error
    of FLOW_AGREEMENT |xi2| in xi2 (S7.flow's standard). The evidence lists, per run and bound, the
    first failing checkpoint with the step, the bound and their ratio, and the largest ratio.
    """
    failures: dict[str, dict[str, float]] = {}
    first: tuple[int, str] | None = None
    for label, run in runs_.fetch(runs_.main_specs() + runs_.eta_specs()).items():
        step = -run.eta * run.grad2
        log_step = np.log(np.maximum(step, 1e-320))
        lower, upper = lemma13_log_bounds(run.xi2, run.N, run.eta)
        for name, excess, slope in (("lower", lower - log_step, 2.0), ("upper", log_step - upper, 1 / 15)):
            budget = exact.RTOL + slope * runs_.FLOW_AGREEMENT * np.abs(run.xi2)
            bad = np.nonzero(excess > budget)[0]
            if bad.size:
                k, worst = int(bad[0]), int(np.argmax(excess))
                bound = float(np.exp(lower[k] if name == "lower" else upper[k]))
                failures[f"{name} bound, {label}"] = {
                    "first_t": int(run.t[k]), "xi1": float(run.xi1[k]), "xi2": float(run.xi2[k]),
                    "step": float(step[k]), "bound": bound, "ratio": float(np.exp(excess[k])),
                    "failing": int(bad.size), "largest_ratio": float(np.exp(excess[worst])),
                    "largest_at_t": int(run.t[worst])}
                if run.eta == runs_.ETA and (first is None or int(run.t[k]) < first[0]):
                    first = (int(run.t[k]), f"{name} bound at {label}")
    attach("failures", failures)
    where = "" if first is None else f"; at eta = {runs_.ETA:g}, first at t = {first[0]} ({first[1]})"
    check(not failures, margin=-float(len(failures)),
          message=f"{len(failures)} (bound, run) pairs fail{where}: " + "; ".join(
              f"{key}: first t = {v['first_t']} (xi1 = {v['xi1']:.5g}, xi2 = {v['xi2']:.5g}, step {v['step']:.4g}, "
              f"bound {v['bound']:.4g}, ratio {v['ratio']:.4g}), {v['failing']} checkpoints, largest ratio "
              f"{v['largest_ratio']:.3g} at t = {v['largest_at_t']}" for key, v in failures.items()))
