"""The pytest face of the claims: every registered claim, with its committed expected verdict.

Each claim runs through the same engine as ``python -m verify`` (profile from ONENN_PROFILE,
default ``ci``; seed 0). A claim expected to hold must hold; a claim expected to be refuted is a
strict expected failure whose reason is the recorded counterexample, so a change of verdict in
either direction turns the suite red. Select one claim by exact ID: ``pytest --claim C9b``.
"""

from __future__ import annotations

import pytest

from properties.catalog import load_claims
from properties.engine import run_claim
from properties.expected import load_expected
from properties.settings import selected_profile

SEED = 0
EXPECTED = load_expected()


def _params() -> list[object]:
    params = []
    for claim in load_claims():
        expected = EXPECTED.get(claim.id)
        marks = [pytest.mark.claim(claim.id)]
        if expected is not None and expected.verdict == "refuted":
            marks.append(pytest.mark.xfail(strict=True, reason=f"refuted: {expected.reason}"))
        params.append(pytest.param(claim, id=claim.id, marks=marks))
    return params


@pytest.mark.parametrize("claim", _params())
def test_claim_verdict(claim: object) -> None:
    result = run_claim(claim, seed=SEED, profile=selected_profile(), expected=EXPECTED.get(claim.id))  # type: ignore[arg-type]
    expected = EXPECTED.get(claim.id)
    if expected is not None and expected.verdict == "refuted":
        # an expected failure: raise while the claim is refuted at its recorded witness, so xfail(strict)
        # records it; a verdict that changes, or a counterexample that moves, passes and turns it red
        assert not result.as_expected, result.evidence.get("message")
        return
    assert result.as_expected, (
        f"{result.id}: {result.verdict} (expected {result.expected.verdict}): {dict(result.evidence)}"
    )
