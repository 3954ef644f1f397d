"""Claims about the papers' experiments at a scale that fits CI: E1, [LCG24] §5's training run; E2 and E3, [AW26] §5's
multiclass runs (noise on W^0; uniform test data).

References (THEORY.md IDs): E1 (full W from random initialisation, SGD on a finite set of prompts, the
separated test law); S2-S5 (model, target, training law, loss); the separated law of [LCG24] App. B
(:mod:`model.shift`). The runs come from :mod:`model.training` (cached on disk); the test errors are
computed here at every run, against the 1-NN label of :func:`model.shift.target_labels`. E2 and E3: [AW26] §5
(Figs. 5, 6), THEORY.md "Multiclass"; one grid of K-class SGD runs from :mod:`model.multiclass_training` (cached on
disk), scored here at every run with :func:`model.multiclass.predict` against :func:`model.multiclass.nearest_class`;
their settings and scale are in E2's docstring. Their accuracies and error rates are means of [0, 1] values,
bounded by the same Chernoff inequality with scale 1, with a union bound per claim (E2_BOUNDS, E3_BOUNDS).

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
import model.multiclass as multiclass
import model.multiclass_training as mct
import model.nearest as nearest
import model.shift as shift
import model.training as training
from model.errors import InvalidParameter, InvalidShape, NonFiniteValue
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


# --- E2, E3: [AW26] §5's multiclass experiments ---------------------------------------------------------------------

#: [AW26] §5's settings (THEORY.md; Fig. 5 does not state K, so K = 3 as the issue says).
MC_N, MC_D, MC_K, MC_SIGMA, MC_ETA, MC_BATCH = 16, 8, 3, 3.0, 0.05, 128
#: [AW26]'s training length for Figs. 5 and 6, and the one here (E2's docstring: the scale).
PAPER_MC_STEPS, MC_STEPS = 40_000, 40_000
#: E2's noises: eps on every entry of W^0 (0.1 is the smallest eps [AW26] prints a distance for), and eps = 3 on the
#: label-slot columns only.
NOISE_EPS = (0.0, 0.1, 0.5, 1.0, 2.0, 3.0)
NOISES = (*(mct.Noise(eps) for eps in NOISE_EPS), mct.Noise(3.0, label_columns_only=True))
#: Training seeds (three an eps, as [AW26]); the seeds of the separated and the uniform test samples.
MC_SEEDS, SEPARATED_SEED, UNIFORM_SEED = (20261401, 20261402, 20261403), 20261501, 20261502
#: Test prompts: separated (E2, delta* = MC_SEPARATION) and uniform (E3); the uniform prompts the accuracy curve
#: along training is measured on (the first ones of the uniform sample).
SEPARATED_SAMPLES, UNIFORM_SAMPLES, CURVE_SAMPLES, MC_SEPARATION = 4_000, 8_000, 2_000, 0.5
#: E2's thresholds (its docstring): accuracy "1" is >= PERFECT; "fails" is below FAILED = 2/3, nearer the chance
#: level 1/K = 1/3 than 1.
PERFECT, FAILED = 0.99, 2 / 3
#: E3 (its docstring): far queries' error rate at most 1/CONCENTRATION of the near ones'; at [AW26]'s length, the
#: accuracy within PLATEAU_TOL of the printed plateau.
CONCENTRATION, PLATEAU_TOL = 4.0, 0.03
#: Bounds in each claim's union: E2: every run with eps <= 1 from both sides, the seeds' mean at eps = 2 and 3 from
#: both sides; E3: the accuracy, the error rate of near and of far queries, and the rate of errors at near and at far
#: queries, each from both sides.
E2_BOUNDS, E3_BOUNDS = 2 * 3 * sum(eps <= 1 for eps in NOISE_EPS) + 2 * 2, 2 * 5
#: [AW26]'s printed numbers (THEORY.md E2, E3): separated accuracy (mean, spread over 3 seeds) by eps ("1.000 for
#: eps <= 1"); ||W - Pi(W)||_F at the start and after 4e4 steps; the uniform plateau (square loss, cross-entropy).
PAPER_ACCURACY = {0.0: (1.0, 0.0), 0.1: (1.0, 0.0), 0.5: (1.0, 0.0), 1.0: (1.0, 0.0), 2.0: (0.78, 0.28),
                  3.0: (0.44, 0.07)}
PAPER_DISTANCE = {0.1: (1.056, 0.343), 1.0: (10.558, 3.449), 3.0: (31.673, 25.145)}
PAPER_PLATEAU, PAPER_PLATEAU_CE = 0.908, 0.924
#: W^0's distance to the family is recomputed from Z: two float64 evaluations of one Frobenius norm of 144 terms,
#: a few ulps apart (relative); a missing noise is off by 100%.
INIT_RTOL = 1e-12


class SetupDefect(RuntimeError):
    """E2's runs did not start from the stated W^0 (Assumption 2's plus the noise): a bug in the suite, so the claim
    ends in ``error``, never in a verdict about the paper."""


def mc_runs() -> mct.ClassRuns:
    """E2's and E3's grid of runs, NOISES x MC_SEEDS (cached on disk by :func:`mct.cached_runs`)."""
    return mct.cached_runs(MC_N, MC_D, MC_K, noises=NOISES, seeds=MC_SEEDS, steps=MC_STEPS, batch=MC_BATCH,
                           eta=MC_ETA, sigma=MC_SIGMA)


@functools.lru_cache(maxsize=2)
def _class_samples(law: str) -> multiclass.ClassPrompt:
    """The test prompts of ``law`` (only the sampling is kept, as :func:`_samples`)."""
    seed, count = (SEPARATED_SEED, SEPARATED_SAMPLES) if law == "separated" else (UNIFORM_SEED, UNIFORM_SAMPLES)
    return mct.sample_class_law(law, count, MC_N, MC_D, MC_K, generator=torch.Generator().manual_seed(seed),
                                delta=MC_SEPARATION)


def _predicted(prompt: multiclass.ClassPrompt, W: torch.Tensor) -> torch.Tensor:
    """The model's argmax class of every prompt, (n,); :class:`InvalidShape` if it is not one class a prompt."""
    label = multiclass.predict(prompt, W).label
    if tuple(label.shape) != (prompt.batch,):
        raise InvalidShape(f"the predicted classes must have shape ({prompt.batch},), got {tuple(label.shape)}")
    return label


