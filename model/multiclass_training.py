"""K-class online minibatch SGD from Assumption 2's W^0 plus noise, and the K-class test laws (claims E2, E3).

References (THEORY.md IDs):
  S6   Assumption 2's W^0 = diag(0, ..., 0, -sigma) (:func:`model.multiclass.family_W` (0, sigma)).
  E2   [AW26] Fig. 5: iid N(0, eps^2) noise on the entries of W^0; separated-test argmax accuracy and
       ||W - Pi(W)||_F during training.
  E3   [AW26] §5 / Fig. 6: argmax accuracy on uniform test prompts, and the 1-NN margin of the queries.
  [AW26] §5 protocol: minibatch SGD with analytic gradients; d = 8, N = 16, sigma = 3, eta = 0.05, batch 128.

The K-class training law: x_1, ..., x_N, x_q iid uniform on S^{d-1}, classes iid uniform on {0, ..., K-1};
the target is the 1-NN code u* = u_{c_{i*}}; the loss 1/2 ||l - u*||^2 with l = sum_{j<=N} q_j u_{c_j}
(:func:`model.multiclass.predict`).

The protocol of :func:`train_runs`. A grid of runs, noises (E) x seeds (S), trained together as one
(E, S, D, D) tensor of W's, D = d+K+1. Seed s owns one ``torch.Generator`` seeded by s, which draws, in this
order: Z_s, a (D, D) standard Gaussian; the :data:`MONITOR` prompts the loss is recorded on; then, at every
step, ``batch`` fresh prompts of the training law (online SGD: the stochastic gradient is unbiased for the
population loss L that [AW26]'s theory runs gradient descent on; a fixed training set would add an
overfitting error the paper does not discuss). Run (noise e, seed s) starts from
W^0 = family_W(0, sigma) + eps_e * mask_e * Z_s (mask: every entry, or only the label-slot columns d..d+K-1,
which multiply the query's zero label slot) and sees seed s's prompts: runs of one seed share their
prompts and their Z (common random numbers: the comparison across eps is paired; [AW26]'s initial
distances 1.056, 10.558, 31.673 at eps = 0.1, 1, 3 are exactly proportional to eps, as this gives). So a run
does not depend on which other runs are batched with it (up to rounding; a test checks it). Gaussian
directions are drawn in float32 (torch's float64 normal sampler is seven times slower; the rounding of a
float32 Gaussian, 6e-8 relative, is far below anything measured) and normalised in float64. W, the
loss and the gradient are float64. The gradient is analytic (:func:`batch_gradient`, checked against
autograd by a test); torch runs on one thread (:func:`model.training.one_thread`). At step 0, at the
log-spaced steps of :func:`model.training.checkpoint_steps` and at the last step the run records W and the
loss on its seed's monitor prompts. :func:`cached_runs` keeps the grid in :mod:`model.cache`.

Test laws (:func:`sample_class_law`, float64, prompt i from its own generator as in :mod:`model.laws`, so it
does not depend on the batch size): ``uniform`` is the training law; ``separated`` is
:func:`model.shift.sample_law`'s separated law with classes: x_q = x_i for a uniform i, and every other x_j
with ||x_j - x_q||^2 <= delta* replaced by -x_j. :func:`class_margin` is the A_delta margin of C9b with
classes for labels (:func:`model.nearest.margin`): 2 (tau* - the largest tau_j of another class).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from numpy.typing import NDArray

import model.cache as cache
import model.laws as laws
import model.multiclass as multiclass
import model.nearest as nearest
import model.training as training
from model.errors import InvalidParameter, InvalidShape, NonFiniteValue
from model.prompt import Prompt, as_float_tensor, bounded, check_finite, check_real, check_size

__all__ = [
    "LAWS",
    "MONITOR",
    "Batch",
    "ClassRuns",
    "Noise",
    "batch_gradient",
    "batch_loss",
    "cached_runs",
    "class_margin",
    "draw_prompts",
    "initial_weights",
    "sample_class_law",
    "sgd_step",
    "train_runs",
]

#: Training-law prompts a seed records its runs' loss on.
MONITOR = 512
#: The test laws :func:`sample_class_law` knows.
LAWS = ("uniform", "separated")
#: Names the runs do not depend on (the test laws, the margin): left out of the runs' cache fingerprint, so a
#: fault planted there reuses the cached runs (a tuple: a frozenset's repr would depend on the hash seed).
_EVALUATION = ("LAWS", "class_margin", "sample_class_law")
#: The other code a run executes: single functions of model.multiclass (a fault planted in its prediction or
#: argmax reaches the claims' evaluation, not the runs), and whole modules.
_MODEL_CODE = ("model.multiclass:simplex_codes", "model.multiclass:simplex_codes_exact",
               "model.multiclass:family_W", "model.multiclass:_check_classes", "model.training:checkpoint_steps",
               "model.prompt", "model.errors", "model.cache")


class Noise(NamedTuple):
    """The noise of one row of the grid: iid N(0, eps^2) on every entry of W^0, or on its label-slot columns only."""

    eps: float
    label_columns_only: bool = False


@dataclass(frozen=True)
class ClassRuns:
    """A grid of K-class SGD runs (noises x seeds): settings, W and the monitor loss at log-spaced steps."""

    N: int
    d: int
    K: int
    steps: int
    batch: int
    eta: float
    sigma: float
    eps: NDArray[np.float64]  # (E,) the noise scale of each row
    label_columns_only: NDArray[np.bool_]  # (E,) where the noise goes
    seeds: NDArray[np.int64]  # (S,)
    checkpoints: NDArray[np.int64]  # (C,) 0 first, ``steps`` last
    loss: NDArray[np.float64]  # (E, S, C) mean 1/2 ||l - u*||^2 on the seed's MONITOR prompts
    W: NDArray[np.float64]  # (E, S, C, D, D) W at the checkpoints

    def weight(self, e: int, s: int, c: int = -1) -> torch.Tensor:
        """W of run (e, s) at checkpoint c (the last by default), (D, D) float64."""
        return torch.from_numpy(np.array(self.W[e, s, c], dtype=np.float64))


def _check_noises(noises: Sequence[Noise]) -> tuple[Noise, ...]:
    if isinstance(noises, (str, bytes)) or not isinstance(noises, Sequence):
        raise InvalidParameter(f"noises must be a sequence of Noise values, got {noises!r:.80}")
    checked = []
    for noise in noises:
        if not isinstance(noise, Noise):
            raise InvalidParameter(f"noises must be model.multiclass_training.Noise values, got {noise!r}")
        eps = check_real(noise.eps, "eps")
        if eps < 0:
            raise InvalidParameter(f"the noise scale eps must be >= 0, got {eps!r}")
        checked.append(Noise(eps, bool(noise.label_columns_only)))
    if not checked:
        raise InvalidParameter("the grid needs at least one noise")
    return tuple(checked)


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise InvalidParameter(f"seeds must be a sequence of distinct integers >= 0, got {seeds!r:.80}")
    checked = tuple(check_size(seed, "seed", 0) for seed in seeds)
    if not checked or len(set(checked)) != len(checked):
        raise InvalidParameter(f"seeds must be a nonempty sequence of distinct integers >= 0, got {seeds!r}")
    return checked


def initial_weights(noises: Sequence[Noise], Z: torch.Tensor, d: int, K: int, sigma: float) -> torch.Tensor:
    """W^0 of the grid, (E, S, D, D): family_W(0, sigma) + eps_e mask_e Z_s for the (S, D, D) Gaussians Z."""
    noises = _check_noises(noises)
    sigma = check_real(sigma, "sigma")
    base = multiclass.family_W(0.0, sigma, d, K)  # (D, D)
    D = base.shape[0]
    Z = as_float_tensor(Z, "Z")
    check_finite(Z, "Z")
    if Z.ndim != 3 or tuple(Z.shape[1:]) != (D, D):
        raise InvalidParameter(f"Z must have shape (S, {D}, {D}), got {tuple(Z.shape)}")
    mask = torch.ones(len(noises), D, D, dtype=torch.float64)  # (E, D, D)
    for e, noise in enumerate(noises):
        if noise.label_columns_only:
            mask[e] = 0.0
            mask[e, :, d:d + K] = 1.0
    scale = torch.tensor([noise.eps for noise in noises], dtype=torch.float64)[:, None, None]  # (E, 1, 1)
    return base + (scale * mask)[:, None] * Z[None]  # (E, S, D, D)


class Batch(NamedTuple):
    """Prompts of every seed as the SGD step reads them (H^T and H of :func:`model.multiclass.embed`)."""

    tokens: torch.Tensor  # (S, B, N+1, D) row j < N [x_j; u_{c_j}; 0], the last row the query [x_q; 0_K; 1]
    columns: torch.Tensor  # (S, B, D, N+1) the same, transposed (contiguous: H itself)
    queries: torch.Tensor  # (S, B, D) h_q (contiguous)
    target: torch.Tensor  # (S, B, K) u*, the code of the nearest example


def draw_prompts(generators: Sequence[torch.Generator], count: int, N: int, d: int, K: int) -> Batch:
    """``count`` fresh training-law prompts per generator (ties of the nearest example have probability 0).

    Each generator draws count (N+1) d float32 Gaussians, then count N classes (module docstring).
    """
    if isinstance(generators, (str, bytes)) or not isinstance(generators, Sequence) or not generators or not all(
            isinstance(g, torch.Generator) for g in generators):
        raise InvalidParameter("generators must be a nonempty sequence of seeded torch.Generator, "
                               f"got {generators!r:.80}")
    count, N, d = check_size(count, "count", 1), check_size(N, "N", 1), check_size(d, "d", 2)
    K = check_size(K, "K", 2)
    S, D = len(generators), d + K + 1
    codes = multiclass.simplex_codes(K)  # (K, K)
    gaussians = torch.empty(S, count, N + 1, d, dtype=torch.float32)  # (S, P, N+1, d)
    classes = torch.empty(S, count, N, dtype=torch.int64)  # (S, P, N)
    for s, generator in enumerate(generators):
        torch.randn(count, N + 1, d, generator=generator, out=gaussians[s])
        torch.randint(0, K, (count, N), generator=generator, out=classes[s])
    tokens = torch.empty(S, count, N + 1, D, dtype=torch.float64)  # (S, P, N+1, D)
    x = tokens[..., :d]  # (S, P, N+1, d), a view
    x.copy_(gaussians)
    x.div_(torch.linalg.vector_norm(x, dim=-1, keepdim=True))
    tokens[:, :, :N, d:d + K] = codes[classes]
    tokens[:, :, :N, -1] = 0.0
    tokens[:, :, N, d:] = 0.0
    tokens[:, :, N, -1] = 1.0
    tau = torch.matmul(x[:, :, :N], x[:, :, N, :, None])[..., 0]  # (S, P, N)
    nearest_class = torch.gather(classes, 2, tau.argmax(dim=2, keepdim=True))[..., 0]  # (S, P)
    return Batch(tokens, tokens.transpose(2, 3).contiguous(), tokens[:, :, N].contiguous(), codes[nearest_class])


def _forward(W: torch.Tensor, prompts: Batch, K: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(attention q (S, B, E, N+1), q-weighted tokens sum_j q_j h_j (S, B, E, D)) for the (E, S, D, D) W's.

    The logits l = sum_{j<=N} q_j u_{c_j} are entries d..d+K-1 of sum_j q_j h_j (the query's code is 0).
    """
    E, S, D, _ = W.shape
    w_hq = torch.matmul(prompts.queries, W.permute(1, 3, 0, 2).reshape(S, D, E * D))  # (S, B, E D): W_e h_q
    scores = torch.matmul(w_hq.unflatten(-1, (E, D)), prompts.columns)  # (S, B, E, N+1): h_j^T W_e h_q
    e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    q = e / e.sum(dim=-1, keepdim=True)  # (S, B, E, N+1), softmax over the keys
    return q, torch.matmul(q, prompts.tokens)  # (S, B, E, D)


