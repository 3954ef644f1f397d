"""Claims about gradient descent on the family: the integrator (S7.flow), C1 dynamically, C5, C6, C7, C8.

Trajectories come from :mod:`model.dynamics` (literal GD, and its interpolating flow to t = 1e9,
cached on disk) with exact gradients from :mod:`model.exact`. Nothing here is statistical.

Conventions (THEORY.md): Delta = one GD step divided by eta, so Delta xi1 = -(1/d) dL/dxi1 and
Delta xi2 = -dL/dxi2 (the read-out of C1.readout). The runs use [AW26] §5's pair (N, d) = (16, 8),
eta = 0.05, and two initialisations: the experiments' sigma = 3 (outside the theorems' hypotheses)
and the smallest integer sigma at or above Lemma 12's threshold 3 log(2 N^4 d / a_{N,d}) (46.995 at
(16, 8), so sigma = 47).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

import model.dynamics as dynamics
import model.empirical as empirical
import model.exact as exact
from model.attention import family_W
from model.laws import sample_training_prompts
from properties.registry import Measurement, attach, check, claim

SECTION = "Gradient descent dynamics"

#: [AW26] §5's setting: N = 16, d = 8, eta = 0.05; the experiments' sigma = 3.
MAIN_N, MAIN_D, ETA, SIGMA_EXPERIMENT = 16, 8, dynamics.DEFAULT_ETA, 3.0
#: The long runs reach t = HORIZON; the literal-GD validation takes LITERAL_STEPS steps.
HORIZON, LITERAL_STEPS = 10**9, 10_000
#: Relative agreement required of the flow with literal GD at every checkpoint (issue: 1e-8).
FLOW_AGREEMENT = 1e-8
#: Lemma 12's horizon for the smallest sigma that keeps the ratio bound (issue: default 1e6).
RATIO_HORIZON = 10**6


def a_nd(N: int, d: int) -> float:
    """a_{N,d} = (2 N sqrt(d))^{-2/(d-3)}, d >= 4 (THEORY.md, constants of the lemmas)."""
    return float((2 * N * math.sqrt(d)) ** (-2.0 / (d - 3)))


def lemma12_sigma(N: int, d: int) -> float:
    """Lemma 12's threshold: sigma >= 3 log(2 N^4 d / a_{N,d})."""
    return 3 * math.log(2 * N**4 * d / a_nd(N, d))


def sigma_theorem(N: int, d: int) -> float:
    """The smallest integer sigma at or above Lemma 12's threshold (47 at (16, 8), threshold 46.995)."""
    return float(math.ceil(lemma12_sigma(N, d)))


def ratio_limit() -> float:
    """Lemma 12's ratio: xi1 <= (7/15) xi2."""
    return 7 / 15


def log_t(t: np.ndarray) -> np.ndarray:
    """The natural logarithm of t (Theorem 1's rate O(1/log t) and Lemma 13's growth are in ln t)."""
    return np.log(np.asarray(t, dtype=np.float64))


def xi2_steps(xi2: np.ndarray) -> np.ndarray:
    """The changes of xi2 between consecutive records, later minus earlier."""
    return np.diff(xi2)


def runs() -> dict[str, dynamics.Trajectory]:
    """The long runs shared by C6, C7, C8 (computed once, cached on disk)."""
    return {
        f"sigma={sigma:g}": dynamics.trajectory(MAIN_N, MAIN_D, sigma, ETA, t_max=HORIZON)
        for sigma in (SIGMA_EXPERIMENT, sigma_theorem(MAIN_N, MAIN_D))
    }


def _literal() -> tuple[dynamics.Trajectory, dynamics.Trajectory]:
    """Literal GD for LITERAL_STEPS steps (every step) and the flow at its checkpoints, at the theorem's sigma."""
    sigma = sigma_theorem(MAIN_N, MAIN_D)
    literal = dynamics.literal_trajectory(MAIN_N, MAIN_D, sigma, ETA, steps=LITERAL_STEPS)
    flow = dynamics.trajectory(MAIN_N, MAIN_D, sigma, ETA, t_max=LITERAL_STEPS)
    return literal, flow


