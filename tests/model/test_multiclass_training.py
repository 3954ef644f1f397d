"""model.multiclass_training: K-class online SGD (claims E2, E3), its gradient and batching, the K-class test laws."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import model.cache as cache
import model.multiclass as multiclass
import model.multiclass_training as mct
from model.errors import InvalidDimension, InvalidParameter, NonFiniteValue
from model.multiclass_training import Noise

SEED = 11
#: A tiny grid: N = 4, d = 3, K = 3, batch 16, 60 steps (a few tenths of a second).
TINY: dict[str, Any] = {"noises": (Noise(0.0), Noise(1.0)), "seeds": (SEED, SEED + 1), "steps": 60, "batch": 16,
                        "eta": 0.5, "sigma": 3.0}
#: Two float64 evaluations of the same sums in another order (another batching, autograd's reverse pass) agree to a
#: few hundred ulps of the largest entry; SGD contracts such differences, so they stay that small along a run.
STEP_RTOL = 1e-11


def _grid(noises: tuple[Noise, ...], seeds: tuple[int, ...], **change: Any) -> mct.ClassRuns:
    return mct.train_runs(4, 3, 3, **{**TINY, "noises": noises, "seeds": seeds, **change})


def _prompt(batch: mct.Batch, s: int, N: int, d: int, K: int) -> multiclass.ClassPrompt:
    """Seed s's prompts of a Batch as a ClassPrompt (the classes read back from the codes)."""
    tokens = batch.tokens[s]  # (B, N+1, D)
    return multiclass.ClassPrompt(tokens[:, :N, :d], tokens[:, :N, d:d + K].argmax(dim=-1), tokens[:, N, :d], K)


@pytest.mark.parametrize(("N", "d", "K"), [(1, 2, 2), (4, 3, 3), (16, 8, 3), (6, 4, 5)])
def test_analytic_gradient_is_autograds(N: int, d: int, K: int) -> None:
    generators = [torch.Generator().manual_seed(SEED + s) for s in range(2)]
    batch = mct.draw_prompts(generators, 24, N, d, K)
    W = torch.randn(3, 2, d + K + 1, d + K + 1, generator=generators[0], dtype=torch.float64)  # dense: every block
    leaf = W.clone().requires_grad_(True)
    expected = torch.autograd.grad(mct.batch_loss(leaf, batch).sum(), leaf)[0]
    loss, gradient = mct.batch_gradient(W, batch)
    assert torch.equal(loss, mct.batch_loss(W, batch))
    assert torch.allclose(gradient, expected, rtol=0, atol=STEP_RTOL * float(expected.abs().max()))


def test_drawn_tokens_are_the_embedding_and_the_target_is_the_1nn_code() -> None:
    generators = [torch.Generator().manual_seed(SEED + s) for s in range(2)]
    batch = mct.draw_prompts(generators, 50, 5, 3, 4)
    for s in range(2):
        prompt = _prompt(batch, s, 5, 3, 4)
        assert torch.equal(batch.tokens[s], multiclass.embed(prompt).transpose(1, 2))
        assert torch.equal(batch.columns[s], multiclass.embed(prompt)) and torch.equal(batch.queries[s],
                                                                                       batch.tokens[s, :, -1])
        assert torch.equal(batch.target[s], multiclass.nearest_class(prompt)[0])


def test_batched_logits_are_the_models_logits_for_every_run() -> None:
    generators = [torch.Generator().manual_seed(SEED + s) for s in range(2)]
    batch = mct.draw_prompts(generators, 40, 6, 4, 3)
    W = torch.randn(3, 2, 8, 8, generator=generators[1], dtype=torch.float64)
    _, mixed = mct._forward(W, batch, 3)
    for e in range(3):
        for s in range(2):
            expected = multiclass.predict(_prompt(batch, s, 6, 4, 3), W[e, s]).logits
            assert torch.allclose(mixed[s, :, e, 4:7], expected, rtol=0, atol=STEP_RTOL)


def test_initial_weights_add_one_gaussian_per_seed_scaled_by_eps() -> None:
    Z = torch.randn(2, 7, 7, generator=torch.Generator().manual_seed(SEED), dtype=torch.float64)
    W0 = mct.initial_weights((Noise(0.0), Noise(0.5), Noise(2.0), Noise(2.0, True)), Z, 3, 3, 3.0)
    assert torch.equal(W0[0, 1], multiclass.family_W(0.0, 3.0, 3, 3))
    assert torch.allclose(W0[2] - W0[0], 4 * (W0[1] - W0[0]), rtol=0, atol=1e-15)
    label_noise = W0[3] - W0[0]
    assert torch.equal(label_noise[:, :, 3:6], 2.0 * Z[:, :, 3:6]) and not label_noise[:, :, [0, 1, 2, 6]].any()


