"""The assumptions ledger: every constant the suite had to choose, its value, and where it is used.

The papers leave constants unspecified (O(.), poly(.), "N >= O(sqrt(d) log d)") or state experiments
without every setting; the suite fixes each one. The values are read from the modules that use them
when the report is built, so the ledger cannot drift from the code. It is part of report.json
(``assumptions``) and of report.md.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LEDGER", "assumptions"]

#: (name, module, attribute or None for a fixed statement, the value when no attribute, where it is used).
LEDGER: tuple[tuple[str, str, str | None, str, str], ...] = (
    ("regime constant c in N >= c sqrt(d) ln d", "properties.geometry", "REGIME_C", "",
     "C11b-d and the lemmas' hypothesis on (N, d); each claim also reports the c that would rescue it"),
    ("logarithm base", "", None, "natural (ln) everywhere",
     "every log of the papers' bounds (O(log t), sqrt(d) log d, Lemma 12's threshold)"),
    ("C_d of Lemmas 8 and 10", "", None, "measured per (N, d) along its own GD run (smallest implied value)",
     "C5.L8, C5.L10, C8.xi1, Theorem 1's sigma condition (C7.grid)"),
    ("GD step size eta", "properties.dynamics", "ETA", "", "every GD run; also eta = 1 (to 1e9) and 5 (to 1e7)"),
    ("sigma of the experiments", "properties.dynamics", "SIGMA_EXPERIMENT", "",
     "the main run outside the theorems' hypotheses; sigma of each theorem run is Lemma 12's threshold"),
    ("GD horizon t_max", "properties.dynamics", "HORIZON", "", "every flow run (literal GD to 1e4 steps beside it)"),
    ("checkpoints per decade of t", "model.dynamics", "PER_DECADE", "", "every claim read along GD"),
    ("quadrature relative accuracy", "model.exact", "RTOL", "",
     "every population value and gradient; the flow integrates GD to this accuracy (FLOW_RTOL)"),
    ("separated law delta*", "properties.shift", "SEPARATION", "", "C10, C10.rate, E1 (0.5), C12c"),
    ("label bound B of the separated law", "properties.experiments", "LABEL_BOUND", "",
     "N(0, 1) labels truncated at B: C10 (separated law), E1; +-1 labels elsewhere, B in {0.5, 1, 3} "
     "for C10.adversarial"),
    ("classes K tried", "properties.multiclass", "CLASSES", "", "C12c; C12a.population at K = 3, 5, 10; "
     "C12b at K = 2..10"),
    ("tie tolerance of the 1-NN rule", "model.nearest", "TIE_TOL", "",
     "tau_j within it of tau* are tied: the mean label (binary) or the majority class (K classes)"),
    ("argmax tie rule", "", None, "the lowest index among exact maxima", "model.multiclass.argmax_class"),
    ("family-wise false-alarm rate of C10, C10.adversarial", "properties.shift", "FAMILY_ALPHA", "",
     "DKW and Hoeffding bands, union over laws and T"),
    ("laws covered by C10.adversarial's union bound", "properties.shift", "LAW_CAP", "", "C10.adversarial"),
    ("family-wise false-alarm rate of E1", "properties.experiments", "FAMILY_ALPHA", "", "E1's bounds"),
    ("family-wise false-alarm rate of C12a.population", "properties.multiclass", "SCALING_ALPHA", "",
     "its Hoeffding intervals"),
    ("E1: SGD steps, batch, step size", "properties.experiments", None, "", "E1 (scaled from [LCG24] §5)"),
)


def _value(module: str, attribute: str | None, fixed: str, name: str) -> Any:
    if attribute is None and name.startswith("E1:"):
        experiments = importlib.import_module("properties.experiments")
        return f"{experiments.STEPS} steps, batch {experiments.BATCH}, eta {experiments.ETA:g}"
    if attribute is None:
        return fixed
    value = getattr(importlib.import_module(module), attribute)
    return list(value) if isinstance(value, tuple) else value


def assumptions() -> list[dict[str, Any]]:
    """The ledger's rows with their current values: [{"name", "value", "source", "used_in"}]."""
    return [{"name": name, "value": _value(module, attribute, fixed, name),
             "source": f"{module}.{attribute}" if attribute else (module or "-"), "used_in": used}
            for name, module, attribute, fixed, used in LEDGER]
