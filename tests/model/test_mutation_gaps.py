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

from model import exact, multiclass, prompt, shift
from model.attention import (
    AttentionLayer,
    embed,
    family_predict,
    family_W,
    init_W,
    predict,
    predict_factorised,
    query_scores,
)
from model.errors import (
    InvalidDimension,
    InvalidDType,
    InvalidLabel,
    InvalidParameter,
    InvalidShape,
    NonFiniteValue,
    NonUnitVector,
)
from model.nearest import inner_products, nearest, runner_up_gap
from model.prompt import BINARY, Prompt, bounded

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


# --- mutmut 3 survivors (benchmarks/MUTMUT.md); IDs are mutmut's, lines those of the committed source ----


def test_the_reference_is_float64_for_a_float32_prompt() -> None:
    """Kills mutmut model.nearest.x_inner_products__mutmut_2 / _5 (nearest.py:43-44 ``.to(torch.float64)`` ->
    ``.to(None)``) and x_nearest__mutmut_12 (nearest.py:57 ``prompt.y.to(torch.float64)`` -> ``.to(None)``):
    the module docstring promises float64 whatever the prompt's dtype."""
    prompt = _hand_prompt().to(torch.float32)
    assert inner_products(prompt).dtype == F64
    assert torch.equal(inner_products(prompt), torch.tensor([[0.6, 0.8]], dtype=torch.float32).to(F64))
    assert nearest(prompt).label.dtype == F64


def _rows_prompt() -> Prompt:
    """B = 3, N = 3, d = 2, x_q = e_1, bounded labels: row 0 three tied copies of e_1 labelled 0.1, row 1 the
    same labelled 0.7, row 2 e_1 twice (labels 1 and -0.5: a disagreeing tie) and e_2 (label 0.7)."""
    e1, e2 = [1.0, 0.0], [0.0, 1.0]
    x = torch.tensor([[e1, e1, e1], [e1, e1, e1], [e1, e1, e2]], dtype=F64)  # (3, 3, 2)
    y = torch.tensor([[0.1, 0.1, 0.1], [0.7, 0.7, 0.7], [1.0, -0.5, 0.7]], dtype=F64)
    return Prompt(x, y, torch.tensor([e1, e1, e1], dtype=F64), labels=bounded(1.0))


def test_the_nearest_label_is_computed_prompt_by_prompt() -> None:
    """Kills mutmut model.nearest.x_nearest__mutmut_15 / _18 (nearest.py:58 ``.sum(dim=1)`` -> ``.sum(dim=None)``)
    and _21 / _31 (nearest.py:59-60 ``.amax(dim=1)`` / ``.amin(dim=1)`` -> ``dim=None``): reductions over the whole
    batch. Agreeing tied labels are kept exactly (the mean of three 0.1 is 0.10000000000000002), a disagreeing
    tie gives its own row's mean (1 - 0.5) / 2 = 0.25."""
    assert nearest(_rows_prompt()).label.tolist() == [0.1, 0.7, 0.25]


def test_runner_up_gap_is_per_prompt() -> None:
    """Kills mutmut model.nearest.x_runner_up_gap__mutmut_19 (nearest.py:84 ``rest.amax(dim=1)`` -> ``dim=None``).

    x_q = e_1; row 0 has a runner-up at tau = 0.6, row 1 at tau = 0: the gaps are 0.4 and 1."""
    e1, e2, p = [1.0, 0.0], [0.0, 1.0], [0.6, 0.8]
    x = torch.tensor([[e1, p, e2], [e1, e2, e2]], dtype=F64)
    prompt = Prompt(x, torch.ones(2, 3, dtype=F64), torch.tensor([e1, e1], dtype=F64))
    assert torch.allclose(runner_up_gap(prompt), torch.tensor([0.4, 1.0], dtype=F64), rtol=0, atol=1e-15)


