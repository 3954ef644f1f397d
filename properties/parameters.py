"""Run the parametrised claims at a user's own (N, d, sigma, eta): ``python -m verify --set N=32 --set d=16``.

The claims that read the main setting of [AW26] §5 — the GD runs of :mod:`properties.dynamics` (their
(N, d), the experiments' sigma, the step size eta), Theorem 2's test laws (C10, C10.rate), C12c and
C12a.population — read it from module constants at call time. :func:`applied` sets those constants for
the duration of a block (in every process that runs a claim) and empties the caches of samples drawn at the
old setting. Lemma 12's sigma (the theorems' runs) follows (N, d); ``sigma`` sets the experiments' sigma.

Parameters: ``N`` (>= 1), ``d`` (>= 2), ``sigma`` (> 0), ``eta`` (> 0). The committed expected verdicts are
for the default setting, so a run with parameters reports its verdicts without comparing them.
"""

from __future__ import annotations

import contextlib
import importlib
import math
from collections.abc import Iterator, Mapping

from model.errors import InvalidParameter

__all__ = ["PARAMETERS", "PARAMETRISED", "WITHOUT_RUNS", "applied", "check_setting", "parse"]

#: The claims that run at the parameters. The GD claims judge the runs at the given setting only (the two
#: sigmas at the given eta, and eta = 1 and 5 where they read other step sizes): the (N, d) grid and the runs
#: outside the hypotheses are left out (``properties.dynamics.all_runs``). Other claims read fixed laws,
#: samples or grids built around (16, 8), or a setting of their own (C7.grid, C7.outside, C1.dynamic), so
#: they refuse --set.
PARAMETRISED = ("C7", "C10.rate", "C12c", "C12a.population", "S7.flow", "C5.along", "C5.L8", "C5.L8.N", "C5.L10",
                "C6", "C7.term2", "C8.xi1", "C8.xi2", "C8.steps", "C8.growth")

#: The parametrised claims that read no GD run (the others start from Lemma 12's sigma, which needs a_{N,d}:
#: d >= 4).
WITHOUT_RUNS = ("C12a.population",)
#: Parameter name -> (module, attribute, type).
PARAMETERS: dict[str, tuple[str, str, type]] = {
    "N": ("properties.dynamics", "MAIN_N", int),
    "d": ("properties.dynamics", "MAIN_D", int),
    "sigma": ("properties.dynamics", "SIGMA_EXPERIMENT", float),
    "eta": ("properties.dynamics", "ETA", float),
}
#: Functions whose cached samples depend on the parameters (emptied on entry and exit).
_CACHED = (("properties.shift", "_sample"), ("properties.shift", "adversarial_sample"),
           ("properties.multiclass", "separated_classes"))


def parse(assignments: list[str]) -> dict[str, int | float]:
    """``["N=32", "d=16,eta=0.1"]`` -> {"N": 32, "d": 16, "eta": 0.1}; InvalidParameter naming a bad one."""
    out: dict[str, int | float] = {}
    for text in assignments:
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or name not in PARAMETERS:
                raise InvalidParameter(f"--set takes NAME=VALUE with NAME in {', '.join(PARAMETERS)}, got {item!r}")
            kind = PARAMETERS[name][2]
            try:
                number = kind(value) if kind is float else int(value, 10)
            except ValueError:
                raise InvalidParameter(f"--set {name} needs {'an integer' if kind is int else 'a number'}, "
                                       f"got {value!r}") from None
            low = {"N": 1, "d": 2}.get(name)
            if (low is not None and number < low) or (low is None and not (math.isfinite(number) and number > 0)):
                raise InvalidParameter(f"--set {name} must be {'>= ' + str(low) if low else 'a finite number > 0'}, "
                                       f"got {value!r}")
            out[name] = number
    return out


def check_setting(ids: list[str], values: Mapping[str, int | float]) -> None:
    """InvalidParameter when the selected claims cannot run at ``values``: every claim that reads GD runs
    needs d >= 4 (Lemma 12's sigma, and a_{N,d}, are defined for d >= 4 only)."""
    d = values.get("d")
    reading = [i for i in ids if i not in WITHOUT_RUNS]
    if d is not None and d < 4 and reading:
        raise InvalidParameter(f"--set d={d}: {', '.join(reading)} read GD runs from Lemma 12's sigma, which needs "
                               "d >= 4 (a_{N,d})")


def _clear_caches() -> None:
    for module, name in _CACHED:
        getattr(importlib.import_module(module), name).cache_clear()


_ACTIVE: list[bool] = []


def active() -> bool:
    """Whether the parametrised claims are running at a user's own setting (inside :func:`applied`)."""
    return bool(_ACTIVE)


@contextlib.contextmanager
def applied(values: Mapping[str, int | float]) -> Iterator[None]:
    """Within the block, the parametrised claims run at ``values`` (module docstring)."""
    saved = []
    if values:
        _ACTIVE.append(True)
    try:
        for name, value in values.items():
            module_name, attribute, _ = PARAMETERS[name]
            module = importlib.import_module(module_name)
            saved.append((module, attribute, getattr(module, attribute)))
            setattr(module, attribute, value)
        if values:
            _clear_caches()
        yield
    finally:
        for module, attribute, value in reversed(saved):
            setattr(module, attribute, value)
        if values:
            _clear_caches()
            _ACTIVE.pop()
