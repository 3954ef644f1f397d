"""The suite can fail: every planted fault turns each of its target claims away from its expected verdict.

The fault registry (:mod:`properties.faults`) names, for each plausible bug, the claims that must
catch it; this module applies each fault in-process and runs those claims under the ``ci`` budget; a fault is caught
when the claim's verdict leaves its committed expected one (refuted for a claim that holds; holds,
or any other verdict, for one expected to be refuted).
It also checks the bookkeeping: every registered claim is the target of at least one fault, and a
fault leaves the model untouched once its ``with`` block ends.
"""

from __future__ import annotations

import pytest
import torch

import model.attention as attention
from model.errors import UnknownFault
from model.laws import sample_training_prompts
from properties import faults
from properties.catalog import load_claims
from properties.engine import run_claim
from properties.expected import Expected, load_expected

PROFILE = "ci"
REGISTRY = load_claims()
EXPECTED = load_expected()
PAIRS = [
    pytest.param(name, target, id=f"{name}->{target}", marks=pytest.mark.claim(target))
    for name, fault in faults.FAULTS.items()
    for target in fault.targets
]


@pytest.mark.parametrize(("fault_name", "claim_id"), PAIRS)
def test_planted_fault_is_caught(fault_name: str, claim_id: str) -> None:
    expected = EXPECTED.get(claim_id, Expected())
    result = run_claim(REGISTRY.get(claim_id), profile=PROFILE, fault=fault_name, expected=expected)
    assert not result.as_expected, (
        f"{fault_name} survived {claim_id}: {result.verdict} (expected {expected.verdict}) {dict(result.evidence)}"
    )


def test_every_claim_is_the_target_of_a_fault() -> None:
    targeted = {target for fault in faults.FAULTS.values() for target in fault.targets}
    assert set(REGISTRY.ids()) <= targeted, f"claims no fault targets: {set(REGISTRY.ids()) - targeted}"


def test_fault_targets_are_registered_claims() -> None:
    unknown = {t for f in faults.FAULTS.values() for t in f.targets} - set(REGISTRY.ids())
    assert not unknown, f"faults target unknown claims: {unknown}"


def test_fault_is_undone_after_its_block() -> None:
    prompt = sample_training_prompts(4, 5, 3, generator=torch.Generator().manual_seed(7))
    W = attention.family_W(2.0, 5.0, 3)
    before = attention.predict(prompt, W).y_hat
    with faults.get("softmax_wrong_axis").applied():
        during = attention.predict(prompt, W).y_hat
    after = attention.predict(prompt, W).y_hat
    assert not torch.equal(before, during) and torch.equal(before, after)


def test_unknown_fault_names_the_known_ones() -> None:
    with pytest.raises(UnknownFault, match=r"no planted fault .nope.*softmax_wrong_axis"):
        faults.get("nope")
