"""Claim E1, [LCG24] §5's training run, at a scale that fits CI (E2 and E3: :mod:`properties.multiclass_experiments`).

References (THEORY.md IDs): E1 (full W from random initialisation, SGD on a finite set of prompts, the
separated test law); S2-S5 (model, target, training law, loss); the separated law of [LCG24] App. B
(:mod:`model.shift`). The runs come from :mod:`model.training` (cached on disk); the test errors are
computed here at every run, against the 1-NN label of :func:`model.shift.target_labels`.

Scale. [LCG24]'s sizes as THEORY.md gives them (secondary source, unverified): 10,000 prompts, 2,000
epochs. Here: the same 10,000 prompts, batch 128 and 3,000 steps (38.4 epochs: 52 times fewer passes),
with eta = 5, 100 times [AW26] §5's 0.05 ([LCG24]'s step size is not in the digest), from iid N(0, 0.1^2)
entries of W (the scale of the random initialisation is not in the digest either).

Statistics, stated once. The test errors (y_hat - y*)^2 lie in [0, (2B)^2] = [0, 36] (|y_hat| <= B: it
is a convex combination of labels and the query's 0). Each mean is bounded on each side by the
Chernoff-Hoeffding inequality in its relative-entropy form (Hoeffding 1963, Thm 1: for [0, 1] variables,
P(mean_n <= mu - t) <= exp(-n kl(mu - t || mu)), and symmetrically), inverted exactly: the upper bound is
the largest p with kl(mean / 36 || p) <= log(1 / alpha) / n. Near a mean of 0 it is about
36 log(1 / alpha) / n, less than half of the 7/3 36 log(2 / alpha) / (n - 1) range term of the
empirical-Bernstein bound (Maurer-Pontil), which is what decides here. Per (N, d): upper and lower bounds
on the trained model's, the initial model's, the smoother's and the zero predictor's MSE, eight in all;
with a union bound over all of them every statement holds together with probability >= 1 - FAMILY_ALPHA
= 1 - 1e-4. The training loss is an exact average over the finite training set: no statistics. So a
``holds`` and a ``refuted`` verdict are each wrong with probability at most 1e-4; the seeds are literals,
so the verdict is the same at every run. The probability is over the test samples, for the W these seeded
runs produced: one run per (N, d), not an average over training seeds.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

import model.attention as attention
import model.laws as laws
import model.nearest as nearest
import model.shift as shift
import model.training as training
from model.errors import InvalidParameter, NonFiniteValue
from model.prompt import Prompt
from properties.registry import Inconclusive, attach, check, claim

SECTION = "Experiments"


class BaselineDefect(RuntimeError):
    """E1's kernel-smoother baseline is wrong (its bandwidth is not its grid's minimiser): a bug in the suite, so
    the claim ends in ``error``, never in a verdict about the paper."""


#: The (N, d) trained: [AW26] §5's default (16, 8), a smaller (8, 4) and a longer prompt (32, 8).
CONFIGS: tuple[tuple[int, int], ...] = ((16, 8), (8, 4), (32, 8))
#: The SGD settings (module docstring): prompts, batch, steps, eta, the N(0, s^2) scale of W^0.
PROMPTS, BATCH, STEPS, ETA, INIT_SCALE = 10_000, 128, 3_000, 5.0, 0.1
#: [LCG24]'s sizes from THEORY.md (secondary source) and [AW26] §5's step size, for the scale factors.
PAPER_PROMPTS, PAPER_EPOCHS, AW26_ETA = 10_000, 2_000, 0.05
#: Seeds: configuration k trains with TRAIN_SEED + k, tests on TEST_SEED + k, tunes on VALIDATION_SEED + k.
TRAIN_SEED, TEST_SEED, VALIDATION_SEED = 20261127, 20261227, 20261327
#: Separated test prompts a configuration, and training-law prompts the smoother is tuned on.
TEST_SAMPLES, VALIDATION_SAMPLES = 20_000, 4_000
#: [LCG24] App. B's separated law: delta* = 0.5, labels N(0, 1) truncated at B = 3 (as claim C10).
SEPARATION, LABEL_BOUND = 0.5, 3.0
#: The pre-registered criterion (E1's docstring): the training loss falls by LOSS_FACTOR at least; the
#: trained model's test MSE is at most MSE_FACTOR times the 1-NN label's variance.
LOSS_FACTOR, MSE_FACTOR = 4.0, 0.05
#: The family-wise probability that a ``holds`` or ``refuted`` verdict is wrong (module docstring).
FAMILY_ALPHA = 1e-4
#: Bounds in the union per configuration: trained, initial, smoother, zero predictor, each from both sides.
BOUNDS_PER_CONFIG = 8
#: Agreement required between the smoother's validation MSEs and their recomputation here: both are float64
#: sums of the same n terms in another order, so they differ by about n eps ~ 1e-12 relative; the MSEs of
#: neighbouring grid points differ by 2% or more (measured), so this tolerance cannot hide a wrong bandwidth.
RECOMPUTE_RTOL = 1e-9


def label_variance(bound: float) -> float:
    """Var y* on the separated law: N(0, 1) truncated to [-B, B], 1 - 2 B phi(B) / (2 Phi(B) - 1), exactly."""
    density = math.exp(-bound * bound / 2) / math.sqrt(2 * math.pi)
    return 1 - 2 * bound * density / math.erf(bound / math.sqrt(2))


def _kl(p: float, q: float) -> float:
    """kl(p || q) between Bernoulli laws, p, q in [0, 1] (0 log 0 = 0; inf where q is 0 or 1 and p is not)."""
    total = 0.0
    for a, b in ((p, q), (1 - p, 1 - q)):
        if a > 0:
            total += math.inf if b <= 0 else a * math.log(a / b)
    return total


def chernoff_bounds(values: NDArray[np.float64], scale: float, alpha: float) -> tuple[float, float]:
    """(lower, upper) confidence bounds on the mean of iid values in [0, scale], each one-sided at level alpha.

    Hoeffding's relative-entropy inequality inverted (module docstring); bisection to 1e-15 of ``scale``,
    each end rounded outwards.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise InvalidParameter(f"values must be a nonempty 1-d array, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise NonFiniteValue("values contain NaN or inf")
    if not (scale > 0 and math.isfinite(scale)) or not 0 < alpha < 1:
        raise InvalidParameter(f"need scale > 0 and alpha in (0, 1), got scale {scale!r}, alpha {alpha!r}")
    if float(values.min()) < 0 or float(values.max()) > scale:
        raise InvalidParameter(f"values must lie in [0, {scale:g}], got [{values.min():.6g}, {values.max():.6g}]")
    mean, budget = float(values.mean()) / scale, math.log(1 / alpha) / values.size
    ends = []
    for far in (0.0, 1.0):
        near, out = mean, far  # kl(mean || p) <= budget at p = near, and at far only if far is inside
        if _kl(mean, far) <= budget:
            ends.append(far)
            continue
        while abs(out - near) > 1e-15:
            middle = (near + out) / 2
            near, out = (middle, out) if _kl(mean, middle) <= budget else (near, middle)
        ends.append(out)  # the outer end: rounded away from the mean
    return ends[0] * scale, ends[1] * scale


@functools.lru_cache(maxsize=8)
def _samples(k: int) -> tuple[Prompt, Prompt]:
    """(separated test prompts, training-law validation prompts) of configuration k (only the sampling is kept:
    a claim re-run under a planted fault reuses them, never what is computed from them)."""
    N, d = CONFIGS[k]
    test = shift.sample_law("separated", TEST_SAMPLES, N, d, generator=torch.Generator().manual_seed(TEST_SEED + k),
                            delta=SEPARATION, bound=LABEL_BOUND)
    validation = laws.sample_training_prompts(VALIDATION_SAMPLES, N, d,
                                              generator=torch.Generator().manual_seed(VALIDATION_SEED + k))
    return test, validation


def run(k: int) -> training.TrainingRun:
    """The SGD run of configuration k (cached on disk by :func:`model.training.cached_train`)."""
    N, d = CONFIGS[k]
    return training.cached_train(N, d, prompts=PROMPTS, steps=STEPS, batch=BATCH, eta=ETA, init_scale=INIT_SCALE,
                                 seed=TRAIN_SEED + k)


def _smoother_mse_again(prompt: Prompt, target: torch.Tensor, beta: float) -> float:
    """The smoother's MSE against y* (``target``, (B,)), written out again here (not model.training's code)."""
    tau = torch.einsum("bnd,bd->bn", prompt.x, prompt.xq)  # (B, N)
    scores = beta * tau
    e = torch.exp(scores - scores.amax(dim=1, keepdim=True))  # (B, N)
    y_hat = (e * prompt.y).sum(dim=1) / e.sum(dim=1)  # (B,)
    return float(((y_hat - target) ** 2).mean())


def _tuning_defect(validation: Prompt) -> tuple[float, training.Tuning]:
    """(largest relative defect, the tuning): MSEs against their recomputation, and the tuned beta's MSE against
    the grid's smallest; 0 when the tuning is right."""
    tuning = training.tune_bandwidth(validation)
    target = nearest.nearest(validation).label  # (B,) y*
    again = [_smoother_mse_again(validation, target, beta) for beta in training.BETA_GRID]
    defect = max(abs(a - b) / b for a, b in zip(tuning.mse, again, strict=True)) if len(tuning.mse) == len(again) \
        else math.inf
    chosen = again[training.BETA_GRID.index(tuning.beta)] if tuning.beta in training.BETA_GRID else math.inf
    best = min(again)
    excess = 0.0 if chosen == best else (chosen - best) / best if best > 0 else math.inf
    return max(defect, excess), tuning


def _interval(values: NDArray[np.float64], alpha: float) -> list[float]:
    """[mean, lower, upper] of an MSE whose terms lie in [0, (2B)^2], B = LABEL_BOUND."""
    return [float(values.mean()), *chernoff_bounds(values, (2 * LABEL_BOUND) ** 2, alpha)]


@claim("E1", section=SECTION)
def training_experiment() -> None:
    """SGD on the full W from random initialisation learns the 1-NN rule: its test MSE on the separated law is small.
    [LCG24] §5 (experiments: training loss, separated test MSE), claim E1

    Pre-registered criterion, for every (N, d) of CONFIGS (module docstring for the settings and their scale
    against the paper's): (a) the training loss on the whole training set falls at least LOSS_FACTOR = 4-fold
    from step 0 to the last step; on the separated law (20,000 prompts), (b) the upper bound on the trained
    model's MSE against y* is at most MSE_FACTOR = 0.05 times Var y* (the exact variance of the truncated
    normal, 0.9733; the 1-NN rule's own MSE is 0), and (c) below the lower bound on the MSE of the model at
    initialisation. Holds when all of them hold; refuted when the data show one fails ((a) false, or a lower
    bound beyond (b)'s or (c)'s threshold); otherwise inconclusive. The kernel smoother's bandwidth must be the
    grid's minimiser of its validation MSE recomputed here: if not, the baseline is wrong and the claim
    ends in an error (BaselineDefect), not a verdict. False-alarm
    rate 1e-4 (module docstring). Reported beside them, not judged: the zero predictor's MSE (the sample's
    E[y*^2]) and the tuned softmax kernel smoother's (bandwidth from BETA_GRID by the MSE against y* on 4,000
    training-law prompts): how close the trained model comes to a 1-NN-like rule. Against the 1-NN target the
    smoother's validation MSE falls with beta (about 3/beta at the top), so the tuning picks the grid's top,
    1024: the smoother is the 1-NN rule up to e^{-256} weights on the separated law. Also reported, as point
    estimates on those 4,000 training-law prompts: the trained model's and the smoother's MSE there.
    """
    with training.one_thread():  # small tensors: one thread is faster, and the claim costs one core
        _training_experiment()


def _evaluate(k: int, alpha: float) -> tuple[dict[str, Any], float]:
    """(the table row of configuration k, the smoother's tuning defect): the run's loss, and [mean, lower, upper]
    of each model's MSE against y* on the separated test prompts."""
    sgd = run(k)
    test, validation = _samples(k)
    target = shift.target_labels(test)  # (n,) y*
    defect, tuning = _tuning_defect(validation)
    errors = {
        "trained": (attention.predict(test, sgd.final()).y_hat - target) ** 2,  # (n,)
        "init": (attention.predict(test, sgd.initial()).y_hat - target) ** 2,  # (n,)
        "smoother": (training.smoother_predict(test, tuning.beta) - target) ** 2,  # (n,)
        "zero predictor": target**2,  # (n,)
    }
    mse = {key: _interval(value.numpy().astype(np.float64), alpha) for key, value in errors.items()}
    on_training_law = attention.predict(validation, sgd.final()).y_hat - nearest.nearest(validation).label  # (m,)
    row = {"train_loss": [float(sgd.loss[0]), float(sgd.loss[-1])], "loss_fall": float(sgd.loss[0] / sgd.loss[-1]),
           "test_mse_mean_lower_upper": mse, "tuned_beta": tuning.beta, "epochs": sgd.epochs,
           "training_law_mse": {"trained": float((on_training_law**2).mean()),
                                "smoother": tuning.mse[tuning.betas.index(tuning.beta)]},
           "curve": {"step": sgd.checkpoints.tolist(), "loss": sgd.loss.tolist()}}
    return row, defect


def _judge(row: dict[str, Any], threshold: float) -> tuple[dict[str, float], bool]:
    """(relative slack of each criterion, whether the data refute one): E1's docstring."""
    start, end = row["train_loss"]
    trained, init = row["test_mse_mean_lower_upper"]["trained"], row["test_mse_mean_lower_upper"]["init"]
    slacks = {"loss fall": 1 - end * LOSS_FACTOR / start, "MSE vs variance": 1 - trained[2] / threshold,
              "MSE vs init": 1 - trained[2] / init[1]}
    return slacks, end * LOSS_FACTOR > start or trained[1] > threshold or trained[1] >= init[2]


def _words(name: str, row: dict[str, Any]) -> str:
    mse = row["test_mse_mean_lower_upper"]
    return (f"{name}: training loss {row['train_loss'][0]:.3g} -> {row['train_loss'][1]:.3g}, test MSE trained "
            f"{mse['trained'][0]:.2g} (upper {mse['trained'][2]:.2g}), init {mse['init'][0]:.3g} (lower "
            f"{mse['init'][1]:.3g}), smoother {mse['smoother'][0]:.2g} (beta {row['tuned_beta']:g}); on the training "
            f"law trained {row['training_law_mse']['trained']:.3g}, smoother {row['training_law_mse']['smoother']:.3g}")


def _training_experiment() -> None:
    """E1's body (see :func:`training_experiment`)."""
    alpha = FAMILY_ALPHA / (BOUNDS_PER_CONFIG * len(CONFIGS))
    variance = label_variance(LABEL_BOUND)
    threshold = MSE_FACTOR * variance
    table: dict[str, dict[str, Any]] = {}
    slack, slack_at, refuted, defect = math.inf, "", [], 0.0
    for k, (N, d) in enumerate(CONFIGS):
        name = f"(N, d) = ({N}, {d})"
        table[name], defect_k = _evaluate(k, alpha)
        defect = max(defect, defect_k)
        slacks, fails = _judge(table[name], threshold)
        if fails:
            refuted.append(name)
        for criterion, value in slacks.items():
            if value < slack:
                slack, slack_at = value, f"{name}, {criterion}"
    attach("table", {name: {key: v for key, v in row.items() if key != "curve"} for name, row in table.items()})
    attach("statistics", {
        "configs": [list(c) for c in CONFIGS], "prompts": PROMPTS, "batch": BATCH, "steps": STEPS, "eta": ETA,
        "init": f"iid N(0, {INIT_SCALE}^2) entries", "epochs": STEPS * BATCH / PROMPTS,
        "scale": {"epochs_fewer_than_paper": PAPER_EPOCHS * PROMPTS / (STEPS * BATCH),
                  "prompts_vs_paper": PROMPTS / PAPER_PROMPTS, "eta_over_aw26": ETA / AW26_ETA},
        "seeds": {"train": TRAIN_SEED, "test": TEST_SEED, "validation": VALIDATION_SEED, "per_config": "+ k"},
        "test_samples": TEST_SAMPLES, "validation_samples": VALIDATION_SAMPLES, "label_variance": variance,
        "threshold": threshold, "family_alpha": FAMILY_ALPHA, "bounds_in_union": BOUNDS_PER_CONFIG * len(CONFIGS),
        "alpha_each": alpha, "beta_grid": list(training.BETA_GRID), "tuning_defect": defect})
    attach("plot", {"kind": "training", "title": "E1: SGD on the full W from random initialisation ([LCG24] Fig. 3 "
                    "style)", "curves": {name: row["curve"] for name, row in table.items()},
                    "test": {name: row["test_mse_mean_lower_upper"] for name, row in table.items()},
                    "threshold": threshold})
    words = (f"Var y* = {variance:.4g}, threshold {threshold:.4g}; "
             + "; ".join(_words(name, row) for name, row in table.items())
             + f"; smallest relative slack {slack:.3g} ({slack_at}); smoother tuning defect {defect:.2g}")
    if defect > RECOMPUTE_RTOL:  # a bug in our baseline, not a finding about the paper: the verdict is "error"
        raise BaselineDefect(f"the smoother's bandwidth is not the minimiser of its validation MSE recomputed "
                             f"here (defect {defect:.3g} > {RECOMPUTE_RTOL:g}): {words}")
    if not refuted and slack < 0:
        raise Inconclusive(f"the bounds are too wide to decide: {words}")
    check(not refuted, margin=slack,
          message=(f"refuted (criterion fails at {' and '.join(refuted)}): " if refuted else "") + words)
