"""Run a selection of claims, in order, reporting progress: the computing half of ``verify``.

References: every claim ID of THEORY.md that is registered (see :mod:`properties.catalog`).
The runner turns claims into :class:`properties.engine.ClaimResult` objects and those into the
canonical report dictionary (:mod:`verify.report`); rendering is separate (:mod:`verify.render`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

import model.dynamics as dynamics
from model.errors import InvalidParameter
from properties.catalog import load_claims
from properties.engine import ClaimResult, run_claim
from properties.expected import Expected, load_expected
from properties.parameters import applied
from properties.registry import Claim

__all__ = ["run_claims"]

Progress = Callable[[int, int, ClaimResult], None]
#: Seconds to wait for a Dask scheduler before giving up (exit 2).
DASK_CONNECT_TIMEOUT = 30


def _worker_start() -> None:
    import torch

    torch.set_num_threads(1)


def _run_by_id(claim_id: str, seed: int, profile: str, fault: str | None, expected: Expected,
               parameters: dict[str, int | float] | None = None) -> ClaimResult:
    """One claim in a worker process (looked up by ID: functions do not cross process boundaries)."""
    import torch

    torch.set_num_threads(1)  # one thread per worker, whichever executor started it
    claim = load_claims().get(claim_id)
    with applied(parameters or {}):
        return run_claim(claim, seed=seed, profile=profile, fault=fault, expected=expected)


def _on_dask(scheduler: str, claims: list[Claim], seed: int, profile: str, fault: str | None,
             expected: dict[str, Expected], progress: Progress | None,
             parameters: dict[str, int | float]) -> dict[str, ClaimResult]:
    """The claims as tasks of a running Dask distributed cluster (its workers need this package installed)."""
    try:
        import distributed
    except ImportError:
        raise InvalidParameter("--scheduler needs Dask distributed: pip install 'onenn-verify[dask]'") from None
    done: dict[str, ClaimResult] = {}
    try:
        client = distributed.Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
    except OSError as exc:
        raise InvalidParameter(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    with client:
        futures = [client.submit(_run_by_id, claim.id, seed, profile, fault, expected.get(claim.id, Expected()),
                                 parameters, pure=False,
                                 key=f"onenn-verify-{claim.id}-{seed}-{profile}-{fault}-{sorted(parameters.items())}")
                   for claim in claims]
        for future in distributed.as_completed(futures):
            result = future.result()
            done[result.id] = result
            if progress is not None:
                progress(len(done), len(claims), result)
    return done


def run_claims(
    claim_ids: Sequence[str] | None = None,
    *,
    seed: int = 0,
    profile: str = "ci",
    expected: dict[str, Expected] | None = None,
    fault: str | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    parameters: dict[str, int | float] | None = None,
) -> list[ClaimResult]:
    """Run the selected claims (all when ``claim_ids`` is None) and return their results in registry order.

    ``jobs`` > 1 runs them side by side in that many fresh worker processes (spawn, one thread each);
    ``scheduler`` (a Dask distributed address, ``tcp://host:port``) runs them as tasks of that cluster
    instead. ``progress`` is then called as claims finish. Each claim's seed derives from (seed, claim ID)
    alone, so the results are the same whichever process or machine ran a claim (only the timings differ).
    ``parameters`` (properties.parameters) run the parametrised claims at a user's own (N, d, sigma, eta).
    """
    parameters = dict(parameters or {})
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidParameter(f"jobs must be an integer >= 1, got {jobs!r}")
    registry = load_claims()
    claims = registry.select(claim_ids)
    expected = load_expected() if expected is None else expected
    if scheduler is not None:
        on_cluster = _on_dask(scheduler, claims, seed, profile, fault, expected, progress, parameters)
        return [on_cluster[claim.id] for claim in claims]
    if jobs == 1 or len(claims) <= 1:
        results = []
        for index, claim in enumerate(claims, start=1):
            with applied(parameters):
                result = run_claim(claim, seed=seed, profile=profile, fault=fault,
                                   expected=expected.get(claim.id, Expected()))
            results.append(result)
            if progress is not None:
                progress(index, len(claims), result)
        return results
    done: dict[str, ClaimResult] = {}
    with dynamics.one_thread_children(), ProcessPoolExecutor(
            max_workers=min(jobs, len(claims)), mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_start) as pool:
        futures = [pool.submit(_run_by_id, claim.id, seed, profile, fault, expected.get(claim.id, Expected()),
                               parameters) for claim in claims]
        for future in as_completed(futures):
            result = future.result()
            done[result.id] = result
            if progress is not None:
                progress(len(done), len(claims), result)
    return [done[claim.id] for claim in claims]
