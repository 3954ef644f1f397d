"""Minibatch SGD on the full W from random initialisation, and a tuned softmax kernel smoother (claim E1).

References (THEORY.md IDs):
  S2  the model y_hat = sum_{j<=N} q_j y_j, q = softmax(h_j^T W h_q) (:func:`model.attention.predict`).
  S3  the target, the 1-NN label y* (with its tie rule, :func:`model.nearest.nearest`).
  S4  the training law (Assumption 1), from which the finite training set is drawn.
  S5  the loss 1/2 (y_hat - y*)^2, here averaged over a finite set of prompts.
  S7  gradient steps, here stochastic: W <- W - eta * grad of a minibatch's mean loss.
  E1  [LCG24] §5: the full W from random initialisation, trained by SGD on a finite set of prompts.

The protocol of :func:`train`, all randomness from one ``torch.Generator`` seeded by ``seed``, in this
order: the training set (``prompts`` prompts of :func:`model.laws.sample_training_prompts`); W^0 with
iid N(0, init_scale^2) entries, (d+2) x (d+2), float64 (every entry random: no structure of Assumption 2's
W^0 is imposed); then the minibatch order: the set is visited epoch by epoch, each epoch in a fresh random
permutation, ``batch`` prompts a step (an epoch's leftover prompts open the next step, so every step sees
exactly ``batch`` prompts; the step that straddles two epochs may see one twice). The gradient is analytic
(:func:`minibatch_gradient`, as in [AW26] §5), from the attention weights of :func:`model.attention.predict`
(looked up in its module at call time, so a planted fault in the model reaches the training too). The
training loss on the whole set is recorded at step 0, at the steps round(10^(k / per_decade)) and at the
last step: the loss curve in log-spaced steps. SGD runs on one thread (:func:`one_thread`), so a run costs
one CPU core and its result does not depend on the machine's thread count. :func:`cached_train` keeps runs
in :mod:`model.cache`, keyed by their parameters and the code they run.

The baseline: the softmax kernel smoother y_hat = sum_{j<=N} softmax_j(beta <x_j, x_q>) y_j, the family's
attention (S8, xi1 = beta) without the query's own weight (xi2 -> infinity); beta = 0 gives the mean
label. :func:`tune_bandwidth` picks beta from :data:`BETA_GRID` by the MSE against y* on a validation
sample (the first minimiser on ties).
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

import model.attention as attention
import model.cache as cache
import model.laws as laws
import model.nearest as nearest
from model.errors import InvalidParameter, InvalidShape, NonFiniteValue
from model.prompt import Prompt, as_float_tensor, check_finite, check_prompt, check_real, check_size

__all__ = [
    "BETA_GRID",
    "TrainingRun",
    "Tuning",
    "cached_train",
    "checkpoint_steps",
    "minibatch_gradient",
    "minibatch_loss",
    "one_thread",
    "sgd_step",
    "smoother_predict",
    "train",
    "tune_bandwidth",
]

#: The bandwidth grid of the kernel smoother: 0 (the mean label) and 2^k for k = -2, ..., 10.
BETA_GRID: tuple[float, ...] = (0.0, *(2.0**k for k in range(-2, 11)))

#: Names of this module the SGD runs do not depend on (the smoother baseline): they are left out of the
#: runs' cache fingerprint, so a fault planted in the baseline reuses the cached runs (a tuple: a frozenset's repr,
#: hence the fingerprint, would depend on the hash seed).
_BASELINE = ("BETA_GRID", "Tuning", "smoother_predict", "tune_bandwidth")
#: The other modules whose code a run executes.
_MODEL_CODE = ("model.attention", "model.laws", "model.nearest", "model.prompt", "model.errors", "model.cache")


@dataclass(frozen=True)
class TrainingRun:
    """One SGD run: its settings, the loss curve at log-spaced steps, and W at the start and the end."""

    N: int
    d: int
    prompts: int
    steps: int
    batch: int
    eta: float
    init_scale: float
    seed: int
    checkpoints: NDArray[np.int64]  # (K,) steps where the loss was recorded: 0 first, ``steps`` last
    loss: NDArray[np.float64]  # (K,) the training loss on the whole set at those steps
    W0: NDArray[np.float64]  # (d+2, d+2) the random initialisation
    W: NDArray[np.float64]  # (d+2, d+2) W after ``steps`` steps

    @property
    def epochs(self) -> float:
        """Passes over the training set: steps * batch / prompts."""
        return self.steps * self.batch / self.prompts

    def initial(self) -> torch.Tensor:
        """W^0 as a float64 tensor, (d+2, d+2)."""
        return torch.from_numpy(np.array(self.W0, dtype=np.float64))

    def final(self) -> torch.Tensor:
        """W after the last step as a float64 tensor, (d+2, d+2)."""
        return torch.from_numpy(np.array(self.W, dtype=np.float64))


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with torch on one thread (restored afterwards)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def checkpoint_steps(steps: int, per_decade: int) -> NDArray[np.int64]:
    """0, the distinct round(10^(k / per_decade)) below ``steps``, and ``steps``: sorted, (K,)."""
    steps, per_decade = check_size(steps, "steps", 1), check_size(per_decade, "per_decade", 1)
    top = math.floor(per_decade * math.log10(steps))
    inner = {round(10 ** (k / per_decade)) for k in range(top + 1)}
    return np.array(sorted({0, steps} | {t for t in inner if t < steps}), dtype=np.int64)


def _check_targets(prompt: Prompt, targets: torch.Tensor) -> torch.Tensor:
    prompt = check_prompt(prompt)
    targets = as_float_tensor(targets, "targets")
    if tuple(targets.shape) != (prompt.batch,):
        raise InvalidShape(f"targets must have shape (B,) = ({prompt.batch},), got {tuple(targets.shape)}")
    check_finite(targets, "targets")
    return targets


def minibatch_loss(prompt: Prompt, targets: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Mean over the prompts of 1/2 (y_hat - y*)^2 (S5), a 0-dim tensor differentiable in W."""
    targets = _check_targets(prompt, targets)
    return 0.5 * ((attention.predict(prompt, W).y_hat - targets) ** 2).mean()