def test_embed_keeps_the_prompt_dtype_when_torch_defaults_to_float64() -> None:
    """Kills mutmut model.attention.x_embed__mutmut_7 / _10 (attention.py:50 ``torch.zeros(..., dtype=x.dtype)`` ->
    ``dtype=None`` / no dtype) and x__query_column__mutmut_6 / _9 / _14 / _17 (attention.py:59-60, the same on
    ``slot`` and ``flag``). Under torch's float32 default these are equivalent (torch.cat promotes to float64
    and a float32 prompt stays float32); under ``torch.set_default_dtype(torch.float64)`` a float32 prompt's H
    would become float64 and ``predict`` with a float32 W would raise InvalidDType."""
    prompt = _hand_prompt().to(torch.float32)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert embed(prompt).dtype == torch.float32
        assert predict(prompt, family_W(1.0, 1.0, 2, dtype=torch.float32)).y_hat.dtype == torch.float32
    finally:
        torch.set_default_dtype(previous)


def test_init_W_honours_its_dtype() -> None:
    """Kills mutmut model.attention.x_init_W__mutmut_18 (attention.py:160 ``family_W(0.0, sigma, d, dtype=dtype)``
    -> ``family_W(0.0, sigma, d, )``: a float32 request would return float64)."""
    W0 = init_W(0.5, 3, dtype=torch.float32)
    assert W0.dtype == torch.float32 and torch.equal(W0, torch.diag(torch.tensor([0.0, 0.0, 0.0, 0.0, -0.5])))


def test_query_scores_takes_the_smallest_H() -> None:
    """Kills mutmut model.attention.x_query_scores__mutmut_13 / _14 (attention.py:98 ``H.shape[1] < 1`` -> ``<= 1`` /
    ``< 2``) and _16 / _17 (``H.shape[2] < 1`` -> ``<= 1`` / ``< 2``): one row and one column (the query alone)
    are a valid H, and its score is h_q W h_q = 2 * 3 * 2."""
    assert query_scores(torch.tensor([[[2.0]]], dtype=F64), torch.tensor([[3.0]], dtype=F64)).tolist() == [[12.0]]


@pytest.mark.parametrize(("shape", "size"), [((4, 3), 4), ((1, 0, 3), 0), ((1, 4, 0), 4)])
def test_query_scores_rejects_a_malformed_H(shape: tuple[int, ...], size: int) -> None:
    """Kills attention:98:229 (benchmarks/mutation.py) and mutmut model.attention.x_query_scores__mutmut_8
    (attention.py:98 ``H.shape[1] < 1 or H.shape[2] < 1``
    -> ``... and ...``), _9 (``H.ndim != 3 or H.shape[1] < 1`` -> ``... and ...``: a 2-D H reaches ``H.shape[2]``),
    _12 (``H.shape[1]`` -> ``H.shape[2]``) and _19 (attention.py:99 ``tuple(H.shape)`` -> ``tuple(None)``: a
    TypeError instead of InvalidShape). W matches H's height, so only the H check can reject."""
    with pytest.raises(InvalidShape, match=r"H must have shape \(B, rows, N\+1\), got "):
        query_scores(torch.zeros(shape, dtype=F64), torch.zeros(size, size, dtype=F64))


def _class_prompt(dtype: torch.dtype = F64) -> multiclass.ClassPrompt:
    """The hand prompt's points with classes (0, 2) of K = 3."""
    hand = _hand_prompt()
    return multiclass.ClassPrompt(hand.x.to(dtype), torch.tensor([[0, 2]]), hand.xq.to(dtype), 3)


def test_the_number_of_classes_must_be_an_integer() -> None:
    """Kills mutmut model.multiclass.x__check_classes__mutmut_2 (multiclass.py:62 ``isinstance(K, bool) or not
    isinstance(K, int) or K < 2`` -> ``... and ... or ...``: K = 2.5 would pass the check)."""
    with pytest.raises(InvalidParameter, match=r"K must be an integer >= 2, got 2\.5"):
        multiclass.simplex_codes_exact(2.5)  # type: ignore[arg-type]


def test_class_prompts_reject_boolean_classes() -> None:
    """Kills mutmut model.multiclass.xǁClassPromptǁ__post_init____mutmut_31 (multiclass.py:102 ``is_complex or
    dtype == torch.bool`` -> ``is_complex and dtype == torch.bool``: bool classes would be read as 0 and 1)."""
    hand = _hand_prompt()
    with pytest.raises(InvalidDType, match=r"classes must be an integer tensor, got torch\.bool"):
        multiclass.ClassPrompt(hand.x, torch.tensor([[False, True]]), hand.xq, 3)


