"""Hostile input, fuzzed: every public function of ``model`` meets one corrupted argument at a time.

Each row of :data:`CASES` says how to build valid arguments cheaply and, for each argument, which bad
values to try (wrong shape or dtype, NaN/inf, non-unit vectors, d < 2, N < 1, bool/str/None sizes, xi
outside :data:`model.exact.DOMAIN`, eta <= 0, sigma <= 0, unknown law names, ...). The contract
(``model/errors.py``): the call raises a :class:`model.errors.CheckerError` whose one-line message names
the argument, never a bare TypeError/IndexError/RuntimeError from torch or numpy, and never returns.
Then extreme but valid inputs (xi up to 1e4, N = 4096, d = 512, the corners of DOMAIN) give finite values.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model.adversarial as adversarial
import model.attention as attention
import model.cache as cache
import model.dynamics as dynamics
import model.empirical as empirical
import model.exact as exact
import model.geometry as geometry
import model.laws as laws
import model.multiclass as multiclass
import model.multiclass_training as mct
import model.nearest as nearest
import model.prompt as prompt_mod
import model.quadrature as quadrature
import model.shift as shift
import model.symbolic as symbolic
import model.training as training
from model.errors import CheckerError, InvalidDimension
from model.prompt import BINARY, Prompt

F64 = torch.float64
#: The budget of one (function, argument) pair: bad values are cheap to reject, so a few dozen suffice.
FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
#: The budget of the Prompt/ClassPrompt constructor fuzz, which corrupts the arrays in many more ways.
FUZZ_ARRAYS = settings(FUZZ, max_examples=50)
#: Valid calls that must stay cheap enough for the default run (measured: all well below this).
SLOW_SECONDS = 10.0


@pytest.fixture(autouse=True, scope="module")
def _no_disk_cache() -> Iterator[None]:
    """A bad input that slipped through must not leave a cache entry behind."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ONENN_CACHE_DIR", "off")
        cache.clear_memory()
        yield
        cache.clear_memory()


# ---------------------------------------------------------------- valid arguments, built fresh per call


def _gen(seed: int = 7) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _prompt(batch: int = 2, n: int = 3, d: int = 3) -> Prompt:
    return laws.sample_training_prompts(batch, n, d, generator=_gen())


def _class_prompt(batch: int = 2, n: int = 3, d: int = 3, K: int = 3) -> multiclass.ClassPrompt:
    return mct.sample_class_law("uniform", batch, n, d, K, generator=_gen())


def _batch() -> mct.Batch:
    return mct.draw_prompts([_gen(1), _gen(2)], 2, 3, 3, 3)


# ---------------------------------------------------------------- bad values, by kind


NOT_REAL: list[Any] = [None, "1.0", True, complex(1, 1), [1.0], math.nan, math.inf, -math.inf]
NOT_INTEGER: list[Any] = [True, False, None, "3", 2.0, 2.5, math.nan, math.inf, np.float64(3.0)]
NOT_ARRAY: list[Any] = [None, "W", 1.0]


@dataclass(frozen=True)
class _Cached:
    """A cacheable value (model.cache stores dataclasses)."""

    value: float


BAD_DTYPES: list[Any] = [torch.int64, torch.float16, torch.complex128, torch.bool, "float64", np.float64, None]
BAD_GENERATORS: list[Any] = [None, 7, "seed", np.random.default_rng(0)]
BAD_NAMES: list[Any] = ["nope", "", None, 3, "UNIFORM"]

Bad = Callable[[Any], st.SearchStrategy[Any]]


def not_real(_: Any = None) -> st.SearchStrategy[Any]:
    return st.sampled_from(NOT_REAL)


def size_below(minimum: int) -> Bad:
    """Sizes that are not integers >= ``minimum`` (d < 2, N < 1, negative counts, bools, floats, str)."""
    return lambda _: st.one_of(st.integers(-(10**6), minimum - 1), st.sampled_from(NOT_INTEGER))


def not_positive(_: Any = None) -> st.SearchStrategy[Any]:
    """eta, sigma, B, ... <= 0, or not a finite real."""
    return st.one_of(not_real(), st.just(0.0), st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))


def outside(lo: float, hi: float) -> Bad:
    """Reals outside [lo, hi] (e.g. xi out of model.exact.DOMAIN), or not finite reals."""
    return lambda _: st.one_of(
        not_real(),
        st.floats(max_value=lo, exclude_max=True, allow_infinity=False),
        st.floats(min_value=hi, exclude_min=True, allow_infinity=False),
    )


def _poison(value: torch.Tensor, entry: float) -> torch.Tensor:
    bad = value.contiguous().clone()
    bad.view(-1)[0] = entry
    return bad


def bad_tensor(valid: Any) -> st.SearchStrategy[Any]:
    """A tensor (or ndarray) corrupted in shape, dtype or values, or something that is no array at all."""
    as_numpy = isinstance(valid, np.ndarray)
    value = torch.from_numpy(valid) if as_numpy else valid
    variants: list[torch.Tensor] = [
        value.unsqueeze(0).expand(2, *value.shape).clone(),  # one axis too many
        value.reshape(-1)[:-1],  # wrong shape, wrong length
        value[..., :-1],  # last axis one short
        value.to(torch.int64),
        value.to(torch.complex128),
        value.to(torch.bool),
        value.to(torch.float16),
        _poison(value, math.nan),
        _poison(value, math.inf),
        _poison(value, -math.inf),
    ]
    converted = [v.numpy() if as_numpy and v.dtype != torch.float16 else v for v in variants]
    return st.sampled_from([*converted, *NOT_ARRAY, value.tolist()])