def test_runs_do_not_depend_on_which_runs_are_batched_together() -> None:
    grid = _grid((Noise(0.0), Noise(1.0)), (SEED, SEED + 1))
    alone = _grid((Noise(1.0),), (SEED + 1,))
    assert np.allclose(grid.W[1, 1], alone.W[0, 0], rtol=0, atol=STEP_RTOL * np.abs(alone.W).max())
    assert np.allclose(grid.loss[1, 1], alone.loss[0, 0], rtol=STEP_RTOL, atol=0)


def test_same_seed_gives_the_same_grid_bit_for_bit() -> None:
    first, again, other = _grid(**TINY), _grid(**TINY), _grid(TINY["noises"], (SEED + 2, SEED + 1))
    assert np.array_equal(first.W, again.W) and np.array_equal(first.loss, again.loss)
    assert not np.array_equal(first.W[:, 0], other.W[:, 0]) and np.array_equal(first.W[:, 1], other.W[:, 1])


def test_label_column_noise_is_never_moved_and_changes_nothing_else() -> None:
    # C2: h_q's label slot is 0, so those columns of W neither change the scores nor get a gradient
    runs = _grid((Noise(0.0), Noise(3.0, True)), (SEED,))
    moved = runs.W[1, 0] - runs.W[0, 0]  # (C, D, D)
    assert np.array_equal(moved[:, :, [0, 1, 2, 6]], np.zeros_like(moved[:, :, [0, 1, 2, 6]]))
    assert np.array_equal(moved[-1], moved[0]) and np.abs(moved[0]).max() > 0
    assert np.array_equal(runs.loss[1], runs.loss[0])


def test_recorded_loss_and_weights_are_the_monitor_loss_of_the_seeds_first_draws() -> None:
    runs = _grid((Noise(0.5),), (SEED,))
    generator = torch.Generator().manual_seed(SEED)
    Z = torch.randn(1, 7, 7, generator=generator, dtype=torch.float64)
    monitor = mct.draw_prompts([generator], mct.MONITOR, 4, 3, 3)
    W0 = mct.initial_weights((Noise(0.5),), Z, 3, 3, 3.0)
    assert np.array_equal(runs.W[:, :, 0], W0.numpy())
    assert float(mct.batch_loss(W0, monitor)[0, 0]) == pytest.approx(float(runs.loss[0, 0, 0]), rel=STEP_RTOL)
    final = torch.from_numpy(runs.W[:, :, -1].copy())
    assert float(mct.batch_loss(final, monitor)[0, 0]) == pytest.approx(float(runs.loss[0, 0, -1]), rel=STEP_RTOL)


def test_sgd_lowers_the_monitor_loss_on_a_tiny_problem() -> None:
    runs = _grid((Noise(0.0),), (SEED,), steps=400, eta=2.0)
    assert runs.loss[0, 0, -1] < 0.8 * runs.loss[0, 0, 0]
    assert runs.checkpoints[0] == 0 and runs.checkpoints[-1] == 400 and runs.W.shape[2] == len(runs.checkpoints)


def test_a_step_that_leaves_w_non_finite_raises_non_finite_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mct, "sgd_step", lambda W, gradient, eta: W * math.inf)
    with pytest.raises(NonFiniteValue, match="W is not finite at step 1"):
        _grid(**{**TINY, "steps": 5})


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"N": 0}, InvalidDimension, "N must be an integer >= 1"),
        ({"d": 1}, InvalidDimension, "d must be an integer >= 2"),
        ({"K": 1}, InvalidParameter, "K must be an integer >= 2"),
        ({"steps": 0}, InvalidParameter, "steps must be an integer >= 1"),
        ({"batch": 0}, InvalidParameter, "batch must be an integer >= 1"),
        ({"eta": 0.0}, InvalidParameter, "eta must be > 0"),
        ({"sigma": math.nan}, InvalidParameter, "sigma must be a finite real number"),
        ({"noises": ()}, InvalidParameter, "at least one noise"),
        ({"noises": (Noise(-0.5),)}, InvalidParameter, "eps must be >= 0"),
        ({"noises": (0.5,)}, InvalidParameter, "must be model.multiclass_training.Noise"),
        ({"seeds": (3, 3)}, InvalidParameter, "distinct integers"),
        ({"seeds": (-1,)}, InvalidParameter, "seed must be an integer >= 0"),
        ({"per_decade": 0}, InvalidParameter, "per_decade must be an integer >= 1"),
    ],
)
def test_bad_settings_raise_named_errors(change: dict[str, Any], error: type[Exception], match: str) -> None:
    settings: dict[str, Any] = {"N": 4, "d": 3, "K": 3, **TINY, **change}
    with pytest.raises(error, match=match):
        mct.train_runs(**settings)
    with pytest.raises(error, match=match):
        mct.cached_runs(**settings)