@claim("S7.flow", section=SECTION)
def flow_follows_gd() -> None:
    """The long-horizon integrator reproduces literal GD to 1e-8 relative in xi1, xi2 and L at every checkpoint.
    THEORY.md S7 (GD on the population loss) and issue 5's integrator requirement, claim S7.flow

    Literal GD (every one of LITERAL_STEPS steps, exact gradients) against ``model.dynamics.flow``
    (the interpolating flow of GD, module docstring) at every checkpoint of a log grid, at N = 16,
    d = 8, sigma = 47 (the run of C6), eta = 0.05.
    """
    literal, flow = _literal()
    index = np.searchsorted(literal.t, flow.t)
    worst, where = 0.0, 0
    for name in ("xi1", "xi2", "loss"):
        exact_values = getattr(literal, name)[index]
        values = getattr(flow, name)
        scale = np.where(exact_values != 0, np.abs(exact_values), 1.0)
        gap = np.abs(values - exact_values) / scale
        if gap.max() > worst:
            worst, where = float(gap.max()), int(flow.t[int(gap.argmax())])
    attach("flow", {"literal_steps": LITERAL_STEPS, "checkpoints": int(flow.t.size),
                    "flow_gradients": flow.gradients, "literal_gradients": literal.gradients,
                    "flow_seconds": flow.seconds, "literal_seconds": literal.seconds,
                    "largest_relative_gap": worst, "at_t": where, "series_cut": flow.truncation})
    check(worst <= FLOW_AGREEMENT, margin=FLOW_AGREEMENT - worst, ratio=worst / FLOW_AGREEMENT,
          message=f"largest relative gap flow vs literal GD over {flow.t.size} checkpoints to t = {LITERAL_STEPS}: "
          f"{worst:.3g} at t = {where} (flow: {flow.gradients} gradients, literal: {literal.gradients})")


@claim("C1.dynamic", section=SECTION)
def full_gd_stays_on_family() -> None:
    """Full-W GD from W^0 on a symmetrised sample stays on the family and follows the family recursion.
    [LCG24] Lemma 1 / [AW26] Lemma 4 (GD from W^0 stays on the family), claim C1.dynamic

    The whole (d+2) x (d+2) matrix W takes DYNAMIC_STEPS GD steps (eta = 0.05, from W^0 =
    diag(0, ..., 0, -sigma)) on the empirical loss of a symmetrised sample (``model.empirical``); at
    every step the off-family entries must stay at rounding level and (xi1, xi2) read off W must equal
    the family recursion ``model.dynamics.step`` driven by the family gradient on the same sample.
    """
    N, d, sigma = 4, 3, 3.0
    prompt = sample_training_prompts(4, N, d, generator=torch.Generator().manual_seed(20261126))
    sample = empirical.symmetrise(prompt)
    W = family_W(0.0, sigma, d)
    x = np.array([0.0, sigma])
    worst_off, worst_gap = 0.0, 0.0
    for _ in range(DYNAMIC_STEPS):
        G, _ = empirical.full_gradient(sample, W)
        W = W - ETA * G
        g1, g2 = empirical.family_gradient(sample, float(x[0]), float(x[1]))
        x = dynamics.step(x, g1, g2, ETA, d)
        off = W.clone()
        off[:d, :d] -= torch.eye(d, dtype=W.dtype) * W[:d, :d].diagonal().mean()
        off[-1, -1] = 0.0
        worst_off = max(worst_off, float(off.abs().max()))
        read = np.array([float(W[:d, :d].diagonal().mean()), -float(W[-1, -1])])
        worst_gap = max(worst_gap, float(np.max(np.abs(read - x) / np.maximum(np.abs(x), 1e-300))))
    bound = DYNAMIC_TOLERANCE
    check(max(worst_off, worst_gap) <= bound, margin=bound - max(worst_off, worst_gap),
          message=f"over {DYNAMIC_STEPS} full-W GD steps: largest off-family entry {worst_off:.3g}, largest relative "
          f"gap of (xi1, xi2) read off W to the family recursion {worst_gap:.3g} (bound {bound:g})")


