"""Shared pytest set-up: the Hypothesis profile, and selecting claims by exact ID.

``pytest --claim C1`` runs the tests marked ``@pytest.mark.claim("C1")`` and nothing else; unlike
``-k C1`` it does not also pick C10. Several IDs: ``--claim C9a,C9b``.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from properties.settings import selected_profile

settings.load_profile(selected_profile())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--claim", action="store", default=None, metavar="ID[,ID]", help="run only these claim IDs (exact)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.getoption("--claim")
    if not wanted:
        return
    ids = {i.strip() for i in wanted.split(",") if i.strip()}
    from properties.catalog import load_claims

    unknown = ids - set(load_claims().ids())
    if unknown:
        raise pytest.UsageError(f"--claim: unknown claim ID(s) {sorted(unknown)}")
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("claim")
        (keep if marker is not None and marker.args[0] in ids else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