def minibatch_gradient(prompt: Prompt, targets: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """The gradient in W of :func:`minibatch_loss`, analytically, (d+2, d+2).

    With r = y_hat - y* and the scores s_j = h_j^T W h_q, d y_hat / d s_j = q_j (y_j - y_hat) (the query's
    label is 0), so d/dW of 1/2 r^2 is r sum_j q_j (y_j - y_hat) h_j h_q^T; the weights q come from
    :func:`model.attention.predict` itself. (Autograd gives the same to rounding, a test checks it; this is
    about twice as fast on a minibatch, which is what lets E1's runs fit CI.)
    """
    targets = _check_targets(prompt, targets)
    H = attention.embed(prompt)  # (B, d+2, N+1)
    prediction = attention.predict(prompt, W)
    residual = prediction.y_hat - targets  # (B,)
    labels = H[:, -2, :]  # (B, N+1), the query's entry 0
    coeff = residual[:, None] * prediction.weights * (labels - prediction.y_hat[:, None])  # (B, N+1)
    keys = torch.einsum("bj,bkj->bk", coeff, H)  # (B, d+2), sum_j coeff_j h_j
    return keys.T @ H[:, :, -1] / prompt.batch  # (d+2, d+2), mean over b of (sum_j coeff_j h_j) h_q^T


def check_step(W: torch.Tensor, gradient: torch.Tensor, eta: float) -> tuple[torch.Tensor, torch.Tensor, float]:
    """W and gradient as finite float tensors of one shape, eta a finite number > 0 (named errors otherwise)."""
    W, gradient = as_float_tensor(W, "W"), as_float_tensor(gradient, "gradient")
    if W.shape != gradient.shape:
        raise InvalidShape(f"gradient must have W's shape {tuple(W.shape)}, got {tuple(gradient.shape)}")
    check_finite(W, "W")
    check_finite(gradient, "gradient")
    eta = check_real(eta, "eta")
    if eta <= 0:
        raise InvalidParameter(f"eta must be > 0, got {eta!r}")
    return W, gradient, eta


def sgd_step(W: torch.Tensor, gradient: torch.Tensor, eta: float) -> torch.Tensor:
    """One SGD step W - eta * gradient (S7 on a minibatch), (d+2, d+2)."""
    W, gradient, eta = check_step(W, gradient, eta)
    return W - eta * gradient


def _check_settings(N: int, d: int, prompts: int, steps: int, batch: int, eta: float, init_scale: float,
                    seed: int, per_decade: int) -> tuple[int, int, int, int, int, float, float, int, int]:
    N, d = check_size(N, "N", 1), check_size(d, "d", 2)
    prompts, steps, batch = check_size(prompts, "prompts", 1), check_size(steps, "steps", 1), check_size(
        batch, "batch", 1)
    if batch > prompts:
        raise InvalidParameter(f"batch must be at most the number of prompts {prompts}, got {batch}")
    eta, init_scale = check_real(eta, "eta"), check_real(init_scale, "init_scale")
    if eta <= 0:
        raise InvalidParameter(f"eta must be > 0, got {eta!r}")
    if init_scale < 0:
        raise InvalidParameter(f"init_scale must be >= 0, got {init_scale!r}")
    seed, per_decade = check_size(seed, "seed", 0), check_size(per_decade, "per_decade", 1)
    return N, d, prompts, steps, batch, eta, init_scale, seed, per_decade


def train(N: int, d: int, *, prompts: int, steps: int, batch: int, eta: float, init_scale: float, seed: int,
          per_decade: int = 4) -> TrainingRun:
    """Minibatch SGD on the full W from iid N(0, init_scale^2) entries, on a finite training set (E1).

    The protocol is the module docstring's. Raises the named errors of :mod:`model.errors` on bad
    settings, and :class:`NonFiniteValue` if a gradient or W stops being finite.
    """
    N, d, prompts, steps, batch, eta, init_scale, seed, per_decade = _check_settings(
        N, d, prompts, steps, batch, eta, init_scale, seed, per_decade)
    generator = torch.Generator().manual_seed(seed)
    with one_thread():
        data = laws.sample_training_prompts(prompts, N, d, generator=generator)  # (P, N, d), (P, N), (P, d)
        targets = nearest.nearest(data).label  # (P,) y*
        W = init_scale * torch.randn(d + 2, d + 2, generator=generator, dtype=torch.float64)  # (d+2, d+2)
        W0 = W.clone()
        checkpoints = checkpoint_steps(steps, per_decade)
        recording = set(checkpoints.tolist())
        recorded: list[float] = []
        order = torch.empty(0, dtype=torch.long)  # (M,) the prompts still to visit, in order
        for t in range(steps + 1):
            if t in recording:
                recorded.append(float(minibatch_loss(data, targets, W)))
            if t == steps:
                break
            if order.numel() < batch:
                order = torch.cat([order, torch.randperm(prompts, generator=generator)])  # (M + P,)
            index, order = order[:batch], order[batch:]  # (batch,), (M - batch,)
            chosen = Prompt(data.x[index], data.y[index], data.xq[index], data.labels)
            gradient = minibatch_gradient(chosen, targets[index], W)  # (d+2, d+2)
            check_finite(gradient, f"the gradient at step {t}")
            W = sgd_step(W, gradient, eta)
            if not bool(torch.isfinite(W).all()):
                raise NonFiniteValue(f"W is not finite after step {t + 1} (eta = {eta} too large?)")
    return TrainingRun(N, d, prompts, steps, batch, eta, init_scale, seed, checkpoints,
                       np.array(recorded, dtype=np.float64), W0.numpy(), W.detach().numpy())


def _sgd_code() -> tuple[str, ...]:
    """The code a run depends on, as it is now: this module without the baseline, and :data:`_MODEL_CODE`."""
    names = sorted(name for name in vars(sys.modules[__name__]) if not name.startswith("__") and name not in _BASELINE)
    return (*(f"{__name__}:{name}" for name in names), *_MODEL_CODE)


def cached_train(N: int, d: int, *, prompts: int, steps: int, batch: int, eta: float, init_scale: float,
                 seed: int, per_decade: int = 4) -> TrainingRun:
    """:func:`train` through :mod:`model.cache` (memory, then disk), keyed by the settings and the code."""
    settings = _check_settings(N, d, prompts, steps, batch, eta, init_scale, seed, per_decade)
    key: dict[str, object] = dict(zip(
        ("kind", "N", "d", "prompts", "steps", "batch", "eta", "init_scale", "seed", "per_decade"),
        ("sgd", *settings), strict=True))
    key["torch"] = torch.__version__  # the run depends on torch's random streams and kernels
    return cache.cached(key, lambda: train(N, d, prompts=prompts, steps=steps, batch=batch, eta=eta,
                                           init_scale=init_scale, seed=seed, per_decade=per_decade),
                        TrainingRun, _sgd_code())


def _check_beta(beta: float) -> float:
    beta = check_real(beta, "beta")
    if beta < 0:
        raise InvalidParameter(f"the smoother's beta must be >= 0, got {beta!r}")
    return beta


def smoother_predict(prompt: Prompt, beta: float) -> torch.Tensor:
    """The softmax kernel smoother sum_j softmax_j(beta <x_j, x_q>) y_j (module docstring), float64, (B,)."""
    beta = _check_beta(beta)
    tau = nearest.inner_products(check_prompt(prompt))  # (B, N) float64
    weights = torch.softmax(beta * tau, dim=1)  # (B, N), max-subtracted inside softmax
    return (weights * prompt.y.to(torch.float64)).sum(dim=1)  # (B,)


@dataclass(frozen=True)
class Tuning:
    """The smoother's tuned bandwidth, and the validation MSE against y* at every beta of the grid."""

    beta: float
    betas: tuple[float, ...]
    mse: tuple[float, ...]


def tune_bandwidth(validation: Prompt, betas: Sequence[float] = BETA_GRID) -> Tuning:
    """The beta of ``betas`` with the smallest MSE against the 1-NN label y* on ``validation`` (first on ties)."""
    if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence):
        raise InvalidParameter(f"betas must be a sequence of bandwidths >= 0, got {betas!r:.80}")
    grid = tuple(_check_beta(beta) for beta in betas)
    if not grid:
        raise InvalidParameter("the bandwidth grid must hold at least one beta")
    targets = nearest.nearest(check_prompt(validation, "validation")).label  # (B,)
    mse = tuple(float(((smoother_predict(validation, beta) - targets) ** 2).mean()) for beta in grid)
    best = min(range(len(grid)), key=lambda k: (mse[k], k))
    return Tuning(grid[best], grid, mse)
