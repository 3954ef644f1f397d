"""properties.experiments (claim E1): its confidence bounds, its verdict logic, its baseline check and its plot.

The claim itself runs in tests/properties/test_claims.py (and under its planted faults in test_faults.py);
these tests check the pieces without training anything.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from scipy import stats

import model.training as training
from model.errors import InvalidParameter, NonFiniteValue
from model.laws import sample_training_prompts
from properties import experiments
from properties.registry import CLAIMS
from verify.plots import write_plots

SEED = 20261128
#: Coverage trials of the confidence bounds, and the largest miss count allowed at level ALPHA: the binomial
#: (TRIALS, ALPHA) upper tail beyond it has probability 4e-8, so this test fails a valid bound once in 2.5e7 seeds.
TRIALS, ALPHA, MAX_MISSES = 2000, 0.1, 275
#: Closed-form bounds are met to the bisection's resolution, 1e-15 of the scale.
BISECTION_TOL = 1e-14


def test_upper_bound_of_an_all_zero_sample_has_its_closed_form() -> None:
    # kl(0 || p) = -log(1 - p) = log(1 / alpha) / n  <=>  p = 1 - alpha^(1/n)
    lower, upper = experiments.chernoff_bounds(np.zeros(1000), 36.0, 1e-5)
    assert lower == 0.0
    assert upper == pytest.approx(36.0 * (1 - 1e-5 ** (1 / 1000)), rel=BISECTION_TOL)


def test_lower_bound_of_an_all_top_sample_has_its_closed_form() -> None:
    lower, upper = experiments.chernoff_bounds(np.full(1000, 36.0), 36.0, 1e-5)
    assert upper == 36.0
    assert lower == pytest.approx(36.0 * 1e-5 ** (1 / 1000), rel=BISECTION_TOL)


def test_bounds_bracket_the_sample_mean() -> None:
    values = np.random.default_rng(SEED).uniform(0.0, 2.0, size=500) ** 3
    lower, upper = experiments.chernoff_bounds(values, 8.0, 1e-3)
    assert 0.0 < lower < float(values.mean()) < upper < 8.0


def test_upper_bound_misses_the_mean_at_most_at_its_level() -> None:
    rng = np.random.default_rng(SEED)
    p = 0.2  # a Bernoulli law, the extreme case of Hoeffding's relative-entropy bound (misses 3% of the time here)
    misses = sum(experiments.chernoff_bounds(rng.binomial(1, p, size=40).astype(np.float64), 1.0, ALPHA)[1] < p
                 for _ in range(TRIALS))
    assert stats.binom.sf(MAX_MISSES, TRIALS, ALPHA) < 1e-7 and misses <= MAX_MISSES


@pytest.mark.parametrize(
    ("values", "scale", "alpha", "error", "match"),
    [
        (np.array([]), 1.0, 0.1, InvalidParameter, "nonempty 1-d"),
        (np.array([0.5, math.nan]), 1.0, 0.1, NonFiniteValue, "NaN or inf"),
        (np.array([-0.1, 0.5]), 1.0, 0.1, InvalidParameter, r"must lie in \[0, 1\]"),
        (np.array([0.5, 1.5]), 1.0, 0.1, InvalidParameter, r"must lie in \[0, 1\]"),
        (np.array([0.5]), 0.0, 0.1, InvalidParameter, "scale > 0"),
        (np.array([0.5]), 1.0, 1.0, InvalidParameter, r"alpha in \(0, 1\)"),
    ],
)
def test_bad_bound_inputs_raise_named_errors(values: Any, scale: float, alpha: float, error: type[Exception],
                                             match: str) -> None:
    with pytest.raises(error, match=match):
        experiments.chernoff_bounds(values, scale, alpha)


def test_label_variance_is_the_truncated_normal_variance() -> None:
    assert experiments.label_variance(3.0) == pytest.approx(stats.truncnorm(-3.0, 3.0).var(), rel=1e-13)


def _row(loss: tuple[float, float], trained: tuple[float, float], init: tuple[float, float]) -> dict[str, Any]:
    return {"train_loss": list(loss),
            "test_mse_mean_lower_upper": {"trained": [sum(trained) / 2, *trained], "init": [sum(init) / 2, *init]}}


@pytest.mark.parametrize(
    ("row", "refuted", "decided"),
    [
        (_row((0.5, 0.1), (0.0, 0.02), (0.7, 1.1)), False, True),  # every criterion holds
        (_row((0.5, 0.2), (0.0, 0.02), (0.7, 1.1)), True, True),  # the loss falls 2.5-fold only
        (_row((0.5, 0.1), (0.06, 0.08), (0.7, 1.1)), True, True),  # MSE above 0.05 Var y* = 0.0487 for sure
        (_row((0.5, 0.1), (0.01, 0.08), (0.7, 1.1)), False, False),  # the bounds straddle the threshold
        (_row((0.5, 0.1), (0.0, 0.02), (0.01, 0.02)), False, False),  # trained and init not told apart
    ],
)
def test_verdict_logic_follows_the_preregistered_criterion(row: dict[str, Any], refuted: bool, decided: bool) -> None:
    threshold = experiments.MSE_FACTOR * experiments.label_variance(experiments.LABEL_BOUND)
    slacks, fails = experiments._judge(row, threshold)
    assert fails == refuted and (min(slacks.values()) >= 0 or refuted) == decided


def test_tuning_check_catches_an_untuned_bandwidth(monkeypatch: pytest.MonkeyPatch) -> None:
    validation = sample_training_prompts(300, 6, 3, generator=torch.Generator().manual_seed(SEED))
    defect, tuning = experiments._tuning_defect(validation)
    assert defect <= experiments.RECOMPUTE_RTOL and tuning.beta == training.tune_bandwidth(validation).beta
    untuned = training.Tuning(0.0, tuning.betas, tuning.mse)
    monkeypatch.setattr(training, "tune_bandwidth", lambda validation, betas=training.BETA_GRID: untuned)
    assert experiments._tuning_defect(validation)[0] > experiments.RECOMPUTE_RTOL


def test_union_covers_every_bound_the_claim_computes() -> None:
    # _evaluate bounds four MSEs (trained, init, smoother, zero predictor) from both sides
    assert experiments.BOUNDS_PER_CONFIG == 2 * 4


def test_docstring_states_the_constants_the_claim_uses() -> None:
    doc = CLAIMS.get("E1").function.__doc__ or ""
    assert f"LOSS_FACTOR = {experiments.LOSS_FACTOR:g}" in doc and f"MSE_FACTOR = {experiments.MSE_FACTOR:g}" in doc
    assert f"{experiments.TEST_SAMPLES:,} prompts" in doc and f"{experiments.VALIDATION_SAMPLES:,}" in doc


def test_training_plot_is_written(tmp_path: Path) -> None:
    plot = {"kind": "training", "curves": {"(N, d) = (4, 3)": {"step": [0, 1, 10], "loss": [0.5, 0.4, 0.1]}},
            "test": {"(N, d) = (4, 3)": {"trained": [1e-5, 0.0, 0.02], "init": [0.9, 0.7, 1.1]}}, "threshold": 0.05}
    entry = {"id": "E1", "evidence": {"plot": plot}}
    assert write_plots({"claims": [entry]}, tmp_path) == {"E1": "E1.png"}
    assert (tmp_path / "E1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
