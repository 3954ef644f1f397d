"""Run the claims of [LCG24] and [AW26] and report which hold, which are refuted, which are measured.

usage: python -m verify [--list] [--claims ID,ID] [--seed N] [--profile NAME] [--out DIR]
                        [--json PATH|-] [--expected FILE] [--fault NAME] [--baseline OLD.json]
                        [--update-baseline] [--jobs N] [--scheduler tcp://HOST:PORT] [-q]
       python -m verify --claims C7 --set N=32,d=16,sigma=5,eta=0.1
       python -m verify --mutants [--claims ID,ID] [--jobs N]
       python -m verify --confirm ID

Every registered claim (or the ones named by --claims, by exact ID) runs under the Hypothesis
profile (default ci, deterministic). The run prints a verdict table, and writes report.json (the
canonical result) and report.md into --out (default: report/).

Verdicts: holds, refuted (with the shrunk counterexample and a reproduction line), measured (an
O(.) constant and its trend), inconclusive, error.

Exit status: 0 when every verdict equals the committed expected verdict of its claim
(properties/expected.json), 1 when any verdict differs (the CI gate), 2 on a usage or internal
error (unknown claim ID, unwritable output directory, malformed baseline, ...), with one line on
stderr. With --baseline OLD.json the gate is the earlier report instead: exit 1 on a regression (a
changed verdict, a new counterexample, a measured constant moved beyond its tolerance), with the
changes in a table. --update-baseline rewrites the expected verdicts from this run and exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import TextIO

from model.errors import CheckerError
from properties import faults as fault_registry
from properties.catalog import load_claims
from properties.engine import ClaimResult
from properties.expected import EXPECTED_PATH, load_expected
from properties.parameters import PARAMETRISED, applied, check_setting
from properties.parameters import parse as parse_parameters
from properties.settings import PROFILES, selected_profile
from verify.baseline import compare, diff_table, dumps_expected, load_baseline, updated_expected
from verify.ledger import assumptions
from verify.plots import write_plots
from verify.render import markdown, summary_line, table
from verify.report import build_report, dumps, write_atomic
from verify.runner import run_claims

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    stream: TextIO = sys.stdout

    def print_help(self, file: object = None) -> None:
        self.stream.write(self.format_help())

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise _UsageError(message or "") if status else _HelpShown()


class _HelpShown(Exception):
    pass


def _parser(stream: TextIO) -> argparse.ArgumentParser:
    summary, _, rest = (__doc__ or "").partition("\n\n")
    parser = _Parser(
        prog="python -m verify",
        description=summary,
        epilog=rest.split("\n\n", 1)[1] if "\n\n" in rest else rest,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--list", action="store_true", help="list the registered claims and exit")
    parser.add_argument("--claims", metavar="ID,ID", help="run only these claims (exact IDs, comma-separated)")
    parser.add_argument("--seed", type=int, default=0, help="base seed; each claim's seed derives from it (default 0)")
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), default=None, help="Hypothesis budget (default: $ONENN_PROFILE or ci)"
    )
    parser.add_argument("--out", type=Path, default=Path("report"), help="directory for report.json and report.md")
    parser.add_argument("--json", metavar="PATH", help="also write the JSON report here ('-' for stdout)")
    parser.add_argument("--expected", type=Path, help="expected-verdicts file (default: the committed one)")
    parser.add_argument(
        "--fault", metavar="NAME", help="run with a planted fault applied (see properties/faults.py); expect exit 1"
    )
    parser.add_argument("--baseline", type=Path, metavar="OLD.json",
                        help="gate on a previous report instead of the expected verdicts: exit 1 on a regression")
    parser.add_argument("--update-baseline", action="store_true",
                        help="rewrite the expected-verdicts file (--expected, default the committed one) from this run")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="run the parametrised claims (properties.parameters.PARAMETRISED: C7, C10.rate, C12c, "
                        "C12a.population and 11 GD claims, listed in the README) at your own N, d, sigma, eta "
                        "(repeatable, or comma-separated); verdicts are reported, not gated")
    parser.add_argument("--mutants", action="store_true",
                        help="apply every planted fault in isolation to its target claims (those in --claims, if "
                        "given) and print which caught it; exit 1 if any survived")
    parser.add_argument("--confirm", metavar="ID",
                        help="re-check claim ID's refutation by a second, independent method (verify.confirm); "
                        "exit 0 if it stands, 1 if not")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="run claims side by side in N worker processes (default 1; same report either way)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="run the claims on a Dask distributed cluster instead (needs onenn-verify[dask])")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or table, only the summary line")
    parser.stream = stream
    return parser


def _list(stream: TextIO) -> None:
    expected = load_expected()
    for claim in load_claims():
        verdict = expected[claim.id].verdict if claim.id in expected else "holds"
        stream.write(f"{claim.id:8s} {claim.paper_ref:55s} expected {verdict:8s} {claim.statement}\n")


def main(argv: list[str] | None = None, *, stream: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI with ``argv``; returns the exit status (never calls ``sys.exit``)."""
    stream = stream if stream is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        args = _parser(stream).parse_args(argv)
    except _HelpShown:
        return 0
    except _UsageError as exc:
        err.write(f"verify: usage error: {str(exc).strip()}\n")
        return 2
    try:
        if args.list:
            _list(stream)
            return 0
        if (args.confirm is not None or args.mutants) and (args.fault or args.set):
            err.write("verify: usage error: --confirm and --mutants run the committed setting: "
                      "no --fault or --set with them\n")
            return 2
        if args.confirm is not None:
            from verify.confirm import confirm

            outcome = confirm(args.confirm, seed=args.seed, profile=args.profile or selected_profile())
            stream.write(outcome.line() + "\n")
            return 0 if outcome.stands else 1
        if args.jobs < 1:
            err.write(f"verify: usage error: --jobs must be at least 1, got {args.jobs}\n")
            return 2
        if args.mutants:
            from verify.mutants import mutant_table, run_mutants

            mutant_ids = None if args.claims is None else [i.strip() for i in args.claims.split(",") if i.strip()]

            def said(name: str, target: str, caught: bool, verdict: str) -> None:
                if not args.quiet:
                    err.write(f"{name} -> {target}: {'caught' if caught else 'SURVIVED'} ({verdict})\n")

            mutants = run_mutants(mutant_ids, profile=args.profile or selected_profile(), seed=args.seed,
                                  jobs=args.jobs, progress=said)
            stream.write(mutant_table(mutants))
            return 1 if any(m.survived for m in mutants) else 0
        ids = None
        if args.claims is not None:
            ids = [i.strip() for i in args.claims.split(",") if i.strip()]
            if not ids:
                err.write(f"verify: usage error: --claims names no claim ID: {args.claims!r}\n")
                return 2
        args.profile = args.profile or selected_profile()
        registry = load_claims()
        registry.select(ids)  # an unknown ID fails here, before any work
        parameters = parse_parameters(args.set)
        if args.update_baseline and (parameters or args.fault):
            err.write("verify: usage error: --update-baseline records the committed setting: "
                      "not with --set or --fault\n")
            return 2
        if parameters and args.baseline is not None:
            err.write("verify: usage error: --baseline gates the committed setting: not with --set\n")
            return 2
        if parameters and (ids is None or not set(ids) <= set(PARAMETRISED)):
            err.write(f"verify: usage error: --set needs --claims among the parametrised claims "
                      f"{', '.join(PARAMETRISED)}\n")
            return 2
        if parameters and ids is not None:
            check_setting(ids, parameters)  # InvalidParameter: exit 2 with its message
        if args.fault is not None:
            planted = fault_registry.get(args.fault)  # an unknown fault fails too
            if not set(planted.targets) & {c.id for c in registry.select(ids)}:
                err.write(
                    f"verify: note: fault {args.fault} targets {', '.join(planted.targets)}, none of which is "
                    "selected; the run may well stay green\n"
                )
        expected = load_expected(args.expected)
        baseline = load_baseline(args.baseline) if args.baseline is not None else None
        stray = sorted(set(expected) - set(registry.ids()))
        if stray:
            err.write(f"verify: the expected-verdicts file names unknown claim IDs: {', '.join(stray)}\n")
            return 2
        _check_writable(args.out)
        if args.json and args.json != "-":
            _check_writable(Path(args.json).parent)  # fail before running, not after writing --out
        machine_stdout = args.json == "-"
        progress_stream = err

        def progress(index: int, total: int, result: ClaimResult) -> None:
            if not args.quiet:
                mark = "" if result.as_expected or parameters else f"  (expected {result.expected.verdict})"
                progress_stream.write(
                    f"[{index:>2}/{total}] {result.id:8s} {result.verdict:12s} {result.seconds:6.1f} s{mark}\n"
                )
                progress_stream.flush()

        started_at = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        results = run_claims(
            ids, seed=args.seed, profile=args.profile, expected=expected, fault=args.fault, progress=progress,
            jobs=args.jobs, scheduler=args.scheduler, parameters=parameters,
        )
        report = build_report(
            results,
            seed=args.seed,
            profile=args.profile,
            seconds=time.perf_counter() - started,
            started=started_at,
            fault=args.fault,
        )
        if parameters:
            with applied(parameters):
                report["assumptions"] = assumptions()  # the ledger at the user's parameters
            report["parameters"] = parameters
            # the committed verdicts are for the default setting: at the user's, nothing is compared with them
            report["summary"]["unexpected"], report["summary"]["compared"] = [], False
            for entry in report["claims"]:
                entry["expected"] = entry["expected_detail"] = entry["as_expected"] = None
        changes = compare(report, baseline, expected) if baseline is not None else []
        if baseline is not None:
            report["baseline"] = {"path": str(args.baseline), "changes": [c.to_json() for c in changes],
                                  "regressions": sum(c.regression for c in changes)}
        text = dumps(report)
        write_atomic(args.out / "report.json", text)
        plots = write_plots(report, args.out)
        write_atomic(args.out / "report.md", markdown(report, plots))
        if args.json and not machine_stdout:
            write_atomic(Path(args.json), text)
        if machine_stdout:
            stream.write(text)
        elif args.quiet:
            stream.write(summary_line(report) + "\n")
        else:
            stream.write(table(report))
            stream.write(f"report: {args.out / 'report.json'}, {args.out / 'report.md'}\n")
        if baseline is not None:
            (err if machine_stdout else stream).write(diff_table(changes, str(args.baseline)))
        if args.update_baseline:
            target = args.expected if args.expected is not None else EXPECTED_PATH
            write_atomic(target, dumps_expected(updated_expected(report, expected)))
            (err if machine_stdout else stream).write(f"expected verdicts rewritten: {target}\n")
            return 0
        if baseline is not None:
            return 1 if any(c.regression for c in changes) else 0
        if parameters:
            (err if machine_stdout else stream).write(
                f"parameters {parameters}: the verdicts above are reported, not compared with the committed ones "
                "(those are for the default setting); exit 1 only on an error\n")
            return 1 if report["summary"]["error"] else 0
        return 0 if not report["summary"]["unexpected"] else 1
    except CheckerError as exc:
        err.write(f"verify: {exc}\n")
        return 2
    except OSError as exc:
        err.write(f"verify: cannot write the report: {exc}\n")
        return 2
    except Exception as exc:
        err.write(f"verify: internal error: {type(exc).__name__}: {exc}\n")
        return 2


def _check_writable(directory: Path) -> None:
    """Fail before running anything if the report directory cannot be created or written."""
    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / ".write-probe"
    probe.write_text("")
    probe.unlink()


def console_main() -> None:
    """Entry point of the ``onenn-verify`` console script."""
    sys.exit(main())
