"""SymPy derivations: the density of tau and closed forms of the family's population loss.

References (THEORY.md IDs): C11a (the density f_d of tau = <x_j, x_q> and its normaliser k_d, and the
2 Gamma normalisation printed in [AW26] Lemma 16), S5/S8 (the population loss on the family).

Derivations, each done by SymPy at first use and turned into a numeric function once (cached):

* Density. The slice {x in S^{d-1}: <x, x_q> = t} is a sphere of radius sqrt(1 - t^2) and dimension
  d - 2, crossed at slant 1 / sqrt(1 - t^2), so tau has density proportional to (1 - t^2)^{(d-3)/2}.
  SymPy integrates it over [-1, 1] for symbolic d: sqrt(pi) Gamma((d-1)/2) / Gamma(d/2), whose
  inverse is k_d. [AW26]'s 2 Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)) then integrates to 2.
* xi1 = 0, every N and d: all scores equal, q_j = 1/(N + c) and q_0 = c/(N + c) with c = e^{-xi2},
  so L = ((N + c - 1)^2 + N - 1) / (2 (N + c)^2) and dL/dxi2 follows by differentiation.
  dL/dxi1 at xi1 = 0 is q q_0^2 - q E[tau_*] (differentiate the softmax at equal scores; E[tau_j] = 0),
  with E[tau_*] = (N - 1)/(N + 1) for d = 3, where tau is uniform on [-1, 1].
* N = 1, d = 3: tau is uniform, so 2 L = (1/2) int_{-1}^{1} sigma(xi1 (1 - t) - xi2)^2 dt with sigma the
  logistic function; SymPy finds the antiderivative log(1 + e^y) + 1/(1 + e^y) of sigma(y)^2 and the
  gradient by differentiating the result.

The closed forms are lambdified with mpmath (80 digits), so they serve as high-precision references.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import mpmath
import sympy as sp

from model.errors import InvalidParameter

__all__ = [
    "DIGITS",
    "aw26_normaliser_integral",
    "density_normaliser",
    "loss_n1_d3",
    "loss_xi1_zero",
]

#: Working precision of the lambdified references (decimal digits).
DIGITS = 80

_t = sp.Symbol("t", real=True)
_d = sp.Symbol("d", positive=True)
_y = sp.Symbol("y", real=True)
_xi1 = sp.Symbol("xi1", positive=True)
_xi2 = sp.Symbol("xi2", real=True)
_N = sp.Symbol("N", positive=True)

Reference = Callable[..., tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]]


@functools.cache
def density_normaliser() -> sp.Expr:
    """int_{-1}^{1} (1 - t^2)^{(d-3)/2} dt for symbolic d (so k_d is its inverse), derived by SymPy."""
    integral = sp.integrate((1 - _t**2) ** ((_d - 3) / 2), (_t, -1, 1), conds="none")
    return sp.simplify(integral)


def aw26_normaliser_integral(d: int) -> sp.Expr:
    """int_{-1}^{1} of [AW26]'s printed density 2 Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)) (1 - t^2)^{(d-3)/2}.

    d is an integer in [2, 256] (model.exact's domain); InvalidParameter otherwise.
    """
    if isinstance(d, bool) or not isinstance(d, int) or not 2 <= d <= 256:
        raise InvalidParameter(f"d must be an integer in [2, 256], got {d!r}")
    k_printed = 2 * sp.gamma(sp.Rational(d, 2)) / (sp.sqrt(sp.pi) * sp.gamma(sp.Rational(d - 1, 2)))
    return sp.simplify(k_printed * density_normaliser().subs(_d, d))


def _with_precision(function: Callable[..., tuple[object, object, object]]) -> Reference:
    def evaluate(*args: float) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
        with mpmath.workdps(DIGITS):
            first, second, third = function(*(mpmath.mpf(a) for a in args))
            return mpmath.mpf(first), mpmath.mpf(second), mpmath.mpf(third)

    return evaluate


@functools.cache
def loss_xi1_zero() -> Reference:
    """(L, dL/dxi2, dL/dxi1 for d = 3) at xi1 = 0 as functions of (xi2, N): see the module docstring."""
    c = sp.exp(-_xi2)
    q, q0 = 1 / (_N + c), c / (_N + c)
    loss = sp.simplify((_N * q**2 - 2 * q + 1) / 2)  # E[sum q_j^2 - 2 q_* + 1] / 2, labels iid +-1
    grad2 = sp.factor(sp.simplify(sp.diff(loss, _xi2)))  # -e^{xi2} / (N e^{xi2} + 1)^3: no cancellation
    grad1_d3 = q * q0**2 - q * (_N - 1) / (_N + 1)
    return _with_precision(sp.lambdify((_xi2, _N), (loss, grad2, grad1_d3), modules="mpmath"))


@functools.cache
def loss_n1_d3() -> Reference:
    """(L, dL/dxi1, dL/dxi2) at N = 1, d = 3 as functions of (xi1 > 0, xi2)."""
    antiderivative = sp.integrate(sp.exp(2 * _y) / (1 + sp.exp(_y)) ** 2, _y)  # of sigma(y)^2
    # y = xi1 (1 - t) - xi2 runs from -xi2 (t = 1) to 2 xi1 - xi2 (t = -1); dt = -dy / xi1
    two_loss = (antiderivative.subs(_y, 2 * _xi1 - _xi2) - antiderivative.subs(_y, -_xi2)) / (2 * _xi1)
    loss = two_loss / 2
    return _with_precision(
        sp.lambdify((_xi1, _xi2), (loss, sp.diff(loss, _xi1), sp.diff(loss, _xi2)), modules="mpmath")
    )