def bad_values(valid: Any) -> st.SearchStrategy[Any]:
    """For elementwise numeric functions (any shape is valid, and so are ints): complex, bool, NaN/inf, no array."""
    value = np.asarray(valid, dtype=np.float64)
    poisoned = [value.copy() for _ in range(3)]
    for array, bad in zip(poisoned, (math.nan, math.inf, -math.inf), strict=True):
        array.flat[0] = bad
    return st.sampled_from([value.astype(np.complex128), value.astype(bool), *poisoned, None, "W"])


def bad_unit_rows(valid: Any) -> st.SearchStrategy[Any]:
    """Like :func:`bad_tensor`, plus vectors off the unit sphere (scaled, or zero)."""
    scaled = st.floats(0.0, 10.0).filter(lambda s: abs(s - 1.0) > 1e-6).map(lambda s: valid * s)
    return st.one_of(bad_tensor(valid), scaled)


def bad_prompt(_: Any = None) -> st.SearchStrategy[Any]:
    return st.sampled_from([None, 3, "prompt", torch.zeros(2, 3, 3, dtype=F64), _class_prompt()])


def bad_class_prompt(_: Any = None) -> st.SearchStrategy[Any]:
    return st.sampled_from([None, 3, "prompt", torch.zeros(2, 3, 3, dtype=F64), _prompt()])


def bad_generator(_: Any = None) -> st.SearchStrategy[Any]:
    return st.sampled_from(BAD_GENERATORS)


def bad_name(_: Any = None) -> st.SearchStrategy[Any]:
    return st.sampled_from(BAD_NAMES)


def bad_dtype(_: Any = None) -> st.SearchStrategy[Any]:
    return st.sampled_from(BAD_DTYPES)


def probability_outside(lo: float, hi: float) -> Bad:
    return outside(lo, hi)


REAL: Bad = not_real
POSITIVE: Bad = not_positive
N_SIZE = size_below(1)
D_SIZE = size_below(2)
COUNT = size_below(1)
XI1 = outside(*exact.DOMAIN["xi1"])
XI2 = outside(*exact.DOMAIN["xi2"])
N_DOMAIN: Bad = lambda _: st.one_of(size_below(1)(None), st.integers(1025, 10**6))  # noqa: E731
D_DOMAIN: Bad = lambda _: st.one_of(size_below(2)(None), st.integers(257, 10**6))  # noqa: E731


# ---------------------------------------------------------------- the table


class Case(NamedTuple):
    """A public function, its valid keyword arguments, and the bad values to try for each argument."""

    name: str
    fn: Callable[..., Any]
    valid: Callable[[], dict[str, Any]]
    bad: dict[str, Bad]


def _exact_case(name: str, fn: Callable[..., Any]) -> Case:
    return Case(
        name,
        fn,
        lambda: {"xi1": 1.0, "xi2": 0.5, "N": 2, "d": 3},
        {"xi1": XI1, "xi2": XI2, "N": N_DOMAIN, "d": D_DOMAIN},
    )


def _train_args() -> dict[str, Any]:
    return {"N": 2, "d": 2, "prompts": 4, "steps": 1, "batch": 2, "eta": 0.1, "init_scale": 0.1, "seed": 0}


_TRAIN_BAD: dict[str, Bad] = {
    "N": N_SIZE, "d": D_SIZE, "prompts": COUNT, "steps": COUNT, "batch": COUNT, "eta": POSITIVE,
    "init_scale": REAL, "seed": size_below(0), "per_decade": COUNT,
}


def _runs_args() -> dict[str, Any]:
    return {"N": 2, "d": 2, "K": 2, "noises": [mct.Noise(0.0)], "seeds": [0], "steps": 1, "batch": 2,
            "eta": 0.1, "sigma": 1.0}


_RUNS_BAD: dict[str, Bad] = {
    "N": N_SIZE, "d": D_SIZE, "K": size_below(2), "steps": COUNT, "batch": COUNT, "eta": POSITIVE, "sigma": REAL,
    "per_decade": COUNT, "noises": lambda _: st.sampled_from([None, [], [0.1], [mct.Noise(math.nan)], "eps"]),
    "seeds": lambda _: st.sampled_from([None, [], [-1], [1.5], ["0"], [True]]),
}


def _flow_args(length: str) -> Callable[[], dict[str, Any]]:
    return lambda: {"N": 2, "d": 3, "sigma": 1.0, "eta": 0.05, length: 1}


def _flow_bad(length: str) -> dict[str, Bad]:
    return {"N": N_DOMAIN, "d": D_DOMAIN, "sigma": POSITIVE, "eta": POSITIVE,
            length: COUNT if length == "t_max" else size_below(0)}


