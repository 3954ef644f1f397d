"""Hypothesis settings profiles, in one place.

- ``ci`` (the default everywhere): derandomised, no example database, no deadline, blobs printed,
  one minimal failure reported. Deterministic: the same code gives the same verdicts.
- ``thorough``: ten times the examples of ``ci``, for a deeper search before a release.
- ``quick``: a small budget for the planted-fault tests (a fault must be caught fast).

Select a profile with the environment variable ``ONENN_PROFILE`` (pytest) or ``--profile`` (verify).
The claim runner always adds an explicit seed, so verdicts depend only on (code, profile, seed).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from model.errors import InvalidParameter

__all__ = ["DEFAULT_PROFILE", "PROFILES", "profile_settings", "selected_profile"]

_SUPPRESSED = (HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much)

_COMMON = settings(
    database=None,
    deadline=None,
    derandomize=True,
    print_blob=True,
    report_multiple_bugs=False,
    suppress_health_check=_SUPPRESSED,
)

PROFILES: dict[str, settings] = {
    "ci": settings(_COMMON, max_examples=300),
    "thorough": settings(_COMMON, max_examples=3000),
    "quick": settings(_COMMON, max_examples=60),
}

DEFAULT_PROFILE = "ci"

for _name, _profile in PROFILES.items():
    settings.register_profile(_name, _profile)


def selected_profile() -> str:
    """The profile named by ``ONENN_PROFILE``, or :data:`DEFAULT_PROFILE`."""
    name = os.environ.get("ONENN_PROFILE", DEFAULT_PROFILE)
    if name not in PROFILES:
        raise InvalidParameter(f"ONENN_PROFILE must be one of {sorted(PROFILES)}, got {name!r}")
    return name


def profile_settings(name: str) -> settings:
    """The settings object of profile ``name``; a clear error for an unknown name."""
    if name not in PROFILES:
        raise InvalidParameter(f"unknown Hypothesis profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]
