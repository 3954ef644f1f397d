"""model.multiclass: the K-class model, its K = 2 reduction to the binary model, tie rules, the family projection."""

from __future__ import annotations

import math

import pytest
import torch

import model.attention as attention
import model.multiclass as mc
from model.errors import InvalidDType, InvalidParameter, InvalidShape, NonUnitVector
from model.laws import uniform_sphere
from model.nearest import nearest
from model.prompt import BINARY, Prompt

F64 = torch.float64


def _prompt(batch: int = 50, n: int = 6, d: int = 4, K: int = 3, seed: int = 0) -> mc.ClassPrompt:
    generator = torch.Generator().manual_seed(seed)
    x = uniform_sphere((batch, n), d, generator=generator)
    xq = uniform_sphere((batch,), d, generator=generator)
    return mc.ClassPrompt(x, torch.randint(0, K, (batch, n), generator=generator), xq, K)


def test_codes_are_the_simplex() -> None:
    for K in (2, 3, 7):
        u = mc.simplex_codes(K)
        assert torch.allclose(u.sum(dim=1), torch.zeros(K, dtype=F64), atol=1e-15)
        gram = u @ u.T
        assert torch.allclose(gram, torch.eye(K, dtype=F64) - 1 / K, atol=1e-15)  # |u|^2 = (K-1)/K, <u, u'> = -1/K


def test_embedding_and_prediction_shapes_and_the_family_closed_form() -> None:
    prompt = _prompt(K=4)
    H = mc.embed(prompt)
    assert H.shape == (50, 4 + 4 + 1, 7)
    assert torch.equal(H[:, 4:8, :-1], prompt.codes().transpose(1, 2)) and bool((H[:, 4:8, -1] == 0).all())
    full = mc.predict(prompt, mc.family_W(2.5, 4.0, 4, 4))
    closed = mc.family_predict(prompt, 2.5, 4.0)
    assert torch.allclose(full.logits, closed.logits, atol=1e-14) and torch.equal(full.label, closed.label)
    assert torch.allclose(full.logits.sum(dim=1), torch.zeros(50, dtype=F64), atol=1e-14)  # codes sum to 0


def test_k2_is_the_binary_model_up_to_the_stated_scaling() -> None:
    prompt = _prompt(K=2, d=5, seed=3)
    y = 1.0 - 2.0 * prompt.classes.to(F64)  # c = 0 <-> y = +1, c = 1 <-> y = -1
    binary = Prompt(prompt.x, y, prompt.xq, BINARY)
    W = torch.randn(8, 8, generator=torch.Generator().manual_seed(4), dtype=F64)  # any W, not only the family
    out = mc.predict(prompt, W)
    y_hat = attention.predict(binary, mc.binary_weight(W, 5)).y_hat
    assert torch.allclose(out.logits, torch.stack([y_hat / 2, -y_hat / 2], dim=1), atol=1e-14)
    target, _ = mc.nearest_class(prompt)
    squared = ((out.logits - target) ** 2).sum(dim=1)
    assert torch.allclose(squared, (y_hat - nearest(binary).label) ** 2 / 2, atol=1e-14)  # (K-1)/K at K = 2


def test_argmax_takes_the_lowest_index_on_exact_ties() -> None:
    logits = torch.tensor([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [-1.0, -1.0, -1.0]], dtype=F64)
    assert mc.argmax_class(logits).tolist() == [0, 1, 0]


def test_nearest_class_takes_the_majority_of_tied_neighbours_lowest_index_on_equal_counts() -> None:
    q = torch.tensor([[1.0, 0.0]], dtype=F64)
    x = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]], dtype=F64)  # three tied, one far
    target, label = mc.nearest_class(mc.ClassPrompt(x, torch.tensor([[2, 2, 1, 0]]), q, 3))
    assert label.tolist() == [2]
    assert torch.allclose(target, (2 * mc.simplex_codes(3)[2] + mc.simplex_codes(3)[1])[None] / 3)
    _, label = mc.nearest_class(mc.ClassPrompt(x[:, 1:], torch.tensor([[2, 1, 0]]), q, 3))
    assert label.tolist() == [1]  # one each of classes 2 and 1: the lower index


def test_family_projection_is_the_orthogonal_projection() -> None:
    d, K = 4, 3
    assert mc.family_projection(mc.family_W(1.5, -2.0, d, K), d, K) == (1.5, -2.0)
    assert mc.distance_to_family(mc.family_W(1.5, -2.0, d, K), d, K) == 0.0
    W = torch.randn(d + K + 1, d + K + 1, generator=torch.Generator().manual_seed(2), dtype=F64)
    xi1, xi2 = mc.family_projection(W, d, K)
    residual = W - mc.family_W(xi1, xi2, d, K)
    # orthogonal to the family's two directions diag(I_d, 0, 0) and diag(0, 0, 1)
    assert abs(float(torch.diagonal(residual)[:d].sum())) < 1e-13 and float(residual[-1, -1]) == 0.0
    assert math.isclose(mc.distance_to_family(W, d, K), float(torch.linalg.matrix_norm(residual)))
    assert mc.family_projection(mc.family_W(xi1, xi2, d, K), d, K) == pytest.approx((xi1, xi2))  # idempotent


def test_bad_input_is_refused_with_a_named_error() -> None:
    good = _prompt(batch=2, n=3, d=3, K=3)
    with pytest.raises(InvalidParameter, match="K must be"):
        mc.ClassPrompt(good.x, good.classes, good.xq, 1)
    with pytest.raises(InvalidDType, match="integer"):
        mc.ClassPrompt(good.x, good.classes.to(F64), good.xq, 3)
    with pytest.raises(InvalidParameter, match=r"\[0, 3\)"):
        mc.ClassPrompt(good.x, good.classes + 3, good.xq, 3)
    with pytest.raises(InvalidShape, match="classes"):
        mc.ClassPrompt(good.x, good.classes[:, :2], good.xq, 3)
    with pytest.raises(NonUnitVector):
        mc.ClassPrompt(2 * good.x, good.classes, good.xq, 3)
    with pytest.raises(InvalidShape, match=r"d\+K\+1|d\+2"):
        mc.predict(good, torch.zeros(5, 5, dtype=F64))
    with pytest.raises(InvalidShape, match="class axis"):
        mc.argmax_class(torch.zeros(3, 1, dtype=F64))
    with pytest.raises(InvalidParameter, match="ClassPrompt"):
        mc.embed(Prompt(good.x, torch.ones(2, 3, dtype=F64), good.xq))  # type: ignore[arg-type]
    with pytest.raises(InvalidShape, match=r"d\+K\+1"):
        mc.family_projection(torch.zeros(4, 4, dtype=F64), 3, 3)