def test_class_prompts_own_int64_copies_of_their_tensors() -> None:
    """Kills mutmut model.multiclass.xǁClassPromptǁ__post_init____mutmut_58 / _59 / _66 / _67 / _74 / _75
    (multiclass.py:110-112 ``object.__setattr__(self, "x" | "xq" | "classes", ...)`` with a misspelt name: the
    caller's tensors are kept) and _76 (``classes.to(torch.int64)`` -> ``.to(None)``): editing the inputs after
    construction must not reach the prompt (as for Prompt), and classes are stored as int64."""
    hand = _hand_prompt()
    x, xq, classes = hand.x.clone(), hand.xq.clone(), torch.tensor([[0, 2]], dtype=torch.int32)
    prompt = multiclass.ClassPrompt(x, classes, xq, 3)
    x.fill_(7.0)
    xq.fill_(7.0)
    classes.fill_(9)
    assert torch.equal(prompt.x, hand.x) and torch.equal(prompt.xq, hand.xq)
    assert prompt.classes.dtype == torch.int64 and prompt.classes.tolist() == [[0, 2]]


def test_class_prompt_select_takes_a_minibatch() -> None:
    """Kills mutmut model.multiclass.xǁClassPromptǁselect__mutmut_1 .. _8 (multiclass.py:139, an argument of
    ``ClassPrompt(self.x[index], self.classes[index], self.xq[index], self.K)`` set to None or dropped): no test of
    the fast selection calls ``select``."""
    hand = _hand_prompt()
    x, xq = torch.cat([hand.x, hand.x.flip(1)]), torch.cat([hand.xq, hand.xq.flip(1)])  # B = 2
    prompt = multiclass.ClassPrompt(x, torch.tensor([[0, 2], [1, 1]]), xq, 3)
    part = prompt.select(torch.tensor([1]))
    assert torch.equal(part.x, x[1:]) and torch.equal(part.xq, xq[1:]) and part.classes.tolist() == [[1, 1]]
    assert part.K == 3


def test_the_k_class_model_runs_in_float32() -> None:
    """Kills mutmut model.multiclass.xǁClassPromptǁcodes__mutmut_4 (multiclass.py:135 ``simplex_codes(self.K,
    dtype=self.dtype)`` -> ``simplex_codes(self.K, )``: float64 codes would make H float64 and a float32 W an
    InvalidDType)."""
    result = multiclass.predict(_class_prompt(torch.float32), multiclass.family_W(1.0, 1.0, 2, 3, dtype=torch.float32))
    assert result.logits.dtype == torch.float32 and result.label.tolist() == [2]


