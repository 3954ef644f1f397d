"""Prompts: validated, batched in-context examples on the sphere, and their label spaces.

Implements the input side of the setup in [LCG24] §2 (THEORY.md S1, S3, S4): a prompt is N labelled
examples (x_j, y_j) with x_j on S^{d-1} and one query x_q. Every array entering the model passes
through :func:`as_float_tensor` and :class:`Prompt`, which raise the named errors of
:mod:`model.errors` on bad input (wrong type, dtype, shape, d < 2, N < 1, NaN/inf, non-unit vectors,
labels outside the declared label space).

The label space is an explicit argument: :data:`BINARY` (labels +-1, the training law of
Assumption 1) or :func:`bounded` (real labels with |y| <= B, as in Theorem 2 / claims C9b, C10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from model.errors import (
    InvalidDimension,
    InvalidDType,
    InvalidLabel,
    InvalidParameter,
    InvalidShape,
    NonFiniteValue,
    NonUnitVector,
)

__all__ = [
    "BINARY",
    "FLOAT_DTYPES",
    "UNIT_NORM_TOL",
    "LabelSpace",
    "Prompt",
    "as_float_tensor",
    "bounded",
    "check_finite",
    "check_prompt",
    "check_real",
    "check_size",
    "check_unit_rows",
]

FLOAT_DTYPES = (torch.float32, torch.float64)

#: Largest accepted | ||x|| - 1 | for a point said to lie on the sphere, per dtype. About 4.5e6 and
#: 84 ulps respectively: loose enough for any normalisation done in that precision, tight enough
#: that the identities ||x - x_q||^2 = 2 - 2 <x, x_q> used by the claims stay exact to ~1e-9 (float64).
UNIT_NORM_TOL = {torch.float64: 1e-9, torch.float32: 1e-5}
#: The loosest unit-norm tolerance a Prompt accepts at all (the float32 one).
MAX_UNIT_TOL = UNIT_NORM_TOL[torch.float32]


def as_float_tensor(value: Any, name: str, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Return ``value`` as a float32/float64 tensor, or raise a named error.

    Accepts ``torch.Tensor`` and ``numpy.ndarray`` of a floating dtype. Integer, boolean and complex
    arrays are rejected (:class:`InvalidDType`) rather than silently cast; so are Python lists.
    ``dtype`` (if given) converts after the check.
    """
    if isinstance(value, np.ndarray):
        if value.dtype not in (np.float32, np.float64):
            raise InvalidDType(f"{name} must have dtype float32 or float64, got numpy {value.dtype}")
        value = torch.from_numpy(np.ascontiguousarray(value))
    elif not isinstance(value, torch.Tensor):
        raise InvalidDType(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(value).__name__}")
    if value.dtype not in FLOAT_DTYPES:
        raise InvalidDType(f"{name} must have dtype float32 or float64, got {value.dtype}")
    if dtype is not None:
        if dtype not in FLOAT_DTYPES:
            raise InvalidDType(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
        value = value.to(dtype)
    return value


def check_finite(value: torch.Tensor, name: str) -> None:
    """Raise :class:`NonFiniteValue` if ``value`` holds a NaN or an infinity."""
    bad = ~torch.isfinite(value)
    if bool(bad.any()):
        index = tuple(int(i) for i in torch.nonzero(bad)[0])
        raise NonFiniteValue(f"{name} contains {float(value[index])} at index {index}")


def check_real(value: Any, name: str) -> float:
    """Return ``value`` as a float if it is a finite real number (not bool); else :class:`InvalidParameter`."""
    is_real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not is_real or not math.isfinite(float(value)):
        raise InvalidParameter(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def check_size(value: Any, name: str, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``; else a named error.

    Bad N or d raise :class:`InvalidDimension` (the paper's setup needs N >= 1, d >= 2); other
    sizes raise :class:`InvalidParameter`. Floats, inf, NaN, None and bool are not integers.
    """
    is_integer = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not is_integer or value < minimum:
        error = InvalidDimension if name in ("N", "d") else InvalidParameter
        raise error(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_unit_rows(value: torch.Tensor, name: str, tol: float | None = None) -> None:
    """Raise :class:`NonUnitVector` unless every vector on the last axis has norm 1 (see UNIT_NORM_TOL)."""
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 <= tol < 1):
        raise InvalidParameter(f"tol must be a number in [0, 1), got {tol!r}")
    tol = UNIT_NORM_TOL[value.dtype] if tol is None else tol
    norms = torch.linalg.vector_norm(value.to(torch.float64), dim=-1)
    defect = (norms - 1.0).abs()
    if bool((defect > tol).any()):
        index = tuple(int(i) for i in torch.nonzero(defect > tol)[0])
        raise NonUnitVector(
            f"{name} must lie on the unit sphere (| ||v|| - 1 | <= {tol:g} for {value.dtype}); "
            f"the vector at index {index} has norm {float(norms[index]):.17g}"
        )


@dataclass(frozen=True)
class LabelSpace:
    """The set labels are drawn from: ``binary`` (+-1) or ``bounded`` (real, |y| <= bound)."""

    kind: str
    bound: float

    def __post_init__(self) -> None:
        if self.kind not in ("binary", "bounded"):
            raise InvalidParameter(f"label space kind must be 'binary' or 'bounded', got {self.kind!r}")
        if check_real(self.bound, "label bound B") <= 0:
            raise InvalidParameter(f"label bound B must be > 0, got {self.bound!r}")
        if self.kind == "binary" and self.bound != 1.0:
            raise InvalidParameter(f"binary labels are +-1, so their bound is 1, got {self.bound!r}")

    def validate(self, y: torch.Tensor, name: str = "y") -> None:
        """Raise :class:`InvalidLabel` if a label in ``y`` lies outside this space."""
        if self.kind == "binary":
            bad = (y != 1.0) & (y != -1.0)
            what = "must be +1 or -1"
        else:
            bad = y.abs() > self.bound
            what = f"must satisfy |y| <= B = {self.bound:g}"
        if bool(bad.any()):
            index = tuple(int(i) for i in torch.nonzero(bad)[0])
            raise InvalidLabel(f"{name} {what} ({self}); got {float(y[index])!r} at index {index}")

    def __str__(self) -> str:
        return "binary +-1" if self.kind == "binary" else f"bounded |y| <= {self.bound:g}"

    def __repr__(self) -> str:
        return "BINARY" if self.kind == "binary" else f"bounded({self.bound!r})"


#: Labels +-1: the training law of Assumption 1 ([LCG24] §2, THEORY.md S4).
BINARY = LabelSpace("binary", 1.0)


def bounded(bound: float) -> LabelSpace:
    """Real labels with |y| <= ``bound`` (Theorem 2's bounded labels; claims C9b, C10)."""
    return LabelSpace("bounded", check_real(bound, "label bound B"))


@dataclass(frozen=True)
class Prompt:
    """A batch of B prompts: ``x`` (B, N, d) examples, ``y`` (B, N) labels, ``xq`` (B, d) queries.

    Construction validates everything (see module docstring) and copies the arrays into tensors it
    owns (mutating the inputs afterwards cannot bypass validation); ``x``, ``y`` and ``xq`` share one
    dtype, float32 or float64. ``unit_tol`` overrides the dtype's unit-norm tolerance; it is only
    needed to upcast points that were rounded in a lower precision (see :meth:`to`).
    """

    x: torch.Tensor
    y: torch.Tensor
    xq: torch.Tensor
    labels: LabelSpace = BINARY
    unit_tol: float | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.unit_tol is not None and not (0.0 <= check_real(self.unit_tol, "unit_tol") <= MAX_UNIT_TOL):
            raise InvalidParameter(f"unit_tol must lie in [0, {MAX_UNIT_TOL:g}], got {self.unit_tol!r}")
        x = as_float_tensor(self.x, "x")
        y = as_float_tensor(self.y, "y")
        xq = as_float_tensor(self.xq, "xq")
        if not isinstance(self.labels, LabelSpace):
            raise InvalidParameter(f"labels must be a LabelSpace, got {type(self.labels).__name__}")
        if not (x.dtype == y.dtype == xq.dtype):
            raise InvalidDType(f"x, y, xq must share one dtype, got {x.dtype}, {y.dtype}, {xq.dtype}")
        if x.ndim != 3:
            raise InvalidShape(f"x must have shape (B, N, d), got {tuple(x.shape)}")
        batch, n, d = x.shape
        if batch < 1:
            raise InvalidShape(f"a prompt batch needs B >= 1 prompts, got x of shape {tuple(x.shape)}")
        if n < 1:
            raise InvalidDimension(f"a prompt needs N >= 1 examples, got N = {n}")
        if d < 2:
            raise InvalidDimension(f"the sphere S^(d-1) needs d >= 2, got d = {d}")
        if tuple(y.shape) != (batch, n):
            raise InvalidShape(f"y must have shape (B, N) = {(batch, n)}, got {tuple(y.shape)}")
        if tuple(xq.shape) != (batch, d):
            raise InvalidShape(f"xq must have shape (B, d) = {(batch, d)}, got {tuple(xq.shape)}")
        for value, name in ((x, "x"), (y, "y"), (xq, "xq")):
            check_finite(value, name)
        check_unit_rows(x, "x", self.unit_tol)
        check_unit_rows(xq, "xq", self.unit_tol)
        self.labels.validate(y)
        object.__setattr__(self, "x", x.detach().clone())
        object.__setattr__(self, "y", y.detach().clone())
        object.__setattr__(self, "xq", xq.detach().clone())

    def __repr__(self) -> str:
        """An exact, evaluable repr (full-precision floats), so a printed counterexample replays.

        Evaluate it with ``torch``, ``Prompt``, ``BINARY`` and ``bounded`` in scope.
        """
        dtype = "torch.float64" if self.dtype == torch.float64 else "torch.float32"

        def tensor(value: torch.Tensor) -> str:
            return f"torch.tensor({value.tolist()!r}, dtype={dtype})"

        tol = "" if self.unit_tol is None else f", unit_tol={self.unit_tol!r}"
        return f"Prompt(x={tensor(self.x)}, y={tensor(self.y)}, xq={tensor(self.xq)}, labels={self.labels!r}{tol})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Used by Hypothesis (and IPython) to print a falsifying example: the exact repr."""
        printer.text(repr(self))

    @property
    def batch(self) -> int:
        return int(self.x.shape[0])

    @property
    def n(self) -> int:
        return int(self.x.shape[1])

    @property
    def d(self) -> int:
        return int(self.x.shape[2])

    @property
    def dtype(self) -> torch.dtype:
        return self.x.dtype

    def to(self, dtype: torch.dtype) -> Prompt:
        """The same prompts in another float dtype.

        Points keep the unit-norm tolerance of the coarser of the two dtypes: a float32 prompt
        upcast to float64 is still only float32-accurate, and is accepted as such.
        """
        if dtype not in FLOAT_DTYPES:
            raise InvalidDType(f"dtype must be float32 or float64, got {dtype}")
        tol = max(UNIT_NORM_TOL[dtype], UNIT_NORM_TOL[self.dtype], self.unit_tol or 0.0)
        return Prompt(self.x.to(dtype), self.y.to(dtype), self.xq.to(dtype), self.labels, unit_tol=tol)


def check_prompt(value: object, name: str = "prompt") -> Prompt:
    """Return ``value`` if it is a :class:`Prompt`; raise :class:`InvalidParameter` otherwise."""
    if not isinstance(value, Prompt):
        raise InvalidParameter(
            f"{name} must be a model.prompt.Prompt (build one with Prompt(x, y, xq, labels)), "
            f"got {type(value).__name__}"
        )
    return value
