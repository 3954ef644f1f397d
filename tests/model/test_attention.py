"""model.attention: the embedding S1, the layer S2, the initialisation S6 and the family S8 ([LCG24] §2).

Reference values are computed by hand (closed forms in the test, with their derivation in a comment).
"""

from __future__ import annotations

import math

import pytest
import torch

from model.attention import (
    AttentionLayer,
    embed,
    family_predict,
    family_W,
    init_W,
    predict,
    predict_factorised,
)
from model.errors import InvalidDimension, InvalidDType, InvalidParameter, InvalidShape, NonFiniteValue
from model.laws import sample_training_prompts
from model.prompt import Prompt

F64 = torch.float64
EPS = torch.finfo(F64).eps

#: A softmax over 3 scores of size O(1), computed by torch and by hand: each score is a short sum with
#: a rounding or two, and exp / sum add a few more; a handful of ulps, well under 1e-15.
HAND_TOL = 1e-15
#: Weights summing to 1: N+1 <= 9 terms in [0, 1], one rounding each (N+1 ulps), with margin.
SUM_TOL = 16 * EPS
#: The same scores computed with the sums associated differently (merged W vs W_K, W_Q; einsum vs
#: matmul): scores of size <= ~30 differ by ~ 30 * 8 ulps, so weights and y_hat by ~ 1e-13 at most.
REASSOC_TOL = 1e-12


def _prompts(batch: int = 4, n: int = 5, d: int = 3, *, seed: int = 20241118) -> Prompt:
    return sample_training_prompts(batch, n, d, generator=torch.Generator().manual_seed(seed))


def _hand_prompt() -> Prompt:
    """N = 2, d = 2: x_1 = e_1 with y_1 = +1, x_2 = e_2 with y_2 = -1, x_q = (0.6, 0.8)."""
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=F64)  # (1, 2, 2)
    return Prompt(x, torch.tensor([[1.0, -1.0]], dtype=F64), torch.tensor([[0.6, 0.8]], dtype=F64))


def _hand_W() -> torch.Tensor:
    """diag(2, 2, 0, -1) plus W[0, 1] = 1 (x-block, asymmetric) and W[2, 3] = 0.5 (label row x flag column)."""
    W = torch.diag(torch.tensor([2.0, 2.0, 0.0, -1.0], dtype=F64))
    W[0, 1], W[2, 3] = 1.0, 0.5
    return W


# --- embedding S1 -----------------------------------------------------------------------------------


def test_embed_shape_is_batch_by_d_plus_2_by_n_plus_1() -> None:
    assert tuple(embed(_prompts(batch=4, n=5, d=3)).shape) == (4, 5, 6)


def test_embed_layout_columns_are_x_y_0_and_query_xq_0_1() -> None:
    prompt = _prompts()
    H, d, n = embed(prompt), prompt.d, prompt.n
    assert torch.equal(H[:, :d, :n], prompt.x.transpose(1, 2))
    assert torch.equal(H[:, d, :n], prompt.y) and torch.equal(H[:, d + 1, :n], torch.zeros_like(prompt.y))
    assert torch.equal(H[:, :d, n], prompt.xq)
    assert H[:, d, n].eq(0.0).all() and H[:, d + 1, n].eq(1.0).all()


# --- predict S2 -------------------------------------------------------------------------------------


def test_predict_weights_shape_and_sum_to_one() -> None:
    prompt = _prompts(n=7)
    weights = predict(prompt, family_W(3.0, 1.0, prompt.d)).weights
    assert tuple(weights.shape) == (prompt.batch, prompt.n + 1)
    assert float((weights.sum(dim=1) - 1.0).abs().max()) <= SUM_TOL


def test_predict_query_weight_is_last() -> None:
    # W = diag(0 I_d, 0, 5): every example scores 0, the query scores 5, so q_0 = e^5 / (N + e^5).
    prompt = _prompts(n=5)
    weights = predict(prompt, family_W(0.0, -5.0, prompt.d)).weights
    expected = math.exp(5.0) / (prompt.n + math.exp(5.0))
    assert float((weights[:, -1] - expected).abs().max()) <= HAND_TOL


def test_predict_matches_hand_softmax() -> None:
    # W h_q = (2*0.6 + 1*0.8, 2*0.8, 0.5*1, -1*1) = (2.0, 1.6, 0.5, -1), so with h_1 = (1, 0, 1, 0),
    # h_2 = (0, 1, -1, 0), h_q = (0.6, 0.8, 0, 1): s_1 = 2.0 + 0.5, s_2 = 1.6 - 0.5, s_q = 1.2 + 1.28 - 1.
    scores = [2.5, 1.1, 1.48]
    z = sum(math.exp(s) for s in scores)
    weights = [math.exp(s) / z for s in scores]
    out = predict(_hand_prompt(), _hand_W())
    assert max(abs(float(w) - e) for w, e in zip(out.weights[0], weights, strict=True)) <= HAND_TOL
    assert abs(float(out.y_hat[0]) - (weights[0] - weights[1])) <= HAND_TOL


