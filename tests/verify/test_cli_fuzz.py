"""Hostile command lines, fuzzed: ``verify.cli.main`` exits 2 with one line on stderr and leaves no report.

The contract (``verify/cli.py`` docstring): a usage or internal error -- malformed baseline JSON, an
unwritable --out, unknown claim IDs, a bad --set, --jobs < 1, an unknown --fault, --confirm of an
unregistered ID -- exits 2 with exactly one line on stderr, before any claim runs, so --out holds no
report.json (reports are written atomically, and only after the run). Runs use ``--profile quick``, -q
(no progress lines) and the cheap claim M3, and every failure is checked before a claim could run.
"""

from __future__ import annotations

import io
import json
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from properties.catalog import load_claims
from properties.faults import FAULTS
from properties.parameters import PARAMETERS
from verify.baseline import SCHEMA
from verify.cli import main
from verify.confirm import CONFIRMERS

#: Each example parses a command line and fails before any claim runs: a few dozen are cheap.
CLI_FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
QUICK = ["--profile", "quick", "-q"]
CHEAP_CLAIM = "M3"
KNOWN_IDS = frozenset(load_claims().ids())


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stream=out, err=err)
    return code, out.getvalue(), err.getvalue()


@contextmanager
def _workdir() -> Iterator[Path]:
    """A fresh directory per Hypothesis example (pytest's tmp_path is per test, not per example)."""
    with tempfile.TemporaryDirectory(prefix="cli-fuzz-") as name:
        yield Path(name)


def _files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")) if directory.exists() else []


def _fails_cleanly(argv: list[str], out_dir: Path | None = None) -> str:
    """Run ``argv``; assert exit 2, one line on stderr, nothing on stdout and no report in ``out_dir``."""
    code, out, err = _run(argv)
    assert code == 2, (argv, code, err)
    assert err.startswith("verify: ") and err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert out == "", repr(out)
    if out_dir is not None:
        assert not any(name.endswith(("report.json", "report.md")) for name in _files(out_dir)), _files(out_dir)
    return err


# ---------------------------------------------------------------- malformed baseline JSON

_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5))
_BAD_ENTRIES = st.one_of(
    _JSON_SCALARS,
    st.fixed_dictionaries({"id": _JSON_SCALARS}),
    st.fixed_dictionaries({"verdict": st.text(max_size=5)}),
    st.fixed_dictionaries(
        {"id": st.text(max_size=5), "verdict": st.one_of(st.none(), st.integers(), st.lists(st.none()))}),
)
#: Documents that are JSON but not a report.json: the wrong type, no or a wrong schema, claims not a list, bad entries.
_NOT_A_REPORT = st.one_of(
    _JSON_SCALARS,
    st.lists(_JSON_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=5).filter(lambda k: k not in ("schema", "claims")), _JSON_SCALARS, max_size=3),
    st.fixed_dictionaries({"schema": _JSON_SCALARS.filter(lambda v: v != SCHEMA), "claims": st.just([])}),
    st.fixed_dictionaries({"schema": st.just(SCHEMA), "claims": _JSON_SCALARS}),
    st.fixed_dictionaries({"schema": st.just(SCHEMA), "claims": st.lists(_BAD_ENTRIES, min_size=1, max_size=3)}),
).map(json.dumps)


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


_MALFORMED = st.one_of(
    st.just(""),
    st.text(max_size=40).filter(_not_json),
    _NOT_A_REPORT,
    _NOT_A_REPORT.map(lambda text: text[: len(text) // 2]).filter(_not_json),  # truncated mid-write
)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@CLI_FUZZ
@given(content=_MALFORMED.map(str.encode))
def test_a_malformed_baseline_exits_2_with_one_line_and_no_report(content: bytes) -> None:
    _baseline_fails_cleanly(content)


def _baseline_fails_cleanly(content: bytes) -> None:
    with _workdir() as tmp:
        baseline = tmp / "old.json"
        baseline.write_bytes(content)
        err = _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(tmp / "out"), "--baseline", str(baseline)],
                             tmp / "out")
    assert "baseline" in err


@CLI_FUZZ
@given(content=st.binary(min_size=1, max_size=40).filter(_not_utf8))
def test_a_baseline_that_is_not_utf8_is_named_as_a_bad_baseline(content: bytes) -> None:
    _baseline_fails_cleanly(content)


@pytest.mark.parametrize("where", ["missing", "directory"])
def test_an_unreadable_baseline_exits_2(tmp_path: Path, where: str) -> None:
    baseline = tmp_path / "old.json"
    if where == "directory":
        baseline.mkdir()
    err = _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(tmp_path / "out"), "--baseline", str(baseline)],
                         tmp_path / "out")
    assert "baseline" in err


@CLI_FUZZ
@given(content=st.one_of(st.text(max_size=40).filter(_not_json), st.lists(st.integers(), max_size=3).map(json.dumps)))
def test_a_malformed_expected_file_exits_2_with_one_line(content: str) -> None:
    with _workdir() as tmp:
        expected = tmp / "expected.json"
        expected.write_text(content)
        _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(tmp / "out"), "--expected", str(expected)],
                       tmp / "out")


