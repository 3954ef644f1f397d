"""The project's exception hierarchy: every error the checker raises on purpose.

Bad input never fails silently and never returns NaN: each public function validates its
arguments and raises one of these, with a message naming the problem and the offending value.
Subclassing ``ValueError`` / ``TypeError`` / ``LookupError`` lets callers catch them the usual way.
"""

from __future__ import annotations

__all__ = [
    "CheckerError",
    "InvalidDType",
    "InvalidDimension",
    "InvalidInput",
    "InvalidLabel",
    "InvalidParameter",
    "InvalidShape",
    "NonFiniteValue",
    "NonUnitVector",
    "OutOfDomain",
    "QuadratureDidNotConverge",
    "UnknownClaim",
    "UnknownFault",
]


class CheckerError(Exception):
    """Base class of every error raised on purpose by onenn-verify."""


class InvalidInput(CheckerError, ValueError):
    """An argument has a valid type but an invalid value."""


class InvalidShape(InvalidInput):
    """An array has the wrong number of dimensions or mismatched sizes."""


class InvalidDimension(InvalidInput):
    """A size is outside the paper's setup: the sphere needs d >= 2, a prompt N >= 1."""


class NonUnitVector(InvalidInput):
    """An input that must lie on the unit sphere S^{d-1} does not (beyond the stated tolerance)."""


class NonFiniteValue(InvalidInput):
    """An input contains NaN or +-inf."""


class InvalidDType(CheckerError, TypeError):
    """An array has an unsupported dtype (only float32 and float64 are accepted)."""


class InvalidLabel(InvalidInput):
    """A label lies outside the declared label space."""


class InvalidParameter(InvalidInput):
    """A scalar parameter (xi1, xi2, sigma, eta, a bound B, ...) is out of its allowed range."""


class UnknownClaim(CheckerError, LookupError):
    """No registered claim has the requested ID."""


class UnknownFault(CheckerError, LookupError):
    """No planted fault has the requested name."""


class OutOfDomain(InvalidParameter):
    """A parameter lies outside the box where a computation is supported and its accuracy guaranteed."""


class QuadratureDidNotConverge(CheckerError, ArithmeticError):
    """A deterministic integral did not reach its requested accuracy within the allowed refinements."""