def test_the_k_class_model_keeps_float32_when_torch_defaults_to_float64() -> None:
    """Kills mutmut model.multiclass.x_embed__mutmut_8 / _12 / _27 / _30 / _33 / _36 (multiclass.py:152-155 the
    zeros and ones of H built with ``dtype=None`` / no dtype) and x_family_W__mutmut_36 / _38 (multiclass.py:193
    ``torch.zeros(K, dtype=dtype)`` -> ``dtype=None`` / no dtype). Equivalent under torch's float32 default (cat
    promotes); under ``torch.set_default_dtype(torch.float64)`` the float32 H and W would turn float64."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert multiclass.embed(_class_prompt(torch.float32)).dtype == torch.float32
        assert multiclass.family_W(1.0, 1.0, 2, 3, dtype=torch.float32).dtype == torch.float32
    finally:
        torch.set_default_dtype(previous)


def test_k_class_predictions_carry_the_attention_weights() -> None:
    """Kills mutmut model.multiclass.x__readout__mutmut_14 (multiclass.py:178 ``MulticlassPrediction(logits,
    argmax_class(logits), weights)`` -> ``..., None)``). H^T W H and the closed form give the same weights."""
    prompt = _class_prompt()
    weights = multiclass.predict(prompt, multiclass.family_W(1.0, 1.0, 2, 3)).weights
    assert weights.shape == (1, 3) and math.isclose(float(weights.sum()), 1.0, rel_tol=0, abs_tol=REASSOC_TOL)
    assert torch.allclose(weights, multiclass.family_predict(prompt, 1.0, 1.0).weights, rtol=0, atol=REASSOC_TOL)


@pytest.mark.parametrize("call", ["family_W", "binary_weight", "family_projection"])
def test_k_class_helpers_report_a_bad_d_as_invalid_dimension(call: str) -> None:
    """Kills mutmut model.multiclass.x_family_W__mutmut_16 / _21 / _22, x_binary_weight__mutmut_11 / _16 / _17 and
    x_family_projection__mutmut_10 / _15 / _16 (``check_size(d, "d", 2)`` with the name None, "XXdXX" or "D"):
    check_size raises InvalidDimension only for the names N and d, InvalidParameter otherwise."""
    calls = {
        "family_W": lambda: multiclass.family_W(1.0, 1.0, 1, 3),
        "binary_weight": lambda: multiclass.binary_weight(torch.zeros(4, 4, dtype=F64), 1),
        "family_projection": lambda: multiclass.family_projection(torch.zeros(5, 5, dtype=F64), 1, 3),
    }
    with pytest.raises(InvalidDimension, match=r"d must be an integer >= 2, got 1"):
        calls[call]()


def test_k_class_helpers_name_the_expected_shape() -> None:
    """Kills mutmut model.multiclass.x_binary_weight__mutmut_25 .. _30 (multiclass.py:222, the message's expected
    shape altered or None; _30 ``tuple(W_mc.shape)`` -> ``tuple(None)`` even raises TypeError, not InvalidShape)
    and x_family_projection__mutmut_28 .. _33 (multiclass.py:234, the same)."""
    with pytest.raises(InvalidShape, match=r"^W_mc must be \(d\+3, d\+3\) = \(5, 5\) for K = 2, got \(4, 4\)$"):
        multiclass.binary_weight(torch.zeros(4, 4, dtype=F64), 2)
    with pytest.raises(InvalidShape, match=r"^W must be \(d\+K\+1, d\+K\+1\) = \(6, 6\), got \(4, 4\)$"):
        multiclass.family_projection(torch.zeros(4, 4, dtype=F64), 2, 3)


def test_a_float32_family_member_is_at_distance_0() -> None:
    """Kills mutmut model.multiclass.x_distance_to_family__mutmut_26 (multiclass.py:244 ``family_W(xi1, xi2, d, K,
    dtype=W.dtype)`` -> no dtype): Pi(W) must be rounded to W's dtype, else W = family_W(1/3, 0.7, 3, 3) in
    float32 is 1.7e-8 from its own projection (xi1 = 1/3 comes back as a float64 a few float32 ulps off)."""
    W = multiclass.family_W(1 / 3, 0.7, 3, 3, dtype=torch.float32)
    assert multiclass.distance_to_family(W, 3, 3) == 0.0


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


# --- model/shift.py: the test laws (issue 9's second run; IDs are module:line:node of benchmarks/mutation.py) ----


@pytest.mark.parametrize("law", shift.LAWS)
def test_every_law_takes_one_prompt_of_one_example_at_d_2(law: str) -> None:
    """Kills shift:104:766 ``check_size(batch, "batch", 1)`` -> ``... 2)``, shift:104:770 ``check_size(n, "N", 1)``
    -> ``... 2)`` and shift:114:1737 ``randint(0, n)`` -> ``randint(1, n)`` (the separated law's i is uniform on
    1..N, so with N = 1 it is example 1): the setup allows B >= 1 prompts of N >= 1 examples, d >= 2."""
    sample = shift.sample_law(law, 1, 1, 2, generator=torch.Generator().manual_seed(7))
    assert (sample.batch, sample.n, sample.d) == (1, 1, 2)


def test_the_separated_law_puts_the_query_on_every_example() -> None:
    """Kills shift:114:1737 ``randint(0, n)`` -> ``randint(1, n)`` at N > 1 too: i is uniform on 1..N, so over 60
    prompts of N = 3 the query is each of the three examples (P(some i never drawn) = 3 (2/3)^60 < 1e-10)."""
    sample = shift.sample_law("separated", 60, 3, 4, generator=torch.Generator().manual_seed(7))
    on = (sample.x - sample.xq[:, None, :]).abs().amax(dim=-1) == 0  # (60, 3): x_j is x_q
    assert torch.equal(on.sum(dim=1), torch.ones(60, dtype=torch.int64))  # one example is the query ...
    assert bool(on.any(dim=0).all())  # ... and every position is it somewhere


def test_the_separated_law_takes_a_label_bound_below_one() -> None:
    """Kills shift:111:793 ``bound <= 0`` -> ``bound <= 1``: any B > 0 is a label bound (N(0, 1) cut to [-B, B])."""
    sample = shift.sample_law("separated", 4, 5, 3, generator=torch.Generator().manual_seed(7), bound=0.5)
    assert sample.labels == bounded(0.5) and float(sample.y.abs().max()) <= 0.5


def test_the_antipodal_law_draws_both_labels() -> None:
    """Kills shift:131:1779 ``randint(0, 2)`` -> ``randint(1, 2)``: labels are +-1 (uniform), not all +1; 40 labels
    with one sign have probability 2^-39."""
    sample = shift.sample_law("antipodal", 8, 5, 3, generator=torch.Generator().manual_seed(7))
    assert set(sample.y.flatten().tolist()) == {-1.0, 1.0}


def test_the_default_antipodal_law_puts_the_nearest_neighbour_far_away() -> None:
    """Kills shift:96:203 the default ``spread = 0.5`` -> ``1.5``: C10's antipodal law (properties.shift) uses the
    default cap width, and the module docstring promises its nearest neighbour far (tau* near -1). At s = 0.5
    (N, d) = (16, 8) the mean tau* is -0.78 and the largest -0.52; at s = 1.5 they are -0.04 and +0.66."""
    ref = nearest(shift.sample_law("antipodal", 400, 16, 8, generator=torch.Generator().manual_seed(5)))
    assert float(ref.tau_star.mean()) < -0.5 and float(ref.tau_star.max()) < 0.0


@pytest.mark.parametrize("law", ["separated", "antipodal"])
def test_distinct_seeds_give_distinct_samples(law: str) -> None:
    """Kills shift:82:709 and shift:124:836 ``randint(0, 2**62)`` -> ``randint(0, 2*62)``: the per-prompt
    generators hang off one base seed drawn from the caller's generator (as in model.laws); with only 124 bases,
    125 seeds would (pigeonhole) give two identical samples, i.e. the seeded laws would repeat themselves."""
    queries = {tuple(shift.sample_law(law, 1, 1, 2, generator=torch.Generator().manual_seed(seed)).xq[0].tolist())
               for seed in range(125)}
    assert len(queries) == 125


# --- model/shift.py: Errors, error_lower_bound, c10_bound, BoundResult -------------------------------------


def test_errors_are_the_family_prediction_on_real_labels() -> None:
    """Kills shift:157:1303 ``(weights * y).sum()`` -> ``(weights / y).sum()``: C10 is for any |y| <= B, and the
    two agree on +-1 labels (test_shift uses those); on the separated law's real labels y_hat is sum_j q_j y_j."""
    sample = shift.sample_law("separated", 50, 6, 3, generator=torch.Generator().manual_seed(7))
    for xi1, xi2 in ((0.0, 3.0), (5.0, 4.0)):
        direct = ((family_predict(sample, xi1, xi2).y_hat - nearest(sample).label) ** 2).numpy()
        assert np.allclose(shift.Errors(sample)(xi1, xi2), direct, rtol=REASSOC_TOL, atol=REASSOC_TOL)


