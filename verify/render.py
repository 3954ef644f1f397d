"""Renderers of the canonical report (:mod:`verify.report`): a terminal table and Markdown.

They read only the report dictionary, never the claims, so a saved ``report.json`` renders the
same way as a fresh run.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["evidence_summary", "markdown", "summary_line", "table"]


def _number(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "-"
    if isinstance(value, float) and math.isfinite(value) and value != 0 and not (1e-3 <= abs(value) < 1e4):
        return f"{value:.3g}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _ratio(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:.6g}"


def _first_line(text: str, width: int = 100) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = " ".join(lines)
    return line if len(line) <= width else line[: width - 3] + "..."


def evidence_summary(entry: dict[str, Any], *, width: int = 100) -> str:
    """One line of evidence for a claim entry of the report."""
    ev = entry.get("evidence", {})
    verdict = entry.get("verdict")
    if verdict == "measured":
        return _first_line(f"value {_number(ev.get('value'))}; trend: {ev.get('trend', '')}", width)
    if verdict == "refuted":
        return _first_line(ev.get("message", ""), width)
    if verdict == "error":
        return _first_line(ev.get("error", ""), width)
    if verdict == "inconclusive":
        return _first_line(ev.get("reason", ""), width)
    parts = [f"{ev.get('examples', 0)} examples"]
    if ev.get("worst_ratio") is not None:
        parts.append(f"closest approach lhs/rhs {_ratio(ev['worst_ratio'])}")
    elif ev.get("worst_margin") is not None:
        parts.append(f"worst margin {_number(ev['worst_margin'])}")
    return _first_line(", ".join(parts), width)


def summary_line(report: dict[str, Any]) -> str:
    """E.g. '13 claims: 12 holds, 1 refuted; all as expected (seed 0, profile ci, 11.2 s)'."""
    s = report["summary"]
    counts = ", ".join(f"{s[v]} {v}" for v in ("holds", "refuted", "measured", "inconclusive", "error") if s.get(v))
    unexpected = s.get("unexpected", [])
    state = "all as expected" if not unexpected else f"UNEXPECTED: {', '.join(unexpected)}"
    if report.get("parameters"):  # --set: the committed verdicts are for the default setting
        given = ", ".join(f"{k}={v}" for k, v in report["parameters"].items())
        state = f"not compared with the committed verdicts (parameters {given})"
    if report.get("fault"):
        state += f"; planted fault {report['fault']}"
    return (
        f"{s['claims']} claims: {counts or 'none run'}; {state} "
        f"(seed {report['seed']}, profile {report['profile']}, {report['seconds']:.1f} s)"
    )


def table(report: dict[str, Any]) -> str:
    """The verdict table for a terminal: ID, reference, verdict (expected when it differs), evidence, seconds."""
    rows = [("ID", "paper reference", "verdict", "evidence", "s")]
    for entry in report["claims"]:
        verdict = entry["verdict"]
        if not entry["as_expected"] and not report.get("parameters"):
            verdict = f"{verdict} (expected {entry['expected']})"
        rows.append(
            (
                entry["id"],
                _first_line(entry["paper_ref"], 44),
                verdict,
                evidence_summary(entry, width=70),
                f"{entry['seconds']:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for entry in report["claims"]:
        ev = entry.get("evidence", {})
        if entry["verdict"] in ("refuted", "error") and ev.get("counterexample"):
            lines += [
                "",
                f"{entry['id']} {entry['verdict']}: {_first_line(ev.get('message') or ev.get('error', ''), 200)}",
            ]
            lines += [ev["counterexample"]]
            if ev.get("reproduce"):
                lines.append(f"reproduce: {ev['reproduce']}")
    return "\n".join([*lines, "", summary_line(report)]) + "\n"


def _escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(report: dict[str, Any], plots: dict[str, str] | None = None) -> str:
    """The report as Markdown: summary, verdict tables by section, plots, refutations, environment.

    ``plots`` maps claim IDs to image files beside the report (from :func:`verify.plots.write_plots`).
    """
    out = ["# onenn-verify report", "", summary_line(report), ""]
    sections: dict[str, list[dict[str, Any]]] = {}
    for entry in report["claims"]:
        sections.setdefault(entry["section"], []).append(entry)
    for section, entries in sections.items():
        out += [f"## {section}", "", "| ID | claim | paper | verdict | evidence | s |", "|---|---|---|---|---|---|"]
        for e in entries:
            compared = not (e["as_expected"] or report.get("parameters"))
            verdict = f"**{e['verdict']}**" + (f" (expected {e['expected']})" if compared else "")
            out.append(
                f"| {e['id']} | {_escape(e['statement'])} | {_escape(e['paper_ref'])} | {verdict} | "
                f"{_escape(evidence_summary(e, width=160))} | {e['seconds']:.1f} |"
            )
        out.append("")
        for e in entries:
            if plots and e["id"] in plots:
                out += [f"![{e['id']}: {_escape(e['statement'])}]({plots[e['id']]})", ""]
    details = [e for e in report["claims"] if e["verdict"] in ("refuted", "error")]
    if details:
        out += ["## Counterexamples and errors", ""]
        for e in details:
            ev = e["evidence"]
            out += [f"### {e['id']}: {e['verdict']}", "", _escape(ev.get("message") or ev.get("error", "")), ""]
            if ev.get("counterexample"):
                out += ["```", ev["counterexample"], "```", ""]
            if ev.get("reproduce"):
                out += [f"Reproduce: `{ev['reproduce']}`", ""]
            if ev.get("replay"):
                out += [f"The call above evaluates as Python after `{ev['replay']}`.", ""]
    measured = [e for e in report["claims"] if e["verdict"] == "measured"]
    if measured:
        out += ["## Measured constants", "",
                "O(.) and poly(.) constants cannot pass or fail: each is measured, with its trend.", ""]
        for e in measured:
            ev = e["evidence"]
            out += [f"- **{e['id']}** = {_number(ev.get('value'))} ({_escape(e['statement'])}) "
                    f"{_escape(ev.get('trend', ''))}"]
        out.append("")
    if report.get("assumptions"):
        out += ["## Assumptions ledger", "", "Every constant the suite had to choose, and where it is used.", "",
                "| constant | value | source | used in |", "|---|---|---|---|"]
        out += [f"| {_escape(row['name'])} | {_escape(str(row['value']))} | `{row['source']}` | "
                f"{_escape(row['used_in'])} |" for row in report["assumptions"]]
        out.append("")
    out += ["## Environment", "", "| package | version |", "|---|---|"]
    out += [f"| {name} | {version} |" for name, version in report["versions"].items()]
    out += [
        "",
        f"Seed {report['seed']}, Hypothesis profile `{report['profile']}`, started {report['started']}, "
        f"wall time {report['seconds']:.1f} s.",
        "",
    ]
    return "\n".join(out)
