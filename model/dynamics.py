"""Gradient descent on the two-parameter family: literally, and to t = 1e9 steps by its interpolating flow.

References (THEORY.md IDs): S6 (W^0 = diag(0, ..., 0, -sigma)), S7 (GD), S8 and C1.readout (on the
family, full-W GD moves xi1 by -(eta/d) dL/dxi1 and xi2 by -eta dL/dxi2), C5-C8 (the lemmas checked
along the trajectories in :mod:`properties.dynamics`).

**Literal GD.** x = (xi1, xi2), x_0 = (0, sigma), x_{n+1} = x_n + eta F(x_n) with
F = (-(1/d) dL/dxi1, -dL/dxi2) from :func:`model.exact.population` (1e-10 relative).

**The long run.** The GD sequence x_n varies slowly (its increments change by a relative O(1/n) per
step), so it is the trace at integer times of a smooth curve x(s), the flow of a vector field G with
time-1 map x -> x + eta F(x) (backward error analysis). With E the shift and Delta = E - 1 the
forward difference of the sequence, d/ds = log(E) = Delta - Delta^2/2 + Delta^3/3 - ..., so

    G(x) = D1 - D2/2 + D3/3 - D4/4 + ...,   D_j = Delta^{j-1} of the increments eta F(x_0), eta F(x_1), ...

from literal steps x = x_0 -> x_1 -> x_2 -> ... (k terms cost k gradients; no finite-difference step
size: the differences are GD's own). The gradients at x_1, x_2, ... are taken on the quadrature grid
of x (:func:`model.exact.population_on_grid`), so their quadrature errors cancel in the differences.
The higher differences of such a sequence fall like j / (1 + s) (s the step count; D_{j+1} / D_j was
measured at 0.5 to 3 / s), so the omitted terms are a small fraction of the last kept one, D_k / k,
which serves as the (conservative) estimate of the cut: over one e-fold of time (1 + s steps) it would
move x by (1 + s) |D_k| / k, and relative to max(|x|, (1 + s) |G|) (the size of x or of its move over
that e-fold) this must stay below TRUNCATION in each component. The number of terms adapts between
MIN_TERMS and MAX_TERMS (a term is added while the cut is too large, and dropped when one fewer would
be ten times inside it: late in the run, where 1/s is tiny, three terms do). GD is taken literally
until the cut at x_n is a hundredth of TRUNCATION (fast early dynamics, large eta); if the flow later
meets a cut above TRUNCATION, it stops at its last accepted step and GD goes on literally from the last
integer step before it until the hand-over succeeds again. (A geometric estimate |D3|^2 / |D2| of the
omitted term was tried and fails where D2 of one component crosses zero.)
The flow is integrated in log time, u = log(1 + s), by LSODA (Adams methods up to order 12, scipy)
with relative tolerance ``rtol``; checkpoint values come from its dense output.

Error of a run: the literal-vs-flow comparison measures it (tests: 1e3 steps, ``verify``'s S7.flow:
1e4, ``benchmarks/bench_dynamics.py``: 1e5); for the part beyond literal reach, the benchmark reruns
the flow at rtol / 100 and at TRUNCATION / 100 and reports the largest relative change at any
checkpoint to t = 1e9 (the error estimate stated in the README).

Trajectories are cached in memory and on disk (:mod:`model.cache`), keyed by their parameters and by
a fingerprint of the code they run. :func:`prefetch` and :func:`trajectories` compute several missing
runs at once in worker processes (``ONENN_JOBS``, default: the CPUs available), one thread each.
"""

from __future__ import annotations

import contextlib
import functools
import math
import multiprocessing
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import LSODA

import model.cache as cache
import model.checks as checks
import model.exact as exact
from model.errors import CheckerError, InvalidParameter, QuadratureDidNotConverge

__all__ = [
    "DEFAULT_ETA",
    "TRUNCATION",
    "FlowDidNotConverge",
    "Trajectory",
    "checkpoints",
    "default_jobs",
    "direction",
    "flow",
    "literal_gd",
    "literal_trajectory",
    "step",
    "trajectories",
    "trajectory",
]

