"""properties.shift beyond the verdicts: C10.rate's second method and its check, the adversarial strategy's
shrinking, and C10.adversarial's statistics catching the missing q_0 term on their own."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import find, settings

import model.shift as shift
import properties.shift as shift_claims
from model.adversarial import TestLaw
from properties import faults
from properties.registry import ClaimViolation
from properties.strategies import adversarial_laws


def test_cancellation_free_error_agrees_with_the_model_where_both_are_accurate() -> None:
    _, _, prompts = shift_claims.law_sample(0)  # the uniform law: errors of order 1
    tau = torch.einsum("bnd,bd->bn", prompts.x, prompts.xq)
    for xi1, xi2 in ((0.0, 0.0), (3.0, 5.0), (20.0, 40.0)):
        log_err, _ = shift_claims._log_abs_errors(prompts, tau, shift.target_labels(prompts), xi1, xi2)
        direct = shift.Errors(prompts)(xi1, xi2)  # (y_hat - y*)^2, the model's own softmax
        big = direct > 1e-6
        assert np.allclose(np.exp(2 * log_err[big]), direct[big], rtol=1e-9)


def test_c10_rate_check_fails_when_the_error_is_measured_against_the_wrong_label() -> None:
    with faults.get("shift_error_against_first_label").applied(), pytest.raises(ClaimViolation, match="C9b"):
        shift_claims.theorem2_rate()


def test_c10_rate_check_passes_and_reports_the_local_exponent() -> None:
    measurement = shift_claims.theorem2_rate()
    assert "local" in measurement.details and len(measurement.details["local"]) == len(measurement.details["p"])
    assert min(measurement.details["p"]) > 0


def test_statistics_alone_catch_the_missing_query_term_on_the_pinned_antipodal_law(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With exact_inf patched to agree with whatever c10_bound says, only the bands can catch the fault."""
    monkeypatch.setattr(shift_claims, "exact_inf", lambda xi1, xi2, N, B, margins, alpha: shift.c10_bound(
        xi1, xi2, N, B, margins, alpha).value)
    law = shift_claims.PINNED_LAWS[0]
    shift_claims.theorem2_adversarial(law)  # holds without the fault
    with faults.get("shift_bound_without_query_term").applied(), pytest.raises(ClaimViolation, match="closest"):
        shift_claims.theorem2_adversarial(law)


def test_adversarial_laws_shrink_to_the_documented_minimal_law() -> None:
    law = find(adversarial_laws(sizes=((16, 8), (5, 2))), lambda _: True,
               settings=settings(database=None, derandomize=True))
    assert law == TestLaw(N=16, d=8, clusters=1, spread=1.0, query="mixture", jitter=0.0, labels="coin", p=0.5,
                          B=1.0)
