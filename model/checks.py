"""Argument checks shared by the numerical modules: integers and finite reals, with named errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from model.errors import InvalidParameter, NonFiniteValue

__all__ = ["require_integer", "require_real", "require_real_array"]


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


def require_real_array(name: str, value: Any, *, nan: bool = False, inf: bool = False) -> NDArray[np.float64]:
    """``value`` as a float64 array; InvalidParameter for complex, boolean or non-numeric input, NonFiniteValue
    for a NaN (unless ``nan``) or an infinity (unless ``inf``)."""
    if np.iscomplexobj(value) or np.asarray(value).dtype == bool:
        raise InvalidParameter(f"{name} must be real numbers, not complex or boolean")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameter(f"{name} must be an array of real numbers, got {value!r:.80}") from None
    if not nan and np.any(np.isnan(array)):
        raise NonFiniteValue(f"{name} must not be NaN")
    if not inf and np.any(np.isinf(array)):
        raise NonFiniteValue(f"{name} must be finite, got an infinity")
    return array
