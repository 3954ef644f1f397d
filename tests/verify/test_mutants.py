"""verify --mutants: every planted fault in isolation against its target claims; a survivor exits 1."""

from __future__ import annotations

import io

import pytest

import model.attention as attention
from properties import faults
from verify.cli import main


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stream=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_catalogue_is_caught_and_printed_per_fault() -> None:
    code, out, err = _run(["--mutants", "--claims", "C9a,C12b", "--profile", "quick"])
    assert code == 0, out + err
    assert "| softmax_wrong_axis | `model.attention._softmax_over_keys` | C9a | - |" in out
    assert "of 4 planted faults caught by every target claim" in out and "0 survived" in out
    assert "softmax_wrong_axis -> C9a: caught" in err


def test_a_surviving_fault_exits_one(monkeypatch: pytest.MonkeyPatch) -> None:
    harmless = faults.Fault("harmless_rename", "a replacement that changes nothing", "model.attention",
                            "family_W", attention.family_W, ("M3",))
    monkeypatch.setitem(faults.FAULTS, "harmless_rename", harmless)
    code, out, _ = _run(["--mutants", "--claims", "M3", "--profile", "quick", "-q"])
    assert code == 1 and "| harmless_rename | `model.attention.family_W` | - | M3 |" in out


def test_the_catalogue_has_at_least_thirty_domain_faults_across_the_packages() -> None:
    modules = {fault.module for fault in faults.FAULTS.values()}
    assert len(faults.FAULTS) >= 30
    assert {"model.attention", "model.exact", "model.dynamics", "model.shift", "model.multiclass"} <= modules