def test_cached_grid_is_stored_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONENN_CACHE_DIR", str(tmp_path))
    settings: dict[str, Any] = {**TINY, "steps": 12, "seeds": (913,)}  # a seed no other test caches in memory
    first = mct.cached_runs(4, 3, 3, **settings)
    cache.clear_memory()
    again = mct.cached_runs(4, 3, 3, **settings)
    assert len(list(tmp_path.glob("classruns-*.npz"))) == 1
    assert np.array_equal(first.W, again.W) and np.array_equal(first.eps, again.eps)
    assert again.steps == 12 and again.eta == 0.5 and again.label_columns_only.dtype == np.bool_


def test_run_fingerprint_ignores_the_test_laws_but_sees_the_sgd(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache.fingerprint(mct._run_code())
    monkeypatch.setattr(mct, "class_margin", lambda prompt: None)
    monkeypatch.setattr(multiclass, "argmax_class", lambda logits: None)
    assert cache.fingerprint(mct._run_code()) == before
    monkeypatch.setattr(mct, "sgd_step", lambda W, gradient, eta: W + eta * gradient)
    assert cache.fingerprint(mct._run_code()) != before


def test_separated_law_puts_every_other_example_beyond_delta() -> None:
    prompt = mct.sample_class_law("separated", 300, 8, 3, 3, generator=torch.Generator().manual_seed(SEED), delta=0.7)
    distance = ((prompt.x - prompt.xq[:, None, :]) ** 2).sum(dim=-1)  # (B, N)
    assert bool((distance.amin(dim=1) == 0).all())  # x_q is one of the examples
    assert bool(((distance == 0).sum(dim=1) == 1).all()) and bool((distance[distance > 0] > 0.7).all())
    assert bool((mct.class_margin(prompt) > 0.7).all())


@pytest.mark.parametrize("law", mct.LAWS)
def test_prompt_i_does_not_depend_on_the_batch_size(law: str) -> None:
    small = mct.sample_class_law(law, 3, 5, 4, 3, generator=torch.Generator().manual_seed(SEED))
    large = mct.sample_class_law(law, 7, 5, 4, 3, generator=torch.Generator().manual_seed(SEED))
    assert torch.equal(large.x[:3], small.x) and torch.equal(large.classes[:3], small.classes)
    assert torch.equal(large.xq[:3], small.xq)


def test_class_margin_is_the_gap_to_the_nearest_example_of_another_class() -> None:
    prompt = mct.sample_class_law("uniform", 200, 6, 3, 3, generator=torch.Generator().manual_seed(SEED))
    tau = torch.einsum("bnd,bd->bn", prompt.x, prompt.xq)  # (B, N)
    star = tau.argmax(dim=1)
    other = prompt.classes != prompt.classes[torch.arange(200), star][:, None]
    best_other = torch.where(other, tau, -torch.inf).amax(dim=1)
    expected = torch.where(other.any(dim=1), 2 * (tau.amax(dim=1) - best_other), torch.inf)
    assert torch.allclose(mct.class_margin(prompt), expected, rtol=0, atol=1e-14)


def test_class_margin_is_zero_at_a_tie_between_classes_and_infinite_with_one_class() -> None:
    x = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]] * 2, dtype=torch.float64)
    xq = torch.tensor([[0.8, 0.6]] * 2, dtype=torch.float64)  # nearest: the tied pair of classes 0 and 2
    classes = torch.tensor([[0, 2, 1], [1, 1, 1]])
    margin = mct.class_margin(multiclass.ClassPrompt(x, classes, xq, 3))
    assert margin[0] == 0.0 and margin[1] == math.inf


@pytest.mark.parametrize(
    ("law", "delta", "match"),
    [("clusters", 0.5, "unknown K-class test law 'clusters'"), ("separated", 0.0, r"delta\* in \(0, 2\]"),
     ("separated", 2.5, r"delta\* in \(0, 2\]"), ("uniform", math.inf, "delta must be a finite real")],
)
def test_bad_law_arguments_raise_invalid_parameter(law: str, delta: float, match: str) -> None:
    with pytest.raises(InvalidParameter, match=match):
        mct.sample_class_law(law, 2, 3, 2, 3, generator=torch.Generator().manual_seed(SEED), delta=delta)


def test_law_needs_a_seeded_generator() -> None:
    with pytest.raises(InvalidParameter, match=r"seeded torch\.Generator"):
        mct.sample_class_law("uniform", 2, 3, 2, 3, generator=None)  # type: ignore[arg-type]