def test_error_lower_bound_scales_with_the_label_bound() -> None:
    """Kills shift:176:1334, :176:951, :176:1605, :176:1336 (the range check ``max > (2B)^2 (1 + 1e-12)`` with ``**``
    -> ``*``, either ``*`` -> ``/``, ``+`` -> ``-``) and shift:178:959, :178:1345 (``(2 * B) ** 2 * eps`` with ``**``
    -> ``*``, ``*`` -> ``/``), all invisible at B = 1: at B = 3 errors lie in [0, 36], 36 included, and Hoeffding's
    bound is mean - 36 eps."""
    errors = np.array([36.0, 0.0])
    expected = 18.0 - 36.0 * shift.dkw_epsilon(2, 0.1)
    assert math.isclose(shift.error_lower_bound(errors, 3.0, 0.1), expected, rel_tol=FORMULA_TOL)


def test_c10_bound_at_a_sample_margin_with_b_2() -> None:
    """Kills shift:196:1647 ``B**2 * inner**2`` -> ``B**3``, shift:224:1061 / :224:1422 ``(2 * B) ** 2 * p_upper``
    with ``**`` -> ``*`` / ``*`` -> ``/`` (all equal at B = 1). Four margins of 10, xi1 = 1, xi2 = 2, N = 1, B = 2:
    the inf is at delta = 10, B^2 (2 e^{-5} + 1)^2 + (2B)^2 (0 + eps) = 12.69 < the tail's 4 + 16."""
    eps = shift.dkw_epsilon(4, 0.1)
    result = shift.c10_bound(1.0, 2.0, 1, 2.0, np.full(4, 10.0), 0.1)
    assert (result.delta, result.p_upper) == (10.0, eps)
    assert math.isclose(result.value, 4.0 * (2 * math.exp(-5.0) + 1.0) ** 2 + 16.0 * eps, rel_tol=FORMULA_TOL)


