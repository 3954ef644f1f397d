"""Input validation of model.prompt: every bad input raises its named error, naming the problem and value.

Covers the setup's input side (THEORY.md S1, S3, S4): prompts of N >= 1 examples on S^{d-1}, d >= 2,
finite values, labels in the declared label space, and the error hierarchy of model.errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest
import torch

from model.errors import (
    CheckerError,
    InvalidDimension,
    InvalidDType,
    InvalidLabel,
    InvalidParameter,
    InvalidShape,
    NonFiniteValue,
    NonUnitVector,
)
from model.prompt import BINARY, UNIT_NORM_TOL, LabelSpace, Prompt, bounded

F64 = torch.float64

#: Float32 round trip of values in [-1, 1]: one rounding to nearest, half an ulp at 1 (2^-24).
F32_ROUND_TOL = 2.0**-24


def _arrays(batch: int = 1, n: int = 2, d: int = 2, *, dtype: torch.dtype = F64) -> dict[str, torch.Tensor]:
    """A valid prompt's x, y, xq: x_j and xq are basis vectors, labels alternate +1, -1."""
    x = torch.zeros(batch, n, d, dtype=dtype)  # (B, N, d)
    x[:, :, 0] = 1.0
    y = torch.tensor([(-1.0) ** j for j in range(n)], dtype=dtype).repeat(batch, 1)  # (B, N)
    xq = torch.zeros(batch, d, dtype=dtype)  # (B, d)
    xq[:, -1] = 1.0
    return {"x": x, "y": y, "xq": xq}


def _with(**changes: Any) -> dict[str, Any]:
    return {**_arrays(), **changes}


def _poke(name: str, index: tuple[int, ...], value: float) -> dict[str, Any]:
    """Valid arrays with one entry of ``name`` replaced by ``value``."""
    arrays = _arrays()
    arrays[name][index] = value
    return arrays


class Bad(NamedTuple):
    """A bad input: the Prompt keyword arguments, the named error, and a regex its message must match."""

    make: Callable[[], dict[str, Any]]
    error: type[CheckerError]
    match: str