CASES: list[Case] = [
    # model.attention
    Case("attention.family_W", attention.family_W, lambda: {"xi1": 1.0, "xi2": 0.5, "d": 3},
         {"xi1": REAL, "xi2": REAL, "d": D_SIZE, "dtype": bad_dtype}),
    Case("attention.init_W", attention.init_W, lambda: {"sigma": 1.0, "d": 3},
         {"sigma": POSITIVE, "d": D_SIZE, "dtype": bad_dtype}),
    Case("attention.family_predict", attention.family_predict, lambda: {"prompt": _prompt(), "xi1": 1.0, "xi2": 0.5},
         {"prompt": bad_prompt, "xi1": REAL, "xi2": REAL}),
    Case("attention.predict", attention.predict, lambda: {"prompt": _prompt(), "W": attention.family_W(1.0, 0.5, 3)},
         {"prompt": bad_prompt, "W": bad_tensor}),
    Case("attention.predict_factorised", attention.predict_factorised,
         lambda: {"prompt": _prompt(), "W_K": torch.ones(2, 5, dtype=F64), "W_Q": torch.ones(2, 5, dtype=F64)},
         {"prompt": bad_prompt, "W_K": bad_tensor, "W_Q": bad_tensor}),
    Case("attention.embed", attention.embed, lambda: {"prompt": _prompt()}, {"prompt": bad_prompt}),
    Case("attention.query_scores", attention.query_scores,
         lambda: {"H": attention.embed(_prompt()), "W": attention.family_W(1.0, 0.5, 3)},
         # one column fewer is a valid H (N - 1 examples), so that variant is left out
         {"H": lambda v: bad_tensor(v).filter(
             lambda x: not (isinstance(x, torch.Tensor) and x.shape == (*v.shape[:-1], v.shape[-1] - 1))),
          "W": bad_tensor}),
    Case("attention.AttentionLayer", attention.AttentionLayer, lambda: {"W": attention.family_W(1.0, 0.5, 3)},
         {"W": bad_tensor}),
    # model.prompt
    Case("prompt.Prompt", Prompt, lambda: {"x": _prompt().x, "y": _prompt().y, "xq": _prompt().xq},
         {"x": bad_unit_rows, "xq": bad_unit_rows,
          "y": lambda v: st.one_of(bad_tensor(v), st.sampled_from([v * 2, v * 0, v * 0.5])),
          "labels": lambda _: st.sampled_from([None, "binary", 1.0]),
          "unit_tol": lambda _: st.sampled_from([v for v in NOT_REAL if v is not None] + [-1.0, 1e9])}),
    Case("prompt.LabelSpace", prompt_mod.LabelSpace, lambda: {"kind": "bounded", "bound": 2.0},
         {"kind": bad_name, "bound": POSITIVE}),
    Case("prompt.bounded", prompt_mod.bounded, lambda: {"bound": 2.0}, {"bound": POSITIVE}),
    Case("prompt.as_float_tensor", prompt_mod.as_float_tensor,
         lambda: {"value": torch.ones(2, dtype=F64), "name": "value"},
         {"value": lambda v: st.sampled_from([v.to(torch.int64), v.to(torch.bool), v.to(torch.complex128),
                                              v.numpy().astype(np.int32), [1.0], None]),
          "dtype": lambda _: st.sampled_from([torch.int64, torch.bool, "float64"])}),
    Case("prompt.check_finite", prompt_mod.check_finite, lambda: {"value": torch.ones(3, dtype=F64), "name": "value"},
         {"value": lambda v: st.sampled_from([_poison(v, math.nan), _poison(v, math.inf), _poison(v, -math.inf)])}),
    Case("prompt.check_real", prompt_mod.check_real, lambda: {"value": 1.0, "name": "value"}, {"value": REAL}),
    Case("prompt.check_size", prompt_mod.check_size, lambda: {"value": 3, "name": "value", "minimum": 2},
         {"value": size_below(2)}),
    Case("prompt.check_unit_rows", prompt_mod.check_unit_rows,
         lambda: {"value": _prompt().x, "name": "value"},
         {"value": lambda v: st.floats(0.0, 10.0).filter(lambda s: abs(s - 1) > 1e-6).map(lambda s: v * s),
          "tol": lambda _: st.sampled_from([math.nan, -1.0, "1e-9", math.inf])}),
    Case("prompt.check_prompt", prompt_mod.check_prompt, lambda: {"value": _prompt(), "name": "value"},
         {"value": bad_prompt}),
    # model.nearest
    *[Case(f"nearest.{f.__name__}", f, lambda: {"prompt": _prompt()}, {"prompt": bad_prompt})
      for f in (nearest.inner_products, nearest.margin, nearest.nearest, nearest.runner_up_gap)],
    # model.laws
    Case("laws.prompt_generator", laws.prompt_generator, lambda: {"base": 1, "index": 2},
         {"base": lambda _: st.sampled_from(NOT_INTEGER), "index": lambda _: st.sampled_from(NOT_INTEGER)}),
    Case("laws.sample_training_prompts", laws.sample_training_prompts,
         lambda: {"batch": 2, "n": 3, "d": 3, "generator": _gen()},
         {"batch": COUNT, "n": N_SIZE, "d": D_SIZE, "generator": bad_generator, "dtype": bad_dtype}),
    Case("laws.uniform_sphere", laws.uniform_sphere, lambda: {"shape": (2, 3), "d": 3, "generator": _gen()},
         {"shape": lambda _: st.sampled_from([None, 3, (2, -1), (2.0,), ("2",), (True,)]), "d": D_SIZE,
          "generator": bad_generator, "dtype": bad_dtype}),
    # model.exact
    *[_exact_case(f"exact.{f.__name__}", f) for f in (
        exact.eq14_expectation, exact.expectation_pieces, exact.population, exact.population_grad,
        exact.population_grad_with_error, exact.population_loss, exact.population_loss_with_error)],
    Case("exact.population(rtol, grid)", exact.population, lambda: {"xi1": 1.0, "xi2": 0.5, "N": 2, "d": 3},
         {"rtol": outside(1e-13, 1.0), "grid": lambda _: st.sampled_from(
             [3, "grid", exact.Grid(np.array([[0.0, 1.0]]), 0, 0), exact.Grid(np.array([[0.0, math.pi]]), -1, 0)])}),
    Case("exact.log_normaliser", exact.log_normaliser, lambda: {"d": 3}, {"d": D_SIZE}),
    Case("exact.angle_log_density", exact.angle_log_density, lambda: {"angle": np.array([0.5, 1.0]), "d": 3},
         {"angle": bad_values, "d": D_SIZE}),
    Case("exact.tau_cdf", exact.tau_cdf, lambda: {"t": np.array([0.0, 0.5]), "d": 3},
         # +-inf is a valid t (F = 0 or 1)
         {"t": lambda v: bad_values(v).filter(lambda x: not (isinstance(x, np.ndarray) and x.dtype == np.float64
                                                             and not np.isnan(x).any())),
          "d": D_SIZE}),
    # model.dynamics
    Case("dynamics.checkpoints", dynamics.checkpoints, lambda: {"t_max": 100, "per_decade": 4},
         {"t_max": COUNT, "per_decade": COUNT}),
    Case("dynamics.direction", dynamics.direction, lambda: {"xi1": 1.0, "xi2": 0.5, "N": 2, "d": 3},
         {"xi1": XI1, "xi2": XI2, "N": N_DOMAIN, "d": D_DOMAIN,
          "grid": lambda _: st.sampled_from([3, "grid"]), "on_grid": lambda _: st.just(True)}),
    Case("dynamics.flow", dynamics.flow, _flow_args("t_max"),
         {**_flow_bad("t_max"), "record": lambda _: st.sampled_from([np.array([5]), np.array([]), "1", [0.5]]),
          "rtol": outside(1e-13, 1e-6)}),
    Case("dynamics.literal_gd", dynamics.literal_gd, _flow_args("steps"),
         {**_flow_bad("steps"), "record": lambda _: st.sampled_from([np.array([5]), np.array([]), "1", [0.5]])}),
    Case("dynamics.literal_trajectory", dynamics.literal_trajectory, _flow_args("steps"), _flow_bad("steps")),
    Case("dynamics.trajectory", dynamics.trajectory, _flow_args("t_max"), {**_flow_bad("t_max"), "per_decade": COUNT}),
    Case("dynamics.trajectories", dynamics.trajectories, lambda: {"runs": [(2, 3, 1.0, 0.05, 1)], "jobs": 1},
         {"runs": lambda _: st.sampled_from([None, [(2, 3, 1.0)], [(0, 3, 1.0, 0.05, 1)], [(2, 3, -1.0, 0.05, 1)],
                                              [(2, 3, 1.0, 0.05, 0)], ["run"]]),
          "jobs": lambda _: st.one_of(st.integers(-(10**6), 0), st.sampled_from([True, 2.5, "2", math.nan])),
          "per_decade": COUNT}),
    Case("dynamics.step", dynamics.step,
         lambda: {"x": np.array([1.0, 0.5]), "grad1": -0.1, "grad2": 0.1, "eta": 0.05, "d": 3},
         # x is any real point (xi1, xi2) (a list, ints, lower precision are fine): these are not
         {"x": lambda v: st.sampled_from([np.array([1.0, 0.5, 0.0]), np.array([[1.0, 0.5]]), np.array([1.0]),
                                          np.array([np.nan, 0.5]), np.array([1.0, np.inf]), v.astype(np.complex128),
                                          np.array([True, False]), None, "x", [1.0, "a"]]),
          "grad1": REAL, "grad2": REAL, "eta": POSITIVE, "d": D_SIZE}),
    # model.empirical
    Case("empirical.empirical_loss", empirical.empirical_loss,
         lambda: {"prompt": _prompt(), "W": attention.family_W(1.0, 0.5, 3)}, {"prompt": bad_prompt, "W": bad_tensor}),
    Case("empirical.full_gradient", empirical.full_gradient,
         lambda: {"prompt": _prompt(), "W": attention.family_W(1.0, 0.5, 3)}, {"prompt": bad_prompt, "W": bad_tensor}),
    Case("empirical.family_gradient", empirical.family_gradient,
         lambda: {"prompt": _prompt(), "xi1": 1.0, "xi2": 0.5}, {"prompt": bad_prompt, "xi1": REAL, "xi2": REAL}),
    Case("empirical.sign_patterns", empirical.sign_patterns, lambda: {"d": 3}, {"d": D_SIZE}),
    Case("empirical.symmetrise", empirical.symmetrise, lambda: {"prompt": _prompt()}, {"prompt": bad_prompt}),
    # model.geometry
    Case("geometry.expected_exp_gap", geometry.expected_exp_gap, lambda: {"xi": 1.0, "N": 2, "d": 3},
         {"xi": REAL, "N": N_SIZE, "d": D_SIZE}),
    Case("geometry.expected_max_tau", geometry.expected_max_tau, lambda: {"N": 2, "d": 3},
         {"N": N_SIZE, "d": D_SIZE}),
    Case("geometry.prob_max_at_most", geometry.prob_max_at_most, lambda: {"x": 0.5, "N": 2, "d": 3},
         {"x": REAL, "N": N_SIZE, "d": D_SIZE}),
    # model.shift
    Case("shift.c10_bound", shift.c10_bound,
         lambda: {"xi1": 1.0, "xi2": 0.5, "N": 3, "B": 1.0, "margins": np.array([0.1, 0.2, math.inf]), "alpha": 0.05},
         {"xi1": lambda _: st.one_of(not_real(), st.floats(max_value=0.0, exclude_max=True, allow_infinity=False)),
          "xi2": REAL, "N": N_SIZE, "B": POSITIVE, "alpha": outside(0.0, 0.5),
          "margins": lambda v: st.sampled_from([np.array([]), np.array([-0.1]), np.array([math.nan]), v[None], None,
                                                v.astype(np.complex128), "0.1"])}),
    Case("shift.dkw_epsilon", shift.dkw_epsilon, lambda: {"n": 10, "alpha": 0.05},
         {"n": COUNT, "alpha": outside(0.0, 0.5)}),
    Case("shift.error_lower_bound", shift.error_lower_bound,
         lambda: {"errors": np.array([0.1, 0.5, 1.0]), "bound": 1.0, "alpha": 0.05},
         {"errors": lambda v: st.sampled_from([np.array([]), v[None], np.array([math.nan]), np.array([math.inf]),
                                               np.array([-0.1]), np.array([100.0]), None, "W", v.astype(complex)]),
          "bound": POSITIVE, "alpha": outside(0.0, 0.5)}),
    Case("shift.margins_of", shift.margins_of, lambda: {"prompt": _prompt()}, {"prompt": bad_prompt}),
    Case("shift.target_labels", shift.target_labels, lambda: {"prompt": _prompt()}, {"prompt": bad_prompt}),
    Case("shift.Errors", shift.Errors, lambda: {"prompt": _prompt()}, {"prompt": bad_prompt}),
    Case("shift.squared_errors", shift.squared_errors, lambda: {"prompt": _prompt(), "xi1": 1.0, "xi2": 0.5},
         {"prompt": bad_prompt, "xi1": REAL, "xi2": REAL}),
    Case("shift.sample_law", shift.sample_law,
         lambda: {"law": "antipodal", "batch": 2, "n": 3, "d": 3, "generator": _gen()},
         {"law": bad_name, "batch": COUNT, "n": N_SIZE, "d": D_SIZE, "generator": bad_generator,
          "spread": POSITIVE}),
    Case("shift.sample_law(separated)", shift.sample_law,
         lambda: {"law": "separated", "batch": 2, "n": 3, "d": 3, "generator": _gen()},
         {"delta": outside(0.0, 2.0), "bound": POSITIVE}),
    # model.adversarial
    Case("adversarial.TestLaw", adversarial.TestLaw, lambda: {"N": 3, "d": 3},
         {"N": N_SIZE, "d": D_SIZE, "clusters": lambda _: st.one_of(size_below(1)(None), st.integers(17, 10**6)),
          "spread": POSITIVE, "query": bad_name, "jitter": lambda _: st.one_of(not_real(), st.just(-1.0)),
          "labels": bad_name, "p": outside(0.0, 1.0), "B": POSITIVE}),
    Case("adversarial.sample", adversarial.sample,
         lambda: {"law": adversarial.TestLaw(3, 3), "batch": 2, "generator": _gen()},
         {"law": lambda _: st.sampled_from([None, "mixture", (3, 3)]), "batch": COUNT, "generator": bad_generator}),
    # model.multiclass
    Case("multiclass.ClassPrompt", multiclass.ClassPrompt,
         lambda: {"x": _prompt().x, "classes": torch.tensor([[0, 1, 2], [2, 1, 0]]), "xq": _prompt().xq, "K": 3},
         {"x": bad_unit_rows, "xq": bad_unit_rows, "K": size_below(2),
          "classes": lambda v: st.sampled_from([v + 3, v - 1, v.to(F64), v.to(torch.bool), v[:, :-1], v[None],
                                                None, "0"])}),
    Case("multiclass.argmax_class", multiclass.argmax_class, lambda: {"logits": torch.ones(2, 3, dtype=F64)},
         {"logits": lambda v: st.sampled_from([_poison(v, math.nan), _poison(v, math.inf), v.to(torch.int64),
                                               v.to(torch.complex128), v.to(torch.bool), v[:, :1], None, v.tolist()])}),
    Case("multiclass.binary_weight", multiclass.binary_weight,
         lambda: {"W_mc": multiclass.family_W(1.0, 0.5, 3, 2), "d": 3}, {"W_mc": bad_tensor, "d": D_SIZE}),
    Case("multiclass.distance_to_family", multiclass.distance_to_family,
         lambda: {"W": multiclass.family_W(1.0, 0.5, 3, 3), "d": 3, "K": 3},
         {"W": bad_tensor, "d": D_SIZE, "K": size_below(2)}),
    Case("multiclass.family_projection", multiclass.family_projection,
         lambda: {"W": multiclass.family_W(1.0, 0.5, 3, 3), "d": 3, "K": 3},
         {"W": bad_tensor, "d": D_SIZE, "K": size_below(2)}),
    Case("multiclass.embed", multiclass.embed, lambda: {"prompt": _class_prompt()}, {"prompt": bad_class_prompt}),
    Case("multiclass.family_W", multiclass.family_W, lambda: {"xi1": 1.0, "xi2": 0.5, "d": 3, "K": 3},
         {"xi1": REAL, "xi2": REAL, "d": D_SIZE, "K": size_below(2), "dtype": bad_dtype}),
    Case("multiclass.family_predict", multiclass.family_predict,
         lambda: {"prompt": _class_prompt(), "xi1": 1.0, "xi2": 0.5},
         {"prompt": bad_class_prompt, "xi1": REAL, "xi2": REAL}),
    Case("multiclass.predict", multiclass.predict,
         lambda: {"prompt": _class_prompt(), "W": multiclass.family_W(1.0, 0.5, 3, 3)},
         {"prompt": bad_class_prompt, "W": bad_tensor}),
    Case("multiclass.nearest_class", multiclass.nearest_class, lambda: {"prompt": _class_prompt()},
         {"prompt": bad_class_prompt}),
    Case("multiclass.population_loss", multiclass.population_loss,
         lambda: {"xi1": 1.0, "xi2": 0.5, "N": 2, "d": 3, "K": 3},
         {"xi1": XI1, "xi2": XI2, "N": N_DOMAIN, "d": D_DOMAIN, "K": size_below(2)}),
    Case("multiclass.simplex_codes", multiclass.simplex_codes, lambda: {"K": 3},
         {"K": size_below(2), "dtype": bad_dtype}),
    Case("multiclass.simplex_codes_exact", multiclass.simplex_codes_exact, lambda: {"K": 3}, {"K": size_below(2)}),
    # model.training
    Case("training.checkpoint_steps", training.checkpoint_steps, lambda: {"steps": 100, "per_decade": 4},
         {"steps": COUNT, "per_decade": COUNT}),
    Case("training.minibatch_loss", training.minibatch_loss,
         lambda: {"prompt": _prompt(), "targets": torch.ones(2, dtype=F64), "W": attention.family_W(1.0, 0.5, 3)},
         {"prompt": bad_prompt, "targets": bad_tensor, "W": bad_tensor}),
    Case("training.minibatch_gradient", training.minibatch_gradient,
         lambda: {"prompt": _prompt(), "targets": torch.ones(2, dtype=F64), "W": attention.family_W(1.0, 0.5, 3)},
         {"prompt": bad_prompt, "targets": bad_tensor, "W": bad_tensor}),
    Case("training.sgd_step", training.sgd_step,
         lambda: {"W": torch.ones(5, 5, dtype=F64), "gradient": torch.ones(5, 5, dtype=F64), "eta": 0.1},
         {"W": bad_tensor, "gradient": bad_tensor, "eta": POSITIVE}),
    Case("training.smoother_predict", training.smoother_predict, lambda: {"prompt": _prompt(), "beta": 1.0},
         {"prompt": bad_prompt, "beta": lambda _: st.one_of(not_real(), st.just(-1.0))}),
    Case("training.tune_bandwidth", training.tune_bandwidth, lambda: {"validation": _prompt(), "betas": (0.0, 1.0)},
         {"validation": bad_prompt, "betas": lambda _: st.sampled_from([(), (math.nan,), (-1.0,), ("1",), None])}),
    Case("training.train", training.train, _train_args, _TRAIN_BAD),
    Case("training.cached_train", training.cached_train, _train_args, _TRAIN_BAD),
    # model.multiclass_training
    Case("multiclass_training.sample_class_law", mct.sample_class_law,
         lambda: {"law": "separated", "batch": 2, "N": 3, "d": 3, "K": 3, "generator": _gen()},
         {"law": bad_name, "batch": COUNT, "N": N_SIZE, "d": D_SIZE, "K": size_below(2), "generator": bad_generator,
          "delta": outside(0.0, 2.0)}),
    Case("multiclass_training.draw_prompts", mct.draw_prompts,
         lambda: {"generators": [_gen(1)], "count": 2, "N": 3, "d": 3, "K": 3},
         {"generators": lambda _: st.sampled_from([None, [], [None], [3], _gen()]), "count": COUNT, "N": N_SIZE,
          "d": D_SIZE, "K": size_below(2)}),
    Case("multiclass_training.class_margin", mct.class_margin, lambda: {"prompt": _class_prompt()},
         {"prompt": bad_class_prompt}),
    Case("multiclass_training.initial_weights", mct.initial_weights,
         lambda: {"noises": [mct.Noise(0.1)], "Z": torch.zeros(1, 7, 7, dtype=F64), "d": 3, "K": 3, "sigma": 1.0},
         {"noises": lambda _: st.sampled_from([None, [], [0.1], [mct.Noise(math.nan)]]), "Z": bad_tensor,
          "d": D_SIZE, "K": size_below(2), "sigma": REAL}),
    Case("multiclass_training.batch_loss", mct.batch_loss,
         lambda: {"W": multiclass.family_W(0.0, 1.0, 3, 3).expand(1, 2, 7, 7).clone(), "prompts": _batch()},
         {"W": bad_tensor, "prompts": lambda _: st.sampled_from([None, _prompt(), "batch"])}),
    Case("multiclass_training.batch_gradient", mct.batch_gradient,
         lambda: {"W": multiclass.family_W(0.0, 1.0, 3, 3).expand(1, 2, 7, 7).clone(), "prompts": _batch()},
         {"W": bad_tensor, "prompts": lambda _: st.sampled_from([None, _prompt(), "batch"])}),
    Case("multiclass_training.sgd_step", mct.sgd_step,
         lambda: {"W": torch.ones(1, 1, 7, 7, dtype=F64), "gradient": torch.ones(1, 1, 7, 7, dtype=F64), "eta": 0.1},
         {"W": bad_tensor, "gradient": bad_tensor, "eta": POSITIVE}),
    Case("multiclass_training.train_runs", mct.train_runs, _runs_args, _RUNS_BAD),
    Case("multiclass_training.cached_runs", mct.cached_runs, _runs_args, _RUNS_BAD),
    # model.quadrature
    Case("quadrature.panel_nodes", quadrature.panel_nodes, lambda: {"edges": np.array([0.0, 0.5, 1.0])},
         {"edges": lambda v: st.one_of(bad_values(v), st.just(v[::-1].copy()), st.just(v[:1].copy()))}),
    Case("quadrature.kronrod_error", quadrature.kronrod_error,
         lambda: {"kronrod": np.array([1.0, 2.0]), "gauss": np.array([1.0, 2.1])},
         {"kronrod": bad_values, "gauss": bad_values}),
    Case("quadrature.trapezoid_error", quadrature.trapezoid_error,
         lambda: {"fine": np.array([1.0, 2.0]), "coarse": np.array([1.0, 2.1])},
         {"fine": bad_values, "coarse": bad_values}),
    # model.symbolic
    Case("symbolic.aw26_normaliser_integral", symbolic.aw26_normaliser_integral, lambda: {"d": 3},
         {"d": lambda _: st.sampled_from([1, 0, -3, True, 2.0, 2.5, None, "3"])}),  # a huge |d| takes minutes
    # model.cache
    Case("cache.entry_name", cache.entry_name, lambda: {"key": {"a": 1}},
         {"key": lambda _: st.sampled_from([None, "a", [1], {"a": object()}, {1: 2}, {"a": math.nan}]),
          "depends": lambda _: st.sampled_from([None, "model.exact", ("no.such.module",), (3,)])}),
    Case("cache.fingerprint", cache.fingerprint, lambda: {},
         {"depends": lambda _: st.sampled_from([None, "model.exact", ("no.such.module",), (3,)])}),
    Case("cache.lookup", cache.lookup, lambda: {"key": {"a": 1}, "cls": dynamics.Trajectory},
         {"key": lambda _: st.sampled_from([None, "a", {"a": object()}]),
          "cls": lambda _: st.sampled_from([None, "Trajectory", int])}),
    Case("cache.cached", cache.cached, lambda: {"key": {"a": 1}, "compute": lambda: _Cached(1.0), "cls": _Cached},
         {"key": lambda _: st.sampled_from([None, "a", {"a": object()}]),
          "compute": lambda _: st.sampled_from([None, 1.0]),
          "cls": lambda _: st.sampled_from([None, "float", float])}),
]