def test_predict_factorised_equals_predict_with_merged_W() -> None:
    prompt = _prompts()
    generator = torch.Generator().manual_seed(314159)
    W_K = torch.randn(3, prompt.d + 2, generator=generator, dtype=F64)  # (r, d+2)
    W_Q = torch.randn(3, prompt.d + 2, generator=generator, dtype=F64)  # (r, d+2)
    merged, factored = predict(prompt, W_K.T @ W_Q), predict_factorised(prompt, W_K, W_Q)
    assert float((merged.weights - factored.weights).abs().max()) <= REASSOC_TOL
    assert float((merged.y_hat - factored.y_hat).abs().max()) <= REASSOC_TOL


def test_family_closed_form_equals_predict_with_family_W() -> None:
    prompt = _prompts()
    general, closed = predict(prompt, family_W(4.0, 2.5, prompt.d)), family_predict(prompt, 4.0, 2.5)
    assert float((general.weights - closed.weights).abs().max()) <= REASSOC_TOL
    assert float((general.y_hat - closed.y_hat).abs().max()) <= REASSOC_TOL


def test_attention_layer_query_label_entry_equals_predict() -> None:
    prompt = _prompts()
    generator = torch.Generator().manual_seed(271828)
    W = torch.randn(prompt.d + 2, prompt.d + 2, generator=generator, dtype=F64)  # (d+2, d+2)
    with torch.no_grad():
        out = AttentionLayer(W)(embed(prompt))  # (B, d+2, N+1)
    assert tuple(out.shape) == (prompt.batch, prompt.d + 2, prompt.n + 1)
    assert float((out[:, prompt.d, prompt.n] - predict(prompt, W).y_hat).abs().max()) <= REASSOC_TOL


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_logits_of_1e4_give_finite_outputs(dtype: torch.dtype) -> None:
    # Example scores 1e4 tau_j, the query's 1e4 + 1e4: a naive exp overflows; the stable softmax does not.
    prompt = _prompts().to(dtype)
    W = family_W(1e4, -1e4, prompt.d, dtype=dtype)
    out = predict(prompt, W)
    with torch.no_grad():
        layer = AttentionLayer(W)(embed(prompt))  # (B, d+2, N+1)
    assert bool(torch.isfinite(out.weights).all() and torch.isfinite(out.y_hat).all() and torch.isfinite(layer).all())
    assert bool(out.weights[:, -1].eq(1.0).all())


# --- family S8 and initialisation S6 ---------------------------------------------------------------


def test_family_W_is_diag_xi1_0_minus_xi2() -> None:
    expected = torch.diag(torch.tensor([2.5, 2.5, 2.5, 0.0, -0.75], dtype=F64))
    assert torch.equal(family_W(2.5, 0.75, 3), expected)


def test_init_W_is_zero_but_last_entry_minus_sigma() -> None:
    expected = torch.zeros(4, 4, dtype=F64)
    expected[3, 3] = -0.5
    assert torch.equal(init_W(0.5, 2), expected)


@pytest.mark.parametrize("sigma", [0.0, -1.0, math.nan, math.inf])
def test_init_W_rejects_nonpositive_or_nonfinite_sigma(sigma: float) -> None:
    with pytest.raises(InvalidParameter, match=rf"sigma must be (> 0|a finite real number).*got {sigma!r}"):
        init_W(sigma, 3)


def test_family_W_rejects_d_1() -> None:
    with pytest.raises(InvalidDimension, match=r"d must be an integer >= 2, got 1"):
        family_W(1.0, 1.0, 1)


@pytest.mark.parametrize(
    ("xi1", "xi2", "name"), [(math.nan, 1.0, "xi1"), (1.0, math.inf, "xi2"), (-math.inf, 0.0, "xi1")]
)
def test_family_W_rejects_nonfinite_xi(xi1: float, xi2: float, name: str) -> None:
    bad = xi1 if name == "xi1" else xi2
    with pytest.raises(InvalidParameter, match=rf"{name} must be a finite real number, got {bad!r}"):
        family_W(xi1, xi2, 3)


# --- predict's validation of W ---------------------------------------------------------------------


def test_predict_rejects_W_of_wrong_shape() -> None:
    with pytest.raises(InvalidShape, match=r"W must have shape \(d\+2, d\+2\) = \(4, 4\), got \(3, 3\)"):
        predict(_hand_prompt(), torch.eye(3, dtype=F64))


def test_predict_rejects_nan_W() -> None:
    W = _hand_W()
    W[1, 2] = math.nan
    with pytest.raises(NonFiniteValue, match=r"W contains nan at index \(1, 2\)"):
        predict(_hand_prompt(), W)


def test_predict_rejects_W_dtype_mismatch() -> None:
    with pytest.raises(InvalidDType, match=r"W has dtype torch\.float32 but the prompt has torch\.float64"):
        predict(_hand_prompt(), _hand_W().to(torch.float32))


@pytest.mark.parametrize("bad", [None, "prompt", torch.zeros(1, 2, 3)])
def test_functions_taking_a_prompt_reject_anything_else(bad: object) -> None:
    import model.nearest as nearest

    W = family_W(1.0, 1.0, 2)
    for call in (lambda: predict(bad, W), lambda: family_predict(bad, 1.0, 1.0), lambda: nearest.margin(bad)):
        with pytest.raises(InvalidParameter, match=r"prompt must be a model\.prompt\.Prompt"):
            call()
