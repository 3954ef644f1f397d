"""The run sets of properties.dynamics: which GD runs each claim judges (no run is computed here)."""

from __future__ import annotations

import math

import properties.dynamics as claims


def _all() -> list[claims.Spec]:
    return list(dict.fromkeys(claims.main_specs() + claims.grid_specs() + claims.eta_specs() + list(claims.OUTSIDE)))


def test_fourteen_distinct_runs_with_distinct_labels() -> None:
    specs = _all()
    assert len(specs) == 14 and len({claims.label(spec) for spec in specs}) == 14
    assert claims.label(claims.main_specs()[1]) == "sigma=47"  # the main runs keep their short labels


def test_grid_runs_are_inside_the_hypotheses_at_their_thresholds() -> None:
    for N, d, sigma, eta, t_max in claims.grid_specs():
        assert d >= 4 and N >= math.sqrt(d) * math.log(d)
        assert claims.lemma12_sigma(N, d) <= sigma < claims.lemma12_sigma(N, d) + 1
        assert (eta, t_max) == (claims.ETA, claims.HORIZON)
    assert {(N, d) for N, d, *_ in claims.grid_specs()} >= {(8, 8), (64, 8), (32, 4), (32, 32)}


def test_which_runs_each_claim_judges() -> None:
    specs = _all()
    regime = [s for s in specs if s[1] >= 4 and s[0] >= math.sqrt(s[1]) * math.log(s[1])]
    threshold = [s for s in regime if s[2] >= claims.lemma12_sigma(s[0], s[1])]
    assert len(regime) == 12  # C5.along: all but the two runs with N = 2 at d = 8
    assert len(threshold) == 9  # C6: the main run at 47, six more of the grid, and eta = 1 and 5 at 47
    assert [s for s in specs if s not in regime] == list(claims.OUTSIDE)
    assert {eta for *_, eta, _ in claims.eta_specs()} == {1.0, 5.0}
