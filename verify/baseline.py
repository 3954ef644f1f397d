"""Regression gating against a previous report, and rewriting the committed expected verdicts.

``python -m verify --baseline OLD.json`` compares this run's report with an earlier one, claim by claim
(claims that did not run this time are left out):

* a changed verdict is a regression, unless the earlier verdict was ``error`` or ``inconclusive``, or was
  itself unexpected (against properties/expected.json) and the new one is as expected: then it is an
  improvement;
* a refutation whose counterexample changed is a regression (the paper's failure moved);
* a measured constant that moved by more than its tolerance (the ``rel_tol`` of its expected entry, else
  DEFAULT_REL_TOL) is a regression;
* a claim the baseline does not have is listed as new.

Regressions make ``verify`` exit 1; the changes are printed as a table and stored in report.json under
``baseline``. Without ``--baseline`` the committed expected verdicts are the baseline (exit 1 when a
verdict differs from its expected one). ``--update-baseline`` rewrites the expected-verdicts file from
this run, deliberately: verdicts, measured values (keeping each entry's tolerance), and for a refutation
its reason and witness (kept when the verdict did not change, else the new counterexample).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from model.errors import InvalidParameter
from properties.expected import Expected
from verify.report import SCHEMA

__all__ = ["DEFAULT_REL_TOL", "Change", "compare", "diff_table", "dumps_expected", "load_baseline", "updated_expected"]

#: Tolerance of a measured constant without an expected entry of its own.
DEFAULT_REL_TOL = 1e-6


@dataclass(frozen=True)
class Change:
    """One difference between the baseline and this run."""

    id: str
    kind: str  # "verdict", "counterexample", "value" or "new"
    baseline: str
    now: str
    regression: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def load_baseline(path: Path) -> dict[str, Any]:
    """A previous report.json; :class:`InvalidParameter` naming the problem when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidParameter(f"cannot read the baseline {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InvalidParameter(f"the baseline {path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    except UnicodeDecodeError:
        raise InvalidParameter(f"the baseline {path} is not UTF-8 text (not a report.json)") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("claims"), list):
        raise InvalidParameter(f"the baseline {path} is not a report.json of schema {SCHEMA} (no schema or claims)")
    for entry in data["claims"]:
        if not (isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(entry.get("verdict"), str)):
            raise InvalidParameter(f"the baseline {path} has a claim entry without an id and a verdict: {entry!r:.80}")
    return data


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if value in ("inf", "-inf", "nan"):
        return float(value)
    return None


def _counterexample(entry: dict[str, Any]) -> str:
    evidence = entry.get("evidence") or {}
    return str(evidence.get("counterexample", evidence.get("message", "")))


def compare(report: dict[str, Any], baseline: dict[str, Any], expected: dict[str, Expected]) -> list[Change]:
    """The changes from ``baseline`` to ``report`` (module docstring), in the report's claim order."""
    old = {entry["id"]: entry for entry in baseline["claims"]}
    changes = []
    for entry in report["claims"]:
        claim_id, verdict = entry["id"], entry["verdict"]
        before = old.get(claim_id)
        if before is None:
            changes.append(Change(claim_id, "new", "-", verdict, False))
        elif before["verdict"] != verdict:
            better = before["verdict"] in ("error", "inconclusive") or (
                not before.get("as_expected", True) and bool(entry.get("as_expected")))
            changes.append(Change(claim_id, "verdict", before["verdict"], verdict, not better))
        elif verdict == "refuted" and _counterexample(before) != _counterexample(entry):
            changes.append(Change(claim_id, "counterexample", _counterexample(before), _counterexample(entry), True))
        elif verdict == "measured":
            a = _number((before.get("evidence") or {}).get("value"))
            b = _number((entry.get("evidence") or {}).get("value"))
            own = expected[claim_id].rel_tol if claim_id in expected else None
            tol = own if own is not None else DEFAULT_REL_TOL
            same = a is not None and b is not None and (a == b or (math.isnan(a) and math.isnan(b))
                                                        or abs(b - a) <= tol * abs(a))
            if not same:
                changes.append(Change(claim_id, "value", f"{a!r}", f"{b!r} (tolerance {tol:g} relative)", True))
    return changes


def _cell(text: str, width: int = 60) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 3] + "..."


def diff_table(changes: list[Change], source: str) -> str:
    """A Markdown table of the changes, regressions first, headed by their counts."""
    regressions = [c for c in changes if c.regression]
    improvements = [c for c in changes if not c.regression and c.kind != "new"]
    new = [c for c in changes if c.kind == "new"]
    lines = [f"Baseline {source}: {len(regressions)} regression(s), {len(improvements)} improvement(s), "
             f"{len(new)} new claim(s)"]
    if changes:
        lines += ["", "| claim | change | baseline | now | |", "|---|---|---|---|---|"]
        for c in regressions + improvements + new:
            mark = "REGRESSION" if c.regression else ("new" if c.kind == "new" else "improvement")
            lines.append(f"| {c.id} | {c.kind} | {_cell(c.baseline)} | {_cell(c.now)} | {mark} |")
    return "\n".join(lines) + "\n"


def updated_expected(report: dict[str, Any], current: dict[str, Expected]) -> dict[str, Expected]:
    """The expected verdicts after this run (module docstring); claims that did not run keep their entries.

    Refuses (InvalidParameter) to record an ``error`` or ``inconclusive`` verdict: those are not results.
    """
    out = dict(current)
    for entry in report["claims"]:
        claim_id, verdict = entry["id"], entry["verdict"]
        if verdict in ("error", "inconclusive"):
            raise InvalidParameter(f"refusing to record {claim_id}'s verdict {verdict!r} as expected: fix or rerun it")
        before = current.get(claim_id, Expected())
        evidence = entry.get("evidence") or {}
        if verdict == "holds":
            out.pop(claim_id, None)  # no entry: expected to hold
        elif verdict == "measured":
            value = _number(evidence.get("value"))
            if value is None or not math.isfinite(value):
                raise InvalidParameter(f"{claim_id}: a measured value must be a finite number, "
                                       f"got {evidence.get('value')!r}")
            tol = before.rel_tol if before.rel_tol is not None else DEFAULT_REL_TOL
            out[claim_id] = Expected("measured", value=value, rel_tol=tol)
        elif before.verdict == "refuted" and (not before.witness or before.witness in str(evidence.get("message", ""))):
            out[claim_id] = before  # the same refutation: keep its reason and witness
        else:
            out[claim_id] = Expected("refuted", reason=_cell(_counterexample(entry), 400))
    return out


def dumps_expected(expected: dict[str, Expected]) -> str:
    """The expected-verdicts file's text (properties/expected.json's format)."""
    return json.dumps({"schema": 1, "claims": {k: v.to_json() for k, v in expected.items()}}, indent=2) + "\n"
