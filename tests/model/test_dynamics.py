"""GD on the family (model.dynamics) and the trajectory cache (model.cache).

The integrator is validated against literal GD here for 1e3 steps (``verify``'s S7.flow does 1e4,
``benchmarks/bench_dynamics.py`` 1e5).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import model.cache as cache
import model.dynamics as dynamics
import model.exact as exact
from model.errors import InvalidParameter, NonFiniteValue, QuadratureDidNotConverge
from properties import faults

N, D, SIGMA = 16, 8, 3.0


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONENN_CACHE_DIR", str(tmp_path))
    cache.clear_memory()


@pytest.fixture(scope="module")
def pair() -> tuple[dynamics.Trajectory, dynamics.Trajectory]:
    flow = dynamics.flow(N, D, SIGMA, t_max=1000)
    literal = dynamics.literal_gd(N, D, SIGMA, steps=1000, record=flow.t)
    return literal, flow


def test_flow_follows_literal_gd_for_1e3_steps(pair: tuple[dynamics.Trajectory, dynamics.Trajectory]) -> None:
    literal, flow = pair
    assert np.array_equal(literal.t, flow.t) and flow.t[-1] == 1000
    for name in ("xi1", "xi2", "loss", "grad1", "grad2"):
        a, b = getattr(literal, name), getattr(flow, name)
        scale = np.where(a != 0, np.abs(a), 1.0)
        assert np.max(np.abs(a - b) / scale) <= 1e-8, name
    assert flow.literal_steps < 10 and flow.gradients < literal.gradients  # the flow did the work
    assert 0 <= flow.truncation <= dynamics.TRUNCATION


def test_literal_gd_is_the_recursion_of_the_read_out() -> None:
    run = dynamics.literal_gd(4, 3, 2.0, eta=0.5, steps=3)
    for k in range(3):
        result = exact.population(float(run.xi1[k]), float(run.xi2[k]), 4, 3)
        x = dynamics.step(np.array([run.xi1[k], run.xi2[k]]), result.grad_xi1, result.grad_xi2, 0.5, 3)
        assert x[0] == run.xi1[k + 1] and x[1] == run.xi2[k + 1]
    assert run.xi1[1] == pytest.approx(-0.5 * run.grad1[0] / 3, rel=1e-15)  # the 1/d of C1.readout
    assert run.xi1[0] == 0.0 and run.xi2[0] == 2.0


def _gap(a: dynamics.Trajectory, b: dynamics.Trajectory) -> float:
    return max(float(np.max(np.abs(getattr(a, k) - getattr(b, k)) / np.maximum(np.abs(getattr(b, k)), 1e-300)))
               for k in ("xi1", "xi2", "loss"))


def test_large_eta_takes_literal_steps_then_the_flow() -> None:
    flow = dynamics.flow(4, 4, 3.0, eta=5.0, t_max=600)
    literal = dynamics.literal_gd(4, 4, 3.0, eta=5.0, steps=600, record=flow.t)
    assert 0 < flow.literal_steps < 600 and _gap(flow, literal) <= 1e-8


def test_flow_gives_way_to_literal_steps_and_resumes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, original = [0], dynamics._Field.__call__

    def once(self: object, u: float, x: np.ndarray) -> np.ndarray:
        calls[0] += 1
        if calls[0] == 40:  # one refusal in mid-run, as a cut above TRUNCATION would give
            raise dynamics.FlowDidNotConverge("planted")
        return original(self, u, x)  # type: ignore[arg-type]

    monkeypatch.setattr(dynamics._Field, "__call__", once)
    flow = dynamics.flow(4, 4, 3.0, t_max=1000)
    literal = dynamics.literal_gd(4, 4, 3.0, steps=1000, record=flow.t)
    assert flow.meta["fallbacks"] == 1 and flow.literal_steps > 0 and _gap(flow, literal) <= 1e-8


@pytest.mark.slow  # benchmarks/bench_dynamics.py reruns at rtol / 100 to t = 1e9
def test_flow_rtol_changes_little() -> None:
    coarse = dynamics.flow(4, 4, SIGMA, t_max=10_000, rtol=1e-9)
    fine = dynamics.flow(4, 4, SIGMA, t_max=10_000, rtol=1e-11)
    assert np.max(np.abs(coarse.xi1[1:] - fine.xi1[1:]) / fine.xi1[1:]) < 1e-7


def test_checkpoints() -> None:
    grid = dynamics.checkpoints(1000)
    assert grid[0] == 0 and grid[-1] == 1000 and np.all(np.diff(grid) > 0)
    assert {1, 10, 100, 1000} <= set(grid.tolist()) and len(grid) == 29  # 1.26 and 1.58 round to 1, 2: duplicates merge
    assert dynamics.checkpoints(7, per_decade=1).tolist() == [0, 1, 7]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: dynamics.literal_gd(0, 8, 1.0, steps=1), "N"),
        (lambda: dynamics.literal_gd(4, 1, 1.0, steps=1), "d"),
        (lambda: dynamics.literal_gd(4, 3, 0.0, steps=1), "sigma"),
        (lambda: dynamics.literal_gd(4, 3, math.nan, steps=1), "sigma"),  # NonFiniteValue
        (lambda: dynamics.literal_gd(4, 3, 1.0, -0.1, steps=1), "eta"),
        (lambda: dynamics.literal_gd(4, 3, 1.0, math.inf, steps=1), "eta"),
        (lambda: dynamics.literal_gd(4, 3, 2e3, steps=1), "sigma"),
        (lambda: dynamics.literal_gd(4, 3, 1.0, steps=-1), "steps"),
        (lambda: dynamics.literal_gd(4, 3, 1.0, steps=2, record=np.array([5])), "record"),
        (lambda: dynamics.flow(4, 3, 1.0, t_max=0), "t_max"),
        (lambda: dynamics.flow(4, 3, 1.0, t_max=10, rtol=1e-3), "rtol"),
        (lambda: dynamics.flow(4, 3, 1.0, t_max=10, record=np.array([11])), "record"),
        (lambda: dynamics.flow(4, 3, 1.0, t_max=10, record=np.array([0.7])), "record"),
        (lambda: dynamics.flow(4, 3, 1.0, t_max=2.5, record=np.array([1])), "t_max"),  # type: ignore[arg-type]
        (lambda: dynamics.literal_gd(4, 3, 1.0, steps=3, record=np.array([[1]])), "record"),
        (lambda: dynamics.checkpoints(10, per_decade=0), "per_decade"),
        (lambda: dynamics.direction(1.0, 1.0, 4, 3, on_grid=True), "grid"),
    ],
)
def test_bad_input_is_named(call: object, match: str) -> None:
    with pytest.raises((InvalidParameter, NonFiniteValue), match=match):
        call()  # type: ignore[operator]


def test_flow_that_cannot_follow_gd_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamics, "MAX_LITERAL", 3)
    with pytest.raises(dynamics.FlowDidNotConverge, match="literal steps"):  # still too fast after 3 steps
        dynamics.flow(4, 4, 1.0, eta=200.0, t_max=100)


def test_trajectory_cache_round_trip(tmp_path: object) -> None:
    first = dynamics.trajectory(4, 3, 2.0, t_max=20)
    files = list(cache.cache_dir().glob("trajectory-*.npz"))  # type: ignore[union-attr]
    assert len(files) == 1
    cache.clear_memory()
    second = dynamics.trajectory(4, 3, 2.0, t_max=20)
    assert second is not first and second.seconds == first.seconds  # read back, not recomputed
    assert np.array_equal(first.xi1, second.xi1) and second.meta == first.meta and second.method == "flow"


def test_corrupt_cache_entry_is_recomputed() -> None:
    first = dynamics.trajectory(4, 3, 2.0, t_max=10)
    (path,) = cache.cache_dir().glob("trajectory-*.npz")  # type: ignore[union-attr]
    path.write_bytes(b"not an npz")
    cache.clear_memory()
    again = dynamics.trajectory(4, 3, 2.0, t_max=10)
    assert np.array_equal(first.xi2, again.xi2)


def test_truncated_cache_entry_is_recomputed() -> None:
    first = dynamics.trajectory(4, 3, 2.0, t_max=10)
    (path,) = cache.cache_dir().glob("trajectory-*.npz")  # type: ignore[union-attr]
    path.write_bytes(path.read_bytes()[:100])  # a zip cut short: BadZipFile, not a crash
    cache.clear_memory()
    assert np.array_equal(dynamics.trajectory(4, 3, 2.0, t_max=10).xi1, first.xi1)


def test_fingerprint_is_the_same_in_a_new_process() -> None:
    # a key that changed between processes would silently recompute every cached trajectory (seen once: a
    # library default's repr carried a memory address)
    # (a frozenset constant's repr follows the hash seed: the seeds differ on purpose)
    code = ("from model import cache; import model.dynamics; print(cache.fingerprint(), "
            "cache._constant_bytes(frozenset({'alpha', 'beta', 'gamma', 'delta', 'xi1', 'xi2'})))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2", "3")}
    assert len(outputs) == 1 and next(iter(outputs)).startswith(cache.fingerprint())


def test_fingerprint_sees_defaults_and_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache.fingerprint()
    monkeypatch.setitem(exact.DOMAIN, "N", (1, 2048))
    assert cache.fingerprint() != before
    monkeypatch.undo()
    monkeypatch.setattr(dynamics.flow, "__kwdefaults__", {**dynamics.flow.__kwdefaults__, "rtol": 1e-9})
    assert cache.fingerprint() != before


def test_cache_off_and_unwritable(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ONENN_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    dynamics.trajectory(4, 3, 2.0, t_max=20)
    blocked = tmp_path / "file"  # type: ignore[operator]
    blocked.write_text("x")
    monkeypatch.setenv("ONENN_CACHE_DIR", str(blocked / "sub"))  # a directory below a file cannot exist
    cache.clear_memory()
    assert dynamics.trajectory(4, 3, 2.0, t_max=20).t[-1] == 20


def test_fingerprint_follows_planted_faults() -> None:
    before = cache.fingerprint()
    literal = cache.fingerprint(dynamics._LITERAL_DEPENDS)
    with faults.get("integrator_without_error_control").applied():
        assert cache.fingerprint() != before
        assert cache.fingerprint(dynamics._LITERAL_DEPENDS) == literal  # literal GD does not run the integrator
    with faults.get("readout_without_1_over_d").applied():
        assert cache.fingerprint(dynamics._LITERAL_DEPENDS) != literal
    assert cache.fingerprint() == before


def test_grid_reuse_and_fixed_grid() -> None:
    cold = exact.population(20.0, 25.0, 16, 8)
    warm = exact.population(20.001, 25.0, 16, 8, grid=cold.grid)
    fresh = exact.population(20.001, 25.0, 16, 8)
    assert warm.loss == pytest.approx(fresh.loss, rel=1e-10)
    assert warm.grad_xi1 == pytest.approx(fresh.grad_xi1, rel=1e-10)
    fixed = exact.population_on_grid(20.001, 25.0, 16, 8, cold.grid)
    assert fixed.grid.panels is cold.grid.panels and fixed.loss == pytest.approx(fresh.loss, rel=1e-10)
    coarse = exact.Grid(np.array([[0.0, math.pi]]), 0, 0)
    with pytest.raises(QuadratureDidNotConverge, match="on the given grid"):
        exact.population_on_grid(20.0, 25.0, 16, 8, coarse)
    assert exact.population(20.0, 25.0, 16, 8, grid=coarse).loss == pytest.approx(cold.loss, rel=1e-10)


@pytest.mark.parametrize(
    "grid",
    [
        "panels",
        exact.Grid(np.array([[0.0, 1.0]]), 0, 0),  # does not tile [0, pi]
        exact.Grid(np.array([[1.0, 0.0], [0.0, math.pi]]), 0, 0),
        exact.Grid(np.array([[0.0, math.pi]]), 9, 0),
        exact.Grid(np.zeros((0, 2)), 0, 0),
    ],
)
def test_bad_grid_is_named(grid: object) -> None:
    with pytest.raises(InvalidParameter, match="grid"):
        exact.population(1.0, 1.0, 4, 3, grid=grid)  # type: ignore[arg-type]


SMALL_RUNS = [(4, 3, 2.0, 0.05, 200), (5, 3, 2.0, 0.05, 200), (4, 3, 2.0, 0.05, 200)]  # a repeat is computed once


def test_parallel_runs_equal_serial_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    parallel = dynamics.trajectories(SMALL_RUNS, jobs=2)
    assert len(list(cache.cache_dir().glob("trajectory-*.npz"))) == 2  # type: ignore[union-attr]
    assert parallel[0].xi1 is parallel[2].xi1
    monkeypatch.setenv("ONENN_CACHE_DIR", "off")
    cache.clear_memory()
    serial = dynamics.trajectories(SMALL_RUNS, jobs=1)
    for a, b in zip(parallel, serial, strict=True):  # bit for bit: same computation, one thread or two processes
        assert np.array_equal(a.xi1, b.xi1) and np.array_equal(a.xi2, b.xi2) and np.array_equal(a.loss, b.loss)


def test_workers_decline_when_the_callers_code_differs() -> None:
    # a spawned worker imports the code from disk, without the caller's planted fault: it must not spend time on
    # a run the caller cannot use (its result would be keyed by the worker's own code); the caller computes it
    job = ("flow", (4, 3, 2.0, 0.05, 20))
    assert dynamics._worker(job, dynamics.PER_DECADE, {"flow": "another fingerprint"}) == "declined"
    assert not list(cache.cache_dir().glob("trajectory-*.npz"))  # type: ignore[union-attr]
    with faults.get("integrator_without_error_control").applied():
        faulty = dynamics.trajectories(SMALL_RUNS[:2], jobs=2)
    assert len(list(cache.cache_dir().glob("trajectory-*.npz"))) == 2  # type: ignore[union-attr] # not 4
    cache.clear_memory()
    sound = dynamics.trajectories(SMALL_RUNS[:2], jobs=2)
    assert not np.array_equal(faulty[0].xi1, sound[0].xi1)  # the fault was in force, not served from a worker
    assert dynamics._worker(job, dynamics.PER_DECADE, {"flow": cache.fingerprint()}) == "done"  # the same code
    bad = ("flow", (4, 3, 2000.0, 0.05, 20))  # sigma out of range: raises inside the worker, reported as failed
    assert dynamics._worker(bad, dynamics.PER_DECADE, {"flow": cache.fingerprint()}) == "failed"


def test_jobs_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONENN_JOBS", "3")
    assert dynamics.default_jobs() == 3
    for bad in ("0", "two", "1.5"):
        monkeypatch.setenv("ONENN_JOBS", bad)
        with pytest.raises(InvalidParameter, match="ONENN_JOBS"):
            dynamics.default_jobs()
    with pytest.raises(InvalidParameter, match="jobs"):
        dynamics.trajectories(SMALL_RUNS, jobs=0)


def test_a_second_process_waits_for_the_entry_being_computed() -> None:
    # while this process holds an entry's lock, another process asking for it waits, then reads what was written
    key = dynamics._flow_key(4, 3, 2.0, 0.05, 300, dynamics.PER_DECADE)
    name, text = cache.entry_name(key)
    path = cache._path(name, dynamics.Trajectory)
    planted = dynamics.trajectory(4, 3, 2.0, t_max=30)  # a stand-in: different values under the real key
    code = ("import model.dynamics as d; print('ready', flush=True); r = d.trajectory(4, 3, 2.0, t_max=300); "
            "print(r.t[-1], r.seconds)")
    with cache._locked(path):
        process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                                   env={**os.environ, "ONENN_JOBS": "1"})
        try:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
            time.sleep(1.0)  # from "ready" to the lock is a few milliseconds of work
            assert process.poll() is None  # it waits (without the lock it would compute its own run)
            cache._store(path, planted, text)  # type: ignore[arg-type]
        except BaseException:
            process.kill()
            raise
    out = process.communicate(timeout=120)[0].split()
    assert out == ["30", repr(planted.seconds)]  # it read the planted entry instead of computing its own


def test_bad_runs_are_named() -> None:
    for bad in ([(4, 3, 2.0, 0.05)], [7], [(4, 3, 2.0, 0.05, 0)]):
        with pytest.raises(InvalidParameter, match=r"run|t_max"):
            dynamics.trajectories(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="per_decade"):
        dynamics.trajectories([(4, 3, 2.0, 0.05, 10)], per_decade=0)
    for job in [("fast", (4, 3, 2.0, 0.05, 10)), ("literal", (4, 3, 2.0, 0.05, -1)), "flow"]:
        with pytest.raises(InvalidParameter, match=r"job|steps"):
            dynamics.prefetch([job])  # type: ignore[list-item]


def test_prefetch_computes_flow_and_literal_runs_side_by_side() -> None:
    jobs = [("literal", (4, 3, 2.0, 0.05, 50)), ("flow", (4, 3, 2.0, 0.05, 50))]
    assert dynamics.prefetch(jobs, jobs_limit=2) == 2
    assert len(list(cache.cache_dir().glob("trajectory-*.npz"))) == 2  # type: ignore[union-attr]
    assert dynamics.prefetch(jobs, jobs_limit=2) == 0  # both cached now
    literal = dynamics.literal_trajectory(4, 3, 2.0, steps=50)
    assert literal.method == "literal" and literal.t.size == 51


@pytest.mark.parametrize(("N", "d", "sigma", "eta", "steps"), [(16, 8, 3.0, 1.0, 300), (32, 32, 56.0, 0.05, 200)])
def test_flow_follows_literal_gd_off_the_main_setting(N: int, d: int, sigma: float, eta: float, steps: int) -> None:
    # the claims also use eta = 1 and the grid's corner (32, 32): the flow must follow GD there too
    flow = dynamics.flow(N, d, sigma, eta, t_max=steps)
    literal = dynamics.literal_gd(N, d, sigma, eta, steps=steps, record=flow.t)
    for name in ("xi1", "xi2", "loss"):
        truth, values = getattr(literal, name), getattr(flow, name)
        assert np.max(np.abs(values - truth) / np.maximum(np.abs(truth), 1e-300)) <= 1e-8, name
