"""The claim registry: one decorator that both pytest and ``python -m verify`` iterate.

A claim is one function. Its first docstring line states the claim in words, its second line cites
the paper (``[LCG24] Lemma 12, claim C6``). Its arguments are drawn by the Hypothesis strategies
given to :func:`claim`; the theorem's hypotheses are ``assume(...)``; the body computes and ends in
one :func:`check` whose message prints the quantities involved. A claim with no strategies runs
once (a deterministic check). A claim registered with ``kind="measure"`` returns a
:class:`Measurement` instead (for O(.) constants that cannot pass or fail).

Adding a claim to the suite is adding one decorated function to a module listed in
:data:`properties.catalog.CLAIM_MODULES`; nothing else needs to change.
"""

from __future__ import annotations

import contextvars
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import hypothesis
from hypothesis.strategies import SearchStrategy

from model.errors import InvalidParameter, UnknownClaim

__all__ = [
    "CLAIMS",
    "Claim",
    "ClaimViolation",
    "Inconclusive",
    "Measurement",
    "Recorder",
    "Registry",
    "attach",
    "attach_row",
    "check",
    "check_at_most",
    "claim",
]

Kind = Literal["property", "measure"]
_ID = re.compile(r"^[A-Z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$")


class ClaimViolation(AssertionError):
    """Raised by :func:`check` when a claim's inequality or identity fails on an input."""


class Inconclusive(Exception):
    """Raised by a claim that cannot decide (for example, a budget ran out before a verdict)."""


@dataclass(frozen=True)
class Measurement:
    """What a ``measure`` claim returns: an implied constant, its trend, and supporting data."""

    value: float
    trend: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    """A registered claim: its ID, words, paper reference, and the function that checks it."""

    id: str
    statement: str
    paper_ref: str
    section: str
    function: Callable[..., Any]
    strategies: Mapping[str, SearchStrategy[Any]]
    examples: tuple[Mapping[str, Any], ...] = ()
    kind: Kind = "property"
    target: bool = False
    budget: float = 1.0


@dataclass
class Recorder:
    """Evidence collected while a claim runs: how many checks, and the worst margin seen."""

    examples: int = 0
    checks: int = 0
    worst_margin: float = math.inf
    worst_case: str = ""
    worst_ratio: float | None = None
    #: Whether ``check`` feeds the closeness ratio to ``hypothesis.target`` (claims with target=True).
    targeting: bool = False
    #: Extra evidence a claim attaches (tables, plot data): JSON-ready values, by key.
    attachments: dict[str, Any] = field(default_factory=dict)

    def record(self, margin: float, message: str, ratio: float | None) -> None:
        self.checks += 1
        if margin < self.worst_margin or self.checks == 1:
            self.worst_margin = margin
            self.worst_case = message
        if ratio is not None and (self.worst_ratio is None or ratio > self.worst_ratio):
            self.worst_ratio = ratio


_RECORDER: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("recorder", default=None)


def active_recorder() -> contextvars.ContextVar[Recorder | None]:
    """The context variable the runner sets while a claim executes."""
    return _RECORDER


def check(ok: bool, *, margin: float, message: str, ratio: float | None = None) -> None:
    """The one check that ends a claim: record the margin, raise :class:`ClaimViolation` if not ok.

    ``margin`` is how far the input is from violating the claim, in the claim's own units
    (right side + slack - left side for an inequality); negative when violated. ``ratio``, when
    given, is the dimensionless closeness to a violation (left side / (right side + slack), > 1
    when violated); it is reported as evidence, and for claims registered with ``target=True`` it is
    passed to ``hypothesis.target`` so the search climbs towards a violation.
    """
    margin = float(margin)
    recorder = _RECORDER.get()
    if ratio is not None:
        ratio = float(ratio)
        if math.isnan(ratio):
            ratio = math.inf
    if recorder is not None:
        recorder.record(margin, message, ratio)
        if recorder.targeting and ratio is not None and math.isfinite(ratio):
            hypothesis.target(ratio, label="closeness to violation")
    if not ok or math.isnan(margin):
        raise ClaimViolation(f"{message} (margin {margin:.3g})")


