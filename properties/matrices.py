"""Hypothesis strategies for the model's parameters: the family's (xi1, xi2), key-query matrices W,
rotations, and prompts paired with a matching W.

References: S2 (merged W), S6/S8 (the family W = diag(xi1 I_d, 0, -xi2)). Extreme values come first:
xi and the entries of W reach +-1e4 ("extreme xi", logits of order 1e4 and beyond), and magnitudes
are also drawn log-uniformly so every scale between 1e-3 and 1e4 is visited.

Minimal examples: ``family_params()`` shrinks to (0.0, 0.0), ``weight_matrices(d=d)`` to the zero
matrix, ``orthogonal_matrices(d=d)`` to the identity.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model.errors import InvalidParameter
from model.prompt import LabelSpace, Prompt
from properties.strategies import SEEDS, check_int, prompts, unit_vectors

__all__ = ["XI_MAX", "family_params", "orthogonal_matrices", "prompts_with_weights", "weight_matrices"]

#: Largest family parameter |xi| (and entry of W) the strategies produce by default.
XI_MAX = 1e4
#: Largest bound a caller may ask for: beyond it scores overflow float64 and the model refuses them.
XI_LIMIT = 1e12


def _check_real(name: str, value: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameter(f"{name} must be a finite number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidParameter(f"{name} must be a finite number, got {value!r}")
    if abs(number) > XI_LIMIT:
        raise InvalidParameter(f"{name} must satisfy |{name}| <= {XI_LIMIT:g}, got {value!r}")
    return number


def _xi(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Extremes first, then log-uniform magnitudes 1e-3..1e4 of either sign in range, then any float."""
    extremes = [v for v in (0.0, 1.0, hi, lo) if lo <= v <= hi]
    branches = [st.sampled_from(extremes), st.floats(lo, hi, allow_nan=False)]
    if hi >= 1e-3 or lo <= -1e-3:  # some magnitude in [1e-3, 1e4] lies in range
        magnitudes = st.floats(-3.0, 4.0).map(lambda e: 10.0**e)
        signed = st.tuples(st.sampled_from([1.0, -1.0]), magnitudes).map(lambda t: t[0] * t[1])
        branches.insert(1, signed.filter(lambda v: lo <= v <= hi))
    return st.one_of(*branches)


def family_params(
    *, xi1_max: float = XI_MAX, xi2_min: float = -XI_MAX, xi2_max: float = XI_MAX
) -> st.SearchStrategy[tuple[float, float]]:
    """(xi1, xi2) with 0 <= xi1 <= xi1_max and xi2_min <= xi2 <= xi2_max, extremes tried first."""
    xi1_max = _check_real("xi1_max", xi1_max)
    xi2_min = _check_real("xi2_min", xi2_min)
    xi2_max = _check_real("xi2_max", xi2_max)
    if xi1_max < 0:
        raise InvalidParameter(f"xi1_max must be >= 0 (the claims take xi1 >= 0), got {xi1_max!r}")
    if xi2_min > xi2_max:
        raise InvalidParameter(f"xi2_min must be <= xi2_max, got xi2_min = {xi2_min!r} > xi2_max = {xi2_max!r}")
    return st.tuples(_xi(0.0, xi1_max), _xi(xi2_min, xi2_max))


def _check_max_abs(max_abs: object) -> float:
    value = _check_real("max_abs", max_abs)
    if value <= 0:
        raise InvalidParameter(f"max_abs must be > 0, got {max_abs!r}")
    return value


@st.composite
def _weights(draw: Any, d: int, max_abs: float) -> np.ndarray:
    size = d + 2
    scale = draw(st.sampled_from([v for v in (1.0, 10.0, 1e2, 1e3, 1e4) if v <= max_abs] or [max_abs]))
    entries = st.floats(-scale, scale, allow_nan=False)
    kind = draw(st.sampled_from(["zero", "family", "diagonal", "dense"]))
    if kind == "zero":
        return np.zeros((size, size))
    if kind == "family":
        xi1, xi2 = draw(family_params(xi1_max=scale, xi2_min=-scale, xi2_max=scale))
        return np.diag([xi1] * d + [0.0, -xi2])
    if kind == "diagonal":
        return np.diag(draw(arrays(np.float64, (size,), elements=entries)))
    return draw(arrays(np.float64, (size, size), elements=entries))


def weight_matrices(*, d: int, max_abs: float = XI_MAX) -> st.SearchStrategy[np.ndarray]:
    """A (d+2, d+2) float64 key-query matrix: zero, a family member, diagonal, or dense.

    Entries are bounded by ``max_abs`` (up to 1e4: logits of order 1e4 and beyond).
    """
    check_int("d", d, 2)
    return _weights(d, _check_max_abs(max_abs))


@st.composite
def _prompt_and_weight(
    draw: Any, prompt_strategy: st.SearchStrategy[Prompt], max_abs: float
) -> tuple[Prompt, np.ndarray]:
    prompt = draw(prompt_strategy)
    return prompt, draw(_weights(prompt.d, max_abs))


def prompts_with_weights(
    *, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None, max_abs: float = XI_MAX
) -> st.SearchStrategy[tuple[Prompt, np.ndarray]]:
    """A prompt (from :func:`prompts`) and a key-query matrix of matching size."""
    return _prompt_and_weight(prompts(n_max=n_max, d_max=d_max, labels=labels), _check_max_abs(max_abs))


@st.composite
def _orthogonal(draw: Any, d: int) -> np.ndarray:
    kind = draw(st.sampled_from(["identity", "signed_permutation", "reflection", "random"]))
    if kind == "identity":
        return np.eye(d)
    if kind == "signed_permutation":
        order = draw(st.permutations(list(range(d))))
        signs = np.array(draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=d, max_size=d)))
        return np.eye(d)[order] * signs[:, None]
    if kind == "reflection":
        v = draw(unit_vectors(d=d))
        return np.eye(d) - 2.0 * np.outer(v, v)
    rng = np.random.default_rng(draw(SEEDS))
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def orthogonal_matrices(*, d: int) -> st.SearchStrategy[np.ndarray]:
    """A d x d orthogonal matrix: identity, a signed permutation (exact), a reflection, or Haar-like."""
    check_int("d", d, 2)
    return _orthogonal(d)
