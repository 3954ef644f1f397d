"""Testing the tester: the strategies of :mod:`properties.strategies` shrink to their documented
minimal examples, falsify planted false properties, yield valid prompts, and validate their arguments.

References: the module docstring of :mod:`properties.strategies` (its minimal examples and the
adversarial families it promises), the tie rule of :mod:`model.nearest` (TIE_TOL), and the model
S2 of :mod:`model.attention` for the label-flip property. Following Hypothesis's own tests, each
false property is a ``find`` that must succeed, and each documented minimal example is what
``find(strategy, <always true>)`` shrinks to.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import assume, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

import properties.strategies as strategies
from model.attention import predict
from model.errors import InvalidParameter
from model.nearest import TIE_TOL, nearest, runner_up_gap
from model.prompt import BINARY, Prompt, bounded
from properties.matrices import XI_MAX, family_params, orthogonal_matrices, prompts_with_weights, weight_matrices
from properties.settings import PROFILES
from properties.strategies import (
    adversarial_prompts,
    antipodal_prompts,
    boundary_prompts,
    circle_prompts,
    clustered_prompts,
    duplicated_prompts,
    large_prompts,
    prompts,
    query_on_example_prompts,
    single_example_prompts,
    tied_prompts,
    uniform_prompts,
    unit_vectors,
)

#: Budget of every ``find``: minimal examples and planted false properties (derandomised, no database).
FIND = settings(database=None, derandomize=True, max_examples=2000)
#: Budget of the universal (``@given``) properties: the project's ``ci`` profile.
CI = PROFILES["ci"]
#: The same profile with fewer examples, for the per-family sweep (nine families, long prompts among them).
PER_FAMILY = settings(CI, max_examples=40)

#: | ||x|| - 1 | allowed for the strategies' points: the module docstring promises "a few ulps"
#: (one normalisation in float64); 1e-12 is ~4500 ulps, far below model.prompt's 1e-9 acceptance.
UNIT_TOL = 1e-12
#: The near-tie the planted property "gaps are 0 or >= 1e-9" must be broken by (NEAR_TIE_GAPS has 1e-12).
NEAR_TIE = 1e-9
#: Spread below which a prompt counts as clustered (CLUSTER_RADII reach 1e-9).
SPREAD = 1e-3
#: |y_hat(y) + y_hat(-y)| above which the label-flip identity is broken: float64 rounding of y_hat
#: with |y| <= 1e3 labels is ~1e-13, while a non-zero label row of W moves y_hat by O(1e-1).
FLIP_SLACK = 1e-9

PROMPT_FAMILIES: dict[str, Callable[..., st.SearchStrategy[Prompt]]] = {
    "uniform_prompts": uniform_prompts,
    "single_example_prompts": single_example_prompts,
    "circle_prompts": circle_prompts,
    "tied_prompts": tied_prompts,
    "duplicated_prompts": duplicated_prompts,
    "query_on_example_prompts": query_on_example_prompts,
    "antipodal_prompts": antipodal_prompts,
    "clustered_prompts": clustered_prompts,
    "large_prompts": large_prompts,
    "boundary_prompts": boundary_prompts,
    "free_prompts": strategies.free_prompts,
}


def _always(_: object) -> bool:
    return True


def _minimal(strategy: st.SearchStrategy[Any]) -> Any:
    """What ``strategy`` shrinks to: the documented minimal example."""
    return find(strategy, _always, settings=FIND)


def _counterexample(strategy: st.SearchStrategy[Any], violates: Callable[[Any], bool]) -> Any | None:
    """The minimal example violating a property that should hold, or None when the budget finds none."""
    try:
        return find(strategy, violates, settings=FIND)
    except NoSuchExample:
        return None


def _sorted_taus(prompt: Prompt) -> torch.Tensor:
    return torch.sort(nearest(prompt).tau[0], descending=True).values  # (N,)


def _points(prompt: Prompt) -> torch.Tensor:
    return torch.cat([prompt.x[0], prompt.xq], dim=0)  # (N+1, d)


def _label_flip_broken(pair: tuple[Prompt, np.ndarray]) -> bool:
    prompt, W = pair
    Wt = torch.tensor(W, dtype=torch.float64)  # (d+2, d+2)
    flipped = Prompt(prompt.x, -prompt.y, prompt.xq, prompt.labels)
    total = predict(prompt, Wt).y_hat + predict(flipped, Wt).y_hat  # (1,)
    return float(total.abs().max()) > FLIP_SLACK


# --- 1. documented minimal examples -------------------------------------------------------------------


def test_prompts_shrink_to_documented_minimal_example() -> None:
    p = _minimal(prompts())
    rng = np.random.default_rng(0)  # "generator seed 0": x_1, x_q are its first two Gaussian points, normalised
    z = rng.standard_normal((2, 2))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    assert (p.n, p.d, p.labels, p.y.tolist(), p.x[0].tolist(), p.xq.tolist()) == (
        1,
        2,
        BINARY,
        [[1.0]],
        z[:1].tolist(),
        z[1:].tolist(),
    )


def test_family_params_shrink_to_zero() -> None:
    assert _minimal(family_params()) == (0.0, 0.0)


def test_weight_matrices_shrink_to_zero_matrix() -> None:
    W = _minimal(weight_matrices(d=3))
    assert W.shape == (5, 5) and W.dtype == np.float64 and not W.any()


def test_unit_vectors_shrink_to_first_axis() -> None:
    assert _minimal(unit_vectors(d=4)).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_orthogonal_matrices_shrink_to_identity() -> None:
    assert _minimal(orthogonal_matrices(d=3)).tolist() == np.eye(3).tolist()


# --- 2. shrinking heads to small N and d --------------------------------------------------------------


def test_long_prompts_shrink_to_smallest_length_on_the_circle() -> None:
    p = find(prompts(), lambda p: p.n >= 5, settings=FIND)
    assert (p.n, p.d) == (5, 2)


def test_high_dimensional_prompts_shrink_to_smallest_dimension_and_one_example() -> None:
    p = find(prompts(), lambda p: p.d >= 4, settings=FIND)
    assert (p.n, p.d) == (1, 4)


# --- 3. planted false properties the strategies must falsify ------------------------------------------


def test_falsifies_nearest_neighbour_is_unique() -> None:
    p = find(adversarial_prompts(), lambda p: int(nearest(p).tied.sum()) >= 2, settings=FIND)
    assert int(nearest(p).tied.sum()) >= 2


def test_falsifies_runner_up_gap_is_tie_or_at_least_near_tie() -> None:
    p = find(tied_prompts(), lambda p: 0.0 < float(runner_up_gap(p)[0]) < NEAR_TIE, settings=FIND)
    assert 0.0 < float(runner_up_gap(p)[0]) < NEAR_TIE


def test_falsifies_query_never_equals_an_example() -> None:
    p = find(query_on_example_prompts(), lambda p: bool((p.x[0] == p.xq).all(dim=1).any()), settings=FIND)
    assert bool((p.x[0] == p.xq).all(dim=1).any())


def test_falsifies_no_two_examples_are_antipodal() -> None:
    def antipodal(p: Prompt) -> bool:
        x = p.x[0]  # (N, d)
        return bool((x[:, None, :] == -x[None, :, :]).all(dim=2).any())

    assert antipodal(find(antipodal_prompts(), antipodal, settings=FIND))


def test_falsifies_all_examples_are_distinct() -> None:
    def duplicated(p: Prompt) -> bool:
        x = p.x[0]  # (N, d)
        equal = (x[:, None, :] == x[None, :, :]).all(dim=2)  # (N, N), the diagonal always
        return int(equal.sum()) > p.n

    assert duplicated(find(duplicated_prompts(), duplicated, settings=FIND))


def test_falsifies_prompts_are_short() -> None:
    assert find(prompts(large=True), lambda p: p.n >= 256, settings=FIND).n == 256


def test_falsifies_dimension_above_two() -> None:
    assert find(prompts(), lambda p: p.d == 2, settings=FIND).d == 2


def test_falsifies_points_are_spread() -> None:
    def spread(p: Prompt) -> float:
        points = _points(p)  # (N+1, d)
        return float(torch.cdist(points, points).max())

    assert spread(find(clustered_prompts(), lambda p: spread(p) <= SPREAD, settings=FIND)) <= SPREAD


@pytest.mark.parametrize(
    ("index", "extreme"), [(0, XI_MAX), (1, XI_MAX), (1, -XI_MAX)], ids=["xi1=1e4", "xi2=1e4", "xi2=-1e4"]
)
def test_family_params_reach_extreme_xi(index: int, extreme: float) -> None:
    assert find(family_params(), lambda xi: xi[index] == extreme, settings=FIND)[index] == extreme


def test_falsifies_label_flip_identity_for_every_W() -> None:
    prompt, W = find(prompts_with_weights(), _label_flip_broken, settings=FIND)
    d = prompt.d
    # the identity y_hat(-y) = -y_hat(y) holds whenever the label row of W (row d) is zero against h_q
    assert W[d, :d].any() or W[d, d + 1] != 0.0


# --- 4. validity of every prompt ----------------------------------------------------------------------


def _is_valid_b1_prompt(p: Prompt) -> bool:
    norms = torch.linalg.vector_norm(_points(p), dim=1)  # (N+1,)
    if p.labels.kind == "binary":
        labels_ok = bool(((p.y == 1.0) | (p.y == -1.0)).all())
    else:
        labels_ok = bool((p.y.abs() <= p.labels.bound).all())
    return (
        isinstance(p, Prompt)
        and p.dtype == torch.float64
        and p.y.dtype == p.xq.dtype == torch.float64
        and p.batch == 1
        and float((norms - 1.0).abs().max()) <= UNIT_TOL
        and labels_ok
    )


@CI
@given(prompts(labels=None))
def test_prompts_are_valid_float64_unit_prompts_of_batch_one(p: Prompt) -> None:
    assert _is_valid_b1_prompt(p), (p.dtype, p.batch, p.labels, p.y)


@pytest.mark.parametrize("name", list(PROMPT_FAMILIES))
def test_every_family_yields_valid_float64_unit_prompts_of_batch_one(name: str) -> None:
    @PER_FAMILY
    @given(PROMPT_FAMILIES[name]())
    def check(p: Prompt) -> None:
        assert _is_valid_b1_prompt(p), (name, p.dtype, p.batch, p.labels, p.y)

    check()


@CI
@given(prompts(labels=bounded(2.0)))
def test_bounded_label_space_bounds_every_label(p: Prompt) -> None:
    assert p.labels == bounded(2.0) and float(p.y.abs().max()) <= 2.0


@CI
@given(st.integers(2, 6).flatmap(lambda d: unit_vectors(d=d)))
def test_unit_vectors_lie_on_the_sphere(v: np.ndarray) -> None:
    assert abs(float(np.linalg.norm(v)) - 1.0) <= UNIT_TOL


@CI
@given(st.integers(2, 6).flatmap(lambda d: orthogonal_matrices(d=d)))
def test_orthogonal_matrices_are_orthogonal(Q: np.ndarray) -> None:
    assert np.abs(Q.T @ Q - np.eye(Q.shape[0])).max() <= UNIT_TOL


@CI
@given(prompts_with_weights(max_abs=10.0))
def test_weight_matrices_match_the_prompt_and_respect_max_abs(pair: tuple[Prompt, np.ndarray]) -> None:
    prompt, W = pair
    assert W.shape == (prompt.d + 2, prompt.d + 2) and W.dtype == np.float64 and np.abs(W).max() <= 10.0


# --- 5. exact ties are detected by model.nearest ------------------------------------------------------


def test_tied_prompts_can_build_an_exact_tie() -> None:
    p = find(tied_prompts(), lambda p: int(nearest(p).tied.sum()) >= 2, settings=FIND)
    assert int(nearest(p).tied.sum()) >= 2


def test_exact_ties_built_with_gap_zero_are_detected() -> None:
    # The gap-0 branch places exactly one point with _at_tau (its partner is the mirror image);
    # the near-tie branch places two. Counting the calls identifies the branch of each draw.
    taus: list[float] = []
    original = strategies._at_tau

    def recording(q: np.ndarray, u: np.ndarray, tau: float) -> np.ndarray:
        taus.append(tau)
        return original(q, u, tau)

    @CI
    @given(st.data())
    def check(data: st.DataObject) -> None:
        taus.clear()
        p = data.draw(tied_prompts())
        assume(len(taus) == 1)
        top = _sorted_taus(p)  # (N,)
        assert int(nearest(p).tied.sum()) >= 2, f"tau_1 - tau_2 = {float(top[0] - top[1])!r} > TIE_TOL = {TIE_TOL!r}"

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(strategies, "_at_tau", recording)
        check()


def test_near_tie_partner_lies_above_every_other_example() -> None:
    def partner_tied_with_rest(p: Prompt) -> bool:
        top = _sorted_taus(p)  # (N,)
        return p.n >= 3 and float(top[1] - top[2]) <= TIE_TOL

    p = _counterexample(tied_prompts(), partner_tied_with_rest)
    assert p is None, f"N = {p.n}, d = {p.d}, top taus {_sorted_taus(p)[:3].tolist()}"


# --- 6. argument validation ---------------------------------------------------------------------------


def _draw(make: Callable[[], st.SearchStrategy[Any]]) -> Any:
    """Build the strategy and draw once: composite strategies validate only at draw time."""
    return find(make(), _always, settings=FIND)


BAD_ARGUMENTS: list[Any] = [
    pytest.param(lambda: prompts(n_max=0), "n_max", id="prompts-n_max=0"),
    pytest.param(lambda: prompts(d_max=1), "d_max", id="prompts-d_max=1"),
    pytest.param(lambda: prompts(labels="binary"), "labels", id="prompts-labels=str"),
    pytest.param(lambda: uniform_prompts(n_max=0), "n_max", id="uniform-n_max=0"),
    pytest.param(lambda: uniform_prompts(d_max=1), "d_max", id="uniform-d_max=1"),
    pytest.param(lambda: uniform_prompts(n_max=True), "n_max", id="uniform-n_max=True"),
    pytest.param(lambda: uniform_prompts(labels="binary"), "labels", id="uniform-labels=str"),
    pytest.param(lambda: single_example_prompts(d_max=1), "d_max", id="single-d_max=1"),
    pytest.param(lambda: circle_prompts(n_max=0), "n_max", id="circle-n_max=0"),
    pytest.param(lambda: tied_prompts(n_max=1), "n_max", id="tied-n_max=1"),
    pytest.param(lambda: duplicated_prompts(n_max=1), "n_max", id="duplicated-n_max=1"),
    pytest.param(lambda: antipodal_prompts(n_max=1), "n_max", id="antipodal-n_max=1"),
    pytest.param(lambda: query_on_example_prompts(labels="binary"), "labels", id="query_on_example-labels=str"),
    pytest.param(lambda: clustered_prompts(labels="binary"), "labels", id="clustered-labels=str"),
    pytest.param(lambda: large_prompts(labels="binary"), "labels", id="large-labels=str"),
    pytest.param(lambda: family_params(xi1_max=-1), "xi1_max", id="family-xi1_max=-1"),
    pytest.param(lambda: family_params(xi2_min=2, xi2_max=1), "xi2_min", id="family-xi2_min>xi2_max"),
    pytest.param(lambda: family_params(xi1_max=math.nan), "xi1_max", id="family-xi1_max=nan"),
    pytest.param(lambda: family_params(xi2_min=math.nan), "xi2_min", id="family-xi2_min=nan"),
    pytest.param(lambda: family_params(xi2_max=math.inf), "xi2_max", id="family-xi2_max=inf"),
    pytest.param(lambda: weight_matrices(d=1), "d", id="weights-d=1"),
    pytest.param(lambda: weight_matrices(d=3, max_abs=0), "max_abs", id="weights-max_abs=0"),
    pytest.param(lambda: weight_matrices(d=3, max_abs=math.nan), "max_abs", id="weights-max_abs=nan"),
    pytest.param(lambda: prompts_with_weights(max_abs=-1.0), "max_abs", id="prompts_with_weights-max_abs<0"),
    pytest.param(lambda: unit_vectors(d=1), "d", id="unit_vectors-d=1"),
    pytest.param(lambda: orthogonal_matrices(d=1), "d", id="orthogonal-d=1"),
]

BAD_ARGUMENTS += [
    pytest.param(lambda: tied_prompts(d_max=1), "d_max", id="tied-d_max=1"),
    pytest.param(lambda: duplicated_prompts(d_max=1), "d_max", id="duplicated-d_max=1"),
    pytest.param(lambda: antipodal_prompts(d_max=1), "d_max", id="antipodal-d_max=1"),
    pytest.param(lambda: query_on_example_prompts(n_max=0), "n_max", id="query_on_example-n_max=0"),
    pytest.param(lambda: query_on_example_prompts(d_max=1), "d_max", id="query_on_example-d_max=1"),
    pytest.param(lambda: clustered_prompts(n_max=0), "n_max", id="clustered-n_max=0"),
    pytest.param(lambda: clustered_prompts(d_max=1), "d_max", id="clustered-d_max=1"),
    pytest.param(lambda: large_prompts(d_max=1), "d_max", id="large-d_max=1"),
]


@pytest.mark.parametrize(("make", "argument"), BAD_ARGUMENTS)
def test_bad_argument_is_rejected_naming_it(make: Callable[[], st.SearchStrategy[Any]], argument: str) -> None:
    with pytest.raises(InvalidParameter, match=rf"\b{argument}\b"):
        _draw(make)


def test_boundary_prompts_put_every_other_example_at_one_gap_with_the_opposite_label() -> None:
    @given(boundary_prompts())
    @settings(CI, max_examples=50)
    def check(p: Prompt) -> None:
        ref = nearest(p)
        others = ~ref.tied[0]
        assert int(ref.tied[0].sum()) == 1 and bool((p.y[0][others] == -ref.label[0]).all())
        gaps = (ref.tau_star[0] - ref.tau[0][others]).tolist()
        assert max(gaps) - min(gaps) <= 1e-12

    check()


def test_strategy_bounds_are_enforced() -> None:
    with pytest.raises(InvalidParameter, match=r"n_max must be an integer >= 1 and <= 1024"):
        prompts(n_max=10**6)
    with pytest.raises(InvalidParameter, match=r"\|xi1_max\| <= 1e\+12"):
        family_params(xi1_max=1e308)
