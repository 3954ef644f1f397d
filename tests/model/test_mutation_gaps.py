"""Tests that kill the mutants of ``benchmarks/mutation.py`` the fast test selection let survive.

Each test names, in its docstring, the mutant it kills (file:line in the committed source, original ->
mutated); ``python benchmarks/mutation.py --mutant ID --extra-tests tests/model/test_mutation_gaps.py``
shows it killed.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from model import exact, multiclass, shift
from model.attention import AttentionLayer, embed, family_predict, family_W, predict, predict_factorised
from model.errors import InvalidParameter, InvalidShape, NonFiniteValue
from model.prompt import Prompt

F64 = torch.float64
#: The same scores through W_K^T W_Q merged and through the factors: O(1) numbers, a few roundings.
REASSOC_TOL = 1e-12


def _hand_prompt() -> Prompt:
    """N = 2, d = 2: x_1 = e_1 with y_1 = +1, x_2 = e_2 with y_2 = -1, x_q = (0.6, 0.8)."""
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=F64)  # (1, 2, 2)
    return Prompt(x, torch.tensor([[1.0, -1.0]], dtype=F64), torch.tensor([[0.6, 0.8]], dtype=F64))


# --- model/attention.py: predict_factorised ---------------------------------------------------------


def test_predict_factorised_accepts_rank_one_factors() -> None:
    """Kills model/attention.py:124 ``M.shape[0] < 1`` -> ``M.shape[0] <= 1`` (rank r = 1 is allowed)."""
    W_K = torch.tensor([[1.0, 2.0, 0.0, -1.0]], dtype=F64)  # (1, d+2)
    W_Q = torch.tensor([[0.5, 0.0, 1.0, 2.0]], dtype=F64)  # (1, d+2)
    merged = predict(_hand_prompt(), W_K.T @ W_Q).y_hat
    assert torch.allclose(predict_factorised(_hand_prompt(), W_K, W_Q).y_hat, merged, rtol=0, atol=REASSOC_TOL)


def test_predict_factorised_rejects_factors_of_the_wrong_width() -> None:
    """Kills model/attention.py:124 ``M.ndim != 2 or M.shape[1] != size or ...`` -> ``... and ...``."""
    with pytest.raises(InvalidShape, match=r"W_K must have shape \(r, d\+2\) with d\+2 = 4, got \(2, 5\)"):
        predict_factorised(_hand_prompt(), torch.ones(2, 5, dtype=F64), torch.ones(2, 4, dtype=F64))


# --- model/attention.py: AttentionLayer -------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 3), (4, 5)])
def test_attention_layer_rejects_a_non_square_or_too_small_W(shape: tuple[int, int]) -> None:
    """Kills model/attention.py:179 ``W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 4`` -> ``and``."""
    with pytest.raises(InvalidShape, match=rf"W must be square of size d\+2 >= 4, got \({shape[0]}, {shape[1]}\)"):
        AttentionLayer(torch.zeros(shape, dtype=F64))


def test_attention_layer_rejects_H_of_the_wrong_height() -> None:
    """Kills model/attention.py:187 ``H.ndim != 3 or H.shape[1] != self.W.shape[0]`` -> ``and``."""
    layer = AttentionLayer(family_W(1.0, 1.0, 2))
    H = torch.cat([embed(_hand_prompt()), torch.zeros(1, 1, 3, dtype=F64)], dim=1)  # (1, d+3, N+1)
    with pytest.raises(InvalidShape, match=r"H must have shape \(B, d\+2, N\+1\) with d\+2 = 4, got \(1, 5, 3\)"):
        layer.attention(H)


def test_attention_layer_accepts_the_smallest_W_d_2() -> None:
    """Kills model/attention.py:179 ``W.shape[0] < 4`` -> ``W.shape[0] <= 4`` (d = 2 gives a 4 x 4 W)."""
    H = embed(_hand_prompt())  # (1, 4, 3)
    W = family_W(1.0, 1.0, 2)  # (4, 4)
    y_hat = AttentionLayer(W)(H)[:, -2, -1]  # (1,)
    assert torch.allclose(y_hat, predict(_hand_prompt(), W).y_hat, rtol=0, atol=REASSOC_TOL)


# --- model/attention.py: the overflow guard ---------------------------------------------------------


def test_a_single_overflowing_score_is_reported_not_an_index_error() -> None:
    """Kills model/attention.py:76 ``scores.detach()[~finite][0]`` -> ``[1]`` (one bad score has no index 1).

    xi1 = 1e308, xi2 = -1e308: the example scores xi1 tau_j = 6e307, 8e307 are finite, the query's
    xi1 - xi2 = 2e308 overflows alone.
    """
    with pytest.raises(NonFiniteValue, match=r"attention scores overflow torch\.float64 \(a score is inf\)"):
        family_predict(_hand_prompt(), 1e308, -1e308)


def test_predict_factorised_rejects_rank_zero_factors() -> None:
    """Kills model/attention.py:124 ``M.shape[0] < 1`` -> ``M.shape[1] < 1`` (a (0, d+2) factor is not rank r >= 1)."""
    empty = torch.zeros(0, 4, dtype=F64)  # (0, d+2)
    with pytest.raises(InvalidShape, match=r"W_K must have shape \(r, d\+2\) with d\+2 = 4, got \(0, 4\)"):
        predict_factorised(_hand_prompt(), empty, empty)


# --- model/multiclass.py: the K-class population loss -----------------------------------------------


def test_multiclass_population_loss_is_k_minus_1_over_k_times_the_binary_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills model/multiclass.py:245 ``(K - 1) / K * exact.population_loss(...)`` -> ``... / ...`` (and the other
    arithmetic mutants of that line). The binary loss is stubbed (its quadrature is tested in test_exact.py), so
    only the C12a scaling (K-1)/K is checked, with the arguments passed through unchanged."""
    calls: list[tuple[float, float, int, int]] = []

    def binary(xi1: float, xi2: float, N: int, d: int) -> float:
        calls.append((xi1, xi2, N, d))
        return 0.375

    monkeypatch.setattr(exact, "population_loss", binary)
    assert multiclass.population_loss(2.0, 3.0, 16, 8, 4) == 0.75 * 0.375 and calls == [(2.0, 3.0, 16, 8)]


