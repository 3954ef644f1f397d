"""Mutation testing of the core model modules: can the fast test selection fail? (issue "Prove the suite can fail").

Run: ``python benchmarks/mutation.py [--modules nearest,attention,...] [--time-box 1500] [--timeout 60]
[--mutant ID ...] [--extra-tests PATH ...] [--list]``  (one core; one pytest process at a time).

A small hand-written AST mutator, independent of the planted-fault catalogue. Each mutant changes one
node of one module: an arithmetic operator (+ <-> -, * <-> /, ** -> *), a comparison (< <-> <=, > <-> >=,
== <-> !=, is <-> is not, in <-> not in), a boolean operator (and <-> or), a unary minus or ``not``
dropped, a numeric constant n -> n + 1, or True <-> False. Docstrings, f-strings (error messages) and
annotations are not mutated. The mutated module is written in place (``ast.unparse``), the module's
fast test selection runs in two stages (its unit tests, then the pointwise claims under the ``quick``
Hypothesis profile, each ``-x``), and the original bytes and mtime are restored: after every mutant, on
exit, on Ctrl-C and on SIGTERM. The mutants live in the working tree while they run: do not run tests or
edit the target modules meanwhile (the run stops if a target changes under it, and never overwrites such
an edit). Bytecode is not written and the disk cache is off, so no stale result
hides a mutant.

A mutant is *killed* when a stage exits non-zero, *timed out* after ``--timeout`` seconds, *survived*
otherwise; mutants left when ``--time-box`` runs out are *not run*. Score = (killed + timed out) / run.
Mutant IDs are ``module:line:index`` (``--list`` prints them); ``--mutant`` runs only those, and
``--extra-tests`` adds test files to the first stage (to show that a new test kills a survivor).
"""

from __future__ import annotations

import argparse
import ast
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: The pointwise claims that exercise the model modules and run in seconds under the quick profile.
CLAIMS = "C9a,C9b,C9c,M1,M2,M3,M6,C2,C12b"
#: The fast test selection of each target module: (unit tests, claim IDs run through test_claims.py).
#: Every selection includes tests/model/test_mutation_gaps.py, the tests written for earlier survivors.
GAPS = "tests/model/test_mutation_gaps.py"
MODULES: dict[str, tuple[tuple[str, ...], str]] = {
    "nearest": (("tests/model/test_nearest.py", GAPS), CLAIMS),
    "attention": (("tests/model/test_attention.py", GAPS), CLAIMS),
    "shift": (("tests/model/test_shift.py", GAPS), CLAIMS),
    "multiclass": (("tests/model/test_multiclass.py", "tests/properties/test_multiclass_claims.py", GAPS), CLAIMS),
    "prompt": (("tests/model/test_prompt.py", GAPS), CLAIMS),
}
ENV = {"ONENN_PROFILE": "quick", "ONENN_CACHE_DIR": "off", "PYTHONDONTWRITEBYTECODE": "1",
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

_SWAP: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
    ast.NotIn: ast.In, ast.And: ast.Or, ast.Or: ast.And,
}


class Site(NamedTuple):
    """One mutation: the node's index in ``ast.walk`` order, its line, and what changes."""

    node: int
    line: int
    what: str


class Outcome(NamedTuple):
    id: str
    what: str
    status: str  # killed | survived | timeout
    seconds: float


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, f-strings, annotations, ``__all__``."""
    skip: set[int] = set()

    def drop(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            drop(node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            drop(node)
        elif isinstance(node, ast.AnnAssign):
            drop(node.annotation)
        elif isinstance(node, ast.arg):
            drop(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            drop(node.returns)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            drop(node)
    return skip


def _mutate(node: ast.AST) -> tuple[str, Callable[[], None]] | None:
    """What mutating this node means, and the in-place edit; None when the node is not a site."""
    if isinstance(node, ast.BinOp | ast.AugAssign | ast.BoolOp) and type(node.op) in _SWAP:
        new = _SWAP[type(node.op)]
        return f"{type(node.op).__name__} -> {new.__name__}", lambda: setattr(node, "op", new())
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _SWAP:
        new = _SWAP[type(node.ops[0])]
        return f"{type(node.ops[0]).__name__} -> {new.__name__}", lambda: setattr(node, "ops", [new()])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        return f"drop unary {type(node.op).__name__}", lambda: setattr(node, "op", ast.UAdd())
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return f"{node.value} -> {not node.value}", lambda: setattr(node, "value", not node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return f"{node.value!r} -> {node.value + 1!r}", lambda: setattr(node, "value", node.value + 1)
    return None


def sites(source: str) -> list[Site]:
    tree = ast.parse(source)
    skip = _skipped(tree)
    found = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        mutation = _mutate(node)
        if mutation is not None:
            found.append(Site(index, getattr(node, "lineno", 0), mutation[0]))
    return found


def mutant_source(source: str, site: Site) -> str:
    tree = ast.parse(source)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == site.node)
    mutation = _mutate(node)
    if mutation is None:
        raise RuntimeError(f"site {site} is not a mutation site")
    mutation[1]()
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd) and isinstance(node.operand, ast.expr):
        # "drop unary": replace the UnaryOp by its operand (UAdd on a bool/tensor is not a no-op for `not`)
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, node.operand)
                elif isinstance(value, list) and any(v is node for v in value):
                    setattr(parent, field, [node.operand if v is node else v for v in value])
    return ast.unparse(tree) + "\n"


def _pytest(args: list[str], timeout: float) -> str:
    """killed | survived | timeout for one pytest run (own process group, so a timeout kills it all)."""
    cmd = [PYTHON, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--no-header", *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **ENV}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return "timeout"
    return "survived" if code == 0 else "killed"


def run_mutant(module: str, extra: list[str], timeout: float) -> str:
    units, claims = MODULES[module]
    status = _pytest([*units, *extra], timeout)
    if status == "survived":
        status = _pytest(["tests/properties/test_claims.py", "--claim", claims], timeout)
    return status


class _Restore:
    """Keeps a file's original bytes and mtime; ``write`` puts a mutant in, ``restore`` undoes it."""

    def __init__(self, path: Path) -> None:
        self.path, self.data, self.stat = path, path.read_bytes(), path.stat()
        self.mutant: bytes | None = None

    def write(self, text: str) -> None:
        """Put a mutant in; refuse when someone else edited the file since the run started."""
        if self.path.read_bytes() != self.data:
            raise RuntimeError(f"{self.path} changed during the run (an edit by someone else?): stopping")
        self.mutant = text.encode()
        self.path.write_bytes(self.mutant)

    def restore(self) -> None:
        """Put the original back, but only over our own mutant: an edit made meanwhile by someone else is kept."""
        if self.mutant is not None and self.path.read_bytes() == self.mutant:
            self.path.write_bytes(self.data)
            os.utime(self.path, ns=(self.stat.st_atime_ns, self.stat.st_mtime_ns))
        self.mutant = None