#: The (function, argument) pairs that return or crash on bad input today: the lead fixes them (see report).
#: Bugs found by this file and not fixed yet: (function, argument) -> reason (a strict xfail each). All 72 pairs
#: found on 2026-11-26 are fixed; a new one goes here with file:line until it is.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _pairs() -> list[Any]:
    pairs = []
    for case in CASES:
        for argument in case.bad:
            marks = []
            reason = KNOWN_BUGS.get((case.name, argument))
            if reason is not None:
                marks.append(pytest.mark.xfail(strict=True, reason=f"BUG: {reason}"))
            pairs.append(pytest.param(case, argument, marks=marks, id=f"{case.name}-{argument}"))
    return pairs


#: Words a message may use for an argument instead of its name (a list argument is named by its items).
ALIASES: dict[str, tuple[str, ...]] = {
    "noises": ("noise", "eps"),
    "labels": ("label",),
    "margins": ("margin",),
    "seeds": ("seed",),
    "betas": ("beta",),
    "runs": ("run", "n =", "sigma", "eta", "t_max"),
    "bound": ("label bound b",),
    "B": ("label bound b",),
    "W_mc": ("w",),
    "law": ("law",),
}


def _names_the_argument(message: str, argument: str) -> bool:
    words = message.lower()
    return any(name.lower() in words for name in (argument, *ALIASES.get(argument, ())))


