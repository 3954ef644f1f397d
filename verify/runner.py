"""Run a selection of claims, in order, reporting progress: the computing half of ``verify``.

References: every claim ID of THEORY.md that is registered (see :mod:`properties.catalog`).
The runner turns claims into :class:`properties.engine.ClaimResult` objects and those into the
canonical report dictionary (:mod:`verify.report`); rendering is separate (:mod:`verify.render`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from properties.catalog import load_claims
from properties.engine import ClaimResult, run_claim
from properties.expected import Expected, load_expected

__all__ = ["run_claims"]

Progress = Callable[[int, int, ClaimResult], None]


def run_claims(
    claim_ids: Sequence[str] | None = None,
    *,
    seed: int = 0,
    profile: str = "ci",
    expected: dict[str, Expected] | None = None,
    fault: str | None = None,
    progress: Progress | None = None,
) -> list[ClaimResult]:
    """Run the selected claims (all when ``claim_ids`` is None) and return their results in order."""
    registry = load_claims()
    claims = registry.select(claim_ids)
    expected = load_expected() if expected is None else expected
    results = []
    for index, claim in enumerate(claims, start=1):
        result = run_claim(claim, seed=seed, profile=profile, fault=fault, expected=expected.get(claim.id, Expected()))
        results.append(result)
        if progress is not None:
            progress(index, len(claims), result)
    return results
