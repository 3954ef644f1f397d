"""Argument checks shared by the numerical modules: integers and finite reals, with named errors."""

from __future__ import annotations

import math

import numpy as np

from model.errors import InvalidParameter, NonFiniteValue

__all__ = ["require_integer", "require_real"]


def require_integer(name: str, value: object, lowest: int | None = None) -> int:
    """``value`` as an int; InvalidParameter if it is not an integer (bools excluded) or is below ``lowest``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidParameter(f"{name} must be an integer, got {value!r}")
    if lowest is not None and value < lowest:
        raise InvalidParameter(f"{name} must be an integer >= {lowest}, got {value!r}")
    return int(value)


def require_real(name: str, value: object) -> float:
    """``value`` as a finite float; InvalidParameter if not a real number, NonFiniteValue if NaN or inf."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidParameter(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise NonFiniteValue(f"{name} must be finite, got {value!r}")
    return float(value)