def _targets(prompt: multiclass.ClassPrompt) -> torch.Tensor:
    """The 1-NN class of every prompt, (n,)."""
    label = multiclass.nearest_class(prompt)[1]
    if tuple(label.shape) != (prompt.batch,):
        raise InvalidShape(f"the 1-NN classes must have shape ({prompt.batch},), got {tuple(label.shape)}")
    return label


def _bounds(values: torch.Tensor | NDArray[np.float64], alpha: float) -> list[float]:
    """[mean, lower, upper] of the mean of values in [0, 1]; [nan, 0, 1] for no values (nothing is known)."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return [math.nan, 0.0, 1.0]
    return [float(array.mean()), *chernoff_bounds(array, 1.0, alpha)]


def _initial_check(runs: mct.ClassRuns | None = None) -> torch.Tensor:
    """W^0 of the grid, (E, S, D, D), after checking it is Assumption 2's W^0 plus the stated noise (and, given the
    runs, that they started there): :class:`SetupDefect` otherwise."""
    D = MC_D + MC_K + 1
    Z = torch.stack([torch.randn(D, D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
                     for seed in MC_SEEDS])  # (S, D, D), the first draw of each seed's generator
    W0 = mct.initial_weights(NOISES, Z, MC_D, MC_K, MC_SIGMA)  # (E, S, D, D)
    for e, noise in enumerate(NOISES):
        for s in range(len(MC_SEEDS)):
            noise_part = Z[s][:, MC_D:MC_D + MC_K] if noise.label_columns_only else Z[s]
            expected = noise.eps * (float(torch.linalg.matrix_norm(noise_part)) if noise.label_columns_only
                                    else multiclass.distance_to_family(noise_part, MC_D, MC_K))
            found = multiclass.distance_to_family(W0[e, s], MC_D, MC_K)
            on_axis = multiclass.family_projection(W0[e, s], MC_D, MC_K)
            defect = abs(found - expected) > INIT_RTOL * max(expected, 1.0)
            if noise.eps == 0 and (found != 0 or on_axis != (0.0, MC_SIGMA)):
                defect = True
            if defect:
                raise SetupDefect(f"W^0 at eps = {noise.eps} (label columns only: {noise.label_columns_only}), seed "
                                  f"{MC_SEEDS[s]} is {found:.6g} from the family, not {expected:.6g}")
    if runs is not None and not np.array_equal(runs.W[:, :, 0], W0.numpy()):
        raise SetupDefect("the runs did not start from the W^0 recomputed here (the seeds' first draw)")
    return W0


def _distances(runs: mct.ClassRuns) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(||W - Pi(W)||_F, the same without the label-slot columns) of every run at every checkpoint, (E, S, C) each."""
    E, S, C = runs.loss.shape
    full, effective = np.empty((E, S, C)), np.empty((E, S, C))
    keep = [i for i in range(MC_D + MC_K + 1) if not MC_D <= i < MC_D + MC_K]  # the columns h_q does not zero
    for e in range(E):
        for s in range(S):
            for c in range(C):
                W = runs.weight(e, s, c)
                xi1, xi2 = multiclass.family_projection(W, MC_D, MC_K)
                off = W - multiclass.family_W(xi1, xi2, MC_D, MC_K)
                full[e, s, c] = multiclass.distance_to_family(W, MC_D, MC_K)
                effective[e, s, c] = float(torch.linalg.matrix_norm(off[:, keep]))
    return full, effective