def _rejects(case: Case, argument: str, value: Any) -> None:
    """Call ``case`` with ``argument`` = ``value``: a named CheckerError with a one-line message naming it."""
    kwargs = {**case.valid(), argument: value}
    with pytest.raises(CheckerError) as raised:
        result = case.fn(**kwargs)
        raise AssertionError(f"{case.name}({argument}={value!r}) returned {result!r}")
    message = str(raised.value)
    assert message and "\n" not in message and _names_the_argument(message, argument), message


@pytest.mark.parametrize(("case", "argument"), _pairs())
@FUZZ
@given(data=st.data())
def test_a_bad_argument_raises_a_named_error_naming_it(case: Case, argument: str, data: st.DataObject) -> None:
    _rejects(case, argument, data.draw(case.bad[argument](case.valid().get(argument)), label=argument))


def _lax_sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan  # planted: no validation, NaN for bad input


@pytest.mark.parametrize(
    ("fn", "value", "caught"),
    [
        (_lax_sqrt, -1.0, AssertionError),  # returns NaN instead of raising
        (lambda x: math.sqrt(x), -1.0, ValueError),  # a bare builtin error, not a CheckerError
        (lambda x: prompt_mod.check_real(x, "y"), math.nan, AssertionError),  # named error, wrong name
    ],
    ids=["returns-nan", "bare-error", "message-names-another-argument"],
)
def test_the_harness_catches_a_lax_function(fn: Callable[[float], float], value: float, caught: type) -> None:
    with pytest.raises(caught):
        _rejects(Case("planted", fn, lambda: {"x": 1.0}, {"x": not_real}), "x", value)