@CLI_FUZZ
@given(content=st.binary(min_size=1, max_size=40).filter(_not_utf8))
def test_an_expected_file_that_is_not_utf8_is_named_as_such(content: bytes) -> None:
    with _workdir() as tmp:
        expected = tmp / "expected.json"
        expected.write_bytes(content)
        err = _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(tmp / "out"), "--expected", str(expected)],
                             tmp / "out")
    assert "internal error" not in err and "expected" in err


# ---------------------------------------------------------------- unwritable output


@pytest.mark.parametrize("below", ["sub", "a/b/c", "new\nline"])
def test_an_out_directory_under_a_file_exits_2_before_running(tmp_path: Path, below: str) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(blocker / below)])
    assert _files(tmp_path) == ["file"] and blocker.read_text() == "not a directory"


def test_an_out_path_that_is_a_file_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "report"
    blocker.write_text("keep me")
    _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(blocker)])
    assert _files(tmp_path) == ["report"] and blocker.read_text() == "keep me"


def test_an_unwritable_json_path_exits_2_before_writing_any_report(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(tmp_path / "out"), "--json", str(blocker / "r.json")],
                   tmp_path / "out")


# ---------------------------------------------------------------- unknown names and bad numbers

_ID_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "._-\n ", min_size=1, max_size=12)


@CLI_FUZZ
@given(claim_id=_ID_TEXT.filter(lambda s: s.strip() and "," not in s and s.strip() not in KNOWN_IDS))
def test_an_unknown_claim_id_exits_2_with_one_line(claim_id: str) -> None:
    with _workdir() as tmp:
        err = _fails_cleanly(["--claims", f"{CHEAP_CLAIM},{claim_id}", *QUICK, "--out", str(tmp / "out")], tmp / "out")
    assert "ID" in err


@CLI_FUZZ
@given(name=_ID_TEXT.filter(lambda s: s not in FAULTS))
def test_an_unknown_fault_exits_2_with_one_line(name: str) -> None:
    with _workdir() as tmp:
        err = _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(tmp / "out"), "--fault", name], tmp / "out")
    assert "fault" in err


@CLI_FUZZ
@given(claim_id=_ID_TEXT.filter(lambda s: s not in CONFIRMERS))
def test_confirming_an_unregistered_id_exits_2_with_one_line(claim_id: str) -> None:
    assert "confirmation" in _fails_cleanly(["--confirm", claim_id, *QUICK])


@CLI_FUZZ
@given(jobs=st.integers(max_value=0))
def test_jobs_below_one_exits_2_with_one_line(jobs: int) -> None:
    with _workdir() as tmp:
        assert "--jobs" in _fails_cleanly(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(tmp / "out"), "--jobs",
                                           str(jobs)], tmp / "out")


_NUMBER_TEXT = st.one_of(st.sampled_from(["", "abc", "nan", "inf", "-inf", "1e999", "0x10", "1,5", "--", "1.5.2"]),
                         st.integers(max_value=0).map(str), st.floats(max_value=0.0).map(repr))
_BAD_SET = st.one_of(
    _ID_TEXT.filter(lambda s: "=" not in s and s.strip() and "," not in s),  # no '='
    st.tuples(_ID_TEXT.filter(lambda s: s.strip() not in PARAMETERS and "," not in s and "=" not in s),
              st.just("1")).map("=".join),  # unknown name
    st.tuples(st.sampled_from(sorted(PARAMETERS)), _NUMBER_TEXT.filter(lambda v: "," not in v)).map("=".join),
)


@CLI_FUZZ
@given(assignment=_BAD_SET)
def test_a_bad_set_exits_2_with_one_line(assignment: str) -> None:
    with _workdir() as tmp:
        assert "--set" in _fails_cleanly(["--claims", "C7", *QUICK, "--out", str(tmp / "out"), "--set", assignment],
                                         tmp / "out")


@pytest.mark.parametrize(
    "argv",
    [
        ["--seed", "abc"],
        ["--seed", "1.5"],
        ["--jobs", "two"],
        ["--profile", "nope"],
        ["--claims", ",,"],
        ["--claims", " "],
        ["--no-such-option"],
        ["--set", "N=32"],  # --set without a parametrised claim
        ["--claims", CHEAP_CLAIM, "--set", "N=32"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_a_usage_error_exits_2_with_one_line(tmp_path: Path, argv: list[str]) -> None:
    _fails_cleanly([*argv, "--out", str(tmp_path / "out")], tmp_path / "out")


def test_a_good_run_writes_both_reports(tmp_path: Path) -> None:
    """The control: the same command line without the hostile part succeeds and writes the reports."""
    code, _, err = _run(["--claims", CHEAP_CLAIM, *QUICK, "--out", str(tmp_path / "out")])
    assert code == 0 and err == "" and _files(tmp_path / "out") == ["report.json", "report.md"], err