def _scale_note(steps: int) -> str:
    return (f"{steps:,} SGD steps ({steps / PAPER_MC_STEPS:.3g} of [AW26]'s {PAPER_MC_STEPS:,})"
            if steps < PAPER_MC_STEPS else f"[AW26]'s {PAPER_MC_STEPS:,} SGD steps")


def _verdict(name: str, failed: list[str], undecided: list[str], exact_failed: list[str], slack: float, steps: int,
             words: str) -> None:
    """End a multiclass experiment claim: refuted on an exact failure, or on a failure at the paper's length;
    inconclusive on a failure at a shorter length (longer training could change it) or on undecided bounds."""
    if exact_failed:
        check(False, margin=slack, message=f"refuted ({', '.join(exact_failed)}): {words}")
    if failed and steps < PAPER_MC_STEPS:
        raise Inconclusive(f"at {_scale_note(steps)}, {name} criteria {', '.join(failed)} fail; not judged against "
                           f"the paper at this scale: {words}")
    if not failed and undecided:
        raise Inconclusive(f"the bounds are too wide to decide {', '.join(undecided)}: {words}")
    check(not failed, margin=slack, message=(f"refuted ({', '.join(failed)}): " if failed else "") + words)


@claim("E2", section=SECTION)
def noise_robustness() -> None:
    """Noise on W^0 up to eps = 1 keeps the separated argmax accuracy at 1; eps = 2 degrades it and eps = 3 breaks it.
    [AW26] §5, Fig. 5 (noise robustness, distance to the family), claim E2

    Setting (module constants): K = 3 (Fig. 5 does not state K), d = 8, N = 16, sigma = 3, eta = 0.05, batch 128,
    [AW26] §5's defaults; W^0 = diag(0, ..., 0, -sigma) plus iid N(0, eps^2) on every entry, eps in NOISE_EPS =
    (0, 0.1, 0.5, 1, 2, 3), and a control with eps = 3 on the label-slot columns only; three seeds an eps (the
    paper's count), one Gaussian Z a seed shared by its eps's (model.multiclass_training); online SGD for MC_STEPS =
    40,000 steps, [AW26]'s length (about 1.3 ms a step for the 21 runs at once; at 20,000 steps, half the length,
    eps = 1 reaches 0.993-0.9965 and criterion (a) is undecided). Test: 4,000
    prompts of the separated K-class law (delta* = 0.5, classes iid uniform), accuracy = argmax class equal to the
    1-NN class.

    Pre-registered criterion: (a) every run with eps <= 1 has a lower confidence bound on its accuracy >= PERFECT =
    0.99 ("1.000"); (b) the mean accuracy over the seeds has an upper bound < 0.99 at eps = 2 ("degrades") and
    < FAILED = 2/3 at eps = 3 ("fails": nearer chance 1/3 than 1); (c) ||W - Pi(W)||_F at the last step is below
    its value at step 0 for every run with noise on every entry and eps > 0 ("contracts"; exact, no statistics);
    (d) the label-slot control predicts the same class as the eps = 0 run of its seed on every test prompt
    ("harmless"; exact). Holds when all hold. (d) failing refutes at any length; (a)-(c) failing (their bounds on
    the wrong side of the threshold, or (c) false) refute at [AW26]'s length and make the verdict inconclusive at a
    shorter one, where more training could change them; bounds straddling a threshold are inconclusive. False-alarm
    rate: the E2_BOUNDS = 28 one-sided Chernoff bounds hold together with probability >= 1 - 1e-4 (union bound;
    the probability is over the test prompts, for the W's these seeded runs produced). Reported beside [AW26]'s
    numbers, not judged: the accuracy of every run, the distances at the start and the end (also without the
    label-slot columns, whose entries no gradient moves), the monitor loss. If W^0 is not Assumption 2's plus the
    stated noise, the suite is wrong: the claim ends in an error (SetupDefect).
    """
    with training.one_thread():
        _noise_robustness(MC_STEPS)


