"""model.laws: the seeded training law of Assumption 1 (THEORY.md S4).

x_1, ..., x_{N+1} iid uniform on S^{d-1}, labels iid uniform on {+1, -1}. The statistical checks use
literal seeds and state their false-alarm rate (the chance a correct sampler fails them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from model.errors import InvalidDimension, InvalidParameter
from model.laws import sample_training_prompts
from model.prompt import Prompt

F64 = torch.float64

#: Norms of normalised float64 Gaussians: one division and a norm, a few ulps; 1e-12 is far above.
NORM_TOL = 1e-12
#: Two-sided 5-sigma band for a mean of 20000 iid terms (CLT): false-alarm P(|Z| > 5) ~ 5.7e-7.
Z_BAND = 5.0
#: Kolmogorov-Smirnov p-value below which the test fails: false-alarm rate exactly 1e-6 (continuous law).
KS_ALPHA = 1e-6
STAT_SAMPLES = 20000


def _sample(seed: int, batch: int = 8, n: int = 5, d: int = 3, **kwargs: torch.dtype) -> Prompt:
    return sample_training_prompts(batch, n, d, generator=torch.Generator().manual_seed(seed), **kwargs)


def test_sample_shapes_and_dtype() -> None:
    prompt = _sample(7, batch=8, n=5, d=3)
    assert (tuple(prompt.x.shape), tuple(prompt.y.shape), tuple(prompt.xq.shape)) == ((8, 5, 3), (8, 5), (8, 3))
    assert prompt.dtype == F64 and _sample(7, dtype=torch.float32).dtype == torch.float32


def test_sampled_points_have_unit_norm() -> None:
    prompt = _sample(11, batch=64, n=9, d=4)
    norms = torch.cat([prompt.x.norm(dim=-1).flatten(), prompt.xq.norm(dim=-1)])
    assert float((norms - 1.0).abs().max()) <= NORM_TOL


def test_sampled_labels_are_plus_minus_one() -> None:
    y = _sample(13, batch=64, n=9).y
    assert bool(((y == 1.0) | (y == -1.0)).all()) and {1.0, -1.0} <= set(y.flatten().tolist())


def test_same_seed_reproduces_prompts() -> None:
    a, b = _sample(2024), _sample(2024)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and torch.equal(a.xq, b.xq)


def test_different_seeds_give_different_prompts() -> None:
    a, b = _sample(2024), _sample(2025)
    assert not torch.equal(a.x, b.x) and not torch.equal(a.xq, b.xq)


# --- argument validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(("generator", "type_name"), [(None, "NoneType"), (np.random.default_rng(0), "Generator")])
def test_rejects_a_generator_that_is_not_torch(generator: object, type_name: str) -> None:
    with pytest.raises(InvalidParameter, match=rf"seeded torch\.Generator .*got {type_name}$"):
        sample_training_prompts(2, 3, 3, generator=generator)


@pytest.mark.parametrize(
    ("batch", "n", "d", "error", "match"),
    [
        (2, 0, 3, InvalidDimension, r"N must be an integer >= 1, got 0"),
        (2, 3, 1, InvalidDimension, r"d must be an integer >= 2, got 1"),
        (0, 3, 3, InvalidParameter, r"batch must be an integer >= 1, got 0"),
        (2, 2.5, 3, InvalidDimension, r"N must be an integer >= 1, got 2\.5"),
        (True, 3, 3, InvalidParameter, r"batch must be an integer >= 1, got True"),
    ],
    ids=["n_0", "d_1", "batch_0", "n_fractional", "batch_bool"],
)
def test_rejects_sizes_outside_the_setup(batch: int, n: int, d: int, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        sample_training_prompts(batch, n, d, generator=torch.Generator().manual_seed(0))


# --- uniformity (statistical, literal seed, stated false-alarm rate) --------------------------------


@pytest.fixture(scope="module")
def big_sample() -> Prompt:
    """STAT_SAMPLES prompts with N = 1 at d = 3 (seed 31415926)."""
    return _sample(31415926, batch=STAT_SAMPLES, n=1, d=3)


def test_tau_has_mean_zero(big_sample: Prompt) -> None:
    # tau = <x_1, x_q> has mean 0 and variance 1/d under the uniform law; false-alarm ~ 5.7e-7.
    tau = (big_sample.x[:, 0, :] * big_sample.xq).sum(dim=1)  # (B,)
    standard_error = math.sqrt(1.0 / 3.0 / STAT_SAMPLES)
    assert abs(float(tau.mean())) <= Z_BAND * standard_error


def test_tau_is_uniform_on_minus_one_one_at_d3(big_sample: Prompt) -> None:
    # Archimedes: at d = 3, (1 + tau)/2 ~ Beta(1, 1), i.e. tau ~ U[-1, 1] (THEORY.md S8); false-alarm 1e-6.
    tau = (big_sample.x[:, 0, :] * big_sample.xq).sum(dim=1)  # (B,)
    assert stats.kstest(tau.numpy(), "uniform", args=(-1.0, 2.0)).pvalue > KS_ALPHA


def test_labels_are_fair_coins(big_sample: Prompt) -> None:
    # P(y = +1) = 1/2: the frequency has standard error 1/(2 sqrt(n)); false-alarm ~ 5.7e-7.
    frequency = float((big_sample.y == 1.0).to(F64).mean())
    assert abs(frequency - 0.5) <= Z_BAND * 0.5 / math.sqrt(STAT_SAMPLES)
