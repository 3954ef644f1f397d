"""``python -m verify --mutants``: the catalogue of planted faults, each applied in isolation to its target claims.

A planted fault (:mod:`properties.faults`: a plausible domain bug — a wrong axis, a dropped term, a sign,
a constant, an off-by-one, the k_d normalisation, a tie rule, a float32 downcast, a wrong GD read-out,
broken error control, a bound without its q_0 term, ...) is *caught* by a claim when the claim's verdict
(or measured value, or counterexample) leaves its committed expected one. This runs every fault against
every claim it names (or those among ``--claims``), prints per fault which claims caught it, and exits 1
if any (fault, claim) pair survived. The same pairs run in pytest (tests/properties/test_faults.py).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from properties import faults
from properties.catalog import load_claims
from properties.engine import ClaimResult, run_claim
from properties.expected import Expected, load_expected

__all__ = ["MutantResult", "mutant_table", "run_mutants"]


@dataclass
class MutantResult:
    """One planted fault: the claims that caught it and those it survived."""

    name: str
    description: str
    module: str
    caught_by: list[str] = field(default_factory=list)
    survived: list[str] = field(default_factory=list)


def _pair(fault: str, claim_id: str, profile: str, seed: int, expected: Expected) -> tuple[str, str, bool, str]:
    result: ClaimResult = run_claim(load_claims().get(claim_id), seed=seed, profile=profile, fault=fault,
                                    expected=expected)
    return fault, claim_id, not result.as_expected, result.verdict


def run_mutants(claim_ids: Sequence[str] | None = None, *, profile: str = "ci", seed: int = 0, jobs: int = 1,
                progress: Callable[[str, str, bool, str], None] | None = None) -> list[MutantResult]:
    """Every planted fault against its target claims (only those in ``claim_ids`` when given)."""
    registry = load_claims()
    selected = {claim.id for claim in registry.select(claim_ids)}
    expected = load_expected()
    pairs = [(name, target) for name, fault in faults.FAULTS.items() for target in fault.targets if target in selected]
    results = {name: MutantResult(name, fault.description, f"{fault.module}.{fault.attribute}")
               for name, fault in faults.FAULTS.items() if any(name == p[0] for p in pairs)}

    def record(outcome: tuple[str, str, bool, str]) -> None:
        name, target, caught, verdict = outcome
        # a claim that ends in an error also left its expected verdict: caught, but marked, so a fault that only
        # crashes the code is told apart from one the claim's check detected
        label = target if verdict in ("refuted", "measured", "holds", "inconclusive") else f"{target} ({verdict})"
        (results[name].caught_by if caught else results[name].survived).append(label)
        if progress is not None:
            progress(name, target, caught, verdict)

    if jobs <= 1:
        for name, target in pairs:
            record(_pair(name, target, profile, seed, expected.get(target, Expected())))
    else:
        import model.dynamics as dynamics
        from verify.runner import _worker_start

        with dynamics.one_thread_children(), ProcessPoolExecutor(max_workers=jobs, initializer=_worker_start,
                                                         mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_pair, name, target, profile, seed, expected.get(target, Expected()))
                       for name, target in pairs]
            for future in futures:
                record(future.result())
    return list(results.values())


def mutant_table(results: list[MutantResult]) -> str:
    """A Markdown table: fault, where it patches, the claims that caught it, the ones it survived; and a count."""
    lines = ["| planted fault | patches | caught by | survived |", "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.name} | `{r.module}` | {', '.join(r.caught_by) or '-'} | "
                     f"{', '.join(r.survived) or '-'} |")
    caught = sum(not r.survived for r in results)
    pairs = sum(len(r.caught_by) + len(r.survived) for r in results)
    lines += ["", f"{caught} of {len(results)} planted faults caught by every target claim "
              f"({pairs} fault-claim pairs, {sum(len(r.survived) for r in results)} survived)"]
    return "\n".join(lines) + "\n"