BAD_INPUTS = {
    "x_list": Bad(
        lambda: _with(x=[[[1.0, 0.0]]]), InvalidDType, r"x must be a torch\.Tensor or numpy\.ndarray, got list"
    ),
    "x_int": Bad(
        lambda: _with(x=torch.ones(1, 2, 2, dtype=torch.int64)), InvalidDType, r"x must have dtype .*torch\.int64"
    ),
    "y_bool": Bad(
        lambda: _with(y=torch.ones(1, 2, dtype=torch.bool)), InvalidDType, r"y must have dtype .*torch\.bool"
    ),
    "xq_complex": Bad(
        lambda: _with(xq=torch.ones(1, 2, dtype=torch.complex128)),
        InvalidDType,
        r"xq must have dtype .*torch\.complex128",
    ),
    "x_numpy_int": Bad(
        lambda: _with(x=np.ones((1, 2, 2), dtype=np.int64)), InvalidDType, r"x must have dtype .*numpy int64"
    ),
    "x_float16": Bad(lambda: _with(x=torch.ones(1, 2, 2, dtype=torch.float16)), InvalidDType, r"torch\.float16"),
    "mixed_dtypes": Bad(
        lambda: _with(x=_arrays()["x"].to(torch.float32)),
        InvalidDType,
        r"share one dtype, got torch\.float32, torch\.float64, torch\.float64",
    ),
    "x_ndim_2": Bad(
        lambda: _with(x=torch.ones(2, 2, dtype=F64)), InvalidShape, r"x must have shape \(B, N, d\), got \(2, 2\)"
    ),
    "batch_0": Bad(lambda: _arrays(batch=0), InvalidShape, r"B >= 1 prompts, got x of shape \(0, 2, 2\)"),
    "y_wrong_n": Bad(
        lambda: _with(y=torch.ones(1, 3, dtype=F64)),
        InvalidShape,
        r"y must have shape \(B, N\) = \(1, 2\), got \(1, 3\)",
    ),
    "y_wrong_batch": Bad(
        lambda: _with(y=torch.ones(2, 2, dtype=F64)),
        InvalidShape,
        r"y must have shape \(B, N\) = \(1, 2\), got \(2, 2\)",
    ),
    "xq_wrong_d": Bad(
        lambda: _with(xq=torch.tensor([[1.0, 0.0, 0.0]], dtype=F64)),
        InvalidShape,
        r"xq must have shape \(B, d\) = \(1, 2\), got \(1, 3\)",
    ),
    "n_0": Bad(lambda: _arrays(n=0), InvalidDimension, r"N >= 1 examples, got N = 0"),
    "d_1": Bad(lambda: _arrays(d=1), InvalidDimension, r"d >= 2, got d = 1"),
    "x_nan": Bad(lambda: _poke("x", (0, 1, 0), math.nan), NonFiniteValue, r"x contains nan at index \(0, 1, 0\)"),
    "x_inf": Bad(lambda: _poke("x", (0, 0, 1), math.inf), NonFiniteValue, r"x contains inf at index \(0, 0, 1\)"),
    "y_nan": Bad(lambda: _poke("y", (0, 1), math.nan), NonFiniteValue, r"y contains nan at index \(0, 1\)"),
    "y_neg_inf": Bad(lambda: _poke("y", (0, 0), -math.inf), NonFiniteValue, r"y contains -inf at index \(0, 0\)"),
    "xq_nan": Bad(lambda: _poke("xq", (0, 0), math.nan), NonFiniteValue, r"xq contains nan at index \(0, 0\)"),
    "xq_inf": Bad(lambda: _poke("xq", (0, 1), math.inf), NonFiniteValue, r"xq contains inf at index \(0, 1\)"),
    "x_zero_vector": Bad(
        lambda: _poke("x", (0, 1, 0), 0.0), NonUnitVector, r"x must lie on the unit sphere.*index \(0, 1\) has norm 0\b"
    ),
    "y_binary_half": Bad(
        lambda: _poke("y", (0, 1), 0.5), InvalidLabel, r"y must be \+1 or -1 .*got 0\.5 at index \(0, 1\)"
    ),
    "y_binary_zero": Bad(
        lambda: _poke("y", (0, 0), 0.0), InvalidLabel, r"y must be \+1 or -1 .*got 0\.0 at index \(0, 0\)"
    ),
    "y_above_bound": Bad(
        lambda: {**_poke("y", (0, 1), 2.5), "labels": bounded(2.0)},
        InvalidLabel,
        r"y must satisfy \|y\| <= B = 2 .*got 2\.5 at index \(0, 1\)",
    ),
    "y_below_minus_bound": Bad(
        lambda: {**_poke("y", (0, 0), -2.5), "labels": bounded(2.0)},
        InvalidLabel,
        r"\|y\| <= B = 2 .*got -2\.5 at index \(0, 0\)",
    ),
    "labels_not_a_space": Bad(
        lambda: _with(labels="binary"), InvalidParameter, r"labels must be a LabelSpace, got str"
    ),
}

#: The built-in exception each named error also is (model.errors' hierarchy).
BUILTIN = {
    InvalidDType: TypeError,
    InvalidShape: ValueError,
    InvalidDimension: ValueError,
    NonFiniteValue: ValueError,
    NonUnitVector: ValueError,
    InvalidLabel: ValueError,
    InvalidParameter: ValueError,
}