def _check_batch(W: torch.Tensor, prompts: Batch) -> torch.Tensor:
    if not isinstance(prompts, Batch):
        raise InvalidParameter(f"prompts must be a model.multiclass_training.Batch, got {type(prompts).__name__}")
    W = as_float_tensor(W, "W")
    D = prompts.tokens.shape[-1] if prompts.tokens.ndim else -1
    if W.ndim != 4 or W.shape[-2:] != (D, D) or W.shape[1] != prompts.tokens.shape[0]:
        raise InvalidShape(f"W must have shape (E, S, {D}, {D}) with S = {prompts.tokens.shape[0]}, "
                           f"got {tuple(W.shape)}")
    check_finite(W, "W")
    return W


def batch_loss(W: torch.Tensor, prompts: Batch) -> torch.Tensor:
    """Mean over the prompts of 1/2 ||l - u*||^2 per run, (E, S); differentiable in W."""
    W = _check_batch(W, prompts)
    K = prompts.target.shape[-1]
    D = W.shape[-1]
    _, mixed = _forward(W, prompts, K)
    logits = mixed[..., D - K - 1:D - 1]  # (S, B, E, K)
    return 0.5 * ((logits - prompts.target[:, :, None, :]) ** 2).sum(dim=-1).mean(dim=1).T


