"""The canonical report: one JSON document per run, from which every rendering is made.

Shape (schema 1; later issues and users rely on it)::

    {"schema": 1, "tool": "onenn-verify", "seed": 0, "profile": "ci", "fault": null, "started": "...",
     "seconds": 12.3, "versions": {"python": ..., "torch": ..., ...},
     "assumptions": [{"name", "value", "source", "used_in"}, ...],   (verify.ledger)
     "summary": {"claims": 13, "holds": 13, "refuted": 0, ..., "unexpected": []},
     "claims": [{"id", "statement", "paper_ref", "section", "verdict", "expected",
                 "expected_detail", "as_expected", "evidence": {...}, "seconds"}, ...]}

Non-finite floats are written as the strings "inf", "-inf", "nan" so the file is strict JSON.
Files are written atomically (a temporary file renamed into place): a failed run never leaves a
partial report.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import math
import os
import platform
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from properties.engine import ClaimResult
from properties.expected import VERDICTS
from verify.ledger import assumptions

__all__ = ["SCHEMA", "build_report", "dumps", "versions", "write_atomic"]

SCHEMA = 1
_PACKAGES = ("onenn-verify", "torch", "numpy", "scipy", "sympy", "hypothesis", "matplotlib")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a verdict can depend on."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def build_report(
    results: Sequence[ClaimResult],
    *,
    seed: int,
    profile: str,
    seconds: float,
    started: _dt.datetime | None = None,
    fault: str | None = None,
) -> dict[str, Any]:
    """The report dictionary for ``results`` (see the module docstring)."""
    counts = {verdict: sum(r.verdict == verdict for r in results) for verdict in VERDICTS}
    started = started or _dt.datetime.now(_dt.UTC)
    return _clean(
        {
            "schema": SCHEMA,
            "tool": "onenn-verify",
            "seed": seed,
            "profile": profile,
            "fault": fault,
            "started": started.isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "versions": versions(),
            "assumptions": assumptions(),
            "summary": {
                "claims": len(results),
                **counts,
                "unexpected": [r.id for r in results if not r.as_expected],
            },
            "claims": [r.to_json() for r in results],
        }
    )


def dumps(report: dict[str, Any]) -> str:
    """Strict JSON text of a report, stable key order."""
    return json.dumps(report, indent=2, allow_nan=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
