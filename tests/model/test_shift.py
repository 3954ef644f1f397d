"""model.shift: the test laws, Theorem 2's explicit bound with its inf over delta, and the confidence bands."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import model.shift as shift
from model.attention import family_predict
from model.errors import InvalidDimension, InvalidParameter, NonFiniteValue
from model.nearest import nearest


def _sample(law: str, batch: int = 400, seed: int = 5, **options: float) -> object:
    return shift.sample_law(law, batch, 16, 8, generator=torch.Generator().manual_seed(seed), **options)


def test_separated_law_is_separated_with_bounded_labels() -> None:
    prompt = _sample("separated", delta=0.7, bound=2.0)
    margins = shift.margins_of(prompt)  # type: ignore[arg-type]
    assert float(margins.min()) >= 0.7  # every prompt lies in A_{delta*}
    assert float(prompt.y.abs().max()) <= 2.0  # type: ignore[attr-defined]
    ref = nearest(prompt)  # type: ignore[arg-type]
    assert torch.allclose(ref.tau_star, torch.ones_like(ref.tau_star))  # the query is one of the examples


def test_antipodal_law_puts_the_nearest_neighbour_far_away() -> None:
    ref = nearest(_sample("antipodal", spread=0.5))  # type: ignore[arg-type]
    assert float(ref.tau_star.mean()) < -0.5 and float(ref.tau_star.max()) < 0.5  # the cap around -x_q


def test_prompt_i_does_not_depend_on_the_batch() -> None:
    for law in shift.LAWS:
        small, large = _sample(law, batch=3), _sample(law, batch=7)
        assert torch.equal(small.x, large.x[:3]) and torch.equal(small.xq, large.xq[:3])  # type: ignore[attr-defined]


def test_errors_are_the_family_prediction_against_the_nearest_label() -> None:
    prompt = _sample("uniform")
    errors = shift.Errors(prompt)  # type: ignore[arg-type]
    for xi in ((0.0, 3.0), (30.0, 47.0), (267.0, 260.0)):
        direct = ((family_predict(prompt, *xi).y_hat - nearest(prompt).label) ** 2).numpy()  # type: ignore[arg-type]
        assert np.array_equal(errors(*xi), direct)


def _brute_force(xi1: float, xi2: float, N: int, B: float, margins: np.ndarray, alpha: float) -> float:
    eps = shift.dkw_epsilon(margins.size, alpha)
    best = math.inf
    for delta in np.concatenate([np.linspace(1e-6, 4.0, 20001), [1e9]]):
        p = min(1.0, float(np.mean(margins < delta)) + eps)
        first = B**2 * (2 * N * math.exp(-xi1 * delta / 2) + math.exp(2 * xi1 - xi2)) ** 2
        best = min(best, first + (2 * B) ** 2 * p)
    return best


@pytest.mark.parametrize(("xi1", "xi2"), [(0.0, 3.0), (12.0, 47.0), (40.0, 100.0), (60.0, 40.0)])
def test_the_inf_over_delta_is_exact(xi1: float, xi2: float) -> None:
    rng = np.random.default_rng(3)
    margins = np.concatenate([rng.uniform(0, 1.5, 300) ** 2, np.zeros(5), np.full(20, np.inf)])
    result = shift.c10_bound(xi1, xi2, 16, 1.0, margins, 1e-3)
    brute = _brute_force(xi1, xi2, 16, 1.0, margins, 1e-3)
    assert result.value <= brute * (1 + 1e-12)  # never above a grid over delta ...
    assert result.value >= brute - 1e-3 * max(brute, 1.0)  # ... and not below the true inf (grid step 2e-4)


def test_the_bound_is_trivial_without_margins_and_never_nan() -> None:
    result = shift.c10_bound(0.0, 0.0, 4, 1.0, np.zeros(10), 0.01)
    assert result.value >= 4.0 and math.isfinite(result.value)  # no prompt in any A_delta: >= (2B)^2
    huge = shift.c10_bound(500.0, 10.0, 4, 1.0, np.ones(10), 0.01)
    assert huge.value == math.inf  # e^{2 xi1 - xi2} overflows: a vacuous bound, not NaN


def test_hoeffding_lower_bound() -> None:
    errors = np.full(10_000, 0.5)
    assert shift.error_lower_bound(errors, 1.0, 1e-4) == pytest.approx(0.5 - 4 * math.sqrt(math.log(1e4) / 2e4))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: shift.sample_law("gaussian", 2, 4, 3, generator=torch.Generator()), "law"),
        (lambda: shift.sample_law("separated", 2, 4, 3, generator=torch.Generator(), delta=2.5), "delta"),
        (lambda: shift.sample_law("separated", 2, 4, 3, generator=torch.Generator(), bound=-1.0), "bound"),
        (lambda: shift.sample_law("antipodal", 2, 4, 3, generator=torch.Generator(), spread=0.0), "spread"),
        (lambda: shift.sample_law("uniform", 2, 4, 1, generator=torch.Generator()), "d"),
        (lambda: shift.sample_law("uniform", 2, 4, 3, generator=None), "generator"),  # type: ignore[arg-type]
        (lambda: shift.dkw_epsilon(10, 0.5), "alpha"),
        (lambda: shift.dkw_epsilon(0, 0.1), "n"),
        (lambda: shift.c10_bound(-1.0, 0.0, 4, 1.0, np.ones(3), 0.1), "xi1"),
        (lambda: shift.c10_bound(1.0, 0.0, 4, 0.0, np.ones(3), 0.1), "B"),
        (lambda: shift.c10_bound(1.0, 0.0, 4, 1.0, np.array([-0.1]), 0.1), "margins"),
        (lambda: shift.c10_bound(1.0, 0.0, 4, 1.0, np.array([np.nan]), 0.1), "margins"),
        (lambda: shift.c10_bound(1.0, 0.0, 4, 1.0, np.ones((2, 2)), 0.1), "margins"),
        (lambda: shift.error_lower_bound(np.array([5.0]), 1.0, 0.1), "2B"),
        (lambda: shift.error_lower_bound(np.array([]), 1.0, 0.1), "errors"),
        (lambda: shift.error_lower_bound(np.array([np.nan]), 1.0, 0.1), "NaN"),
    ],
)
def test_bad_input_is_named(call: object, match: str) -> None:
    with pytest.raises((InvalidParameter, InvalidDimension, NonFiniteValue), match=match):
        call()  # type: ignore[operator]
