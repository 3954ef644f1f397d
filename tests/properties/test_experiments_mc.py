"""properties.multiclass_experiments (claims E2, E3): set-up check, verdict logic, statistics bookkeeping, plots.

The claims themselves run in tests/properties/test_claims.py (and under planted faults in test_faults.py); these
tests check the pieces without training the grid. The paper-length run is the slow test at the end.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

import model.multiclass as multiclass
import model.multiclass_training as mct
import model.training as training
from model.errors import InvalidShape
from properties import multiclass_experiments as experiments
from properties.registry import CLAIMS, ClaimViolation, Inconclusive
from verify.plots import write_plots

SEED = 20261129


def test_initialisation_check_passes_on_the_stated_w0() -> None:
    W0 = experiments._initial_check()
    assert W0.shape == (len(experiments.NOISES), len(experiments.MC_SEEDS), 12, 12)


def test_initialisation_check_finds_a_w0_without_its_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    def noiseless(noises: Any, Z: torch.Tensor, d: int, K: int, sigma: float) -> torch.Tensor:
        base = multiclass.family_W(0.0, sigma, d, K)
        return base.expand(len(noises), Z.shape[0], *base.shape).clone()

    monkeypatch.setattr(mct, "initial_weights", noiseless)
    with pytest.raises(experiments.SetupDefect, match=r"W\^0 at eps = 0\.1"):
        experiments._initial_check()


def test_predicted_classes_must_be_one_per_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    prompt = mct.sample_class_law("uniform", 20, 5, 3, 3, generator=torch.Generator().manual_seed(SEED))
    W = multiclass.family_W(2.0, 6.0, 3, 3)
    assert experiments._predicted(prompt, W).shape == (20,)
    monkeypatch.setattr(multiclass, "argmax_class", lambda logits: torch.argmax(logits, dim=0))
    with pytest.raises(InvalidShape, match=r"shape \(20,\), got \(3,\)"):
        experiments._predicted(prompt, W)
    with pytest.raises(InvalidShape, match=r"shape \(20,\), got \(3,\)"):
        experiments._targets(prompt)


def test_bounds_of_no_values_know_nothing() -> None:
    mean, lower, upper = experiments._bounds(torch.zeros(0), 1e-3)
    assert math.isnan(mean) and (lower, upper) == (0.0, 1.0)


def test_bounds_of_an_all_correct_sample_have_the_closed_form() -> None:
    # kl(1 || p) = -log p = log(1 / alpha) / n  <=>  p = alpha^(1/n)
    mean, lower, upper = experiments._bounds(torch.ones(4000), 1e-5)
    assert mean == upper == 1.0 and lower == pytest.approx(1e-5 ** (1 / 4000), rel=1e-14)


@pytest.mark.parametrize(
    ("failed", "undecided", "exact", "steps", "raised"),
    [
        ([], [], [], 20_000, None),
        ([], ["(a)"], [], 40_000, Inconclusive),
        (["(b)"], [], [], 20_000, Inconclusive),  # a failure at half the paper's length is not judged
        (["(b)"], ["(a)"], [], 40_000, ClaimViolation),
        ([], [], ["(d)"], 20_000, ClaimViolation),  # an exact failure refutes at any length
    ],
)
def test_verdict_follows_the_preregistered_rules(failed: list[str], undecided: list[str], exact: list[str],
                                                 steps: int, raised: type[Exception] | None) -> None:
    slack = -1.0 if failed or exact else (0.5 if not undecided else -0.1)
    if raised is None:
        experiments._verdict("E2", failed, undecided, exact, slack, steps, "words")
    else:
        with pytest.raises(raised):
            experiments._verdict("E2", failed, undecided, exact, slack, steps, "words")


def test_unions_count_every_bound_the_claims_compute() -> None:
    # E2: both sides for each of 3 seeds at each eps <= 1, and for the seeds' mean at eps = 2 and 3;
    # E3: both sides for the accuracy, two conditional error rates and two joint rates
    assert experiments.E2_BOUNDS == 2 * 3 * 4 + 2 * 2 == 28 and experiments.E3_BOUNDS == 10


def test_docstrings_state_the_constants_the_claims_use() -> None:
    e2, e3 = (" ".join((CLAIMS.get(name).function.__doc__ or "").split()) for name in ("E2", "E3"))
    for doc in (e2, e3):
        assert f"MC_STEPS = {experiments.MC_STEPS:,}" in doc and f"{experiments.PAPER_MC_STEPS:,}" in doc
    assert f"PERFECT = {experiments.PERFECT:g}" in e2 and f"{experiments.SEPARATED_SAMPLES:,} prompts" in e2
    assert f"E2_BOUNDS = {experiments.E2_BOUNDS}" in e2 and "FAILED = 2/3" in e2
    assert f"{experiments.UNIFORM_SAMPLES:,} prompts" in e3 and f"E3_BOUNDS = {experiments.E3_BOUNDS}" in e3
    assert f"1 / CONCENTRATION = 1/{experiments.CONCENTRATION:g}" in e3 and f"{experiments.PAPER_PLATEAU}" in e3
    assert f"PLATEAU_TOL = {experiments.PLATEAU_TOL:g}" in e3


def test_margin_deciles_are_ordered_and_average_the_errors() -> None:
    margin = torch.arange(100, dtype=torch.float64).flip(0)
    error = (margin < 10).to(torch.float64)
    deciles = experiments._by_margin(margin, error)
    assert deciles["median_margin"] == sorted(deciles["median_margin"])
    assert deciles["error_rate"] == [1.0] + [0.0] * 9


def test_robustness_plot_is_written(tmp_path: Path) -> None:
    plot = {"kind": "robustness", "eps": [0.0, 1.0, 3.0],
            "accuracy": {"mean": [0.9995000000000001, 0.99, 0.45], "low": [0.9995, 0.98, 0.4],  # a mean 1 ulp above
                         "high": [0.9995, 1.0, 0.5]},  # its seeds' range, as np.mean can give
            "paper_accuracy": {"mean": [1.0, 1.0, 0.44], "spread": [0.0, 0.0, 0.07]},
            "distance": {"eps = 1": {"step": [0, 10, 100], "distance": [11.0, 9.0, 7.0]}},
            "paper_distance": {"eps = 1": {"step": [0, 40000], "distance": [10.558, 3.449]}}}
    assert write_plots({"claims": [{"id": "E2", "evidence": {"plot": plot}}]}, tmp_path) == {"E2": "E2.png"}
    assert (tmp_path / "E2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_panels_with_their_own_x_axes_are_written(tmp_path: Path) -> None:
    plot = {"kind": "panels", "share_x": False, "panels": [
        {"x_label": "SGD step", "log_x": True, "series": {"a": {"x": [1, 10, 100], "y": [0.5, 0.6, 0.8]}}},
        {"x_label": "margin", "series": {"b": {"x": [0.1, 0.5], "y": [0.4, 0.0]}}}]}
    assert write_plots({"claims": [{"id": "E3", "evidence": {"plot": plot}}]}, tmp_path) == {"E3": "E3.png"}


@pytest.mark.slow
def test_e2_and_e3_hold_at_the_papers_length() -> None:
    # [AW26]'s 40,000 steps (about a minute of one core, then cached on disk); each body raises unless its claim holds
    with training.one_thread():
        experiments._noise_robustness(experiments.PAPER_MC_STEPS)
        experiments._uniform_plateau(experiments.PAPER_MC_STEPS)