def _noise_robustness(steps: int) -> None:
    """E2's body (see :func:`noise_robustness`), at ``steps`` steps."""
    _initial_check()  # before training: a W^0 without its noise is a defect of the suite, found at no cost
    runs = mc_runs() if steps == MC_STEPS else mct.cached_runs(
        MC_N, MC_D, MC_K, noises=NOISES, seeds=MC_SEEDS, steps=steps, batch=MC_BATCH, eta=MC_ETA, sigma=MC_SIGMA)
    _initial_check(runs)
    alpha = FAMILY_ALPHA / E2_BOUNDS
    test = _class_samples("separated")
    target = _targets(test)  # (n,)
    E, S = len(NOISES), len(MC_SEEDS)
    predicted = torch.stack([torch.stack([_predicted(test, runs.weight(e, s)) for s in range(S)]) for e in range(E)])
    correct = (predicted == target).to(torch.float64)  # (E, S, n)
    full, effective = _distances(runs)
    rows: dict[str, dict[str, Any]] = {}
    failed, undecided, exact_failed, slacks = [], [], [], []
    for e, noise in enumerate(NOISES):
        if noise.label_columns_only:
            continue
        key = f"eps = {noise.eps:g}"
        row: dict[str, Any] = {"accuracy_by_seed": correct[e].mean(dim=1).tolist(),
                               "distance_start_end_by_seed": full[e][:, [0, -1]].tolist(),
                               "distance_without_label_columns_start_end": effective[e][:, [0, -1]].tolist(),
                               "monitor_loss_start_end": runs.loss[e][:, [0, -1]].tolist(),
                               "paper_accuracy_mean_spread": list(PAPER_ACCURACY[noise.eps])}
        if noise.eps in PAPER_DISTANCE:
            row["paper_distance_start_end"] = list(PAPER_DISTANCE[noise.eps])
        if noise.eps <= 1:
            row["accuracy_mean_lower_upper_by_seed"] = [_bounds(correct[e, s], alpha) for s in range(S)]
            lowest = min(bound[1] for bound in row["accuracy_mean_lower_upper_by_seed"])
            lowest_upper = min(bound[2] for bound in row["accuracy_mean_lower_upper_by_seed"])
            slacks.append(lowest - PERFECT)
            if lowest_upper < PERFECT:
                failed.append(f"(a) at {key} (an upper bound {lowest_upper:.4f} < {PERFECT:g})")
            elif lowest < PERFECT:
                undecided.append(f"(a) at {key} (a lower bound {lowest:.4f} < {PERFECT:g})")
        else:
            threshold = PERFECT if noise.eps == 2 else FAILED
            row["seed_mean_accuracy_mean_lower_upper"] = bound = _bounds(correct[e].mean(dim=0), alpha)
            slacks.append(threshold - bound[2])
            interval = f"[{bound[1]:.4f}, {bound[2]:.4f}]"
            if bound[1] >= threshold:
                failed.append(f"(b) at {key} (seeds' mean in {interval}, not below {threshold:.4g})")
            elif bound[2] >= threshold:
                undecided.append(f"(b) at {key} (seeds' mean in {interval}, across {threshold:.4g})")
        if noise.eps > 0:
            contraction = full[e][:, -1] / full[e][:, 0]  # (S,)
            row["contraction_by_seed"] = contraction.tolist()
            slacks.append(float(1 - contraction.max()))
            if bool((contraction >= 1).any()):
                failed.append(f"(c) at {key} (a distance ratio end / start {contraction.max():.4f} >= 1)")
        rows[key] = row
    control = next(e for e, noise in enumerate(NOISES) if noise.label_columns_only)
    differing = float((predicted[control] != predicted[0]).to(torch.float64).mean())
    if differing > 0:
        exact_failed.append(f"(d): the label-slot control differs from eps = 0 on {differing:.3%} of the prompts")
    rows["eps = 3, label-slot columns only"] = {
        "accuracy_by_seed": correct[control].mean(dim=1).tolist(), "predictions_differing_from_eps_0": differing,
        "distance_start_end_by_seed": full[control][:, [0, -1]].tolist()}
    slacks.append(-differing)
    _attach_e2(rows, runs, full, steps, alpha)
    words = "; ".join(
        f"{key}: accuracy {', '.join(f'{a:.4f}' for a in row['accuracy_by_seed'])} (paper "
        + (f"{PAPER_ACCURACY[NOISE_EPS[i]][0]:.3g} +- {PAPER_ACCURACY[NOISE_EPS[i]][1]:.2g}" if i < len(NOISE_EPS)
           else "harmless") + "), distance "
        + ", ".join(f"{a:.3g} -> {b:.3g}" for a, b in row["distance_start_end_by_seed"])
        + (f" (paper {PAPER_DISTANCE[NOISE_EPS[i]][0]} -> {PAPER_DISTANCE[NOISE_EPS[i]][1]})"
           if i < len(NOISE_EPS) and NOISE_EPS[i] in PAPER_DISTANCE else "")
        for i, (key, row) in enumerate(rows.items()))
    _verdict("E2", failed, undecided, exact_failed, min(slacks), steps, f"{_scale_note(steps)}; {words}")