#: The experiments' step size ([AW26] §5).
DEFAULT_ETA = 0.05
#: Terms kept of the log(1 + Delta) series (= gradients per evaluation of G): adapted in this range.
MIN_TERMS, MAX_TERMS = 2, 6
#: Largest accepted relative size of the last kept term of the log(1 + Delta) series (module docstring).
TRUNCATION = 1e-10
#: Relative tolerance of the flow integration (LSODA) by default.
FLOW_RTOL = 1e-10
#: Absolute tolerance of the flow integration (xi in units; the xi are O(1e-4) and up after one step).
FLOW_ATOL = 1e-14
#: Checkpoints per decade of t.
PER_DECADE = 10
#: Literal steps a flow run may take in all, at most; and how often the flow may give way to them.
MAX_LITERAL, MAX_FALLBACKS = 100_000, 50


class FlowDidNotConverge(CheckerError, ArithmeticError):
    """The long-horizon integrator could not follow GD within its stated tolerances."""


@dataclass(frozen=True)
class Trajectory:
    """(xi1, xi2), the loss and its gradient at the checkpoints t of a GD run on the family.

    ``method`` is "literal" (every step taken) or "flow" (literal start, then the interpolating flow).
    ``truncation`` is the largest relative cut of the log(1 + Delta) series met (module docstring; 0 for
    literal runs).
    """

    N: int
    d: int
    sigma: float
    eta: float
    t: NDArray[np.int64]
    xi1: NDArray[np.float64]
    xi2: NDArray[np.float64]
    loss: NDArray[np.float64]
    grad1: NDArray[np.float64]
    grad2: NDArray[np.float64]
    method: str
    gradients: int  # population evaluations spent
    seconds: float
    truncation: float = 0.0
    literal_steps: int = 0
    meta: dict[str, float] = field(default_factory=dict)

    def at(self, t: int) -> tuple[float, float]:
        """(xi1, xi2) at checkpoint t (KeyError if t is not a checkpoint)."""
        index = np.searchsorted(self.t, t)
        if index >= self.t.size or self.t[index] != t:
            raise KeyError(f"t = {t} is not a checkpoint of this trajectory")
        return float(self.xi1[index]), float(self.xi2[index])


def _readout(grad1: float, grad2: float, d: int) -> tuple[float, float]:
    """The GD increment per unit eta on the family: (-(1/d) dL/dxi1, -dL/dxi2) (C1.readout)."""
    return -grad1 / d, -grad2


def step(x: NDArray[np.float64], grad1: float, grad2: float, eta: float, d: int) -> NDArray[np.float64]:
    """One GD step on the family from x = (xi1, xi2) given the gradient (dL/dxi1, dL/dxi2) (C1.readout)."""
    point = checks.require_real_array("x", x)
    if point.shape != (2,):
        raise InvalidParameter(f"x must be the point (xi1, xi2), got an array of shape {point.shape}")
    grad1, grad2 = checks.require_real("grad1", grad1), checks.require_real("grad2", grad2)
    eta = checks.require_real("eta", eta)
    if eta <= 0:
        raise InvalidParameter(f"eta must be > 0, got {eta!r}")
    d = checks.require_integer("d", d, 2)
    return point + eta * np.array(_readout(grad1, grad2, d))


def direction(xi1: float, xi2: float, N: int, d: int, *, grid: exact.Grid | None = None,
              on_grid: bool = False) -> tuple[NDArray[np.float64], exact.Population]:
    """F(x) = the GD increment per unit eta at (xi1, xi2), and the population result it came from."""
    if on_grid:
        if grid is None:
            raise InvalidParameter("on_grid=True needs a grid")
        result = exact.population_on_grid(xi1, xi2, N, d, grid)
    else:
        result = exact.population(xi1, xi2, N, d, grid=grid)
    return np.array(_readout(result.grad_xi1, result.grad_xi2, d)), result