@pytest.mark.parametrize("bad", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_raises_named_error_naming_value(bad: Bad) -> None:
    with pytest.raises(bad.error, match=bad.match):
        Prompt(**bad.make())


@pytest.mark.parametrize("bad", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_named_error_is_also_the_builtin_error(bad: Bad) -> None:
    with pytest.raises(BUILTIN[bad.error]) as info:
        Prompt(**bad.make())
    assert isinstance(info.value, CheckerError) and type(info.value) is bad.error


@pytest.mark.parametrize(("error", "builtin"), BUILTIN.items(), ids=[e.__name__ for e in BUILTIN])
def test_error_hierarchy(error: type[CheckerError], builtin: type[Exception]) -> None:
    assert issubclass(error, CheckerError) and issubclass(error, builtin)


# --- the unit-sphere tolerance: rejected just outside, accepted just inside ---------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", ["x", "xq"])
def test_non_unit_vector_beyond_tolerance_is_rejected(name: str, dtype: torch.dtype) -> None:
    arrays = _arrays(dtype=dtype)
    arrays[name] *= 1.0 + 2.0 * UNIT_NORM_TOL[dtype]
    with pytest.raises(
        NonUnitVector, match=rf"{name} must lie on the unit sphere .*{re.escape(str(dtype))}.*has norm 1\.0000"
    ):
        Prompt(**arrays)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", ["x", "xq"])
def test_non_unit_vector_inside_tolerance_is_accepted(name: str, dtype: torch.dtype) -> None:
    arrays = _arrays(dtype=dtype)
    arrays[name] *= 1.0 - 0.5 * UNIT_NORM_TOL[dtype]
    assert Prompt(**arrays).dtype == dtype


# --- label spaces ---------------------------------------------------------------------------------


BAD_LABEL_SPACES = {
    "bound_0": (lambda: bounded(0.0), r"B must be > 0, got 0\.0"),
    "bound_negative": (lambda: bounded(-1.0), r"B must be > 0, got -1\.0"),
    "bound_nan": (lambda: bounded(math.nan), r"B must be a finite real number, got nan"),
    "bound_inf": (lambda: bounded(math.inf), r"B must be a finite real number, got inf"),
    "kind_unknown": (lambda: LabelSpace("ternary", 1.0), r"kind must be 'binary' or 'bounded', got 'ternary'"),
    "binary_bound_2": (lambda: LabelSpace("binary", 2.0), r"binary labels are \+-1, so their bound is 1, got 2\.0"),
}


@pytest.mark.parametrize(("make", "match"), BAD_LABEL_SPACES.values(), ids=BAD_LABEL_SPACES.keys())
def test_invalid_label_space_raises_invalid_parameter(make: Callable[[], LabelSpace], match: str) -> None:
    with pytest.raises(InvalidParameter, match=match):
        make()


def test_bounded_labels_on_the_bound_are_accepted() -> None:
    y = torch.tensor([[2.0, -2.0]], dtype=F64)
    assert Prompt(**_with(y=y), labels=bounded(2.0)).labels == bounded(2.0)


def test_binary_is_the_default_label_space() -> None:
    assert Prompt(**_arrays()).labels == BINARY


# --- conversions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("np_dtype", [np.float64, np.float32])
def test_numpy_arrays_are_converted_to_tensors(np_dtype: type) -> None:
    arrays = {k: v.numpy().astype(np_dtype) for k, v in _arrays().items()}
    prompt = Prompt(**arrays)
    assert all(isinstance(t, torch.Tensor) for t in (prompt.x, prompt.y, prompt.xq))
    assert torch.equal(prompt.x, torch.from_numpy(arrays["x"])) and prompt.dtype == torch.from_numpy(arrays["x"]).dtype


def test_prompt_shape_properties() -> None:
    prompt = Prompt(**_arrays(batch=3, n=4, d=5))
    assert (prompt.batch, prompt.n, prompt.d, prompt.dtype) == (3, 4, 5, F64)


def _random_prompt(seed: int) -> Prompt:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 4, generator=generator, dtype=F64)  # (B, N, d)
    xq = torch.randn(2, 4, generator=generator, dtype=F64)  # (B, d)
    y = torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], dtype=F64)  # (B, N)
    return Prompt(x / x.norm(dim=-1, keepdim=True), y, xq / xq.norm(dim=-1, keepdim=True))


def test_to_float32_is_within_one_rounding() -> None:
    prompt = _random_prompt(1729)
    low = prompt.to(torch.float32)
    assert low.dtype == torch.float32 and torch.equal(low.y.to(F64), prompt.y)
    assert float((low.x.to(F64) - prompt.x).abs().max()) <= F32_ROUND_TOL
    assert float((low.xq.to(F64) - prompt.xq).abs().max()) <= F32_ROUND_TOL


def test_float32_prompt_upcasts_to_float64() -> None:
    prompt = Prompt(
        torch.tensor([[[0.6, 0.8]]], dtype=F64), torch.tensor([[1.0]], dtype=F64), torch.tensor([[1.0, 0.0]], dtype=F64)
    )
    back = prompt.to(torch.float32).to(F64)
    assert float((back.x - prompt.x).abs().max()) <= F32_ROUND_TOL
