"""Slow: every planted fault is caught by every target claim at several seeds, not only at seed 0.

A catch that depends on the luck of one seed would let a real bug slip through the next time the
search changes. Run with ``pytest -m slow`` (about 10 minutes on 2 cores).
"""

from __future__ import annotations

import pytest

from properties import faults
from properties.catalog import load_claims
from properties.engine import run_claim
from properties.expected import Expected, load_expected

SEEDS = (1, 2, 3, 4)
REGISTRY = load_claims()
EXPECTED = load_expected()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault_name", "claim_id"),
    [
        pytest.param(name, target, id=f"{name}->{target}", marks=pytest.mark.claim(target))
        for name, fault in faults.FAULTS.items()
        for target in fault.targets
    ],
)
def test_planted_fault_is_caught_at_every_seed(fault_name: str, claim_id: str) -> None:
    expected = EXPECTED.get(claim_id, Expected())
    missed = [
        s
        for s in SEEDS
        if run_claim(REGISTRY.get(claim_id), seed=s, fault=fault_name, expected=expected).as_expected
    ]
    assert not missed, f"{fault_name} survived {claim_id} at seeds {missed}"