def _check(N: int, d: int, sigma: float, eta: float) -> tuple[int, int, float, float]:
    for name, size in (("N", N), ("d", d)):
        checks.require_integer(name, size)
    for name, value in (("sigma", sigma), ("eta", eta)):
        if not (math.isfinite(checks.require_real(name, value)) and value > 0):
            raise InvalidParameter(f"{name} must be > 0, got {value!r}")
    lo, hi = exact.DOMAIN["xi2"]
    if not sigma <= hi:
        raise InvalidParameter(f"sigma = {sigma!r} is above the supported xi2 range [{lo}, {hi}]")
    for name, size, (lo, hi) in (("N", N, exact.DOMAIN["N"]), ("d", d, exact.DOMAIN["d"])):
        if not lo <= size <= hi:
            raise InvalidParameter(f"{name} = {size} is outside the supported range [{lo:g}, {hi:g}]")
    return int(N), int(d), float(sigma), float(eta)


def checkpoints(t_max: int, per_decade: int = PER_DECADE) -> NDArray[np.int64]:
    """0 and the integers nearest to 10^(k / per_decade) up to t_max (and t_max itself)."""
    t_max, per_decade = _integer("t_max", t_max, 1), _integer("per_decade", per_decade, 1)
    grid = np.round(10.0 ** (np.arange(0, per_decade * math.log10(t_max) + 1e-9) / per_decade))
    return np.unique(np.concatenate([[0], grid[grid <= t_max], [t_max]]).astype(np.int64))


def literal_gd(N: int, d: int, sigma: float, eta: float = DEFAULT_ETA, *, steps: int,
               record: NDArray[np.int64] | None = None) -> Trajectory:
    """GD on the family, every step taken; recorded at ``record`` (default: every step 0..steps)."""
    N, d, sigma, eta = _check(N, d, sigma, eta)
    steps = _integer("steps", steps, 0)
    wanted = np.arange(steps + 1) if record is None else _record(record, steps)
    keep = set(wanted.tolist())
    start = time.perf_counter()
    x, grid = np.array([0.0, sigma]), None
    rows = []
    for n in range(steps + 1):
        _, result = direction(float(x[0]), float(x[1]), N, d, grid=grid)
        grid = result.grid
        if n in keep:
            rows.append((n, x[0], x[1], result.loss, result.grad_xi1, result.grad_xi2))
        x = step(x, result.grad_xi1, result.grad_xi2, eta, d)
    table = np.array(rows).reshape(-1, 6)
    return Trajectory(N, d, sigma, eta, table[:, 0].astype(np.int64), table[:, 1], table[:, 2], table[:, 3],
                      table[:, 4], table[:, 5], "literal", steps + 1, time.perf_counter() - start)


def _cut(differences: list[NDArray[np.float64]], j: int, s: float, scale: NDArray[np.float64]) -> float:
    """Term j + 1 of the series, D_{j+1} / (j + 1), over one e-fold of time, relative to scale (largest component)."""
    return float(np.max((1 + s) * np.abs(differences[j]) / (j + 1) / scale))