@FUZZ_ARRAYS
@given(batch=st.integers(1, 3), n=st.integers(0, 3), d=st.integers(0, 3))
def test_a_prompt_needs_n_at_least_1_and_d_at_least_2(batch: int, n: int, d: int) -> None:
    """Shapes consistent with each other but outside the setup: InvalidDimension, never a bare error."""
    if n >= 1 and d >= 2:
        d = 1  # the valid corner is another test's business: move it out of the setup
    unit = torch.zeros(d, dtype=F64)
    if d:
        unit[0] = 1.0
    x, xq = unit.expand(batch, n, d).clone(), unit.expand(batch, d).clone()  # (B, N, d), (B, d)
    with pytest.raises(InvalidDimension, match=r"N >= 1|d >= 2"):
        Prompt(x, torch.ones(batch, n, dtype=F64), xq, BINARY)


# ---------------------------------------------------------------- extreme but valid inputs

#: The largest prompt of the issue: N = 4096 examples in d = 512, a batch of 2 (32 MB in float64).
BIG_N, BIG_D, BIG_BATCH = 4096, 512, 2
#: |xi1|, |xi2| up to this many: scores reach 1e4, so the softmax saturates to a one-hot.
XI_MAX = 1e4
EXTREME = settings(FUZZ, max_examples=12)


