"""model.empirical: the symmetrised sample set and the full-W gradient (C1's tools), model.multiclass codes."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch

from model.attention import family_W
from model.empirical import empirical_loss, family_gradient, full_gradient, sign_patterns, symmetrise
from model.errors import InvalidParameter, InvalidShape
from model.laws import sample_training_prompts
from model.multiclass import simplex_codes, simplex_codes_exact

SEED = 11


@pytest.mark.parametrize("d", [2, 3, 7, 8, 16])
def test_sign_patterns_have_balanced_orthogonal_columns(d: int) -> None:
    signs = sign_patterns(d)  # (n, d)
    n = signs.shape[0]
    assert d + 1 <= n <= 2 * (d + 1)
    assert torch.equal(signs.sum(dim=0), torch.zeros(d, dtype=torch.float64))
    assert torch.equal(signs.T @ signs, n * torch.eye(d, dtype=torch.float64))


def test_symmetrised_set_has_2nd_copies_and_keeps_the_loss_invariant() -> None:
    prompt = sample_training_prompts(3, 4, 5, generator=torch.Generator().manual_seed(SEED))
    sample = symmetrise(prompt)
    assert sample.batch == 3 * 2 * sign_patterns(5).shape[0] * 5
    W = family_W(1.5, 2.0, 5)
    # every copy is the image of a prompt under an orthogonal map and a label flip: the family's loss
    # per copy equals the original's, so the set's loss equals the prompts' loss
    assert float(empirical_loss(sample, W)) == pytest.approx(float(empirical_loss(prompt, W)), rel=1e-13)


def test_gradient_bound_covers_the_gradient_scale() -> None:
    prompt = sample_training_prompts(5, 4, 3, generator=torch.Generator().manual_seed(SEED))
    G, bound = full_gradient(prompt, family_W(2.0, 1.0, 3))
    assert bound.shape == G.shape and bool((bound >= 0).all())
    assert bool((bound <= 1e-12 * G.abs().max()).all())  # first-order rounding: far below the gradient


def test_family_gradient_is_the_trace_of_the_full_gradient() -> None:
    prompt = symmetrise(sample_training_prompts(2, 3, 3, generator=torch.Generator().manual_seed(SEED)))
    G, _ = full_gradient(prompt, family_W(2.0, 1.0, 3))
    g1, g2 = family_gradient(prompt, 2.0, 1.0)
    assert float(G.diagonal()[:3].sum()) == pytest.approx(g1, rel=1e-12)
    assert float(-G[-1, -1]) == pytest.approx(g2, rel=1e-12)


def test_full_gradient_rejects_a_wrong_shape() -> None:
    prompt = sample_training_prompts(1, 2, 3, generator=torch.Generator().manual_seed(SEED))
    with pytest.raises(InvalidShape, match=r"W must have shape \(d\+2, d\+2\) = \(5, 5\), got \(4, 4\)"):
        full_gradient(prompt, torch.zeros(4, 4, dtype=torch.float64))


@pytest.mark.parametrize("K", [2, 3, 7])
def test_simplex_codes_are_centred_with_the_stated_gram_matrix(K: int) -> None:
    codes = simplex_codes_exact(K)
    assert all(sum(row) == 0 for row in codes)
    gram = [[sum(a * b for a, b in zip(u, v, strict=True)) for v in codes] for u in codes]
    assert gram == [[Fraction(K - 1, K) if i == j else Fraction(-1, K) for j in range(K)] for i in range(K)]
    floats = torch.tensor([[float(x) for x in row] for row in codes], dtype=torch.float64)
    assert torch.equal(simplex_codes(K), floats)


@pytest.mark.parametrize("K", [1, 0, 2.0, True])
def test_simplex_codes_reject_a_bad_class_count(K: object) -> None:
    with pytest.raises(InvalidParameter, match="number of classes K must be an integer >= 2"):
        simplex_codes_exact(K)  # type: ignore[arg-type]
