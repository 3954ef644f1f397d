"""The registry and the engine: claims register once, run to the right verdict, and report evidence."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume
from hypothesis import strategies as st

from model.errors import InvalidParameter, UnknownClaim
from properties.engine import claim_seed, run_claim
from properties.expected import Expected, load_expected, matches
from properties.registry import Measurement, Registry, check


def _registry() -> Registry:
    reg = Registry()

    @reg.claim("T1", section="test", given={"x": st.integers(0, 1000)})
    def below_ten(x: int) -> None:
        """Every integer is below ten (false).
        nowhere, claim T1
        """
        check(x < 10, margin=10 - x, message=f"x = {x}", ratio=x / 10)

    @reg.claim("T10", section="test", given={"x": st.integers(0, 1000)})
    def nonnegative(x: int) -> None:
        """Every drawn integer is nonnegative (true).
        nowhere, claim T10
        """
        check(x >= 0, margin=x, message=f"x = {x}")

    @reg.claim("T2", section="test", given={"x": st.integers()})
    def never_applies(x: int) -> None:
        """A claim whose hypothesis no input meets.
        nowhere, claim T2
        """
        assume(False)
        check(True, margin=0.0, message="")

    @reg.claim("T3", section="test")
    def crashes() -> None:
        """A claim whose code raises.
        nowhere, claim T3
        """
        raise ValueError("boom")

    @reg.claim("T4", section="test", kind="measure")
    def constant() -> Measurement:
        """An implied constant.
        nowhere, claim T4
        """
        return Measurement(2.5, "flat", {"grid": [1, 2]})

    return reg


REG = _registry()


def test_false_property_is_refuted_with_the_minimal_counterexample() -> None:
    result = run_claim(REG.get("T1"))
    assert result.verdict == "refuted"
    assert "x=10" in result.evidence["counterexample"].replace(" ", "")
    assert result.evidence["reproduce"] == "python -m verify --claims T1 --seed 0 --profile ci"


def test_true_property_holds_with_evidence() -> None:
    result = run_claim(REG.get("T10"))
    assert result.verdict == "holds" and result.evidence["examples"] >= 100 and result.evidence["worst_margin"] == 0


def test_unsatisfiable_hypotheses_are_inconclusive() -> None:
    assert run_claim(REG.get("T2")).verdict == "inconclusive"


def test_exception_is_verdict_error_naming_it() -> None:
    result = run_claim(REG.get("T3"))
    assert result.verdict == "error" and result.evidence["error"] == "ValueError: boom"


def test_measure_claim_reports_value_and_trend() -> None:
    result = run_claim(REG.get("T4"), expected=Expected("measured", value=2.5, rel_tol=0.01))
    assert result.verdict == "measured" and result.value == 2.5 and result.as_expected


def test_select_is_by_exact_id() -> None:
    assert [c.id for c in REG.select(["T1"])] == ["T1"]


def test_unknown_id_is_a_named_error() -> None:
    with pytest.raises(UnknownClaim, match="no claim with ID 'T9'"):
        REG.select(["T9"])


def test_duplicate_id_is_rejected() -> None:
    with pytest.raises(InvalidParameter, match="registered twice"):
        REG.claim("T1", section="test")


@pytest.mark.parametrize("bad", ["", "c1", "C 1", "C1..a", 7])
def test_malformed_id_is_rejected(bad: object) -> None:
    with pytest.raises(InvalidParameter, match="claim ID must look like"):
        Registry().claim(bad, section="test")  # type: ignore[arg-type]


def test_claim_needs_statement_and_reference_lines() -> None:
    reg = Registry()
    with pytest.raises(InvalidParameter, match="docstring"):

        @reg.claim("X1", section="test")
        def undocumented() -> None:
            """Only one line."""


def test_claim_seed_is_stable_and_depends_on_the_id() -> None:
    assert claim_seed(0, "C9b") == claim_seed(0, "C9b") != claim_seed(0, "C9a") != claim_seed(1, "C9a")


def test_same_seed_gives_the_same_evidence() -> None:
    first, second = run_claim(REG.get("T10"), seed=3), run_claim(REG.get("T10"), seed=3)
    assert first.evidence == second.evidence


def test_measured_value_outside_tolerance_does_not_match() -> None:
    assert not matches("measured", 2.7, Expected("measured", value=2.5, rel_tol=0.01))
    assert not matches("holds", None, Expected("refuted"))


def test_committed_expected_file_is_valid() -> None:
    assert all(e.verdict in ("holds", "refuted", "measured", "inconclusive", "error") for e in load_expected().values())


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        json.dumps({"claims": {"C1": {"verdict": "maybe"}}}),
        json.dumps({"claims": {"C1": {"verdict": "measured"}}}),
        json.dumps({"claims": {"C1": {"verdict": "error"}}}),  # a crash is never an expected outcome
    ],
)
def test_malformed_expected_file_is_a_named_error(tmp_path: object, content: str) -> None:
    path = tmp_path / "expected.json"  # type: ignore[operator]
    path.write_text(content)
    with pytest.raises(InvalidParameter, match="expected"):
        load_expected(path)


def test_reference_line_must_name_the_claim_id() -> None:
    reg = Registry()
    with pytest.raises(InvalidParameter, match="must cite the paper and end with 'claim X2'"):

        @reg.claim("X2", section="test")
        def misfiled() -> None:
            """A claim whose reference names another ID.
            [LCG24] Lemma 1, claim X3
            """


def test_reference_is_stored_without_the_id_suffix() -> None:
    assert REG.get("T1").paper_ref == "nowhere"


def test_pinned_example_is_replayed_before_the_search() -> None:
    reg = Registry()

    @reg.claim("P1", section="test", given={"x": st.integers(0, 5)}, examples=[{"x": 1000}])
    def small(x: int) -> None:
        """Drawn integers are small; the pinned 1000 is not.
        nowhere, claim P1
        """
        check(x <= 5, margin=5 - x, message=f"x = {x}")

    result = run_claim(reg.get("P1"))
    assert result.verdict == "refuted" and "x=1000" in result.evidence["counterexample"].replace(" ", "")


def test_counterexample_prints_the_prompt_exactly() -> None:
    from properties.catalog import load_claims

    result = run_claim(load_claims().get("C9a"), fault="query_dropped_from_normaliser")
    assert "torch.tensor([[[0.6894137976242853, -0.7243677350940344]]]" in result.evidence["counterexample"]


def test_exhausted_small_search_space_still_holds() -> None:
    reg = Registry()

    @reg.claim("S1", section="test", given={"flag": st.booleans()})
    def tiny(flag: bool) -> None:
        """A claim over a two-element space, which Hypothesis exhausts long before the budget.
        nowhere, claim S1
        """
        check(flag in (True, False), margin=1.0, message=f"flag = {flag}")

    result = run_claim(reg.get("S1"))
    assert result.verdict == "holds" and result.evidence["checks"] == 2


def test_search_starved_by_its_hypotheses_is_inconclusive() -> None:
    reg = Registry()

    @reg.claim("S2", section="test", given={"x": st.integers(0, 10**6)})
    def rare(x: int) -> None:
        """A claim whose hypothesis almost no input meets.
        nowhere, claim S2
        """
        assume(x % 97 == 3)
        check(True, margin=1.0, message=f"x = {x}")

    result = run_claim(reg.get("S2"))
    assert result.verdict == "inconclusive" and "met the claim's hypotheses" in result.evidence["reason"]


def test_check_at_most_records_margin_and_ratio() -> None:
    from properties.registry import ClaimViolation, check_at_most

    check_at_most(0.0, 0.0, message="equal zeros pass")
    check_at_most(1.0, 2.0, message="below the bound passes")
    with pytest.raises(ClaimViolation, match=r"over \(margin -1\)"):
        check_at_most(3.0, 2.0, message="over")


def test_a_measure_can_attach_a_plot() -> None:
    from properties.registry import attach

    reg = Registry()

    @reg.claim("G1", section="test", kind="measure")
    def drawn() -> Measurement:
        """A measure that attaches plot data, as C7.grid does.
        nowhere, claim G1
        """
        attach("plot", {"kind": "trajectories", "series": {}})
        return Measurement(1.0, "flat")

    result = run_claim(reg.get("G1"))
    assert result.verdict == "measured" and result.evidence["plot"]["kind"] == "trajectories"
    attach("plot", {"kind": "ignored"})  # outside a run: nothing to attach to, and no error


def test_a_measure_attachment_may_not_shadow_its_measurement() -> None:
    from properties.registry import attach

    reg = Registry()

    @reg.claim("G2", section="test", kind="measure")
    def shadowing() -> Measurement:
        """A measure that attaches under the name of its own value.
        nowhere, claim G2
        """
        attach("value", 2.0)
        return Measurement(1.0, "flat")

    result = run_claim(reg.get("G2"))
    assert result.verdict == "error" and "value" in str(result.evidence)
