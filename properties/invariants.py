"""Invariants of the model itself (THEORY.md "M-invariants", IDs M1-M10).

M1 the query's attention weights are a probability vector; M2 permuting the examples leaves y_hat
unchanged; M3 flipping every label flips y_hat when W21 = 0 and W23 = 0; M4 rotating every x leaves
y_hat unchanged on the family; M5 for a general W a rotation maps W to its conjugate; M6 the
family's closed form equals the full model; M7 merged W equals the factorised W_K^T W_Q; M8 float32
agrees with float64 within a stated tolerance; M9 no NaN/inf at large logits; M10 the full layer
f(H; W) = H softmax(H^T W H) is a column-stochastic attention whose query column carries y_hat.

Tolerances: first-order rounding bounds (:mod:`properties.tolerances`) evaluated on reference
weights that do not come from the model under test (:mod:`properties.reference`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import model.attention as attention
from model.prompt import Prompt
from properties.matrices import family_params, orthogonal_matrices, prompts_with_weights, weight_matrices
from properties.pinned import M5_CANCELLATION, M8_SATURATED, M9_SUBNORMAL, THREE_EQUAL_LABELS
from properties.reference import family_matrix, layer_with_slack, reference_slack, reference_weights, score_bound
from properties.registry import check, check_at_most, claim
from properties.strategies import SEEDS, prompts
from properties.tolerances import EPS32, EPS64, SUBNORMAL32, summation_slack, weights_slack

SECTION = "Model invariants"
F64 = torch.float64


def _W(W_np: np.ndarray, dtype: torch.dtype = F64) -> torch.Tensor:
    return torch.tensor(W_np, dtype=dtype)


def _gap(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.to(F64) - b.to(F64)).abs().max())


def _same(gap: float, slack: float, what: str) -> None:
    check_at_most(gap, slack, message=f"{what} by {gap:.3g} > slack {slack:.3g}")


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


@st.composite
def _permutations(draw: Any, n: int) -> list[int]:
    """Reversal, a swap of the first two, or a seeded shuffle (cheap at N = 512, unlike st.permutations)."""
    kind = draw(st.sampled_from(["reverse", "swap", "shuffle"]))
    if kind == "reverse":
        return list(range(n))[::-1]
    if kind == "swap":
        return [1, 0, *range(2, n)] if n > 1 else [0]
    return [int(i) for i in np.random.default_rng(draw(SEEDS)).permutation(n)]


@claim("M2", section=SECTION, given={"case": prompts_with_weights(), "data": st.data()})
def permutation_invariance(case: tuple[Prompt, np.ndarray], data: Any) -> None:
    """Permuting the (x_j, y_j) pairs leaves y_hat unchanged.
    [LCG24] §2 model definition (S2), claim M2
    """
    prompt, W_np = case
    order = data.draw(_permutations(prompt.n), label="order")
    permuted = Prompt(prompt.x[:, order], prompt.y[:, order], prompt.xq, prompt.labels)
    before = attention.predict(prompt, _W(W_np)).y_hat
    after = attention.predict(permuted, _W(W_np)).y_hat
    # a key's score may round differently at another position (blocked dot products): score rounding
    slack = reference_slack(prompt, _W(W_np), factor=2) + 2 * summation_slack(prompt.n, prompt.labels.bound)
    _same(_gap(before, after), slack, "permuting moved y_hat")


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
    _same(_gap(after, -before), 2 * summation_slack(prompt.n, prompt.labels.bound), "y_hat(-y) missed -y_hat(y)")


def _rotated(prompt: Prompt, U: np.ndarray) -> Prompt:
    Ut = torch.tensor(U, dtype=F64)
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
    rotated = _rotated(prompt, U)
    before = attention.predict(prompt, W).y_hat
    after = attention.predict(rotated, W).y_hat
    reference = family_matrix(xi1, xi2, prompt.d)
    rotation = (prompt.d + 2) * EPS64 * (xi1 + 1.0)  # the rotated points' rounding, times xi1
    # score rounding in both frames: cancellations differ (e.g. x = e_1 has exact scores, U x not)
    other_frame = float(score_bound(rotated, reference, factor=2)[0]) + rotation
    slack = reference_slack(prompt, reference, factor=2, extra_error=other_frame)
    _same(_gap(before, after), slack, "rotating moved y_hat")


@st.composite
def _prompt_rotation_weight(draw: Any) -> tuple[Prompt, np.ndarray, np.ndarray]:
    prompt = draw(prompts())
    return prompt, draw(orthogonal_matrices(d=prompt.d)), draw(weight_matrices(d=prompt.d))


@claim("M5", section=SECTION, given={"case": _prompt_rotation_weight()}, examples=[{"case": M5_CANCELLATION}])
def rotation_conjugates_weight(case: tuple[Prompt, np.ndarray, np.ndarray]) -> None:
    """For any W, y_hat(Ux; P W P^T) = y_hat(x; W) with P = diag(U, 1, 1).
    [LCG24] §2 model definition (S2), claim M5
    """
    prompt, U, W_np = case
    P = np.eye(prompt.d + 2)
    P[: prompt.d, : prompt.d] = U
    conjugated = _W(P @ W_np @ P.T)
    rotated = _rotated(prompt, U)
    before = attention.predict(prompt, _W(W_np)).y_hat
    after = attention.predict(rotated, conjugated).y_hat
    # score rounding in both frames: a cancellation that is exact in one frame, such as W[0, 0] = 0
    # with x = e_1, is not in the other. In the rotated frame the sizes are |P| |W| |P^T|: the
    # conjugation's two products (2), the scores' dot products (1), the rotated points (2).
    size = _W(np.abs(P) @ np.abs(W_np) @ np.abs(P.T))
    other_frame = float(score_bound(rotated, conjugated, factor=5, abs_W=size)[0])
    slack = reference_slack(prompt, _W(W_np), factor=2, extra_error=other_frame)
    _same(_gap(before, after), slack, "rotating x and conjugating W moved y_hat")


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
    reference = family_matrix(xi1, xi2, prompt.d)
    slack_y = reference_slack(prompt, reference, factor=2, extra_error=xi1 * norm_defect)
    error = score_bound(prompt, reference, factor=2, extra_error=xi1 * norm_defect)
    slack_w = float(weights_slack(reference_weights(prompt, reference), error)[0])
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
    factor = arrays(np.float64, (rank, size), elements=entries)
    return prompt, draw(factor), draw(factor)


@claim("M7", section=SECTION, given={"case": _prompt_factors()})
def merged_equals_factorised(case: tuple[Prompt, np.ndarray, np.ndarray]) -> None:
    """The factorised layer with W_K, W_Q computes the same function as the merged W = W_K^T W_Q.
    [LCG24] §2 (W = W_K^T W_Q), claim M7
    """
    prompt, K_np, Q_np = case
    W = _W(K_np.T @ Q_np)
    merged = attention.predict(prompt, W).y_hat
    factorised = attention.predict_factorised(prompt, _W(K_np), _W(Q_np)).y_hat
    rank = K_np.shape[0]
    # in units of (d+2) eps |h|^T |K|^T |Q| |h|: the merged W's entries (r / (d+2)), the merged dot
    # products (1), the factorised path's (d+2) + (d+2) + r products ((d+2+r) / (d+2))
    factor = 2.0 + 2.0 * rank / (prompt.d + 2)
    slack = reference_slack(prompt, W, factor=factor, abs_W=_W(np.abs(K_np).T @ np.abs(Q_np)))
    _same(_gap(merged, factorised), slack, "merged and factorised differ")


@claim("M8", section=SECTION, given={"case": prompts_with_weights()}, examples=[{"case": M8_SATURATED}])
def float32_agrees_with_float64(case: tuple[Prompt, np.ndarray]) -> None:
    """The model in float32 agrees with float64 within the float32 rounding bound of its scores.
    [LCG24] §2 model definition (S2), claim M8

    Tolerance: each float32 score is off by at most (d+2) eps32 |h_j|^T |W| |h_q| plus the rounding
    of the inputs to float32 (counted in the same term, doubled), propagated through the softmax as
    in :func:`properties.tolerances.prediction_slack` with eps32.
    """
    prompt, W_np = case
    double = attention.predict(prompt, _W(W_np)).y_hat
    single = attention.predict(prompt.to(torch.float32), _W(W_np, torch.float32)).y_hat
    gap = _gap(double, single) if bool(torch.isfinite(single).all()) else float("inf")
    _same(gap, reference_slack(prompt, _W(W_np), factor=2, eps=EPS32), "float32 differs")


@st.composite
def _large_logits(draw: Any) -> tuple[Prompt, np.ndarray]:
    prompt = draw(prompts())
    W = draw(weight_matrices(d=prompt.d))
    factor = draw(st.sampled_from([1.0, 1e2, 1e4]))
    return prompt, W * factor


@claim("M9", section=SECTION, given={"case": _large_logits()}, examples=[{"case": M9_SUBNORMAL}])
def finite_at_large_logits(case: tuple[Prompt, np.ndarray]) -> None:
    """No NaN or inf at large logits (W entries up to 1e8): y_hat is finite and |y_hat| <= max_j |y_j|.
    [LCG24] §2 model definition (S2), claim M9

    The bound is on the labels as each precision holds them (a float64 label below 1.2e-38 is
    subnormal in float32 and rounds with an absolute, not relative, error), with the relative
    summation slack plus one float32 subnormal spacing per term of the sum.
    """
    prompt, W_np = case
    outputs = []
    for dtype in (F64, torch.float32):
        prediction = attention.predict(prompt.to(dtype), _W(W_np, dtype))
        outputs += [prediction.y_hat, prediction.weights]
    layer = attention.AttentionLayer(_W(W_np))(attention.embed(prompt)).detach()
    finite = all(bool(torch.isfinite(t).all()) for t in [*outputs, layer])
    size = max(float(outputs[0].abs().max()), float(outputs[2].abs().max())) if finite else float("inf")
    # y_hat is a convex combination of the labels and the query's 0
    largest = max(float(prompt.y.abs().max()), float(prompt.y.to(torch.float32).abs().max()))
    limit = largest * (1.0 + 4 * summation_slack(prompt.n, 1.0, eps=EPS32)) + (prompt.n + 1) * SUBNORMAL32
    check(
        finite and size <= limit,
        margin=limit - size,
        ratio=size / limit if limit > 0 else (0.0 if size == 0 else float("inf")),
        message=f"finite {finite}, |y_hat| = {size!r} vs max |y_j| = {largest!r}",
    )


@claim("M10", section=SECTION, given={"case": prompts_with_weights()})
def full_layer_is_column_stochastic(case: tuple[Prompt, np.ndarray]) -> None:
    """The full layer H softmax(H^T W H) is column-stochastic, equals its definition in every column, and carries y_hat.
    [LCG24] §2 eq. f(H; W) (S2), claim M10

    Every column is compared with an independent float64 computation (:mod:`properties.reference`)
    within an entrywise rounding slack; the query column's label entry also with ``predict``.
    """
    prompt, W_np = case
    H = attention.embed(prompt)  # (B, d+2, N+1)
    layer = attention.AttentionLayer(_W(W_np))
    weights = layer.attention(H).detach()  # (B, N+1, N+1), column j = attention of position j
    output = layer(H).detach()  # (B, d+2, N+1)
    reference, entry_slack = layer_with_slack(prompt, _W(W_np))
    entries = float(((output - reference).abs() / entry_slack).max())  # <= 1 when every entry agrees
    y_hat = attention.predict(prompt, _W(W_np)).y_hat
    column_error = float((weights.sum(dim=1) - 1.0).abs().max())
    slack = summation_slack(prompt.n, 1.0)
    readout = _gap(output[:, prompt.d, -1], y_hat)
    readout_slack = reference_slack(prompt, _W(W_np), factor=2) + summation_slack(prompt.n, prompt.labels.bound)
    minimum = float(weights.min())
    ratio = max(column_error / slack, readout / readout_slack, entries)
    check(
        ratio <= 1.0 and minimum >= 0.0,
        margin=min(1.0 - ratio, minimum),
        ratio=ratio,
        message=f"columns sum to 1 within {column_error:.3g} (slack {slack:.3g}), min weight {minimum!r}, "
        f"worst entry off by {entries:.3g} of its slack, [f(H; W)]_(d+1, N+1) - y_hat = {readout:.3g} "
        f"(slack {readout_slack:.3g})",
    )