def _mutants(modules: list[str], wanted: set[str]) -> Iterator[tuple[str, Site, str]]:
    for module in modules:
        source = (ROOT / "model" / f"{module}.py").read_text()
        for site in sites(source):
            mid = f"{module}:{site.line}:{site.node}"
            if not wanted or mid in wanted:
                yield module, site, mid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", default=",".join(MODULES), help="comma-separated, from %(default)s")
    parser.add_argument("--time-box", type=float, default=1500.0, help="seconds for the whole run")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per pytest stage")
    parser.add_argument("--mutant", action="append", default=[], help="run only this mutant ID (repeatable)")
    parser.add_argument("--extra-tests", action="append", default=[], help="add to the first stage")
    parser.add_argument("--list", action="store_true", help="list the mutant IDs and exit")
    args = parser.parse_args(argv)
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    unknown = set(modules) - set(MODULES)
    if unknown:
        parser.error(f"--modules: unknown {sorted(unknown)}; known {sorted(MODULES)}")
    todo = list(_mutants(modules, set(args.mutant)))
    if args.list:
        for _, site, mid in todo:
            print(mid, site.what)
        return 0
    guards = {m: _Restore(ROOT / "model" / f"{m}.py") for m in sorted({m for m, _, _ in todo})}
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    outcomes: dict[str, list[Outcome]] = {m: [] for m in modules}
    start = time.monotonic()
    try:
        for module, site, mid in todo:
            if time.monotonic() - start > args.time_box:
                break
            guard = guards[module]
            tic = time.monotonic()
            try:
                guard.write(mutant_source(guard.data.decode(), site))
                status = run_mutant(module, args.extra_tests, args.timeout)
            finally:
                guard.restore()
            outcomes[module].append(Outcome(mid, site.what, status, time.monotonic() - tic))
            print(f"{mid:24s} {site.what:28s} {status:8s} {outcomes[module][-1].seconds:5.1f} s", flush=True)
    except KeyboardInterrupt:
        print("interrupted: every model file restored", file=sys.stderr)
    except RuntimeError as error:
        print(error, file=sys.stderr)
    finally:
        for guard in guards.values():
            guard.restore()
        signal.signal(signal.SIGTERM, previous)
    _render(modules, todo, outcomes, time.monotonic() - start)
    return 0


def _render(modules: list[str], todo: list[tuple[str, Site, str]], outcomes: dict[str, list[Outcome]],
            seconds: float) -> None:
    header = ("module", "mutants", "killed", "surv.", "timeout", "not run", "score")
    print("\n{:12s} {:>7s} {:>6s} {:>6s} {:>7s} {:>7s} {:>6s}".format(*header))
    for module in modules:
        done = outcomes[module]
        total = sum(1 for m, _, _ in todo if m == module)
        count = {s: sum(o.status == s for o in done) for s in ("killed", "survived", "timeout")}
        score = f"{(count['killed'] + count['timeout']) / len(done):.1%}" if done else "-"
        print(f"{module:12s} {total:7d} {count['killed']:6d} {count['survived']:6d} {count['timeout']:7d} "
              f"{total - len(done):7d} {score:>6s}")
    print(f"wall time {seconds:.0f} s")
    survivors = [o for m in modules for o in outcomes[m] if o.status == "survived"]
    if survivors:
        print("\nsurvivors:")
        for o in survivors:
            print(f"  {o.id:24s} {o.what}")


if __name__ == "__main__":
    raise SystemExit(main())