def test_c10_bound_tail_with_finite_and_infinite_margins_and_b_2() -> None:
    """Kills shift:225:1065 ``finite.size / m.size`` -> ``*``, shift:226:1070 / :226:1434 ``(2 * B) ** 2 * tail_p``
    with ``**`` -> ``*`` / ``*`` -> ``/``, and shift:196:1647 ``B**2`` -> ``B**3``. Margins (0, inf, inf, inf): no
    positive finite margin, so the inf is as delta -> inf: B^2 e^{2(2 xi1 - xi2)} + (2B)^2 (1/4 + eps) = 4 + 16 (1/4
    + eps)."""
    eps = shift.dkw_epsilon(4, 0.1)
    result = shift.c10_bound(1.0, 2.0, 1, 2.0, np.array([0.0, np.inf, np.inf, np.inf]), 0.1)
    assert (result.delta, result.first_term) == (math.inf, 4.0)
    assert math.isclose(result.p_upper, 0.25 + eps, rel_tol=FORMULA_TOL)
    assert math.isclose(result.value, 4.0 + 16.0 * (0.25 + eps), rel_tol=FORMULA_TOL)


def test_c10_bound_takes_a_sample_of_one_margin() -> None:
    """Kills shift:213:1021 ``m.size == 0`` -> ``m.size == 1``: margins must be nonempty, and one is a sample (n = 1,
    eps = 1.07 > 1, so the band is capped at 1 and the value is 1 + 4)."""
    assert shift.c10_bound(1.0, 2.0, 1, 1.0, np.array([np.inf]), 0.1).value == 5.0
    with pytest.raises(InvalidParameter, match=r"margins must be a nonempty 1-d array"):
        shift.c10_bound(1.0, 2.0, 1, 1.0, np.array([]), 0.1)


def test_a_vacuous_c10_bound_still_reports_a_positive_delta_and_its_band() -> None:
    """Kills shift:220:1041 ``finite > 0`` -> ``finite >= 0`` (delta = 0 as a candidate) and shift:223:651
    ``np.minimum(1.0, below + eps)`` -> ``np.minimum(2.0, ...)`` (the cap on p_upper). The inf is over delta > 0,
    and p_upper is the band min(1, F_n(delta-) + eps) at the reported delta. Neither mutant changes a finite value
    (delta = 0 or a capped candidate never beats the tail: first(0) - first(inf) >= (2BN)^2), so they show on a
    vacuous bound (e^{2 xi1 - xi2} overflows, every value is inf), where any delta attains the inf: margins (0, 1)
    give F_n(1-) + eps = 1/2 + 0.76, capped at 1 (and F_n(inf-) + eps = 1 + 0.76, also capped)."""
    margins, eps = np.array([0.0, 1.0]), shift.dkw_epsilon(2, 0.1)
    result = shift.c10_bound(400.0, 0.0, 1, 1.0, margins, 0.1)
    assert result.value == math.inf and result.delta > 0
    assert result.p_upper == min(1.0, float(np.mean(margins < result.delta)) + eps) == 1.0