@pytest.fixture(scope="module")
def big_prompt() -> Prompt:
    return laws.sample_training_prompts(BIG_BATCH, BIG_N, BIG_D, generator=_gen(2026))


@EXTREME
@given(xi1=st.floats(-XI_MAX, XI_MAX), xi2=st.floats(-XI_MAX, XI_MAX))
def test_family_predict_is_finite_up_to_xi_1e4(big_prompt: Prompt, xi1: float, xi2: float) -> None:
    result = attention.family_predict(big_prompt, xi1, xi2)
    assert bool(torch.isfinite(result.y_hat).all() and torch.isfinite(result.weights).all()), (xi1, xi2)


@EXTREME
@given(xi1=st.sampled_from([-XI_MAX, 0.0, XI_MAX]), xi2=st.sampled_from([-XI_MAX, 0.0, XI_MAX]))
def test_predict_is_finite_up_to_xi_1e4(big_prompt: Prompt, xi1: float, xi2: float) -> None:
    result = attention.predict(big_prompt, attention.family_W(xi1, xi2, BIG_D))
    assert bool(torch.isfinite(result.y_hat).all() and torch.isfinite(result.weights).all()), (xi1, xi2)


def test_the_big_prompt_has_the_issues_sizes(big_prompt: Prompt) -> None:
    assert (big_prompt.batch, big_prompt.n, big_prompt.d) == (BIG_BATCH, BIG_N, BIG_D)


_CORNERS = [(xi1, xi2, N, d) for xi1 in exact.DOMAIN["xi1"] for xi2 in exact.DOMAIN["xi2"]
            for N in exact.DOMAIN["N"] for d in exact.DOMAIN["d"]]


@pytest.mark.parametrize(("xi1", "xi2", "N", "d"), _CORNERS)
def test_population_is_finite_at_the_corners_of_its_domain(xi1: float, xi2: float, N: int, d: int) -> None:
    result = exact.population(xi1, xi2, int(N), int(d))
    values = [result.loss, result.grad_xi1, result.grad_xi2, result.eq14, result.sum_q2, result.q_star,
              result.one_minus_q_star, result.q0, *result.errors.values()]
    assert all(math.isfinite(v) for v in values), result


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_valid_arguments_of_the_table_are_valid(case: Case) -> None:
    start = time.perf_counter()
    case.fn(**case.valid())
    assert time.perf_counter() - start < SLOW_SECONDS