def batch_gradient(W: torch.Tensor, prompts: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(:func:`batch_loss`, its gradient in W analytically, (E, S, D, D)).

    With r = l - u* and s_j = h_j^T W h_q, dl/ds_j = q_j (u_{c_j} - l) (the query's code is 0), so the
    gradient of 1/2 ||r||^2 is sum_j q_j <u_{c_j} - l, r> h_j h_q^T.
    """
    W = _check_batch(W, prompts)
    E, S, D, _ = W.shape
    B, K = prompts.tokens.shape[1], prompts.target.shape[-1]
    q, mixed = _forward(W, prompts, K)
    logits = mixed[..., D - K - 1:D - 1]  # (S, B, E, K)
    r = logits - prompts.target[:, :, None, :]  # (S, B, E, K)
    padded = torch.zeros_like(mixed)  # (S, B, E, D): r in the label rows, so that <h_j, padded> = <u_{c_j}, r>
    padded[..., D - K - 1:D - 1] = r
    pull = torch.matmul(padded, prompts.columns) - (logits * r).sum(dim=-1, keepdim=True)  # (S, B, E, N+1)
    keys = torch.matmul(q * pull, prompts.tokens)  # (S, B, E, D): sum_j q_j <u_{c_j} - l, r> h_j
    gradient = torch.matmul(keys.view(S, B, E * D).transpose(1, 2), prompts.queries)  # (S, E D, D)
    return 0.5 * (r**2).sum(dim=-1).mean(dim=1).T, gradient.view(S, E, D, D).transpose(0, 1) / B


def sgd_step(W: torch.Tensor, gradient: torch.Tensor, eta: float) -> torch.Tensor:
    """One SGD step W - eta * gradient, every run at once."""
    W, gradient, eta = training.check_step(W, gradient, eta)
    return W - eta * gradient


def _check_settings(N: int, d: int, K: int, steps: int, batch: int, eta: float, sigma: float,
                    per_decade: int) -> tuple[int, int, int, int, int, float, float, int]:
    N, d, K = check_size(N, "N", 1), check_size(d, "d", 2), check_size(K, "K", 2)
    steps, batch = check_size(steps, "steps", 1), check_size(batch, "batch", 1)
    eta, sigma = check_real(eta, "eta"), check_real(sigma, "sigma")
    if eta <= 0:
        raise InvalidParameter(f"eta must be > 0, got {eta!r}")
    return N, d, K, steps, batch, eta, sigma, check_size(per_decade, "per_decade", 1)


def train_runs(N: int, d: int, K: int, *, noises: Sequence[Noise], seeds: Sequence[int], steps: int, batch: int,
               eta: float, sigma: float, per_decade: int = 4) -> ClassRuns:
    """Online minibatch SGD of the grid ``noises`` x ``seeds`` (module docstring); :class:`NonFiniteValue` if W
    stops being finite."""
    N, d, K, steps, batch, eta, sigma, per_decade = _check_settings(N, d, K, steps, batch, eta, sigma, per_decade)
    noises, seeds = _check_noises(noises), _check_seeds(seeds)
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]
    checkpoints = training.checkpoint_steps(steps, per_decade)
    with training.one_thread():
        D = d + K + 1
        Z = torch.stack([torch.randn(D, D, generator=g, dtype=torch.float64) for g in generators])  # (S, D, D)
        W = initial_weights(noises, Z, d, K, sigma)  # (E, S, D, D)
        monitor = draw_prompts(generators, MONITOR, N, d, K)
        recorded_W, recorded_loss, recording = [], [], set(checkpoints.tolist())
        for t in range(steps + 1):
            if t in recording:
                if not bool(torch.isfinite(W).all()):
                    raise NonFiniteValue(f"W is not finite at step {t} (eta = {eta} too large?)")
                recorded_W.append(W.clone())
                recorded_loss.append(batch_loss(W, monitor))  # (E, S)
            if t == steps:
                break
            _, gradient = batch_gradient(W, draw_prompts(generators, batch, N, d, K))
            W = sgd_step(W, gradient, eta)
    return ClassRuns(N, d, K, steps, batch, eta, sigma, np.array([n.eps for n in noises], dtype=np.float64),
                     np.array([n.label_columns_only for n in noises], dtype=np.bool_), np.array(seeds, dtype=np.int64),
                     checkpoints, torch.stack(recorded_loss, dim=-1).numpy(), torch.stack(recorded_W, dim=2).numpy())


def _run_code() -> tuple[str, ...]:
    """The code a run depends on, as it is now: this module without :data:`_EVALUATION`, and :data:`_MODEL_CODE`."""
    names = sorted(name for name in vars(sys.modules[__name__])
                   if not name.startswith("__") and name not in _EVALUATION)
    return (*(f"{__name__}:{name}" for name in names), *_MODEL_CODE)


def cached_runs(N: int, d: int, K: int, *, noises: Sequence[Noise], seeds: Sequence[int], steps: int, batch: int,
                eta: float, sigma: float, per_decade: int = 4) -> ClassRuns:
    """:func:`train_runs` through :mod:`model.cache` (memory, then disk), keyed by the settings and the code."""
    settings = _check_settings(N, d, K, steps, batch, eta, sigma, per_decade)
    noises, seeds = _check_noises(noises), _check_seeds(seeds)
    key: dict[str, object] = dict(zip(("kind", "N", "d", "K", "steps", "batch", "eta", "sigma", "per_decade"),
                                      ("multiclass-sgd", *settings), strict=True))
    key.update(noises=[list(noise) for noise in noises], seeds=list(seeds), monitor=MONITOR, torch=torch.__version__)
    return cache.cached(key, lambda: train_runs(N, d, K, noises=noises, seeds=seeds, steps=steps, batch=batch,
                                                eta=eta, sigma=sigma, per_decade=per_decade), ClassRuns, _run_code())


def sample_class_law(law: str, batch: int, N: int, d: int, K: int, *, generator: torch.Generator,
                     delta: float = 0.5) -> multiclass.ClassPrompt:
    """``batch`` K-class prompts of test law ``law`` (module docstring), float64; prompt i does not depend on
    ``batch``. ``delta`` is the separated law's delta*, in (0, 2]."""
    if law not in LAWS:
        raise InvalidParameter(f"unknown K-class test law {law!r}; known: {', '.join(LAWS)}")
    batch, N, d, K = check_size(batch, "batch", 1), check_size(N, "N", 1), check_size(d, "d", 2), check_size(K, "K", 2)
    delta = check_real(delta, "delta")
    if not 0 < delta <= 2:
        raise InvalidParameter(f"the separated law needs delta* in (0, 2], got {delta!r}")
    base = int(torch.randint(0, 2**62, (1,), generator=laws._check_generator(generator)))
    points, classes, queries = [], [], []
    for index in range(batch):
        own = laws.prompt_generator(base, index)
        x = laws.uniform_sphere((N + 1,), d, generator=own)  # (N+1, d)
        classes.append(torch.randint(0, K, (N,), generator=own))  # (N,)
        if law == "separated":
            pick = int(torch.randint(0, N, (1,), generator=own))
            xq = x[pick].clone()  # (d,)
            close = ((x[:N] - xq) ** 2).sum(dim=-1) <= delta  # (N,)
            close[pick] = False
            x = torch.cat([torch.where(close[:, None], -x[:N], x[:N]), xq[None]])  # (N+1, d)
        points.append(x[:N])
        queries.append(x[N])
    return multiclass.ClassPrompt(torch.stack(points), torch.stack(classes), torch.stack(queries), K)


def class_margin(prompt: multiclass.ClassPrompt) -> torch.Tensor:
    """The K-class A_delta margin (module docstring), (B,) float64: +inf when every example has the 1-NN class,
    0 at a tie between classes."""
    if not isinstance(prompt, multiclass.ClassPrompt):
        raise InvalidParameter(f"prompt must be a model.multiclass.ClassPrompt, got {type(prompt).__name__}")
    geometry = prompt.geometry
    labelled = Prompt(geometry.x, prompt.classes.to(geometry.dtype), geometry.xq, bounded(float(prompt.K)))
    return nearest.margin(labelled)
