"""Shared pytest set-up: the Hypothesis profile, selecting claims by exact ID, and the GD runs' warm-up.

``pytest --claim C1`` runs the tests marked ``@pytest.mark.claim("C1")`` and nothing else; unlike
``-k C1`` it does not also pick C10. Several IDs: ``--claim C9a,C9b``.

When the whole default suite runs (no ``--claim``, ``-k``, other markers or paths), the GD runs that
the dynamics and shift claims read (about 6 CPU-minutes, :func:`properties.dynamics.prefetch`) are
started in a background process at session start, so they are computed while the other tests run;
the claims then find them in the disk cache, or wait on an entry's lock while it is being written.
The background process is stopped at the end of the session if it is still running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

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


_WARM_UP = "import properties.dynamics as d\nif __name__ == '__main__':\n    d.prefetch()\n"


def _whole_default_suite(config: pytest.Config) -> bool:
    option = config.option
    return (not config.getoption("--claim") and not getattr(option, "keyword", "")
            and getattr(option, "markexpr", "") == "not slow"
            and config.args_source != pytest.Config.ArgsSource.ARGS)


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput") or os.environ.get("ONENN_CACHE_DIR", "").lower() == "off":
        return  # an xdist worker (the controller starts it), or no disk cache to fill
    if not _whole_default_suite(config):
        return
    process = subprocess.Popen([sys.executable, "-c", _WARM_UP], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    config.stash[_PROCESS] = process


def pytest_sessionfinish(session: pytest.Session) -> None:
    process = session.config.stash.get(_PROCESS, None)
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its pool workers too; a half-written entry is never read
        process.wait(timeout=60)


_PROCESS = pytest.StashKey[subprocess.Popen]()  # type: ignore[type-arg]
