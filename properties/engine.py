"""Run one claim: Hypothesis search (or a single deterministic call) -> :class:`ClaimResult`.

Both pytest (``tests/test_claims.py``) and ``python -m verify`` call :func:`run_claim`, so a claim
has one verdict whichever way it is run. Verdicts: ``holds`` (no input violated it within the
budget), ``refuted`` (Hypothesis found and shrank a counterexample, reported with the exact
falsifying call and a reproduction line), ``measured`` (a ``measure`` claim's constant),
``inconclusive`` (too few inputs met the hypotheses, or the claim said so), ``error`` (the code
raised something other than a claim violation).

The Hypothesis seed of a claim is derived from (seed, claim ID), so a claim's search does not
depend on which other claims run or in which order.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import numpy as np
from hypothesis.errors import Unsatisfiable

from model.errors import InvalidParameter
from properties import faults as fault_registry
from properties.expected import Expected, matches
from properties.registry import (
    Claim,
    ClaimViolation,
    Inconclusive,
    Measurement,
    Recorder,
    active_recorder,
)
from properties.settings import profile_settings

__all__ = ["ClaimResult", "claim_budget", "claim_seed", "run_claim"]


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of one claim, as it appears in ``report.json``."""

    id: str
    statement: str
    paper_ref: str
    section: str
    verdict: str
    expected: Expected
    evidence: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def value(self) -> float | None:
        value = self.evidence.get("value")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def as_expected(self) -> bool:
        return matches(self.verdict, self.value, self.expected, str(self.evidence.get("message", "")))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "statement": self.statement,
            "paper_ref": self.paper_ref,
            "section": self.section,
            "verdict": self.verdict,
            "expected": self.expected.verdict,
            "expected_detail": self.expected.to_json(),
            "as_expected": self.as_expected,
            "evidence": dict(self.evidence),
            "seconds": round(self.seconds, 3),
        }


