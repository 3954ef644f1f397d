"""Distribution shift (Theorem 2, claim C10): test laws, the explicit bound, and its confidence bands.

References (THEORY.md IDs):
  C9b  On A_delta, |y_hat - y*| <= B (2N e^{-xi1 delta/2} + e^{xi1 (1 - tau*) - xi2}), A_delta =
       { ||x_j - x_q||^2 >= ||x_{i*} - x_q||^2 + delta for every j with y_j != y* }.
  C10  For ANY test law on the sphere with |y| <= B, after GD,
       E_test[(y_hat - y*)^2] <= inf_{delta > 0} { B^2 (2N e^{-xi1 delta/2} + e^{2 xi1 - xi2})^2
                                                 + (2B)^2 P_test(A_delta^c) }
       (|y_hat - y*| <= 2B always, and 1 - tau* <= 2).

A prompt lies in A_delta iff its margin m = :func:`model.nearest.margin` (the largest such delta) is
>= delta, so P_test(A_delta^c) = P(m < delta) = F(delta-), the left limit of the margin's
distribution function. Both sides are estimated from one seeded sample of n prompts:

* the right side with a band that holds for every delta at once: by the one-sided
  Dvoretzky-Kiefer-Wolfowitz inequality with Massart's constant, P(sup_delta F(delta-) - F_n(delta-)
  > eps) <= exp(-2 n eps^2), so F <= F_n + eps for all delta with probability >= 1 - alpha when
  eps = sqrt(log(1/alpha) / (2n)). The inf over delta of the upper band is exact: the first term
  falls with delta and the band is a step function that rises at the sample's margins, so the inf
  is attained at a sample margin or as delta -> infinity (:func:`c10_bound`);
* the left side from below by Hoeffding's inequality, (y_hat - y*)^2 being in [0, (2B)^2]:
  mean - (2B)^2 sqrt(log(1/alpha) / (2n)) (:func:`error_lower_bound`).

The test laws (all seeded, prompt i drawn from its own generator as in :mod:`model.laws`):

* ``uniform``: Assumption 1 (S4), labels +-1 (B = 1);
* ``separated``: [LCG24] App. B as THEORY.md describes it (from a secondary source): x_1..x_N
  uniform, labels N(0, 1) truncated to |y| <= B (redrawn until inside), i uniform, x_q = x_i, and
  every other x_j with ||x_j - x_q||^2 <= delta* replaced by -x_j, so that ||x_j - x_q||^2 >=
  4 - delta* >= delta* (delta* <= 2): every prompt lies in A_{delta*};
* ``antipodal``: the examples in a cap around -x_q (x_j = normalise(-x_q + s g_j / sqrt(d)), g_j
  standard Gaussian, so s is the cap's relative width), labels +-1: the nearest neighbour is far
  (tau* near -1), so the query's own weight q_0, with q_0 / q_{i*} = e^{xi1 (1 - tau*) - xi2}
  (THEORY.md C10 pieces), carries the error once 2 xi1 - xi2 is no longer very negative: the law
  that needs the bound's e^{2 xi1 - xi2} term.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

import model.checks as checks
from model.attention import _check_xi, _finite_scores, _softmax_over_keys
from model.errors import InvalidParameter, NonFiniteValue
from model.laws import _check_generator, prompt_generator, sample_training_prompts, uniform_sphere
from model.nearest import inner_products, margin, nearest
from model.prompt import Prompt, bounded, check_real, check_size

__all__ = [
    "LAWS",
    "BoundResult",
    "Errors",
    "c10_bound",
    "dkw_epsilon",
    "error_lower_bound",
    "margins_of",
    "sample_law",
    "squared_errors",
    "target_labels",
]

#: The test laws :func:`sample_law` knows (module docstring).
LAWS = ("uniform", "separated", "antipodal")


def dkw_epsilon(n: int, alpha: float) -> float:
    """The one-sided DKW band half-width sqrt(log(1/alpha) / (2n)) (Massart's constant; module docstring)."""
    n = check_size(n, "n", 1)
    alpha = check_real(alpha, "alpha")
    if not 0 < alpha < 0.5:
        raise InvalidParameter(f"alpha must lie in (0, 1/2) (Massart's one-sided DKW needs it), got {alpha!r}")
    return math.sqrt(math.log(1 / alpha) / (2 * n))


def _uniform_examples(batch: int, n: int, d: int,
                      generator: torch.Generator) -> tuple[torch.Tensor, list[torch.Generator]]:
    base = int(torch.randint(0, 2**62, (1,), generator=_check_generator(generator)))
    owns = [prompt_generator(base, index) for index in range(batch)]
    return torch.stack([uniform_sphere((n,), d, generator=own) for own in owns]), owns  # (B, N, d)


def _truncated_normal(count: int, bound: float, generator: torch.Generator) -> torch.Tensor:
    values = torch.randn(count, generator=generator, dtype=torch.float64)
    while bool((values.abs() > bound).any()):  # redraw the ones outside [-B, B] (P >= 0.68 inside for B >= 1)
        outside = values.abs() > bound
        values[outside] = torch.randn(int(outside.sum()), generator=generator, dtype=torch.float64)
    return values


def sample_law(law: str, batch: int, n: int, d: int, *, generator: torch.Generator, delta: float = 0.5,
               bound: float = 3.0, spread: float = 0.5) -> Prompt:
    """``batch`` prompts from test law ``law`` (module docstring), float64.

    ``delta`` is the separated law's delta* (in (0, 2]); ``bound`` its label bound B; ``spread`` the
    antipodal law's cap width s (> 0). The defaults are [LCG24] App. B's delta* = 0.5 and B = 3 (as
    claims C10 and E1 use them) and the cap width of C10's antipodal law. Prompt i does not depend on
    ``batch``.
    """
    if law not in LAWS:
        raise InvalidParameter(f"unknown test law {law!r}; known: {', '.join(LAWS)}")
    batch, n, d = check_size(batch, "batch", 1), check_size(n, "N", 1), check_size(d, "d", 2)
    if law == "uniform":
        return sample_training_prompts(batch, n, d, generator=generator)
    if law == "separated":
        delta, bound = check_real(delta, "delta"), check_real(bound, "label bound B")
        if not 0 < delta <= 2:
            raise InvalidParameter(f"the separated law needs delta* in (0, 2], got {delta!r}")
        if bound <= 0:
            raise InvalidParameter(f"label bound B must be > 0, got {bound!r}")
        x, owns = _uniform_examples(batch, n, d, generator)
        picks = torch.tensor([int(torch.randint(0, n, (1,), generator=own)) for own in owns])  # (B,)
        y = torch.stack([_truncated_normal(n, bound, own) for own in owns])  # (B, N)
        xq = x[torch.arange(batch), picks].clone()  # (B, d)
        close = ((x - xq[:, None, :]) ** 2).sum(dim=-1) <= delta  # (B, N)
        close[torch.arange(batch), picks] = False
        x = torch.where(close[:, :, None], -x, x)
        return Prompt(x, y, xq, bounded(bound))
    spread = check_real(spread, "spread")
    if spread <= 0:
        raise InvalidParameter(f"the antipodal law's spread must be > 0, got {spread!r}")
    base = int(torch.randint(0, 2**62, (1,), generator=_check_generator(generator)))
    points, labels, queries = [], [], []
    for index in range(batch):
        own = prompt_generator(base, index)
        xq = uniform_sphere((), d, generator=own)  # (d,)
        cloud = -xq + spread / math.sqrt(d) * torch.randn(n, d, generator=own, dtype=torch.float64)  # (N, d)
        points.append(cloud / torch.linalg.vector_norm(cloud, dim=-1, keepdim=True))
        labels.append(2.0 * torch.randint(0, 2, (n,), generator=own, dtype=torch.float64) - 1.0)
        queries.append(xq)
    return Prompt(torch.stack(points), torch.stack(labels), torch.stack(queries))


def target_labels(prompt: Prompt) -> torch.Tensor:
    """y*, the 1-NN label of each prompt (S3, with its tie rule), (B,)."""
    return nearest(prompt).label


class Errors:
    """(y_hat - y*)^2 on one sample at many (xi1, xi2): tau and y* are computed once.

    y_hat is the family's prediction (S8) with the model's own softmax (model.attention), the same
    numbers as :func:`model.attention.family_predict` (a test checks it).
    """

    def __init__(self, prompt: Prompt) -> None:
        self.tau = inner_products(prompt)  # (B, N)
        self.y = prompt.y.to(torch.float64)  # (B, N)
        self.target = target_labels(prompt)  # (B,)

    def __call__(self, xi1: float, xi2: float) -> NDArray[np.float64]:
        xi1, xi2 = _check_xi(xi1, "xi1"), _check_xi(xi2, "xi2")
        own = torch.full((self.tau.shape[0], 1), xi1 - xi2, dtype=torch.float64)  # (B, 1)
        weights = _softmax_over_keys(_finite_scores(torch.cat([xi1 * self.tau, own], dim=1)))  # (B, N+1)
        y_hat = (weights[:, :-1] * self.y).sum(dim=1)  # (B,)
        return np.asarray(((y_hat - self.target) ** 2).numpy(), dtype=np.float64)


def squared_errors(prompt: Prompt, xi1: float, xi2: float) -> NDArray[np.float64]:
    """(y_hat - y*)^2 per prompt on the family at (xi1, xi2) (:class:`Errors` for many points)."""
    return Errors(prompt)(xi1, xi2)


def error_lower_bound(errors: NDArray[np.float64], bound: float, alpha: float) -> float:
    """Hoeffding's one-sided lower confidence bound on E[(y_hat - y*)^2], the values lying in [0, (2B)^2]."""
    bound = check_real(bound, "label bound B")
    if bound <= 0:
        raise InvalidParameter(f"label bound B must be > 0, got {bound!r}")
    errors = checks.require_real_array("errors", errors, nan=True, inf=True)
    if errors.ndim != 1 or errors.size == 0:
        raise InvalidParameter(f"errors must be a nonempty 1-d array, got shape {errors.shape}")
    if not np.all(np.isfinite(errors)):
        raise NonFiniteValue("errors contain NaN or inf")
    if float(errors.max()) > (2 * bound) ** 2 * (1 + 1e-12) or float(errors.min()) < 0:
        raise InvalidParameter(f"squared errors must lie in [0, (2B)^2] = [0, {(2 * bound) ** 2:g}]")
    return float(errors.mean()) - (2 * bound) ** 2 * dkw_epsilon(errors.size, alpha)


@dataclass(frozen=True)
class BoundResult:
    """The right side of C10 from a sample: its value, the delta attaining the inf (inf for delta -> inf),
    the upper band on P(A_delta^c) there, and the first term B^2 (2N e^{-xi1 delta/2} + e^{2 xi1 - xi2})^2."""

    value: float
    delta: float
    p_upper: float
    first_term: float


def _first_term(xi1: float, xi2: float, N: int, B: float, delta: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(over="ignore"):
        decay = np.exp(-xi1 * delta / 2) if xi1 > 0 else np.ones_like(delta)  # (0 * inf would be NaN)
        inner = 2 * N * decay + math.exp(min(2 * xi1 - xi2, 700.0))
        return np.asarray(B**2 * inner**2, dtype=np.float64)  # inf (a vacuous bound) rather than NaN


def c10_bound(xi1: float, xi2: float, N: int, B: float, margins: NDArray[np.float64], alpha: float) -> BoundResult:
    """inf over delta > 0 of B^2 (2N e^{-xi1 delta/2} + e^{2 xi1 - xi2})^2 + (2B)^2 min(1, F_n(delta-) + eps).

    ``margins``: the sample's margins (>= 0, +inf for prompts whose labels all equal y*); eps the DKW
    half-width at ``alpha``: with probability >= 1 - alpha the value is >= the true right side of C10
    (module docstring). xi1 >= 0 (the theorem's hypothesis).
    """
    xi1, xi2, B = check_real(xi1, "xi1"), check_real(xi2, "xi2"), check_real(B, "label bound B")
    N = check_size(N, "N", 1)
    if xi1 < 0:
        raise InvalidParameter(f"C10 needs xi1 >= 0, got {xi1!r}")
    if B <= 0:
        raise InvalidParameter(f"label bound B must be > 0, got {B!r}")
    m = checks.require_real_array("margins", margins, nan=True, inf=True)
    if m.ndim != 1 or m.size == 0:
        raise InvalidParameter(f"margins must be a nonempty 1-d array, got shape {m.shape}")
    if np.isnan(m).any() or (m < 0).any():
        raise InvalidParameter("margins must be >= 0 (+inf allowed), with no NaN")
    eps = dkw_epsilon(m.size, alpha)
    ordered = np.sort(m)
    finite = ordered[np.isfinite(ordered)]
    candidates = np.unique(finite[finite > 0])  # the inf is attained at a positive sample margin ...
    below = np.searchsorted(ordered, candidates, side="left") / m.size  # F_n(delta-)
    first = _first_term(xi1, xi2, N, B, candidates)
    p_upper = np.minimum(1.0, below + eps)
    values = first + (2 * B) ** 2 * p_upper
    tail_p = min(1.0, finite.size / m.size + eps)  # ... or as delta -> infinity (only +inf margins stay in)
    tail = float(_first_term(xi1, xi2, N, B, np.array([np.inf]))[0]) + (2 * B) ** 2 * tail_p
    if values.size and float(values.min()) <= tail:
        k = int(values.argmin())
        return BoundResult(float(values[k]), float(candidates[k]), float(p_upper[k]), float(first[k]))
    return BoundResult(tail, math.inf, tail_p, float(_first_term(xi1, xi2, N, B, np.array([np.inf]))[0]))


def margins_of(prompt: Prompt) -> NDArray[np.float64]:
    """The sample's margins (model.nearest.margin) as a numpy array."""
    return np.asarray(margin(prompt).numpy(), dtype=np.float64)