def test_bound_results_are_immutable() -> None:
    """Kills shift:181:568 ``@dataclass(frozen=True)`` -> ``frozen=False`` (as ClassPrompt's)."""
    result = shift.c10_bound(1.0, 2.0, 1, 1.0, np.array([np.inf]), 0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.value = 0.0  # type: ignore[misc]


# --- model/prompt.py: the validators -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, np.bool_(False), "1.0"])
def test_check_real_rejects_bools_and_strings(value: object) -> None:
    """Kills prompt:89:168 ``is_number and not is_bool`` -> ``or`` (a bool, or a numeric string, would pass)."""
    with pytest.raises(InvalidParameter, match=r"x must be a finite real number"):
        prompt.check_real(value, "x")


def test_check_size_rejects_bools_floats_and_small_values_with_the_documented_error() -> None:
    """Kills prompt:101:178 ``is_int and not is_bool`` -> ``or``, prompt:102:179 ``not is_integer or value < minimum``
    -> ``and`` and prompt:103:625 ``name in ("N", "d")`` -> ``not in``: bool and float are not integers, values below
    the minimum are refused, and bad N or d raise InvalidDimension, other sizes InvalidParameter."""
    assert prompt.check_size(np.int64(3), "N", 1) == 3
    for value, name in ((True, "N"), (0, "N"), (1, "d"), (2.0, "d")):
        with pytest.raises(InvalidDimension, match=rf"{name} must be an integer >= "):
            prompt.check_size(value, name, 2 if name == "d" else 1)
    for value in (True, 0, 2.0):
        with pytest.raises(InvalidParameter, match=r"batch must be an integer >= 1") as caught:
            prompt.check_size(value, "batch", 1)
        assert not isinstance(caught.value, InvalidDimension)


def test_as_float_tensor_converts_to_a_float_dtype_and_refuses_others() -> None:
    """Kills prompt:73:339 ``dtype not in FLOAT_DTYPES`` -> ``in`` (the requested float dtype would be refused)."""
    value = torch.ones(2, dtype=torch.float32)
    assert prompt.as_float_tensor(value, "x", dtype=F64).dtype == F64
    with pytest.raises(InvalidDType, match=r"dtype must be torch.float32 or torch.float64"):
        prompt.as_float_tensor(value, "x", dtype=torch.int64)


@pytest.mark.parametrize("tol", [1.5, 1, True])
def test_check_unit_rows_refuses_a_tolerance_outside_0_1(tol: object) -> None:
    """Kills prompt:110:387 ``is_bool or not is_number or not 0 <= tol < 1`` -> ``and`` and prompt:110:1286
    ``tol < 1`` -> ``tol < 2``: the tolerance is a number in [0, 1)."""
    with pytest.raises(InvalidParameter, match=r"tol must be a number in \[0, 1\)"):
        prompt.check_unit_rows(torch.eye(2, dtype=F64), "x", tol)  # type: ignore[arg-type]


def test_check_unit_rows_with_tolerance_zero_accepts_exact_unit_vectors_and_names_the_bad_one() -> None:
    """Kills prompt:115:969 ``(defect > tol).any()`` -> ``>=`` (tol = 0, allowed, would refuse e_1) and prompt:116:1677
    ``nonzero(defect > tol)`` -> ``>=`` (the message would name e_1, at index 0, not the vector of norm 2)."""
    prompt.check_unit_rows(torch.eye(2, dtype=F64), "x", 0.0)
    with pytest.raises(NonUnitVector, match=r"the vector at index \(1,\) has norm 2$"):
        prompt.check_unit_rows(torch.tensor([[1.0, 0.0], [2.0, 0.0]], dtype=F64), "x", 0.0)


# --- model/prompt.py: Prompt and LabelSpace ----------------------------------------------------------------


def test_prompts_are_immutable() -> None:
    """Kills prompt:166:540 ``@dataclass(frozen=True)`` -> ``frozen=False``: a Prompt is validated once, at
    construction; assigning a field afterwards would bypass the validation."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        _hand_prompt().x = torch.full((1, 2, 2), 5.0, dtype=F64)  # type: ignore[misc]


def _replays(value: Prompt) -> Prompt:
    copy = eval(repr(value), {"torch": torch, "Prompt": Prompt, "BINARY": BINARY, "bounded": bounded})
    assert isinstance(copy, Prompt)
    return copy


def test_the_repr_of_a_prompt_replays_it() -> None:
    """Kills prompt:154:701 (LabelSpace.__repr__ ``kind == "binary"`` -> ``!=``), prompt:219:800 (Prompt.__repr__
    ``dtype == torch.float64`` -> ``!=``) and prompt:224:807 (``unit_tol is None`` -> ``is not``): the repr is
    exact and evaluable, so a printed counterexample replays: same numbers, dtype, label space and unit_tol. The
    upcast float32 prompt has points 2.4e-8 off the float64 sphere, accepted only through its unit_tol."""
    x = torch.tensor([[[0.6, 0.8], [1.0, 0.0]]], dtype=torch.float32)
    upcast = Prompt(x, torch.tensor([[0.5, -2.0]], dtype=torch.float32), x[:, 0, :], bounded(2.0)).to(F64)
    for value in (_hand_prompt(), _hand_prompt().to(torch.float32), upcast):
        copy = _replays(value)
        assert (copy.dtype, copy.labels, copy.unit_tol) == (value.dtype, value.labels, value.unit_tol)
        assert torch.equal(copy.x, value.x) and torch.equal(copy.y, value.y) and torch.equal(copy.xq, value.xq)


def test_a_label_error_names_the_declared_label_space() -> None:
    """Kills prompt:151:698 (LabelSpace.__str__ ``kind == "binary"`` -> ``!=``): a label outside the declared space
    is reported with that space, binary +-1 or bounded |y| <= B."""
    x, xq = _hand_prompt().x, _hand_prompt().xq
    with pytest.raises(InvalidLabel, match=r"\(binary \+-1\); got 0\.5"):
        Prompt(x, torch.tensor([[1.0, 0.5]], dtype=F64), xq, BINARY)
    with pytest.raises(InvalidLabel, match=r"\(bounded \|y\| <= 2\); got 3\.0"):
        Prompt(x, torch.tensor([[1.0, 3.0]], dtype=F64), xq, bounded(2.0))


# --- model/nearest.py: the tie tolerance --------------------------------------------------------------


def test_the_tie_tolerance_is_16_ulps_inclusive() -> None:
    """Kills nearest:49:99 ``tau >= tau* - TIE_TOL`` -> ``>`` (mutmut: model.nearest.x__tied__mutmut_1) and
    nearest:29:75 ``16 * eps`` -> ``17 * eps``.

    README and the Nearest docstring: tau_j within 16 float64 ulps of tau* (``tau_j >= tau* - TIE_TOL``) is tied.
    x_q = e_1 and x_2 = (t, sqrt(1 - t^2)) give tau_2 = t exactly; 1 - 16 eps and 1 - 17 eps are floats, so
    the gap to tau* = 1 is exactly 16 ulps (tied: mean label 0) or 17 ulps (not tied: label +1).
    """
    eps = torch.finfo(F64).eps
    for t, tied, label in ((1.0 - 16 * eps, True, 0.0), (1.0 - 17 * eps, False, 1.0)):
        x = torch.tensor([[[1.0, 0.0], [t, math.sqrt(1.0 - t * t)]]], dtype=F64)  # (1, 2, 2)
        ref = nearest(Prompt(x, torch.tensor([[1.0, -1.0]], dtype=F64), torch.tensor([[1.0, 0.0]], dtype=F64)))
        assert float(ref.tau[0, 1]) == t
        assert ref.tied.tolist() == [[True, tied]] and float(ref.label[0]) == label


def test_the_k_class_family_prediction_runs_in_the_prompts_dtype() -> None:
    """A bug mutmut's run exposed (not a mutant): ``multiclass.family_predict`` on a float32 ClassPrompt raised
    RuntimeError (float64 inner products against float32 codes). Like the binary ``attention.family_predict``, it
    computes in the prompt's dtype, and agrees with the float64 result to float32 rounding."""
    single = multiclass.family_predict(_class_prompt(torch.float32), 2.0, 3.0)
    double = multiclass.family_predict(_class_prompt(), 2.0, 3.0)
    assert single.logits.dtype == torch.float32
    assert torch.allclose(single.logits.to(F64), double.logits, rtol=0.0, atol=FLOAT32_ATOL)


#: float32 against float64 on O(1) numbers: a few float32 roundings.
FLOAT32_ATOL = 1e-6