#: Steps of the full-W GD check and its tolerance (rounding of DYNAMIC_STEPS float64 steps, generously).
DYNAMIC_STEPS, DYNAMIC_TOLERANCE = 50, 1e-10


@claim("C8.xi2", section=SECTION)
def xi2_nondecreasing() -> None:
    """xi2 never decreases along GD: at every literal step, and at every checkpoint of the long runs.
    [LCG24] Lemma 13 / [AW26] Lemma 13 (xi2 nondecreasing), claim C8.xi2

    Literal: every one of LITERAL_STEPS steps (sigma = 47). Long runs: xi2 at consecutive checkpoints
    to t = 1e9 and the sign of dL/dxi2 (<= 0 means the step raises xi2) at each checkpoint.
    """
    literal, _ = _literal()
    steps = xi2_steps(literal.xi2)
    worst = float(steps.min())
    grads = max(float(literal.grad2.max()), *(float(run.grad2.max()) for run in runs().values()))
    jumps = min(float(xi2_steps(run.xi2).min()) for run in runs().values())
    smallest = min(worst, jumps, -grads)
    check(smallest >= 0, margin=smallest,
          message=f"smallest literal step of xi2 {worst!r}, smallest checkpoint-to-checkpoint change {jumps!r}, "
          f"largest dL/dxi2 {grads!r}")


@claim("C6", section=SECTION)
def ratio_bound() -> None:
    """For sigma >= 3 log(2 N^4 d / a_{N,d}) and xi1^t >= 0, xi1^t <= (7/15) xi2^t for all t (any eta).
    [LCG24] Lemma 12 / [AW26] Lemma 12 (ratio bound), claim C6

    At (N, d) = (16, 8), eta = 0.05 and sigma = 47 (threshold 46.995), every checkpoint to t = 1e9.
    The evidence carries the plot of xi1, xi2, xi1/xi2 and L log t against log10 t for both runs, and
    the smallest sigma that keeps the bound up to t = RATIO_HORIZON (bracketed by two runs).
    """
    trajectories = runs()
    attach("plot", _plot(trajectories))
    sigma = sigma_theorem(MAIN_N, MAIN_D)
    run = trajectories[f"sigma={sigma:g}"]
    assert float(run.xi1.min()) >= 0
    ratio, limit = run.xi1 / run.xi2, ratio_limit()
    bad = np.nonzero(ratio > limit)[0]
    attach("sigma_needed", _sigma_needed(run))
    first = int(bad[0]) if bad.size else int(ratio.argmax())
    check(not bad.size, margin=limit - float(ratio.max()), ratio=float(ratio.max()) / limit,
          message=f"at (N, d, sigma, eta) = ({MAIN_N}, {MAIN_D}, {sigma:g}, {ETA:g}) (threshold "
          f"{lemma12_sigma(MAIN_N, MAIN_D):.4g}): xi1/xi2 = {ratio[first]:.4g} > 7/15 first at checkpoint "
          f"t = {int(run.t[first])} (xi1 = {run.xi1[first]:.6g}, xi2 = {run.xi2[first]:.6g}); largest "
          f"{float(ratio.max()):.4g} at t = {int(run.t[int(ratio.argmax())])}")


