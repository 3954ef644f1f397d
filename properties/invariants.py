"""Invariants of the model itself (THEORY.md "M-invariants", IDs M1-M9).

M1 the query's attention weights are a probability vector; M2 permuting the examples leaves y_hat
unchanged; M3 flipping every label flips y_hat when W21 = 0 and W23 = 0; M4 rotating every x leaves
y_hat unchanged on the family; M5 for a general W a rotation maps W to its conjugate; M6 the
family's closed form equals the full model; M7 merged W equals the factorised W_K^T W_Q; M8 float32
agrees with float64 within a stated tolerance; M9 no NaN/inf at large logits.

All tolerances come from :mod:`properties.tolerances` (first-order rounding bounds).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st

import model.attention as attention
from model.prompt import Prompt
from properties.pinned import THREE_EQUAL_LABELS
from properties.pointwise import abs_scores, value_row
from properties.registry import check, claim
from properties.strategies import (
    family_params,
    orthogonal_matrices,
    prompts,
    prompts_with_weights,
    weight_matrices,
)
from properties.tolerances import EPS32, EPS64, prediction_slack, score_error, summation_slack, weights_slack

SECTION = "Model invariants"
CITE = "[LCG24] §2 model definition (S2)"


def _W(W_np: np.ndarray, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(W_np, dtype=dtype)


def _error(prompt: Prompt, W: torch.Tensor, *, eps: float = EPS64) -> torch.Tensor:
    return score_error(
        abs_scores(attention.embed(prompt).to(torch.float64), W.to(torch.float64)), prompt.d + 2, eps=eps
    )


def _gap(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.to(torch.float64) - b.to(torch.float64)).abs().max())


@claim("M1", section=SECTION, given={"case": prompts_with_weights()})
def weights_are_probabilities(case: tuple[Prompt, np.ndarray]) -> None:
    """The query's attention weights are finite, nonnegative and sum to 1.
    [LCG24] §2 model definition (S2), claim M1
    """
    prompt, W_np = case
    weights = attention.predict(prompt, _W(W_np)).weights  # (B, N+1)
    total = float(weights.sum())
    slack = summation_slack(prompt.n, 1.0)
    finite = bool(torch.isfinite(weights).all())
    minimum = float(weights.min()) if finite else float("nan")
    check(
        finite and minimum >= 0.0 and abs(total - 1.0) <= slack,
        margin=min(slack - abs(total - 1.0), minimum) if finite else float("nan"),
        ratio=abs(total - 1.0) / slack,
        message=f"weights sum to {total!r}, min {minimum!r}, finite {finite} (slack {slack:.3g})",
    )


@claim("M2", section=SECTION, given={"case": prompts_with_weights(), "data": st.data()})
def permutation_invariance(case: tuple[Prompt, np.ndarray], data: Any) -> None:
    """Permuting the (x_j, y_j) pairs leaves y_hat unchanged.
    [LCG24] §2 model definition (S2), claim M2
    """
    prompt, W_np = case
    order = data.draw(st.permutations(list(range(prompt.n))), label="order")
    permuted = Prompt(prompt.x[:, order], prompt.y[:, order], prompt.xq, prompt.labels)
    before = attention.predict(prompt, _W(W_np))
    after = attention.predict(permuted, _W(W_np)).y_hat
    gap = _gap(before.y_hat, after)
    slack = 2 * summation_slack(prompt.n, prompt.labels.bound)
    check(
        gap <= slack,
        margin=slack - gap,
        ratio=gap / slack,
        message=f"y_hat moved by {gap:.3g} > {slack:.3g} under {order}",
    )


@claim("M3", section=SECTION, given={"case": prompts_with_weights()})
def label_flip_equivariance(case: tuple[Prompt, np.ndarray]) -> None:
    """Flipping every label flips y_hat whenever W21 = 0 and W23 = 0 (the label row of W acting on h_q).
    [LCG24] §2 model definition (S2), claim M3
    """
    prompt, W_np = case
    d = prompt.d
    W_np = W_np.copy()
    W_np[d, :d] = 0.0  # W21: label row, x columns
    W_np[d, d + 1] = 0.0  # W23: label row, query-flag column
    flipped = Prompt(prompt.x, -prompt.y, prompt.xq, prompt.labels)
    before = attention.predict(prompt, _W(W_np)).y_hat
    after = attention.predict(flipped, _W(W_np)).y_hat
    gap = _gap(after, -before)
    slack = 2 * summation_slack(prompt.n, prompt.labels.bound)
    check(
        gap <= slack, margin=slack - gap, ratio=gap / slack, message=f"y_hat(-y) + y_hat(y) = {gap:.3g} > {slack:.3g}"
    )


def _rotated(prompt: Prompt, U: np.ndarray) -> Prompt:
    Ut = torch.tensor(U, dtype=torch.float64)
    return Prompt(prompt.x @ Ut.T, prompt.y, prompt.xq @ Ut.T, prompt.labels)


@st.composite
def _prompt_rotation_xi(draw: Any) -> tuple[Prompt, np.ndarray, tuple[float, float]]:
    prompt = draw(prompts())
    return prompt, draw(orthogonal_matrices(d=prompt.d)), draw(family_params())


@claim("M4", section=SECTION, given={"case": _prompt_rotation_xi()})
def rotation_invariance_on_family(case: tuple[Prompt, np.ndarray, tuple[float, float]]) -> None:
    """Rotating every x (examples and query) by an orthogonal U leaves y_hat unchanged on the family.
    [LCG24] §3 / [AW26] Lemma 4 (symmetry of the family), claim M4
    """
    prompt, U, (xi1, xi2) = case
    W = attention.family_W(xi1, xi2, prompt.d)
    before = attention.predict(prompt, W)
    after = attention.predict(_rotated(prompt, U), W).y_hat
    gap = _gap(before.y_hat, after)
    error = 2 * _error(prompt, W) + (prompt.d + 2) * EPS64 * (xi1 + 1.0)  # + the rotation's rounding
    slack = float(prediction_slack(before.weights, value_row(prompt), error, prompt.labels.bound)[0])
    check(
        gap <= slack,
        margin=slack - gap,
        ratio=gap / slack,
        message=f"y_hat moved by {gap:.3g} > {slack:.3g} (xi = {xi1!r}, {xi2!r})",
    )


@st.composite
def _prompt_rotation_weight(draw: Any) -> tuple[Prompt, np.ndarray, np.ndarray]:
    prompt = draw(prompts())
    return prompt, draw(orthogonal_matrices(d=prompt.d)), draw(weight_matrices(d=prompt.d))


@claim("M5", section=SECTION, given={"case": _prompt_rotation_weight()})
def rotation_conjugates_weight(case: tuple[Prompt, np.ndarray, np.ndarray]) -> None:
    """For any W, y_hat(Ux; P W P^T) = y_hat(x; W) with P = diag(U, 1, 1).
    [LCG24] §2 model definition (S2), claim M5
    """
    prompt, U, W_np = case
    P = np.eye(prompt.d + 2)
    P[: prompt.d, : prompt.d] = U
    before = attention.predict(prompt, _W(W_np))
    after = attention.predict(_rotated(prompt, U), _W(P @ W_np @ P.T)).y_hat
    gap = _gap(before.y_hat, after)
    error = 4 * (prompt.d + 2) * _error(prompt, _W(W_np))  # the conjugation adds two more products
    slack = float(prediction_slack(before.weights, value_row(prompt), error, prompt.labels.bound)[0])
    check(gap <= slack, margin=slack - gap, ratio=gap / slack, message=f"y_hat moved by {gap:.3g} > {slack:.3g}")


@claim(
    "M6",
    section=SECTION,
    given={"prompt": prompts(), "xi": family_params()},
    examples=[{"prompt": THREE_EQUAL_LABELS, "xi": (958.0, 219.0)}],
)
def family_formula_matches_model(prompt: Prompt, xi: tuple[float, float]) -> None:
    """The family's closed form q_j = e^{xi1 tau_j} / (sum_l e^{xi1 tau_l} + e^{xi1 - xi2}) equals the full model.
    [LCG24] §3 eq. (two-parameter family, S8), claim M6
    """
    xi1, xi2 = xi
    W = attention.family_W(xi1, xi2, prompt.d)
    full = attention.predict(prompt, W)
    closed = attention.family_predict(prompt, xi1, xi2)
    gap_y, gap_w = _gap(full.y_hat, closed.y_hat), _gap(full.weights, closed.weights)
    norm_defect = float((prompt.xq.pow(2).sum() - 1.0).abs())  # the closed form uses ||x_q|| = 1
    error = 2 * _error(prompt, W) + xi1 * norm_defect
    slack_y = float(prediction_slack(full.weights, value_row(prompt), error, prompt.labels.bound)[0])
    slack_w = float(weights_slack(full.weights, error)[0])
    check(
        gap_y <= slack_y and gap_w <= slack_w,
        margin=min(slack_y - gap_y, slack_w - gap_w),
        ratio=max(gap_y / slack_y, gap_w / slack_w),
        message=f"closed form differs by {gap_y:.3g} in y_hat (slack {slack_y:.3g}) and {gap_w:.3g} in the "
        f"weights (slack {slack_w:.3g}) at xi = ({xi1!r}, {xi2!r})",
    )


@st.composite
def _prompt_factors(draw: Any) -> tuple[Prompt, np.ndarray, np.ndarray]:
    prompt = draw(prompts())
    size = prompt.d + 2
    rank = draw(st.integers(1, size))
    scale = draw(st.sampled_from([1.0, 10.0, 100.0]))
    entries = st.floats(-scale, scale)
    from hypothesis.extra.numpy import arrays

    return (
        prompt,
        draw(arrays(np.float64, (rank, size), elements=entries)),
        draw(arrays(np.float64, (rank, size), elements=entries)),
    )


@claim("M7", section=SECTION, given={"case": _prompt_factors()})
def merged_equals_factorised(case: tuple[Prompt, np.ndarray, np.ndarray]) -> None:
    """The factorised layer with W_K, W_Q computes the same function as the merged W = W_K^T W_Q.
    [LCG24] §2 (W = W_K^T W_Q), claim M7
    """
    prompt, K_np, Q_np = case
    merged = attention.predict(prompt, _W(K_np.T @ Q_np))
    factorised = attention.predict_factorised(prompt, _W(K_np), _W(Q_np)).y_hat
    gap = _gap(merged.y_hat, factorised)
    rank = K_np.shape[0]
    error = 2 * (rank + prompt.d + 2) * _error(prompt, _W(np.abs(K_np).T @ np.abs(Q_np)))
    slack = float(prediction_slack(merged.weights, value_row(prompt), error, prompt.labels.bound)[0])
    check(
        gap <= slack,
        margin=slack - gap,
        ratio=gap / slack,
        message=f"merged and factorised differ by {gap:.3g} > {slack:.3g}",
    )


@claim("M8", section=SECTION, given={"case": prompts_with_weights()})
def float32_agrees_with_float64(case: tuple[Prompt, np.ndarray]) -> None:
    """The model in float32 agrees with float64 within the float32 rounding bound of its scores.
    [LCG24] §2 model definition (S2), claim M8

    Tolerance: each float32 score is off by at most (d+2) eps32 |h_j|^T |W| |h_q| plus the rounding
    of the inputs to float32 (counted in the same term), propagated through the softmax as in
    :func:`properties.tolerances.prediction_slack` with eps32.
    """
    prompt, W_np = case
    double = attention.predict(prompt, _W(W_np))
    single = attention.predict(prompt.to(torch.float32), _W(W_np, torch.float32)).y_hat
    gap = _gap(double.y_hat, single) if bool(torch.isfinite(single).all()) else float("inf")
    error = 2 * _error(prompt, _W(W_np), eps=EPS32)
    slack = float(prediction_slack(double.weights, value_row(prompt), error, prompt.labels.bound, eps=EPS32)[0])
    check(gap <= slack, margin=slack - gap, ratio=gap / slack, message=f"float32 differs by {gap:.3g} > {slack:.3g}")


@st.composite
def _large_logits(draw: Any) -> tuple[Prompt, np.ndarray]:
    prompt = draw(prompts())
    W = draw(weight_matrices(d=prompt.d))
    factor = draw(st.sampled_from([1.0, 1e2, 1e4]))
    return prompt, W * factor


@claim("M9", section=SECTION, given={"case": _large_logits()})
def finite_at_large_logits(case: tuple[Prompt, np.ndarray]) -> None:
    """No NaN or inf at large logits (W entries up to 1e8): y_hat is finite and |y_hat| <= B.
    [LCG24] §2 model definition (S2), claim M9
    """
    prompt, W_np = case
    outputs = []
    for dtype in (torch.float64, torch.float32):
        p = prompt.to(dtype)
        prediction = attention.predict(p, _W(W_np, dtype))
        outputs += [prediction.y_hat, prediction.weights]
    layer = attention.AttentionLayer(_W(W_np))(attention.embed(prompt)).detach()
    finite = all(bool(torch.isfinite(t).all()) for t in [*outputs, layer])
    size = max(float(outputs[0].abs().max()), float(outputs[2].abs().max())) if finite else float("inf")
    limit = prompt.labels.bound * (1.0 + 4 * summation_slack(prompt.n, 1.0, eps=EPS32))
    check(
        finite and size <= limit,
        margin=limit - size,
        ratio=size / limit,
        message=f"finite {finite}, |y_hat| = {size!r} vs B = {prompt.labels.bound:g}",
    )
