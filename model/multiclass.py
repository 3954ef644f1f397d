"""The K-class model of [AW26] (THEORY.md "Multiclass"): simplex codes, prompts of classes, prediction, argmax.

Labels c in {0, ..., K-1} are encoded by the simplex codes u_c = e_c - 1/K: zero mean,
|u_c|^2 = (K-1)/K, <u_c, u_c'> = -1/K for c != c', |u_c - u_c'| = sqrt(2).

The model is the binary one (:mod:`model.attention`) with K label rows: column j <= N of H is
[x_j; u_{c_j}; 0], the query column [x_q; 0_K; 1], so H is (B, d+K+1, N+1) and W is (d+K+1, d+K+1). The
scores h_j^T W h_q and the attention weights q come from the binary model's own code
(:func:`model.attention.query_scores`, its softmax); the prediction is the K-vector
l = sum_{j<=N} q_j u_{c_j} (the query's code is 0), and the predicted class is argmax_k l_k. The family
is W = diag(xi1 I_d, 0_K, -xi2) (S8 with K label rows).

Tie rules (documented, tested):
* argmax: the lowest index among the exactly maximal entries (``torch.argmax``'s first maximum);
* 1-NN: the examples with tau_j within :data:`model.nearest.TIE_TOL` of tau* are tied nearest neighbours
  (the binary rule); the 1-NN code u* is the mean of their codes and the 1-NN class is the majority
  class among them, the lowest index on a tie of counts (= argmax u*, by the rule above).

K = 2 is the binary model up to scaling: with c = 0 for y = +1 and c = 1 for y = -1, u_c = (y/2, -y/2),
so h_mc = A h_bin with A mapping the label y to (y/2, -y/2); W_bin = A^T W_mc A gives the same scores,
and then l = (y_hat/2) (1, -1) and ||l - u*||^2 = (y_hat - y*)^2 / 2 = ((K-1)/K) (y_hat - y*)^2
(:func:`binary_weight`; tested).

Distance to the family: ||W - Pi(W)||_F with Pi the Frobenius-orthogonal projection onto the (linear)
family {diag(xi1 I_d, 0_K, -xi2)}: xi1 = trace of the x-block / d, xi2 = -W[-1, -1]
(:func:`family_projection`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

import torch

import model.attention as attention
import model.exact as exact
import model.nearest as nearest
from model.errors import InvalidDType, InvalidParameter, InvalidShape
from model.prompt import FLOAT_DTYPES, Prompt, as_float_tensor, bounded, check_finite, check_real, check_size

__all__ = [
    "ClassPrompt",
    "MulticlassPrediction",
    "argmax_class",
    "binary_weight",
    "distance_to_family",
    "embed",
    "family_W",
    "family_predict",
    "family_projection",
    "nearest_class",
    "population_loss",
    "predict",
    "simplex_codes",
    "simplex_codes_exact",
]


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
    if dtype not in FLOAT_DTYPES:
        raise InvalidDType(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    return torch.tensor(simplex_codes_exact(K), dtype=dtype)


@dataclass(frozen=True)
class ClassPrompt:
    """A batch of B K-class prompts: ``x`` (B, N, d) examples, ``classes`` (B, N) in {0, ..., K-1}, ``xq`` (B, d).

    The points are validated as :class:`model.prompt.Prompt` validates them (shape, dtype, finite, unit
    norm); ``classes`` must be an integer tensor with entries in [0, K). ``geometry`` is the same points as a
    Prompt with zero labels, for the code that reads the geometry only (inner products, ties).
    """

    x: torch.Tensor
    classes: torch.Tensor
    xq: torch.Tensor
    K: int
    geometry: Prompt = field(init=False, repr=False, compare=False)  # set in __post_init__

    def __post_init__(self) -> None:
        K = _check_classes(self.K)
        x = as_float_tensor(self.x, "x")
        geometry = Prompt(x, torch.zeros(x.shape[:-1], dtype=x.dtype), self.xq, bounded(1.0))
        try:
            classes = torch.as_tensor(self.classes)
        except (TypeError, ValueError, RuntimeError):
            raise InvalidDType(f"classes must be an integer tensor, got {type(self.classes).__name__}") from None
        if classes.dtype.is_floating_point or classes.dtype.is_complex or classes.dtype == torch.bool:
            raise InvalidDType(f"classes must be an integer tensor, got {classes.dtype}")
        if tuple(classes.shape) != (geometry.batch, geometry.n):
            raise InvalidShape(f"classes must have shape (B, N) = {(geometry.batch, geometry.n)}, "
                               f"got {tuple(classes.shape)}")
        if bool(((classes < 0) | (classes >= K)).any()):
            bad = classes[(classes < 0) | (classes >= K)][0]
            raise InvalidParameter(f"classes must lie in [0, K) = [0, {K}), got {int(bad)}")
        object.__setattr__(self, "x", geometry.x)
        object.__setattr__(self, "xq", geometry.xq)
        object.__setattr__(self, "classes", classes.to(torch.int64).detach().clone())
        object.__setattr__(self, "geometry", geometry)


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

    def codes(self) -> torch.Tensor:
        """u_{c_j} for every example, (B, N, K)."""
        return simplex_codes(self.K, dtype=self.dtype)[self.classes]

    def select(self, index: torch.Tensor) -> ClassPrompt:
        """The prompts at ``index`` (a minibatch)."""
        return ClassPrompt(self.x[index], self.classes[index], self.xq[index], self.K)


def _check_class_prompt(value: object) -> ClassPrompt:
    if not isinstance(value, ClassPrompt):
        raise InvalidParameter(f"prompt must be a model.multiclass.ClassPrompt, got {type(value).__name__}")
    return value


def embed(prompt: ClassPrompt) -> torch.Tensor:
    """H per prompt, (B, d+K+1, N+1): columns [x_j; u_{c_j}; 0] and the query column [x_q; 0_K; 1]."""
    prompt = _check_class_prompt(prompt)
    batch, n, _ = prompt.x.shape
    zeros = torch.zeros(batch, n, 1, dtype=prompt.dtype)  # (B, N, 1)
    context = torch.cat([prompt.x, prompt.codes(), zeros], dim=2)  # (B, N, d+K+1)
    query = torch.cat([prompt.xq, torch.zeros(batch, prompt.K, dtype=prompt.dtype),
                       torch.ones(batch, 1, dtype=prompt.dtype)], dim=1)  # (B, d+K+1)
    return torch.cat([context, query[:, None, :]], dim=1).transpose(1, 2)  # (B, d+K+1, N+1)


class MulticlassPrediction(NamedTuple):
    """The K-class model's output on a prompt batch."""

    logits: torch.Tensor  # (B, K) l = sum_j q_j u_{c_j}
    label: torch.Tensor  # (B,) argmax_k l_k (lowest index on exact ties)
    weights: torch.Tensor  # (B, N+1) attention of the query over keys; the last entry is q_0