def _attach_e2(rows: dict[str, dict[str, Any]], runs: mct.ClassRuns, full: NDArray[np.float64], steps: int,
               alpha: float) -> None:
    attach("table", rows)
    attach("statistics", {
        "N": MC_N, "d": MC_D, "K": MC_K, "sigma": MC_SIGMA, "eta": MC_ETA, "batch": MC_BATCH, "steps": steps,
        "paper_steps": PAPER_MC_STEPS, "steps_fewer_than_paper": PAPER_MC_STEPS / steps, "protocol": "online SGD",
        "seeds": {"train": list(MC_SEEDS), "separated_test": SEPARATED_SEED}, "test_samples": SEPARATED_SAMPLES,
        "separation": MC_SEPARATION, "family_alpha": FAMILY_ALPHA, "bounds_in_union": E2_BOUNDS,
        "alpha_each": alpha, "thresholds": {"perfect": PERFECT, "failed": FAILED},
        "distance": "||W - Pi(W)||_F, Pi the Frobenius-orthogonal projection onto the family "
                    "diag(xi1 I_d, 0_K, -xi2) (model.multiclass.family_projection)"})
    means = [float(np.mean(rows[f"eps = {eps:g}"]["accuracy_by_seed"])) for eps in NOISE_EPS]
    attach("plot", {
        "kind": "robustness", "title": f"E2: noise on W^0 ([AW26] Fig. 5), {_scale_note(steps)}",
        "eps": list(NOISE_EPS), "accuracy": {
            "mean": means, "low": [min(rows[f"eps = {eps:g}"]["accuracy_by_seed"]) for eps in NOISE_EPS],
            "high": [max(rows[f"eps = {eps:g}"]["accuracy_by_seed"]) for eps in NOISE_EPS]},
        "paper_accuracy": {"mean": [PAPER_ACCURACY[eps][0] for eps in NOISE_EPS],
                           "spread": [PAPER_ACCURACY[eps][1] for eps in NOISE_EPS]},
        "distance": {f"eps = {eps:g}": {"step": runs.checkpoints.tolist(), "distance": full[e].mean(axis=0).tolist()}
                     for e, eps in enumerate(NOISE_EPS) if eps > 0},
        "paper_distance": {f"eps = {eps:g}": {"step": [0, PAPER_MC_STEPS], "distance": list(value)}
                           for eps, value in PAPER_DISTANCE.items()}})


