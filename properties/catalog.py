"""The claim modules, listed once: importing this module fills :data:`properties.registry.CLAIMS`.

To add a module of claims, append its name here; to add a claim, decorate a function in one of
these modules with :func:`properties.registry.claim`.
"""

from __future__ import annotations

import importlib

from properties.registry import CLAIMS, Registry

__all__ = ["CLAIM_MODULES", "load_claims"]

CLAIM_MODULES = (
    "properties.pointwise",
    "properties.invariants",
    "properties.population",
    "properties.landscape",
    "properties.geometry",
    "properties.dynamics",
    "properties.lemmas",
    "properties.convergence",
    "properties.shift",
    "properties.experiments",
    "properties.multiclass_experiments",
    "properties.multiclass",
)


def load_claims() -> Registry:
    """Import every claim module (idempotent) and return the filled registry."""
    for name in CLAIM_MODULES:
        importlib.import_module(name)
    return CLAIMS