def attach(key: str, value: Any) -> None:
    """Add ``value`` (JSON-ready: numbers, strings, lists, dicts) to the running claim's evidence as ``key``.

    ``attach("plot", {...})`` hands plot data to the report's renderer (:mod:`verify.plots`).
    Outside a claim run it does nothing.
    """
    recorder = _RECORDER.get()
    if recorder is not None:
        recorder.attachments[key] = value


def attach_row(key: str, row: Any) -> None:
    """Append ``row`` (JSON-ready) to the list the running claim's evidence holds as ``key``: one row per
    Hypothesis example, say. Outside a claim run it does nothing."""
    recorder = _RECORDER.get()
    if recorder is not None:
        recorder.attachments.setdefault(key, []).append(row)


def check_at_most(value: float, bound: float, *, message: str) -> None:
    """:func:`check` that ``value <= bound``, with margin ``bound - value`` and ratio ``value / bound``."""
    value, bound = float(value), float(bound)
    ratio = value / bound if bound > 0 else (0.0 if value == 0 else math.inf)
    check(value <= bound, margin=bound - value, ratio=ratio, message=message)


class Registry:
    """An ordered mapping from claim ID to :class:`Claim`, filled by the :meth:`claim` decorator."""

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}

    def claim(
        self,
        claim_id: str,
        *,
        section: str,
        given: Mapping[str, SearchStrategy[Any]] | None = None,
        examples: Sequence[Mapping[str, Any]] = (),
        kind: Kind = "property",
        target: bool = False,
        budget: float = 1.0,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function as claim ``claim_id`` (see the module docstring).

        ``target=True`` turns on Hypothesis's target phase, which hill-climbs on the ratio given to
        :func:`check`. It pays off for inequalities whose two sides can come close (the paper's
        bounds); on inputs with hundreds of choices (a dense W) it was seen to run for minutes, so
        it is opt-in.

        ``budget`` scales the profile's example count for this claim (0.1: a tenth, at least one), for
        claims whose every example costs a deterministic integral rather than a forward pass.
        """
        if not isinstance(claim_id, str) or not _ID.match(claim_id):
            raise InvalidParameter(f"claim ID must look like 'C9b' or 'C5.L9', got {claim_id!r}")
        if claim_id in self._claims:
            raise InvalidParameter(f"claim ID {claim_id!r} is registered twice")
        if not (isinstance(budget, float) and 0 < budget <= 1):
            raise InvalidParameter(f"claim budget must be a float in (0, 1], got {budget!r}")
        if kind not in ("property", "measure"):
            raise InvalidParameter(f"claim kind must be 'property' or 'measure', got {kind!r}")

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            lines = [line.strip() for line in (function.__doc__ or "").strip().splitlines()]
            if len(lines) < 2 or not lines[0] or not lines[1]:
                raise InvalidParameter(
                    f"claim {claim_id}: the docstring's first line must state the claim and its "
                    "second line cite the paper"
                )
            suffix = f"claim {claim_id}"
            if not lines[1].endswith(suffix):
                raise InvalidParameter(
                    f"claim {claim_id}: the docstring's second line must cite the paper and end with "
                    f"'{suffix}', got {lines[1]!r}"
                )
            self._claims[claim_id] = Claim(
                id=claim_id,
                statement=lines[0],
                paper_ref=lines[1][: -len(suffix)].rstrip(" ,;"),
                section=section,
                function=function,
                strategies=dict(given or {}),
                examples=tuple(dict(example) for example in examples),
                kind=kind,
                target=target,
                budget=budget,
            )
            return function

        return register

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._claims

    def ids(self) -> list[str]:
        return list(self._claims)

    def get(self, claim_id: str) -> Claim:
        try:
            return self._claims[claim_id]
        except KeyError:
            raise UnknownClaim(f"no claim with ID {claim_id!r}; known IDs: {', '.join(self._claims)}") from None

    def select(self, claim_ids: Sequence[str] | None) -> list[Claim]:
        """The claims with these exact IDs (all claims for ``None``), in registry order."""
        if claim_ids is None:
            return list(self)
        wanted = [self.get(claim_id) for claim_id in claim_ids]  # raises on an unknown ID
        return [c for c in self if c in wanted]


#: The project's registry; claim modules register into it on import (see properties.catalog).
CLAIMS = Registry()
claim = CLAIMS.claim