@claim("E3", section=SECTION)
def uniform_plateau() -> None:
    """On uniform test prompts the argmax accuracy stays below 1, and its errors sit at queries near a 1-NN boundary.
    [AW26] §5, Fig. 6 (uniform test data, square loss), claim E3

    Runs: E2's eps = 0 runs (Assumption 2's W^0, three seeds, MC_STEPS = 40,000 online SGD steps, [AW26]'s
    length; E2's docstring). Test: 8,000 prompts of the uniform K-class law (the training law); accuracy = argmax
    class equal to the 1-NN class; every prompt's error averaged over the three seeds. The margin of a query is the
    K-class A_delta margin 2 (tau* - the largest tau_j of another class) (model.multiclass_training.class_margin);
    a query is near a 1-NN boundary when its margin is below 2 / xi1, xi1 the x-block of Pi(W) averaged over the
    seeds: within one softmax temperature, where the nearest example and the nearest one of another class differ in
    attention weight by a factor below e.

    Pre-registered criterion: (a) the upper confidence bound on the accuracy is < PERFECT = 0.99 (below 1); (b) the
    far queries' error rate has an upper bound <= 1 / CONCENTRATION = 1/4 of the near queries' lower bound (errors
    concentrate near the boundary); (c) the lower bound on P(error, near) exceeds the upper bound on P(error, far)
    (most errors are near); (d) at [AW26]'s length only, the accuracy's confidence interval lies within PLATEAU_TOL
    = 0.03 of the printed 0.908 (at a shorter length reported beside it, not judged). Holds when all judged
    criteria hold; a criterion whose bounds lie on the wrong side refutes at [AW26]'s length and makes the verdict
    inconclusive at a shorter one; bounds straddling a threshold are inconclusive. False-alarm rate: the E3_BOUNDS
    = 10 one-sided Chernoff bounds hold together with probability >= 1 - 1e-4 (union bound, over the test prompts,
    for these seeded runs). Reported, not judged: the fraction of near queries, the accuracy along training (on the
    first 2,000 test prompts, point estimates), the error rate by margin decile, and the fraction of queries the
    family's certificate does not cover (margin below 2 log(N-1) / xi1: only there can the family's argmax err).
    [AW26]'s cross-entropy plateau (0.924) is not tested: the runs here use the square loss.
    """
    with training.one_thread():
        _uniform_plateau(MC_STEPS)