def claim_seed(seed: int, claim_id: str) -> int:
    """The Hypothesis seed of one claim: a hash of (seed, claim ID), stable across runs and machines."""
    digest = hashlib.sha256(f"{int(seed)}:{claim_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _notes(exc: BaseException) -> tuple[str, str]:
    notes = [str(n) for n in getattr(exc, "__notes__", [])]
    call = next((n for n in notes if n.startswith(("Falsifying", "Failing"))), "")
    blob = next((n for n in notes if "reproduce_failure" in n), "")
    return call, blob


def _origin(exc: BaseException) -> str:
    """Where the exception was raised: the innermost frame's file, line and function."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


def _property_evidence(claim: Claim, recorder: Recorder, seed: int) -> dict[str, Any]:
    return {
        "examples": recorder.examples,
        "checks": recorder.checks,
        "rejected": recorder.examples - recorder.checks,
        "worst_margin": recorder.worst_margin if recorder.checks else None,
        "worst_case": recorder.worst_case,
        "worst_ratio": recorder.worst_ratio,
        "hypothesis_seed": seed,
        **recorder.attachments,
    }


#: What to import to evaluate a printed counterexample as Python and call the claim with it.
REPLAY_IMPORTS = "import torch; from numpy import array; from model.prompt import BINARY, Prompt, bounded"

#: A search that reached the claim's check on fewer than this fraction of the profile's example
#: budget, while the claim's hypotheses rejected most inputs, is ``inconclusive``: too few inputs met
#: the hypotheses for "holds" to mean much.
MIN_CHECKED_FRACTION = 0.5


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Stop Hypothesis from mixing literals of whatever local modules are imported into its draws.

    Hypothesis (6.131 and later) harvests constants from every non-library module in ``sys.modules``
    and sometimes draws them. The set then depends on what else is imported (pytest's test modules,
    a user's script), so the same claim, profile and seed could search differently under pytest
    and under ``python -m verify``. With the harvest off, a verdict depends only on (code of the
    claim and the model, profile, seed). Internal API: if it moves, this is a no-op.
    """
    from hypothesis.internal.conjecture import providers

    original = getattr(providers, "_get_local_constants", None)
    constants = getattr(providers, "Constants", None)
    if original is None or constants is None:
        yield
        return
    empty = constants()
    providers._get_local_constants = lambda *args, **kwargs: empty
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None:
        cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        if cache is not None:
            cache.cache.clear()


def claim_budget(claim: Claim, profile: str) -> int:
    """The number of examples ``claim`` gets under ``profile`` (its ``budget`` times the profile's)."""
    return max(1, math.ceil(claim.budget * profile_settings(profile).max_examples))


def _run_property(claim: Claim, seed: int, profile: str, recorder: Recorder) -> None:
    def body(**kwargs: Any) -> None:
        recorder.examples += 1
        token = active_recorder().set(recorder)
        try:
            claim.function(**kwargs)
        finally:
            active_recorder().reset(token)

    functools.update_wrapper(body, claim.function)
    if not claim.strategies:
        body()
        return
    recorder.targeting = claim.target
    test = hypothesis.given(**claim.strategies)(body)
    for example in reversed(claim.examples):
        test = hypothesis.example(**example)(test)
    chosen = profile_settings(profile)
    if claim.budget < 1:
        chosen = hypothesis.settings(chosen, max_examples=claim_budget(claim, profile))
    if not claim.target:  # the target phase is opt-in (see Registry.claim)
        chosen = hypothesis.settings(chosen, phases=[p for p in chosen.phases if p != hypothesis.Phase.target])
    test = chosen(test)
    # print falsifying arrays exactly (shortest round-trip repr, no summarising) so they replay
    with np.printoptions(floatmode="unique", threshold=sys.maxsize), _no_local_constants():
        hypothesis.seed(seed)(test)()


def run_claim(
    claim: Claim,
    *,
    seed: int = 0,
    profile: str = "ci",
    fault: str | None = None,
    expected: Expected | None = None,
) -> ClaimResult:
    """Run ``claim`` under ``profile`` with the seed derived from ``seed`` (and a planted fault, if named)."""
    expected = expected if expected is not None else Expected()
    started = time.perf_counter()
    derived = claim_seed(seed, claim.id)
    recorder = Recorder()
    evidence: dict[str, Any]
    planted = fault_registry.get(fault).applied() if fault else fault_registry.no_fault()
    try:
        with planted:
            if claim.kind == "measure":
                token = active_recorder().set(recorder)  # so that attach() (a plot) works in a measure too
                try:
                    measurement = claim.function()
                finally:
                    active_recorder().reset(token)
                if not isinstance(measurement, Measurement):
                    raise TypeError(f"measure claim {claim.id} returned {type(measurement).__name__}")
                clash = set(recorder.attachments) & {"value", "trend", "details"}
                if clash:
                    raise InvalidParameter(f"measure claim {claim.id} attaches {sorted(clash)}, names its "
                                           "measurement uses")
                verdict = "measured" if math.isfinite(measurement.value) else "error"
                evidence = {
                    "value": measurement.value,
                    "trend": measurement.trend,
                    "details": dict(measurement.details),
                    **recorder.attachments,
                }
            else:
                _run_property(claim, derived, profile, recorder)
                evidence = _property_evidence(claim, recorder, derived)
                budget = claim_budget(claim, profile)
                needed = math.ceil(MIN_CHECKED_FRACTION * budget) if claim.strategies else 1
                # too few checks is inconclusive only when the hypotheses rejected most inputs; a small
                # search space that Hypothesis exhausted (few inputs, none rejected) still holds
                starved = recorder.checks < needed and recorder.examples - recorder.checks > recorder.checks
                verdict = "inconclusive" if starved or recorder.checks == 0 else "holds"
                if verdict == "inconclusive":
                    evidence["reason"] = (
                        f"only {recorder.checks} inputs met the claim's hypotheses "
                        f"(fewer than {needed} of the '{profile}' budget of {budget})"
                    )
    except ClaimViolation as exc:
        call, blob = _notes(exc)
        verdict = "refuted"
        evidence = _property_evidence(claim, recorder, derived)
        evidence.update(
            message=str(exc),
            counterexample=call,
            reproduce=f"python -m verify --claims {claim.id} --seed {seed} --profile {profile}"
            + (f" --fault {fault}" if fault else ""),
            replay=REPLAY_IMPORTS,
            blob=blob,
        )
    except (Unsatisfiable, Inconclusive) as exc:
        verdict = "inconclusive"
        evidence = _property_evidence(claim, recorder, derived)
        evidence["reason"] = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        call, _ = _notes(exc)
        verdict = "error"
        evidence = _property_evidence(claim, recorder, derived)
        evidence.update(
            error=f"{type(exc).__name__}: {exc}",
            counterexample=call,
            traceback=_origin(exc),
        )
    if fault:
        evidence["fault"] = fault
    return ClaimResult(
        id=claim.id,
        statement=claim.statement,
        paper_ref=claim.paper_ref,
        section=claim.section,
        verdict=verdict,
        expected=expected,
        evidence=evidence,
        seconds=time.perf_counter() - started,
    )
