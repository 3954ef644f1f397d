"""The README's worked example of adding a claim runs, holds, and catches a planted fault."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import properties.registry
from properties.engine import run_claim
from properties.registry import Registry

README = Path(__file__).resolve().parents[1] / "README.md"


def _example_registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Adding a claim") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "the README lost its worked example"
    registry = Registry()
    monkeypatch.setattr(properties.registry, "claim", registry.claim)
    exec(compile(code.group(1), str(README), "exec"), {})
    return registry


def test_readme_example_claim_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _example_registry(monkeypatch)
    result = run_claim(registry.get("X1"))
    assert result.verdict == "holds", dict(result.evidence)


def test_readme_example_claim_catches_a_planted_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _example_registry(monkeypatch)
    assert run_claim(registry.get("X1"), fault="xi2_sign_flipped").verdict == "refuted"


def test_readme_table_states_every_refuted_and_measured_claim() -> None:
    from properties.expected import load_expected

    rows = {line.split("|")[1].strip(): line for line in README.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and line.count("|") >= 5}
    for claim_id, expected in load_expected().items():
        if expected.verdict in ("refuted", "measured"):
            assert claim_id in rows and expected.verdict in rows[claim_id], f"README table misses {claim_id}"