class _Field:
    """G(x), the interpolating flow's vector field (module docstring), with its evaluation count."""

    def __init__(self, N: int, d: int, eta: float) -> None:
        self.N, self.d, self.eta = N, d, eta
        self.grid: exact.Grid | None = None
        self.gradients = 0
        self.truncation = 0.0
        self.terms = MAX_TERMS

    def series(self, x: NDArray[np.float64], s: float) -> tuple[NDArray[np.float64], float]:
        """G(x) and the cut of its series at time s, relative to the size of x (module docstring).

        Uses ``self.terms`` terms; adds terms (up to MAX_TERMS) while the cut is above TRUNCATION, and
        drops one for the next call when one fewer would have been ten times inside it.
        """
        F, result = direction(float(x[0]), float(x[1]), self.N, self.d, grid=self.grid)
        self.grid = result.grid
        increments, point = [self.eta * F], x
        self.gradients += 1
        while True:
            while len(increments) < self.terms:  # literal steps from x, on x's quadrature grid
                point = point + increments[-1]
                try:
                    F, _ = direction(float(point[0]), float(point[1]), self.N, self.d, grid=self.grid, on_grid=True)
                except QuadratureDidNotConverge:  # x's grid is too coarse there: refine it, start again
                    if self.grid is not None and len(self.grid.panels) >= exact.MAX_PANELS:
                        raise
                    _, refined = direction(float(point[0]), float(point[1]), self.N, self.d, grid=self.grid)
                    self.grid, self.gradients = refined.grid, self.gradients + 1
                    return self.series(x, s)
                increments.append(self.eta * F)
                self.gradients += 1
            steps = np.array(increments[: self.terms])
            differences = [steps[0]] + [np.diff(steps, n=j, axis=0)[0] for j in range(1, self.terms)]
            G = sum((-1) ** j * differences[j] / (j + 1) for j in range(self.terms))
            scale = np.maximum(np.maximum(np.abs(x), (1 + s) * np.abs(G)), 1e-300)

            last = _cut(differences, self.terms - 1, s, scale)
            if last <= TRUNCATION or self.terms == MAX_TERMS:
                break
            self.terms += 1
        if self.terms > MIN_TERMS and _cut(differences, self.terms - 2, s, scale) <= TRUNCATION / 10:
            self.terms -= 1
        return np.asarray(G, dtype=np.float64), last

    def __call__(self, u: float, x: NDArray[np.float64]) -> NDArray[np.float64]:
        G, cut = self.series(x, math.expm1(u))
        if cut > TRUNCATION:
            raise FlowDidNotConverge(
                f"the log(1 + Delta) series of GD at (xi1, xi2) = ({x[0]!r}, {x[1]!r}), N = {self.N}, d = {self.d}, "
                f"eta = {self.eta!r} is cut at relative size {cut:.3g} > {TRUNCATION:g} with {MAX_TERMS} terms: "
                "the flow cannot follow GD here"
            )
        self.truncation = max(self.truncation, cut)  # only cuts the flow went on with
        return math.exp(u) * G  # dx/du = (1 + s) G, u = log(1 + s)


def _integer(name: str, value: object, lowest: int) -> int:
    return checks.require_integer(name, value, lowest)


def _record(record: object, last: int) -> NDArray[np.int64]:
    """Sorted distinct integer steps in [0, last]; named errors for anything else."""
    values = np.asarray(record)
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        raise InvalidParameter(f"record must be a nonempty 1-d array of integer steps, got {record!r}")
    if values.min() < 0 or values.max() > last:
        raise InvalidParameter(f"record must lie in [0, {last}], got [{values.min()}, {values.max()}]")
    return np.unique(values.astype(np.int64))