def _sigma_needed(run: dynamics.Trajectory) -> dict[str, float]:
    """The smallest sigma keeping xi1 <= 7/15 xi2 up to RATIO_HORIZON, bracketed by two runs.

    While xi1 < xi2 / 2 the query term e^{xi1 (1 - tau) - xi2} is tiny and xi2 stays at sigma, so the
    bound holds to the horizon iff xi1 at the horizon is below 7 sigma / 15: the guess
    15 xi1(T) / 7 from the run at the threshold is checked by runs at its floor and its ceiling.
    """
    horizon = RATIO_HORIZON
    index = int(np.searchsorted(run.t, horizon))
    guess = 15 * float(run.xi1[index]) / 7
    result: dict[str, float] = {"horizon": float(horizon), "guess": guess}
    for name, sigma in (("below", float(math.floor(guess))), ("above", float(math.ceil(guess)))):
        trial = dynamics.trajectory(MAIN_N, MAIN_D, sigma, ETA, t_max=horizon)
        result[f"sigma_{name}"] = sigma
        result[f"max_ratio_{name}"] = float(np.max(trial.xi1 / trial.xi2))
    return result


def _plot(trajectories: dict[str, dynamics.Trajectory]) -> dict[str, object]:
    series = {}
    for label, run in trajectories.items():
        t = run.t[1:]
        series[label] = {"log10_t": np.log10(t).tolist(), "xi1": run.xi1[1:].tolist(), "xi2": run.xi2[1:].tolist(),
                         "ratio": (run.xi1[1:] / run.xi2[1:]).tolist(),
                         "loss_log_t": (run.loss[1:] * log_t(np.maximum(t, 2))).tolist()}
    return {"kind": "trajectories", "title": f"GD on the family, N = {MAIN_N}, d = {MAIN_D}, eta = {ETA:g}",
            "series": series, "reference": {"ratio": 7 / 15}}


@claim("C7", section=SECTION, kind="measure")
def loss_times_log_t() -> Measurement:
    """L(W^t) -> 0 like O(1/log t): the implied constant sup_t L(W^t) log t over t in [10, 1e9].
    [LCG24] Theorem 1 / [AW26] Theorem 1 (convergence rate), claim C7

    At (N, d) = (16, 8), eta = 0.05, sigma in {3, 47}. The value is the largest L log t at the
    theorem's sigma; the trend lists L log t by decade for both runs.
    """
    details, value = {}, math.nan
    for label, run in runs().items():
        keep = run.t >= 10
        product = run.loss[keep] * log_t(run.t[keep])
        by_decade = {f"1e{k}": float(product[run.t[keep] == 10**k][0]) for k in range(1, 10)}
        late = [int(np.searchsorted(run.t, 10**k)) for k in (8, 9)]
        by_decade["loss_exponent_1e8_1e9"] = float(np.log10(run.loss[late[1]] / run.loss[late[0]]))
        details[label] = by_decade
        if label == f"sigma={sigma_theorem(MAIN_N, MAIN_D):g}":
            value = float(product.max())
    trend = "; ".join(f"{label}: " + ", ".join(f"{k} {v:.4g}" for k, v in row.items())
                      for label, row in details.items())
    return Measurement(value, f"L log t by t, and the power p of L ~ t^p over the last decade ({trend}): L log t "
                       "falls after t ~ 1e3, so L decays faster than 1/log t", details)


@claim("C8.growth", section=SECTION, kind="measure")
def growth_constants() -> Measurement:
    """xi1^t and xi2^t grow like log t: the implied constants xi / log t at t = 1e9, and their trend.
    [LCG24] Lemma 13 / [AW26] Lemma 13 (growth), claim C8.growth

    Value: xi1 / log t at t = 1e9 for the theorem's sigma; details: xi1 / log t and xi2 / log t by decade.
    """
    details, value = {}, math.nan
    for label, run in runs().items():
        row = {}
        for k in range(2, 10):
            index = int(np.searchsorted(run.t, 10**k))
            scale = float(log_t(np.array([10**k]))[0])
            row[f"1e{k}"] = [float(run.xi1[index]) / scale, float(run.xi2[index]) / scale]
        late = [int(np.searchsorted(run.t, 10**k)) for k in (8, 9)]
        row["exponent_1e8_1e9"] = [float(np.log10(run.xi1[late[1]] / run.xi1[late[0]])),
                                   float(np.log10(run.xi2[late[1]] / run.xi2[late[0]]))]
        details[label] = row
        if label == f"sigma={sigma_theorem(MAIN_N, MAIN_D):g}":
            value = row["1e9"][0]
    trend = "; ".join(f"{label}: " + ", ".join(f"{k} ({a:.3g}, {b:.3g})" for k, (a, b) in row.items())
                      for label, row in details.items())
    return Measurement(value, f"(xi1, xi2) / log t by t, and the power p of xi ~ t^p over the last decade ({trend}): "
                       "xi / log t grows, so the growth is faster than log t (consistent with Omega(log t))", details)


