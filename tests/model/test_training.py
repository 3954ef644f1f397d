"""model.training: SGD on the full W (claim E1's runs) and the softmax kernel smoother baseline."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import model.attention as attention
import model.cache as cache
import model.shift as shift
import model.training as training
from model.empirical import full_gradient
from model.errors import InvalidDimension, InvalidParameter, NonFiniteValue
from model.laws import sample_training_prompts
from model.nearest import nearest

SEED = 5
#: A tiny run: 64 prompts, 16 a step, 200 steps (0.1 s).
TINY: dict[str, Any] = {"prompts": 64, "steps": 200, "batch": 16, "eta": 5.0, "init_scale": 0.1, "seed": SEED}
#: Agreement of two float64 evaluations of the same gradient step in a different order: a few hundred ulps.
STEP_RTOL = 1e-12


def test_checkpoints_are_log_spaced_from_zero_to_the_last_step() -> None:
    expected = [0, 1, 2, 3, 6, 10, 18, 32, 56, 100, 178, 316, 562, 1000, 1778, 3000]
    assert training.checkpoint_steps(3000, 4).tolist() == expected
    assert training.checkpoint_steps(1, 4).tolist() == [0, 1]


def test_run_has_the_documented_shapes() -> None:
    run = training.train(4, 3, **TINY)
    assert run.W.shape == run.W0.shape == (5, 5)
    assert run.loss.shape == run.checkpoints.shape and run.checkpoints[0] == 0 and run.checkpoints[-1] == 200
    assert run.epochs == 200 * 16 / 64 and run.final().dtype == run.initial().dtype == torch.float64


def test_initialisation_is_the_seeded_gaussian_drawn_after_the_training_set() -> None:
    generator = torch.Generator().manual_seed(SEED)
    sample_training_prompts(64, 4, 3, generator=generator)
    expected = 0.1 * torch.randn(5, 5, generator=generator, dtype=torch.float64)
    assert torch.equal(training.train(4, 3, **{**TINY, "steps": 1}).initial(), expected)


def test_same_seed_gives_the_same_run_bit_for_bit() -> None:
    first, again = training.train(4, 3, **TINY), training.train(4, 3, **TINY)
    other = training.train(4, 3, **{**TINY, "seed": SEED + 1})
    assert np.array_equal(first.W, again.W) and np.array_equal(first.loss, again.loss)
    assert not np.array_equal(first.W, other.W)


def test_sgd_drives_the_training_loss_down_on_a_tiny_problem() -> None:
    run = training.train(4, 3, **TINY)
    assert run.loss[-1] < run.loss[0] / 4


def test_recorded_loss_is_the_loss_on_the_whole_training_set() -> None:
    run = training.train(4, 3, **TINY)
    data = sample_training_prompts(64, 4, 3, generator=torch.Generator().manual_seed(SEED))
    loss = 0.5 * ((attention.predict(data, run.final()).y_hat - nearest(data).label) ** 2).mean()
    assert float(loss) == pytest.approx(float(run.loss[-1]), rel=STEP_RTOL)


@pytest.mark.parametrize(("N", "d"), [(1, 2), (4, 3), (16, 8)])
def test_analytic_gradient_is_autograds(N: int, d: int) -> None:
    generator = torch.Generator().manual_seed(SEED)
    prompt = sample_training_prompts(32, N, d, generator=generator)
    W = torch.randn(d + 2, d + 2, generator=generator, dtype=torch.float64)  # a dense W, every block nonzero
    targets = nearest(prompt).label
    leaf = W.clone().requires_grad_(True)
    expected = torch.autograd.grad(training.minibatch_loss(prompt, targets, leaf), leaf)[0]
    gradient = training.minibatch_gradient(prompt, targets, W)
    assert torch.allclose(gradient, expected, rtol=0, atol=STEP_RTOL * float(expected.abs().max()))


def test_a_full_batch_step_is_a_gradient_descent_step() -> None:
    # batch = the whole set: the minibatch is a permutation of it, so the step is W0 - eta grad L_S(W0)
    run = training.train(4, 3, **{**TINY, "steps": 1, "batch": 64})
    data = sample_training_prompts(64, 4, 3, generator=torch.Generator().manual_seed(SEED))
    gradient, _ = full_gradient(data, run.initial())
    expected = run.initial() - 5.0 * gradient
    assert torch.allclose(run.final(), expected, rtol=STEP_RTOL, atol=STEP_RTOL * float(expected.abs().max()))


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"N": 0}, InvalidDimension, "N must be an integer >= 1"),
        ({"d": 1}, InvalidDimension, "d must be an integer >= 2"),
        ({"steps": 0}, InvalidParameter, "steps must be an integer >= 1"),
        ({"steps": 2.5}, InvalidParameter, "steps must be an integer"),
        ({"batch": 0}, InvalidParameter, "batch must be an integer >= 1"),
        ({"batch": 65}, InvalidParameter, "batch must be at most the number of prompts 64"),
        ({"prompts": 0}, InvalidParameter, "prompts must be an integer >= 1"),
        ({"eta": 0.0}, InvalidParameter, "eta must be > 0"),
        ({"eta": math.nan}, InvalidParameter, "eta must be a finite real number"),
        ({"init_scale": -0.1}, InvalidParameter, "init_scale must be >= 0"),
        ({"init_scale": math.inf}, InvalidParameter, "init_scale must be a finite real number"),
        ({"seed": -1}, InvalidParameter, "seed must be an integer >= 0"),
        ({"per_decade": 0}, InvalidParameter, "per_decade must be an integer >= 1"),
    ],
)
def test_bad_settings_raise_named_errors(change: dict[str, Any], error: type[Exception], match: str) -> None:
    settings = {"N": 4, "d": 3, **TINY, **change}
    with pytest.raises(error, match=match):
        training.train(**settings)
    with pytest.raises(error, match=match):
        training.cached_train(**settings)


def test_a_step_that_leaves_w_non_finite_raises_non_finite_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # (a real divergence is hard to provoke: the softmax saturates and the gradient vanishes first)
    monkeypatch.setattr(training, "sgd_step", lambda W, gradient, eta: W - eta * gradient * math.inf)
    with pytest.raises(NonFiniteValue, match="W is not finite after step 1"):
        training.train(4, 3, **{**TINY, "steps": 5})


def test_cached_run_is_stored_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONENN_CACHE_DIR", str(tmp_path))
    settings: dict[str, Any] = {**TINY, "steps": 20, "seed": 912}  # a seed no other test caches in memory
    first = training.cached_train(4, 3, **settings)
    cache.clear_memory()
    again = training.cached_train(4, 3, **settings)
    assert len(list(tmp_path.glob("trainingrun-*.npz"))) == 1
    assert np.array_equal(first.W, again.W) and np.array_equal(first.checkpoints, again.checkpoints)
    assert again.steps == 20 and again.eta == 5.0


def test_run_fingerprint_ignores_the_baseline_but_sees_the_sgd(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache.fingerprint(training._sgd_code())
    monkeypatch.setattr(training, "tune_bandwidth", lambda validation, betas=(): None)
    assert cache.fingerprint(training._sgd_code()) == before
    monkeypatch.setattr(training, "sgd_step", lambda W, gradient, eta: W + eta * gradient)
    assert cache.fingerprint(training._sgd_code()) != before


def test_run_fingerprint_holds_no_set_whose_repr_follows_the_hash_seed() -> None:
    # a set's repr changes between processes: the disk cache would never be read back (seen once)
    names = [name.partition(":")[2] for name in training._sgd_code() if name.startswith("model.training:")]
    assert not [name for name in names if isinstance(getattr(training, name), set | frozenset)]


def test_smoother_at_beta_zero_is_the_mean_label() -> None:
    prompt = sample_training_prompts(50, 6, 3, generator=torch.Generator().manual_seed(SEED))
    assert torch.allclose(training.smoother_predict(prompt, 0.0), prompt.y.mean(dim=1), rtol=0, atol=STEP_RTOL)


def test_smoother_is_the_family_without_the_query_weight() -> None:
    prompt = sample_training_prompts(50, 6, 3, generator=torch.Generator().manual_seed(SEED))
    family = attention.family_predict(prompt, 7.0, 7.0 + 800.0).y_hat  # q_0 = e^{-800} / ...: below 1e-300
    assert torch.allclose(training.smoother_predict(prompt, 7.0), family, rtol=0, atol=STEP_RTOL)


def test_smoother_at_large_beta_is_the_1nn_rule_on_the_separated_law() -> None:
    prompt = shift.sample_law("separated", 50, 6, 3, generator=torch.Generator().manual_seed(SEED))
    # the other examples are at tau <= 1 - delta*/2 = 0.75: weights below 6 e^{-0.25 beta} = 6 e^{-256}
    assert torch.allclose(training.smoother_predict(prompt, 1024.0), nearest(prompt).label, rtol=0, atol=STEP_RTOL)


def test_tuning_picks_the_grid_minimiser_of_the_validation_mse() -> None:
    validation = sample_training_prompts(200, 6, 3, generator=torch.Generator().manual_seed(SEED))
    tuning = training.tune_bandwidth(validation)
    assert tuning.betas == training.BETA_GRID and len(tuning.mse) == len(tuning.betas)
    assert tuning.mse[tuning.betas.index(tuning.beta)] == min(tuning.mse)
    assert training.tune_bandwidth(validation, (0.0,)).beta == 0.0


@pytest.mark.parametrize(("beta", "match"), [(-1.0, "beta must be >= 0"), (math.nan, "beta must be a finite")])
def test_bad_beta_raises_invalid_parameter(beta: float, match: str) -> None:
    prompt = sample_training_prompts(2, 3, 2, generator=torch.Generator().manual_seed(SEED))
    with pytest.raises(InvalidParameter, match=match):
        training.smoother_predict(prompt, beta)
    with pytest.raises(InvalidParameter, match=match):
        training.tune_bandwidth(prompt, (0.0, beta))


def test_tuning_needs_a_grid_and_a_prompt() -> None:
    prompt = sample_training_prompts(2, 3, 2, generator=torch.Generator().manual_seed(SEED))
    with pytest.raises(InvalidParameter, match="at least one beta"):
        training.tune_bandwidth(prompt, ())
    with pytest.raises(InvalidParameter, match=r"validation must be a model\.prompt\.Prompt"):
        training.tune_bandwidth("prompts")  # type: ignore[arg-type]