def flow(N: int, d: int, sigma: float, eta: float = DEFAULT_ETA, *, t_max: int,
         record: NDArray[np.int64] | None = None, rtol: float = FLOW_RTOL) -> Trajectory:
    """GD on the family to t_max steps: literal steps while the flow cannot follow GD, the flow where it can.

    Hand-over to the flow needs the series' cut at x_n to be a hundredth of TRUNCATION; if the flow later
    meets a cut above TRUNCATION, it stops at its last accepted step, GD goes on literally from the last
    integer step before it, and the hand-over is tried again.
    """
    N, d, sigma, eta = _check(N, d, sigma, eta)
    t_max = _integer("t_max", t_max, 1)
    wanted = checkpoints(t_max) if record is None else _record(record, t_max)
    if not (isinstance(rtol, float) and 1e-13 <= rtol <= 1e-6):
        raise InvalidParameter(f"rtol must be a float in [1e-13, 1e-6], got {rtol!r}")
    start = time.perf_counter()
    field_ = _Field(N, d, eta)
    rows: dict[int, tuple[float, float]] = {}
    keep = set(wanted.tolist())
    x, n, literal, fallbacks, wait = np.array([0.0, sigma]), 0, 0, 0, 0
    while True:
        # literal phase: test the hand-over after `wait` steps, then at gaps that double
        test, gap, cut = n + wait, 1, math.inf
        while True:
            if n in keep:
                rows[n] = (float(x[0]), float(x[1]))
            if n == t_max:
                break
            if n == test:
                _, cut = field_.series(x, float(n))
                if cut <= TRUNCATION / 100:
                    break
                test, gap = n + gap, 2 * gap
            if literal >= MAX_LITERAL:
                raise FlowDidNotConverge(f"GD at N = {N}, d = {d}, sigma = {sigma!r}, eta = {eta!r} is still too fast "
                                         f"for the flow after {MAX_LITERAL} literal steps (series cut {cut:.3g})")
            _, result = direction(float(x[0]), float(x[1]), N, d, grid=field_.grid)
            field_.grid, field_.gradients = result.grid, field_.gradients + 1
            x = step(x, result.grad_xi1, result.grad_xi2, eta, d)
            n, literal = n + 1, literal + 1
        if n == t_max:
            break
        resumed = _follow(field_, n, x, t_max, wanted, rows, rtol)
        if resumed is None:
            break
        fallbacks += 1
        if fallbacks > MAX_FALLBACKS:
            raise FlowDidNotConverge(f"the flow gave way to literal GD {MAX_FALLBACKS} times (N = {N}, d = {d}, "
                                     f"sigma = {sigma!r}, eta = {eta!r}); last at step {resumed[0]}")
        n, x = resumed
        wait = min(max(8, n // 4), 1000)  # literal progress before the next hand-over
    t = np.array(sorted(rows), dtype=np.int64)
    xi = np.array([rows[k] for k in t.tolist()])
    values = [exact.population(float(a), float(b), N, d) for a, b in xi]
    return Trajectory(
        N, d, sigma, eta, t, xi[:, 0], xi[:, 1],
        np.array([v.loss for v in values]), np.array([v.grad_xi1 for v in values]),
        np.array([v.grad_xi2 for v in values]), "flow", field_.gradients + len(values),
        time.perf_counter() - start, field_.truncation, literal, {"rtol": rtol, "fallbacks": fallbacks},
    )


def _follow(field_: _Field, n: int, x: NDArray[np.float64], t_max: int, wanted: NDArray[np.int64],
            rows: dict[int, tuple[float, float]], rtol: float) -> tuple[int, NDArray[np.float64]] | None:
    """The flow from step n to t_max, filling ``rows``; None when done, else (step, x) to go on literally from."""
    pending = [int(w) for w in wanted if w > n]
    solver = LSODA(field_, math.log1p(n), x, math.log1p(t_max), rtol=rtol, atol=FLOW_ATOL)
    accepted: list[tuple[float, float, object]] = []  # (u start, u end, dense output) of the accepted steps
    while solver.status == "running":
        before = solver.t
        try:
            message = solver.step()
        except FlowDidNotConverge:
            # resume literally from the last integer step the accepted part of the flow reached, evaluated in
            # the accepted step that contains it (no extrapolation)
            reached = min(t_max, math.floor(math.expm1(solver.t) + 1e-9))
            u = math.log1p(reached)
            for lo, hi, piece in reversed(accepted):
                if reached > n and lo <= u <= hi:
                    return reached, np.asarray(piece(u), dtype=np.float64)  # type: ignore[operator]
            return n, x
        if solver.status == "failed":
            raise FlowDidNotConverge(f"LSODA stopped: {message}")
        dense = solver.dense_output()
        accepted = [*accepted[-7:], (before, solver.t, dense)]
        while pending and math.log1p(pending[0]) <= solver.t + 1e-12:
            when = pending.pop(0)
            value = solver.y if when == t_max else dense(math.log1p(when))
            rows[when] = (float(value[0]), float(value[1]))
    return None


def _flow_key(N: int, d: int, sigma: float, eta: float, t_max: int, per_decade: int) -> dict[str, object]:
    return {"kind": "flow", "N": N, "d": d, "sigma": sigma, "eta": eta, "t_max": int(t_max),
            "per_decade": per_decade, "rtol": FLOW_RTOL, "truncation": TRUNCATION}


def trajectory(N: int, d: int, sigma: float, eta: float = DEFAULT_ETA, *, t_max: int,
               per_decade: int = PER_DECADE) -> Trajectory:
    """The flow trajectory at ``checkpoints(t_max, per_decade)``, computed once and cached (memory and disk)."""
    N, d, sigma, eta = _check(N, d, sigma, eta)
    t_max = _integer("t_max", t_max, 1)
    record = checkpoints(t_max, per_decade)
    return cache.cached(_flow_key(N, d, sigma, eta, t_max, per_decade),
                        lambda: flow(N, d, sigma, eta, t_max=t_max, record=record), Trajectory)


def default_jobs() -> int:
    """Worker processes for :func:`trajectories`: ``$ONENN_JOBS`` if set, else the CPUs this process may use."""
    setting = os.environ.get("ONENN_JOBS", "")
    if setting:
        try:
            return checks.require_integer("ONENN_JOBS", int(setting), 1)
        except ValueError:
            raise InvalidParameter(f"ONENN_JOBS must be a positive integer, got {setting!r}") from None
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


#: Environment of the worker processes: one thread each (they run side by side on separate CPUs).
_ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


@contextlib.contextmanager
def one_thread_children() -> Iterator[None]:
    """Processes started inside the block get one BLAS/OpenMP thread each (set before they import numpy)."""
    saved = {name: os.environ.get(name) for name in _ONE_THREAD}
    os.environ.update(_ONE_THREAD)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


Job = tuple[str, tuple[int, int, float, float, int]]
"""A run to compute: ("flow", (N, d, sigma, eta, t_max)) or ("literal", (N, d, sigma, eta, steps))."""


def _entry(job: Job, per_decade: int) -> tuple[dict[str, object], tuple[str, ...]]:
    """The cache key of a job and the code it depends on."""
    kind, (N, d, sigma, eta, length) = job
    if kind == "flow":
        return _flow_key(N, d, sigma, eta, length, per_decade), cache.FINGERPRINTED
    return _literal_key(N, d, sigma, eta, length), _LITERAL_DEPENDS


def _run(job: Job, per_decade: int) -> Trajectory:
    kind, (N, d, sigma, eta, length) = job
    if kind == "flow":
        return trajectory(N, d, sigma, eta, t_max=length, per_decade=per_decade)
    return literal_trajectory(N, d, sigma, eta, steps=length)


def _worker(job: Job, per_decade: int, expected: dict[str, str]) -> str:
    """Compute one job into the disk cache: "done", "declined" (this process's code differs from the
    caller's), or "failed" (the computation raised: the claim that reads the run computes it again and
    gets the error itself, instead of whichever claim happened to start the prefetch).

    A worker imports the code from disk, without a fault planted in the caller: its result would be
    stored under its own code's key, which the caller never reads, so it would only waste the time.
    """
    if cache.fingerprint(_entry(job, per_decade)[1]) != expected[job[0]]:
        return "declined"
    try:
        _run(job, per_decade)
    except Exception:  # reported where the run is read (see the docstring)
        return "failed"
    return "done"


#: Fingerprints whose jobs the workers declined (the caller's code differs from the files): no new pool
#: is started for them, since it would decline again.
_DECLINED: set[str] = set()


def _checked_jobs(jobs: Sequence[Job]) -> list[Job]:
    checked: list[Job] = []
    for job in jobs:
        if not (isinstance(job, tuple) and len(job) == 2 and job[0] in ("flow", "literal")):
            raise InvalidParameter(f"a job is ('flow' | 'literal', (N, d, sigma, eta, length)), got {job!r}")
        run = job[1]
        if not isinstance(run, tuple | list) or len(run) != 5:  # a list is accepted (JSON), made a tuple below
            raise InvalidParameter(f"a run is a tuple (N, d, sigma, eta, t_max or steps), got {run!r}")
        length = _integer("t_max" if job[0] == "flow" else "steps", run[4], 1)
        checked.append((job[0], (*_check(*run[:4]), length)))
    return checked


def prefetch(jobs: Sequence[Job], *, per_decade: int = PER_DECADE, jobs_limit: int | None = None) -> int:
    """Compute the jobs not cached yet side by side, into the disk cache; returns how many were missing.

    ``jobs_limit`` worker processes (default :func:`default_jobs`), started fresh (spawn), one thread
    each, take the jobs in the order given (put the longest first). A worker first compares the
    fingerprint of its code with this process's and declines if they differ (a planted fault or an
    edit made in this process only); such jobs are left to be computed by whoever reads them next. With
    one job, one worker or no disk cache nothing runs in parallel (and nothing is computed here). As
    with any spawned process, a script calling this needs the ``if __name__ == "__main__":`` guard
    (without it the workers cannot start: a RuntimeWarning, and the runs are computed later, here).
    """
    checked = _checked_jobs(jobs)
    per_decade = _integer("per_decade", per_decade, 1)
    limit = default_jobs() if jobs_limit is None else checks.require_integer("jobs", jobs_limit, 1)
    missing = [job for job in dict.fromkeys(checked) if cache.lookup(*_lookup_args(job, per_decade)) is None]
    workers = min(limit, len(missing))
    expected = {"flow": cache.fingerprint(cache.FINGERPRINTED), "literal": cache.fingerprint(_LITERAL_DEPENDS)}
    if workers > 1 and cache.cache_dir() is not None and expected["flow"] not in _DECLINED:
        try:
            with one_thread_children(), ProcessPoolExecutor(
                    workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                # jobs declined or failed are computed when read, by the caller that reads them
                outcomes = list(pool.map(functools.partial(_worker, per_decade=per_decade, expected=expected),
                                         missing))
            if "declined" in outcomes:
                _DECLINED.add(expected["flow"])
        except BrokenProcessPool as error:
            warnings.warn(f"a worker process died ({error}; for instance, a script that calls model.dynamics "
                          "without the `if __name__ == '__main__':` guard, or a worker killed for lack of memory); "
                          "the runs will be computed here, one by one", RuntimeWarning, stacklevel=2)
    return len(missing)


def _lookup_args(job: Job, per_decade: int) -> tuple[dict[str, object], type[Trajectory], tuple[str, ...]]:
    key, depends = _entry(job, per_decade)
    return key, Trajectory, depends


def trajectories(runs: Sequence[tuple[int, int, float, float, int]], *, per_decade: int = PER_DECADE,
                 jobs: int | None = None) -> list[Trajectory]:
    """:func:`trajectory` for each (N, d, sigma, eta, t_max) of ``runs``; those not cached yet are computed in parallel.

    The missing runs go through :func:`prefetch` (``jobs`` workers); any it could not compute (disk
    cache off, one job, a worker that declined) are computed here, one after the other. The values
    are the same either way, bit for bit.
    """
    if isinstance(runs, (str, bytes)) or not isinstance(runs, Sequence):
        raise InvalidParameter(f"runs must be a sequence of (N, d, sigma, eta, t_max), got {runs!r:.80}")
    checked = _checked_jobs([("flow", run) for run in runs])
    prefetch(checked, per_decade=per_decade, jobs_limit=jobs)
    return [_run(job, per_decade) for job in checked]


def _literal_key(N: int, d: int, sigma: float, eta: float, steps: int) -> dict[str, object]:
    return {"kind": "literal", "N": N, "d": d, "sigma": sigma, "eta": eta, "steps": int(steps)}


def literal_trajectory(N: int, d: int, sigma: float, eta: float = DEFAULT_ETA, *, steps: int) -> Trajectory:
    """Literal GD recorded at every step, computed once and cached (memory and disk)."""
    N, d, sigma, eta = _check(N, d, sigma, eta)
    steps = _integer("steps", steps, 0)
    return cache.cached(_literal_key(N, d, sigma, eta, steps), lambda: literal_gd(N, d, sigma, eta, steps=steps),
                        Trajectory, _LITERAL_DEPENDS)


#: What literal GD runs (the integrator's code is not part of its cache key).
_LITERAL_DEPENDS = ("model.quadrature", "model.checks", "model.exact", "model.cache", *(
    f"model.dynamics:{name}" for name in ("Trajectory", "_readout", "step", "direction", "_check", "_integer",
                                          "_record", "literal_gd")))