# --- C5: the increment bounds, pointwise ------------------------------------------------------------


def _increments(xi1: float, xi2: float, N: int, d: int) -> tuple[float, float, float, float]:
    """(Delta xi1, its error, Delta xi2, its error): one GD step divided by eta (C1.readout)."""
    result = exact.population(xi1, xi2, N, d)
    return (-result.grad_xi1 / d, result.errors["grad_xi1"] / d, -result.grad_xi2, result.errors["grad_xi2"])


def _in_regime(N: int, d: int) -> bool:
    return d >= 4 and N >= math.sqrt(d) * math.log(d)


def lemma9_rhs(xi1: float, xi2: float, N: int, d: int) -> float:
    """(2N/d) e^{-4 xi1/(N+1)^2} - a_{N,d} / (d N^3 e) e^{2 (xi1 - xi2)} (Lemma 9's upper bound on Delta xi1)."""
    return 2 * N / d * math.exp(-4 * xi1 / (N + 1) ** 2) - a_nd(N, d) / (d * N**3 * math.e) * math.exp(2 * (xi1 - xi2))


def lemma11_rhs(xi1: float, xi2: float, N: int, d: int) -> float:
    """e^{2 a_{N,d} xi1 - 2 xi2} / ((N+1)^3 e) (Lemma 11's lower bound on Delta xi2)."""
    return math.exp(2 * a_nd(N, d) * xi1 - 2 * xi2) / ((N + 1) ** 3 * math.e)


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
    assume(_in_regime(N, d))
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
    assume(_in_regime(N, d))
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

    A checkpoint fails when the bound is exceeded by more than the quadrature's relative accuracy of
    the increment. The evidence lists, per run and lemma, the first failing checkpoint and how many fail.
    """
    failures: dict[str, dict[str, object]] = {}
    first: tuple[int, str] | None = None
    for label, run in runs().items():
        for name, excess in (
            ("Lemma 9", [(-g1 / MAIN_D - lemma9_rhs(a, b, MAIN_N, MAIN_D)) / max(abs(g1) / MAIN_D, 1e-300)
                         for a, b, g1 in zip(run.xi1, run.xi2, run.grad1, strict=True)]),
            ("Lemma 11", [(lemma11_rhs(a, b, MAIN_N, MAIN_D) + g2) / max(abs(g2), 1e-300)
                          for a, b, g2 in zip(run.xi1, run.xi2, run.grad2, strict=True)]),
        ):
            bad = [k for k, e in enumerate(excess) if e > exact.RTOL]
            if bad:
                k = bad[0]
                failures[f"{name}, {label}"] = {"first_t": int(run.t[k]), "xi1": float(run.xi1[k]),
                                                "xi2": float(run.xi2[k]), "relative_excess": float(excess[k]),
                                                "failing_checkpoints": len(bad), "checkpoints": int(run.t.size)}
                if first is None or int(run.t[k]) < first[0]:
                    first = (int(run.t[k]), f"{name} at {label}")
    attach("failures", failures)
    where = "" if first is None else f"; first at t = {first[0]} ({first[1]})"
    check(not failures, margin=-float(len(failures)),
          message=f"{len(failures)} (lemma, run) pairs fail{where}: "
          + "; ".join(f"{key}: first t = {v['first_t']} (xi1 = {v['xi1']:.5g}, xi2 = {v['xi2']:.5g}), "
                      f"{v['failing_checkpoints']} of {v['checkpoints']} checkpoints" for key, v in failures.items()))
