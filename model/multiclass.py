"""The K-class label codes of [AW26] (THEORY.md "Multiclass").

Labels c in {0, ..., K-1} are encoded by the simplex codes u_c = e_c - 1/K: zero mean,
|u_c|^2 = (K-1)/K, <u_c, u_c'> = -1/K for c != c'. Used by C12a here; the K-class model comes later.
"""

from __future__ import annotations

from fractions import Fraction

import torch

from model.errors import InvalidParameter

__all__ = ["simplex_codes", "simplex_codes_exact"]


def _check_classes(K: object) -> int:
    if isinstance(K, bool) or not isinstance(K, int) or K < 2:
        raise InvalidParameter(f"the number of classes K must be an integer >= 2, got {K!r}")
    return K


def simplex_codes_exact(K: int) -> tuple[tuple[Fraction, ...], ...]:
    """The K codes u_c = e_c - 1/K as exact rationals (row c is u_c)."""
    K = _check_classes(K)
    return tuple(tuple(Fraction(int(c == k)) - Fraction(1, K) for k in range(K)) for c in range(K))


def simplex_codes(K: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The K codes as a (K, K) tensor (row c is u_c)."""
    return torch.tensor(simplex_codes_exact(K), dtype=dtype)