def _uniform_plateau(steps: int) -> None:
    """E3's body (see :func:`uniform_plateau`), at ``steps`` steps."""
    runs = mc_runs() if steps == MC_STEPS else mct.cached_runs(
        MC_N, MC_D, MC_K, noises=NOISES, seeds=MC_SEEDS, steps=steps, batch=MC_BATCH, eta=MC_ETA, sigma=MC_SIGMA)
    alpha = FAMILY_ALPHA / E3_BOUNDS
    test = _class_samples("uniform")
    target, margin = _targets(test), mct.class_margin(test)  # (n,), (n,)
    clean = NOISES.index(mct.Noise(0.0))
    S = len(MC_SEEDS)
    error = torch.stack([(_predicted(test, runs.weight(clean, s)) != target) for s in range(S)])  # (S, n)
    error_rate = error.to(torch.float64).mean(dim=0)  # (n,), averaged over the seeds
    xi1 = [multiclass.family_projection(runs.weight(clean, s), MC_D, MC_K)[0] for s in range(S)]
    width = 2 / float(np.mean(xi1))
    near = margin < width  # (n,)
    accuracy = _bounds(1 - error_rate, alpha)
    rates = {"near": _bounds(error_rate[near], alpha), "far": _bounds(error_rate[~near], alpha)}
    joint = {"near": _bounds(error_rate * near, alpha), "far": _bounds(error_rate * ~near, alpha)}
    failed, undecided, slacks = [], [], []
    for name, ok, bad, slack in (
        ("(a)", accuracy[2] < PERFECT, accuracy[1] >= PERFECT, PERFECT - accuracy[2]),
        ("(b)", rates["far"][2] * CONCENTRATION <= rates["near"][1], rates["far"][1] * CONCENTRATION > rates["near"][2],
         rates["near"][1] - rates["far"][2] * CONCENTRATION),
        ("(c)", joint["near"][1] > joint["far"][2], joint["near"][2] < joint["far"][1],
         joint["near"][1] - joint["far"][2]),
        *([("(d)", PAPER_PLATEAU - PLATEAU_TOL <= accuracy[1] and accuracy[2] <= PAPER_PLATEAU + PLATEAU_TOL,
            accuracy[2] < PAPER_PLATEAU - PLATEAU_TOL or accuracy[1] > PAPER_PLATEAU + PLATEAU_TOL,
            PLATEAU_TOL - max(abs(accuracy[1] - PAPER_PLATEAU), abs(accuracy[2] - PAPER_PLATEAU)))]
          if steps >= PAPER_MC_STEPS else []),
    ):
        slacks.append(slack)
        if bad:
            failed.append(name)
        elif not ok:
            undecided.append(name)
    certificate = 2 * math.log(MC_N - 1) / float(np.mean(xi1))
    curve = _accuracy_curve(runs, test, target, clean)
    deciles = _by_margin(margin, error_rate)
    attach("table", {
        "accuracy_mean_lower_upper": accuracy, "paper_plateau": {"square loss": PAPER_PLATEAU,
                                                                "cross-entropy (not run here)": PAPER_PLATEAU_CE},
        "accuracy_by_seed": (1 - error.to(torch.float64).mean(dim=1)).tolist(), "xi1_by_seed": xi1,
        "near_width": width, "near_fraction": float(near.to(torch.float64).mean()),
        "error_rate_mean_lower_upper": rates, "error_and_margin_mean_lower_upper": joint,
        "certificate_width": certificate, "fraction_below_certificate": float((margin < certificate).double().mean()),
        "error_rate_beyond_certificate": float(error_rate[margin >= certificate].mean())
        if bool((margin >= certificate).any()) else None,
        "accuracy_along_training": curve, "error_rate_by_margin_decile": deciles})
    attach("statistics", {"steps": steps, "paper_steps": PAPER_MC_STEPS, "seeds": {"train": list(MC_SEEDS),
                          "uniform_test": UNIFORM_SEED}, "test_samples": UNIFORM_SAMPLES,
                          "curve_samples": CURVE_SAMPLES, "family_alpha": FAMILY_ALPHA, "bounds_in_union": E3_BOUNDS,
                          "alpha_each": alpha, "concentration": CONCENTRATION, "plateau_tol": PLATEAU_TOL})
    attach("plot", {"kind": "panels", "title": f"E3: uniform test data ([AW26] Fig. 6), {_scale_note(steps)}",
                    "share_x": False, "panels": [
                        {"title": "accuracy along training (first 2,000 test prompts)", "x_label": "SGD step",
                         "log_x": True, "y_label": "argmax accuracy vs the 1-NN class", "series": {
                             **{f"seed {seed}": {"x": curve["step"][1:], "y": curve["accuracy"][s][1:]}
                                for s, seed in enumerate(MC_SEEDS)},
                             "[AW26] plateau 0.908 (4e4 steps)": {"x": [curve["step"][1], PAPER_MC_STEPS],
                                                                  "y": [PAPER_PLATEAU] * 2, "style": "--"}}},
                        {"title": "error rate by margin decile (mean over seeds)", "x_label": "K-class margin",
                         "y_label": "error rate", "series": {
                             "error rate": {"x": deciles["median_margin"], "y": deciles["error_rate"]},
                             f"near: margin < 2 / xi1 = {width:.3g}": {"x": [width, width], "y": [0.0, 1.0],
                                                                       "style": "--"}}}]})
    words = (f"{_scale_note(steps)}; accuracy {accuracy[0]:.4f} [{accuracy[1]:.4f}, {accuracy[2]:.4f}] (paper "
             f"{PAPER_PLATEAU} at {PAPER_MC_STEPS:,} steps), xi1 {', '.join(f'{x:.3g}' for x in xi1)}; near (margin < "
             f"{width:.3g}): {float(near.double().mean()):.3f} of the queries, error rate near {rates['near'][0]:.4f} "
             f"(lower {rates['near'][1]:.4f}), far {rates['far'][0]:.4f} (upper {rates['far'][2]:.4f}); P(error, near) "
             f"{joint['near'][0]:.4f}, P(error, far) {joint['far'][0]:.4f}; accuracy along training (first "
             f"{CURVE_SAMPLES:,} prompts, mean over seeds) "
             + ", ".join(f"{float(np.mean([row[c] for row in curve['accuracy']])):.3f} at {curve['step'][c]:,}"
                         for c in range(-3, 0)))
    _verdict("E3", failed, undecided, [], min(slacks), steps, words)


def _accuracy_curve(runs: mct.ClassRuns, test: multiclass.ClassPrompt, target: torch.Tensor,
                    clean: int) -> dict[str, Any]:
    """The accuracy of each seed's eps = 0 run at every checkpoint, on the first CURVE_SAMPLES test prompts."""
    head = test.select(torch.arange(CURVE_SAMPLES))
    accuracy = [[float((_predicted(head, runs.weight(clean, s, c)) == target[:CURVE_SAMPLES]).double().mean())
                 for c in range(len(runs.checkpoints))] for s in range(len(MC_SEEDS))]
    return {"step": runs.checkpoints.tolist(), "accuracy": accuracy}


def _by_margin(margin: torch.Tensor, error_rate: torch.Tensor) -> dict[str, list[float]]:
    """The error rate in each decile of the margin (+inf margins in the top one), with the decile's median margin."""
    order = torch.argsort(margin)
    parts = torch.tensor_split(order, 10)
    return {"median_margin": [float(margin[part].median()) for part in parts],
            "error_rate": [float(error_rate[part].mean()) for part in parts]}
