"""Hostile but well-typed input: overflow, bool/str parameters, bad dtypes, bad tolerances, batch independence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import model.attention as attention
from model.errors import InvalidDType, InvalidParameter, InvalidShape, NonFiniteValue
from model.laws import sample_training_prompts
from model.prompt import BINARY, LabelSpace, Prompt, bounded

F64 = torch.float64


def _prompt(dtype: torch.dtype = F64) -> Prompt:
    return sample_training_prompts(1, 3, 2, generator=torch.Generator().manual_seed(5), dtype=dtype)


@pytest.mark.parametrize(
    "call",
    [
        lambda: attention.predict(_prompt(), attention.family_W(1e308, -1e308, 2)),
        lambda: attention.family_predict(_prompt(), 1e308, -1e308),
        lambda: attention.predict(_prompt(torch.float32), torch.full((4, 4), 3e38, dtype=torch.float32)),
        lambda: attention.predict_factorised(
            _prompt(), torch.full((2, 4), 1e200, dtype=F64), torch.full((2, 4), 1e200, dtype=F64)
        ),
        lambda: attention.AttentionLayer(torch.full((4, 4), 1e308, dtype=F64))(attention.embed(_prompt())),
    ],
    ids=["family_W", "family_predict", "float32", "factorised", "layer"],
)
def test_overflowing_scores_raise_instead_of_nan(call: object) -> None:
    with pytest.raises(NonFiniteValue, match="attention scores overflow"):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("bad", [True, "1.0", None, [1.0], complex(1, 0)])
def test_family_parameters_must_be_real_numbers(bad: object) -> None:
    with pytest.raises(InvalidParameter, match=r"xi1 must be a finite real number"):
        attention.family_W(bad, 1.0, 2)  # type: ignore[arg-type]


def test_family_W_rejects_integer_dtype() -> None:
    with pytest.raises(InvalidDType, match=r"dtype must be torch\.float32 or torch\.float64, got torch\.int64"):
        attention.family_W(1.5, 2.0, 3, dtype=torch.int64)


@pytest.mark.parametrize("bad", ["2", None, True])
def test_label_bound_must_be_a_real_number(bad: object) -> None:
    with pytest.raises(InvalidParameter, match="label bound B must be a finite real number"):
        LabelSpace("bounded", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("tol", [math.nan, -1.0, 1e9, "1e-9"])
def test_unit_tolerance_override_is_validated(tol: object) -> None:
    x = torch.tensor([[[5.0, 0.0]]], dtype=F64)
    with pytest.raises(InvalidParameter, match="unit_tol"):
        Prompt(x, torch.tensor([[1.0]], dtype=F64), torch.tensor([[10.0, 0.0]], dtype=F64), BINARY, unit_tol=tol)  # type: ignore[arg-type]


def test_factorised_rejects_mismatched_ranks_and_shapes() -> None:
    p = _prompt()
    with pytest.raises(InvalidShape, match="same rank"):
        attention.predict_factorised(p, torch.zeros(2, 4, dtype=F64), torch.zeros(3, 4, dtype=F64))
    with pytest.raises(InvalidShape, match=r"W_Q must have shape \(r, d\+2\)"):
        attention.predict_factorised(p, torch.zeros(2, 4, dtype=F64), torch.zeros(2, 5, dtype=F64))
    with pytest.raises(InvalidDType, match=r"W_K has dtype torch\.float32"):
        attention.predict_factorised(p, torch.zeros(2, 4), torch.zeros(2, 4, dtype=F64))


def test_layer_rejects_bad_matrices_and_embeddings() -> None:
    with pytest.raises(InvalidShape, match="W must be square"):
        attention.AttentionLayer(torch.zeros(3, 4, dtype=F64))
    with pytest.raises(NonFiniteValue, match="W contains nan"):
        attention.AttentionLayer(torch.full((4, 4), math.nan, dtype=F64))
    layer = attention.AttentionLayer(torch.zeros(4, 4, dtype=F64))
    with pytest.raises(InvalidShape, match=r"H must have shape \(B, d\+2, N\+1\)"):
        layer(torch.zeros(1, 5, 3, dtype=F64))
    with pytest.raises(InvalidDType, match=r"H has dtype torch\.float32 but W has torch\.float64"):
        layer(torch.zeros(1, 4, 3))


def test_prompt_i_does_not_depend_on_the_batch_size() -> None:
    one = sample_training_prompts(1, 3, 3, generator=torch.Generator().manual_seed(11))
    four = sample_training_prompts(4, 3, 3, generator=torch.Generator().manual_seed(11))
    assert torch.equal(one.x[0], four.x[0]) and torch.equal(one.xq[0], four.xq[0]) and torch.equal(one.y[0], four.y[0])


def test_prompt_owns_a_copy_of_its_arrays() -> None:
    x = np.array([[[1.0, 0.0]]])
    p = Prompt(x, np.array([[1.0]]), np.array([[0.0, 1.0]]), bounded(1.0))
    x[0, 0, 0] = 5.0
    assert float(p.x[0, 0, 0]) == 1.0
