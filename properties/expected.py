"""The committed expected verdicts, read by both pytest and ``python -m verify``.

One JSON file, ``properties/expected.json``, maps claim IDs to the verdict the suite expects:
``{"verdict": "holds"}``, ``{"verdict": "refuted", "reason": "<the minimal counterexample>"}`` or
``{"verdict": "measured", "value": 1.23, "rel_tol": 0.01}``. A refuted entry may name a ``witness``:
text the refutation's message must contain (the counterexample, e.g. ``"(N, d) = (1, 2)"``), so a
refutation that moves to a different counterexample is noticed too. A claim without an entry is expected
to hold, so a newly added claim needs no edit here. A verdict that differs from its expected one is
what turns CI red (``verify`` exits 1; pytest fails, or an expected failure unexpectedly passes).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.errors import InvalidParameter

__all__ = ["EXPECTED_PATH", "VERDICTS", "Expected", "load_expected", "matches"]

EXPECTED_PATH = Path(__file__).with_name("expected.json")
VERDICTS = ("holds", "refuted", "measured", "inconclusive", "error")


@dataclass(frozen=True)
class Expected:
    """The expected outcome of one claim."""

    verdict: str = "holds"
    reason: str = ""
    value: float | None = None
    rel_tol: float | None = None
    witness: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict}
        if self.reason:
            out["reason"] = self.reason
        if self.value is not None:
            out["value"] = self.value
            out["rel_tol"] = self.rel_tol
        if self.witness:
            out["witness"] = self.witness
        return out


#: Verdicts a claim may be expected to have: never ``error`` (a crash is a bug to fix, not a result).
EXPECTABLE = ("holds", "refuted", "measured", "inconclusive")


def _parse(claim_id: str, entry: Any, source: Path) -> Expected:
    if not isinstance(entry, dict) or entry.get("verdict") not in EXPECTABLE:
        raise InvalidParameter(
            f"{source}: entry {claim_id!r} must be an object with a verdict in {EXPECTABLE}, got {entry!r}"
        )
    value, rel_tol = entry.get("value"), entry.get("rel_tol")
    if entry["verdict"] == "measured" and not (
        isinstance(value, (int, float)) and isinstance(rel_tol, (int, float)) and rel_tol >= 0
    ):
        raise InvalidParameter(f"{source}: measured claim {claim_id!r} needs numeric value and rel_tol >= 0")
    return Expected(
        verdict=entry["verdict"],
        reason=str(entry.get("reason", "")),
        value=None if value is None else float(value),
        rel_tol=None if rel_tol is None else float(rel_tol),
        witness=str(entry.get("witness", "")),
    )


def load_expected(path: Path | str | None = None) -> dict[str, Expected]:
    """Read the expected-verdicts file (default :data:`EXPECTED_PATH`)."""
    source = Path(path) if path is not None else EXPECTED_PATH
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidParameter(f"cannot read expected verdicts from {source}: {exc}") from exc
    except UnicodeDecodeError:
        raise InvalidParameter(f"cannot read expected verdicts from {source}: not UTF-8 text") from None
    claims = raw.get("claims") if isinstance(raw, dict) else None
    if not isinstance(claims, dict):
        raise InvalidParameter(f"{source}: expected a top-level object with a 'claims' object")
    return {claim_id: _parse(claim_id, entry, source) for claim_id, entry in claims.items()}


def matches(verdict: str, value: float | None, expected: Expected, message: str = "") -> bool:
    """Whether an obtained verdict (measured value, refutation message) agrees with the expected one."""
    if verdict != expected.verdict:
        return False
    if verdict == "refuted" and expected.witness and expected.witness not in message:
        return False
    if verdict == "measured" and expected.value is not None:
        if value is None or not math.isfinite(value):
            return False
        tol = (expected.rel_tol or 0.0) * max(abs(expected.value), 1e-300)
        return abs(value - expected.value) <= tol
    return True