# --- model/multiclass.py: ClassPrompt, argmax_class, binary_weight -----------------------------------


def test_class_prompts_are_immutable() -> None:
    """Kills model/multiclass.py:78 ``@dataclass(frozen=True)`` -> ``frozen=False``."""
    prompt = multiclass.ClassPrompt(_hand_prompt().x, torch.tensor([[0, 2]]), _hand_prompt().xq, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        prompt.K = 2  # type: ignore[misc]


def test_argmax_class_takes_a_single_logit_vector() -> None:
    """Kills model/multiclass.py:165 ``logits.ndim < 1`` -> ``logits.ndim <= 1`` ((K,) logits are allowed)."""
    assert int(multiclass.argmax_class(torch.tensor([0.1, 0.7, 0.2], dtype=F64))) == 1


def test_binary_weight_of_the_k2_family_at_d_2_is_the_binary_family() -> None:
    """Kills model/multiclass.py:216 ``check_size(d, "d", 2)`` -> ``check_size(d, "d", 3)`` (d = 2 is allowed).

    A^T diag(xi1 I_d, 0, 0, -xi2) A = diag(xi1 I_d, 0, -xi2): every product is with 0, +-0.5 or 1, so exact.
    """
    W_mc = multiclass.family_W(1.5, 2.5, 2, 2)  # (d+3, d+3)
    assert torch.equal(multiclass.binary_weight(W_mc, 2), family_W(1.5, 2.5, 2))


def test_family_projection_recovers_xi_at_d_2() -> None:
    """Kills model/multiclass.py:228 ``check_size(d, "d", 2)`` -> ``check_size(d, "d", 3)`` (d = 2 is allowed)."""
    assert multiclass.family_projection(multiclass.family_W(1.5, 2.5, 2, 3), 2, 3) == (1.5, 2.5)


def test_a_single_out_of_range_class_is_reported_not_an_index_error() -> None:
    """Kills model/multiclass.py:104 ``classes[...][0]`` -> ``classes[...][1]`` (one bad class has no index 1)."""
    with pytest.raises(InvalidParameter, match=r"classes must lie in \[0, K\) = \[0, 3\), got 3"):
        multiclass.ClassPrompt(_hand_prompt().x, torch.tensor([[0, 3]]), _hand_prompt().xq, 3)


# --- model/shift.py (its C10 claims are not in the fast selection) -----------------------------------

#: Two evaluations of one closed form (a sum and a product of O(1) floats, a sqrt and a log): a few ulps.
FORMULA_TOL = 1e-14


def test_dkw_epsilon_takes_a_sample_of_one() -> None:
    """Kills model/shift.py:72 ``check_size(n, "n", 1)`` -> ``check_size(n, "n", 2)``."""
    assert math.isclose(shift.dkw_epsilon(1, 0.1), math.sqrt(math.log(10) / 2), rel_tol=FORMULA_TOL)


def test_the_separated_law_accepts_delta_star_2() -> None:
    """Kills model/shift.py:110 ``0 < delta <= 2`` -> ``0 < delta < 2`` (the docstring's range is (0, 2])."""
    prompt = shift.sample_law("separated", 2, 3, 2, generator=torch.Generator().manual_seed(7), delta=2.0)
    assert prompt.batch == 2 and prompt.n == 3


def test_the_antipodal_law_has_labels_plus_minus_one() -> None:
    """Kills model/shift.py:128 ``2.0 * randint(0, 2) - 1.0`` -> ``... + 1.0`` (labels would be 1 and 3)."""
    prompt = shift.sample_law("antipodal", 8, 5, 3, generator=torch.Generator().manual_seed(7))
    assert set(prompt.y.flatten().tolist()) <= {-1.0, 1.0}


def test_error_lower_bound_accepts_zero_errors_and_rejects_a_zero_bound() -> None:
    """Kills model/shift.py:173 ``errors.min() < 0`` -> ``<= 0`` and ``bound <= 0`` -> ``bound < 0``."""
    zeros = np.zeros(4)
    assert math.isclose(shift.error_lower_bound(zeros, 1.0, 0.1), -4 * shift.dkw_epsilon(4, 0.1), rel_tol=FORMULA_TOL)
    with pytest.raises(InvalidParameter, match=r"label bound B must be > 0"):
        shift.error_lower_bound(zeros, 0.0, 0.1)


def test_c10_bound_with_only_infinite_margins_is_the_tail() -> None:
    """Kills model/shift.py:204 ``check_size(N, "N", 1)`` -> ``... 2)``, :222 ``finite.size / m.size + eps`` ->
    ``- eps`` and :223 ``(2 * B) ** 2 * tail_p`` -> ``/ tail_p``. With xi1 = 1, xi2 = 2, B = 1 the first term at
    delta = inf is (e^{2 xi1 - xi2})^2 = 1, and no margin is finite, so the value is 1 + 4 eps."""
    result = shift.c10_bound(1.0, 2.0, 1, 1.0, np.array([np.inf, np.inf]), 0.1)
    assert math.isclose(result.value, 1.0 + 4.0 * shift.dkw_epsilon(2, 0.1), rel_tol=FORMULA_TOL)


def test_c10_bound_probability_is_capped_at_one() -> None:
    """Kills model/shift.py:222 ``min(1.0, finite.size / m.size + eps)`` -> ``min(2.0, ...)``: zero margins only,
    so P(A_delta^c) <= 1 + eps is capped at 1 and the value is 1 + 4 * 1."""
    assert shift.c10_bound(1.0, 2.0, 1, 1.0, np.zeros(2), 0.1).value == 5.0


def test_the_separated_law_rejects_a_zero_label_bound() -> None:
    """Kills model/shift.py:110 ``if bound <= 0`` -> ``if bound < 0`` (B = 0 is not a label bound)."""
    with pytest.raises(InvalidParameter, match=r"label bound B must be > 0, got 0\.0"):
        shift.sample_law("separated", 2, 3, 2, generator=torch.Generator().manual_seed(7), bound=0.0)