def argmax_class(logits: torch.Tensor) -> torch.Tensor:
    """argmax over the class axis (the last) of (..., K) logits; the lowest index among exact maxima."""
    logits = as_float_tensor(logits, "logits")
    if logits.ndim < 1 or logits.shape[-1] < 2:
        raise InvalidShape(f"logits must have a class axis of size K >= 2 last, got shape {tuple(logits.shape)}")
    check_finite(logits, "logits")
    return torch.argmax(logits, dim=-1)


def _readout(prompt: ClassPrompt, weights: torch.Tensor) -> MulticlassPrediction:
    logits = torch.einsum("bn,bnk->bk", weights[:, :-1], prompt.codes())  # (B, K)
    return MulticlassPrediction(logits, argmax_class(logits), weights)


def predict(prompt: ClassPrompt, W: torch.Tensor) -> MulticlassPrediction:
    """l, its argmax class and the attention weights for a (d+K+1, d+K+1) merged key-query matrix W."""
    H = embed(prompt)  # (B, d+K+1, N+1)
    scores = attention.query_scores(H, W)  # (B, N+1): the binary model's code
    return _readout(prompt, attention._softmax_over_keys(attention._finite_scores(scores)))


def family_W(xi1: float, xi2: float, d: int, K: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The family W = diag(xi1 I_d, 0_K, -xi2), shape (d+K+1, d+K+1)."""
    xi1, xi2 = check_real(xi1, "xi1"), check_real(xi2, "xi2")
    d, K = check_size(d, "d", 2), _check_classes(K)
    if dtype not in FLOAT_DTYPES:
        raise InvalidDType(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    return torch.diag(torch.cat([torch.full((d,), xi1, dtype=dtype), torch.zeros(K, dtype=dtype),
                                 torch.tensor([-xi2], dtype=dtype)]))


def family_predict(prompt: ClassPrompt, xi1: float, xi2: float) -> MulticlassPrediction:
    """The family's closed form from tau_j = <x_j, x_q> (scores xi1 tau_j and xi1 - xi2 for the query)."""
    prompt = _check_class_prompt(prompt)
    xi1, xi2 = check_real(xi1, "xi1"), check_real(xi2, "xi2")
    tau = nearest.inner_products(prompt.geometry).to(prompt.dtype)  # (B, N): float64 from nearest, the prompt's here
    own = torch.full((prompt.batch, 1), xi1 - xi2, dtype=prompt.dtype)  # (B, 1)
    weights = attention._softmax_over_keys(attention._finite_scores(torch.cat([xi1 * tau, own], dim=1)))
    return _readout(prompt, weights)


def nearest_class(prompt: ClassPrompt) -> tuple[torch.Tensor, torch.Tensor]:
    """The 1-NN rule with the tie rule of the module docstring: (u* (B, K) float64, class (B,))."""
    prompt = _check_class_prompt(prompt)
    ref = nearest.nearest(prompt.geometry)  # tau, tau*, tied: the binary tie rule
    codes = simplex_codes(prompt.K)[prompt.classes]  # (B, N, K) float64
    tied = ref.tied.to(torch.float64)  # (B, N)
    target = torch.einsum("bn,bnk->bk", tied, codes) / tied.sum(dim=1, keepdim=True)  # (B, K) mean tied code
    return target, argmax_class(target)


def binary_weight(W_mc: torch.Tensor, d: int) -> torch.Tensor:
    """For K = 2: the binary model's W = A^T W_mc A with the same scores (module docstring), (d+2, d+2)."""
    W_mc = as_float_tensor(W_mc, "W_mc")
    d = check_size(d, "d", 2)
    if tuple(W_mc.shape) != (d + 3, d + 3):
        raise InvalidShape(f"W_mc must be (d+3, d+3) = {(d + 3, d + 3)} for K = 2, got {tuple(W_mc.shape)}")
    check_finite(W_mc, "W_mc")
    A = torch.zeros(d + 3, d + 2, dtype=W_mc.dtype)  # maps [x; y; flag] to [x; y/2; -y/2; flag]
    A[:d, :d] = torch.eye(d, dtype=W_mc.dtype)
    A[d, d], A[d + 1, d], A[d + 2, d + 1] = 0.5, -0.5, 1.0
    return A.T @ W_mc @ A


def family_projection(W: torch.Tensor, d: int, K: int) -> tuple[float, float]:
    """(xi1, xi2) of Pi(W), the Frobenius-orthogonal projection of W onto the family (module docstring)."""
    W = as_float_tensor(W, "W")
    d, K = check_size(d, "d", 2), _check_classes(K)
    if tuple(W.shape) != (d + K + 1, d + K + 1):
        raise InvalidShape(f"W must be (d+K+1, d+K+1) = {(d + K + 1, d + K + 1)}, got {tuple(W.shape)}")
    check_finite(W, "W")
    return float(torch.diagonal(W)[:d].sum()) / d, -float(W[-1, -1])


def distance_to_family(W: torch.Tensor, d: int, K: int) -> float:
    """||W - Pi(W)||_F, the Frobenius distance of W to the family."""
    xi1, xi2 = family_projection(W, d, K)
    return float(torch.linalg.matrix_norm(as_float_tensor(W, "W") - family_W(xi1, xi2, d, K, dtype=W.dtype)))


def population_loss(xi1: float, xi2: float, N: int, d: int, K: int) -> float:
    """The K-class population loss 1/2 E||l - u*||^2 on the family: (K-1)/K times the binary one (C12a), with the
    binary value from :func:`model.exact.population_loss` (its accuracy, its domain and its errors)."""
    K = _check_classes(K)
    return (K - 1) / K * exact.population_loss(xi1, xi2, N, d)
