"""The rates along GD on the family: C7 (Theorem 1's O(1/log t), on the main runs, the (N, d) grid and outside the
hypotheses), C8.growth (Lemma 13's Omega(log t)) and C7.term2 (Lemma 14's second term).

All are measured, not judged (their constants are O(.) / poly(.)). The runs and the setting come from
:mod:`properties.dynamics` (read at call time), Lemma 8's measured C_d from :mod:`properties.lemmas`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import model.dynamics as dynamics
import properties.dynamics as runs_
import properties.lemmas as lemmas
from properties.dynamics import SECTION
from properties.registry import Measurement, attach, claim


@claim("C7", section=SECTION, kind="measure")
def loss_times_log_t() -> Measurement:
    """L(W^t) -> 0 like O(1/log t): the implied constant sup_t L(W^t) log t over t in [10, 1e9].
    [LCG24] Theorem 1 / [AW26] Theorem 1 (convergence rate), claim C7

    At (N, d) = (16, 8), eta = 0.05, sigma in {3, 47}. The value is the largest L log t at the
    Lemma 12 threshold's sigma (47); the trend lists L log t by decade for both runs.
    """
    details: dict[str, Any] = {}
    value = math.nan
    for label, run in runs_.runs().items():
        keep = run.t >= 10
        product = run.loss[keep] * runs_.log_t(run.t[keep])
        by_decade: dict[str, float] = {f"1e{k}": float(product[run.t[keep] == 10**k][0]) for k in range(1, 10)}
        late = [int(np.searchsorted(run.t, 10**k)) for k in (8, 9)]
        by_decade["loss_exponent_1e8_1e9"] = float(np.log10(run.loss[late[1]] / run.loss[late[0]]))
        details[label] = by_decade
        if label == runs_.sigma_label(runs_.sigma_theorem(runs_.MAIN_N, runs_.MAIN_D)):
            value = float(product.max())
    trend = "; ".join(f"{label}: " + ", ".join(f"{k} {v:.4g}" for k, v in row.items())
                      for label, row in details.items())
    condition = runs_.theorem1_sigma(runs_.MAIN_N, runs_.MAIN_D, lemmas.c_d())
    details["theorem1_sigma_condition"] = {"C_d": lemmas.c_d(), "sigma_must_exceed": condition,
                                           "runs_meeting_it": [label for label in runs_.runs() if
                                                               float(label.split("=")[1]) > condition]}
    trend += f"; Theorem 1 asks sigma > {condition:.4g} with the measured C_d = {lemmas.c_d():.4g}"
    peak = {label: max((k for k in row if k.startswith("1e")), key=lambda k: row[k]) for label, row in details.items()
            if label.startswith("sigma=")}
    return Measurement(value, f"L log t by t, and the power p of L ~ t^p over the last decade ({trend}); L log t "
                       f"peaks at t = {peak} and is smaller at 1e9 than at its peak by a factor "
                       + ", ".join(f"{label} {max(v for k, v in row.items() if k.startswith('1e')) / row['1e9']:.3g}"
                                   for label, row in details.items() if label.startswith("sigma=")), details)


def _loss_log_t(run: dynamics.Trajectory) -> tuple[float, int]:
    """sup over checkpoints t >= 10 of L(W^t) ln t, and the t where it is met."""
    keep = run.t >= 10
    product = run.loss[keep] * runs_.log_t(run.t[keep])
    k = int(product.argmax())
    return float(product[k]), int(run.t[keep][k])


def _signed(value: float) -> str:
    """A change with its sign spelled out: "+0.53", "-0.2"."""
    return f"{value:+.3g}"


@claim("C7.grid", section=SECTION, kind="measure")
def loss_times_log_t_grid() -> Measurement:
    """Theorem 1's O(poly(N, d) / log t): the implied constant sup_t L log t over a grid of (N, d), and its trend.
    [LCG24] Theorem 1 / [AW26] Theorem 1 (convergence rate, poly(N, d)), claim C7.grid

    Runs to t = 1e9 at eta = 0.05 and each pair's Lemma 12 threshold sigma (which also meets Theorem
    1's sigma condition, checked with the C_d measured along that run): N in GRID_N at d = 8, and d in
    GRID_D at N = 32. Value: the largest sup_t L log t over the grid. Trend: the constant's change per
    doubling of N and of d (least squares in log2), where its peak sits in t, and L log t at 1e9 (the
    report plots xi1, xi2, xi1/xi2 and L log t against log10 t for every grid run);
    also Lemma 8's implied C_d for each run (C5.L8's measure), where along the run it is met, and its
    power in N at d = 8. Every run is inside the hypotheses on (N, d) and meets Theorem 1's sigma
    condition with the C_d of its own run; the trend names any run that does not.
    """
    grid = runs_.fetch(runs_.grid_specs())
    attach("plot", runs_.plot_runs({f"N={run.N}, d={run.d}, sigma={run.sigma:g}": run for run in grid.values()},
                         f"GD on the family over the (N, d) grid, each at Lemma 12's threshold sigma, "
                         f"eta = {runs_.ETA:g}"))
    rows: dict[str, dict[str, Any]] = {}
    for name, run in grid.items():
        peak, at = _loss_log_t(run)
        constant = lemmas.measured_c_d(run)
        where = int(np.nanargmin(lemmas.log_implied_c_d(run)))
        rows[name] = {"N": run.N, "d": run.d, "sigma": run.sigma, "in_regime": runs_.in_regime(run),
                      "sup_L_log_t": peak, "at_t": at, "C_d_at_t": int(run.t[where]),
                      "L_log_t_at_1e9": float(run.loss[-1] * runs_.log_t(run.t[-1:])[0]),
                      "L_at_1e9": float(run.loss[-1]),
                      "C_d_this_run": constant, "theorem1_sigma": runs_.theorem1_sigma(run.N, run.d, constant)}
        rows[name]["meets_theorem1_sigma"] = run.sigma > rows[name]["theorem1_sigma"]
    by_n = sorted((row["N"], row["sup_L_log_t"]) for row in rows.values() if row["d"] == 8)
    by_d = sorted((row["d"], row["sup_L_log_t"]) for row in rows.values() if row["N"] == 32)
    slope_n = runs_.per_doubling([n for n, _ in by_n], [v for _, v in by_n])
    slope_d = runs_.per_doubling([d for d, _ in by_d], [v for _, v in by_d])
    power_n = runs_.power_law([n for n, _ in by_n], [v for _, v in by_n])
    power_d = runs_.power_law([d for d, _ in by_d], [v for _, v in by_d])
    value = max(row["sup_L_log_t"] for row in rows.values())
    meets = all(row["meets_theorem1_sigma"] for row in rows.values())
    c_by_n = sorted((row["N"], row["C_d_this_run"]) for row in rows.values() if row["d"] == 8)
    c_power_n = runs_.power_law([n for n, _ in c_by_n], [c for _, c in c_by_n])
    c_where = sorted({row["C_d_at_t"] for row in rows.values()})
    along_n = ", ".join(f"{n}: {v:.4g}" for n, v in by_n)
    along_d = ", ".join(f"{d}: {v:.4g}" for d, v in by_d)
    outside = [name for name, row in rows.items() if not (row["in_regime"] and row["meets_theorem1_sigma"])]
    return Measurement(value, f"sup_t L log t at d = 8 by N: {along_n} ({_signed(slope_n)} per doubling of N); at "
                       f"N = 32 by d: {along_d} ({_signed(slope_d)} per doubling of d); as powers, N^{power_n:.2g} "
                       f"and d^{power_d:.2g}; peaks at t = "
                       f"{sorted({row['at_t'] for row in rows.values()})}; L log t at 1e9 ranges "
                       f"{min(row['L_log_t_at_1e9'] for row in rows.values()):.3g}.."
                       f"{max(row['L_log_t_at_1e9'] for row in rows.values()):.3g}; every run "
                       f"{'meets' if meets else 'does NOT all meet'} Theorem 1's sigma condition with its own C_d"
                       f"{'' if not outside else f' (outside the hypotheses: {outside})'}; "
                       f"Lemma 8's implied C_d (poly(d) in the lemma, so free of N) at d = 8 by N: "
                       f"{', '.join(f'{n}: {c:.3g}' for n, c in c_by_n)}, like N^{c_power_n:.2g}, its minimum "
                       f"along each run at t = {c_where}",
                       {"runs": rows, "per_doubling_N": slope_n, "per_doubling_d": slope_d,
                        "power_N": power_n, "power_d": power_d, "C_d_power_N_at_d_8": c_power_n})


@claim("C7.outside", section=SECTION, kind="measure")
def outside_hypotheses() -> Measurement:
    """Outside the hypotheses or the experiments' range (sigma = 3, N = 2, eta = 5): does L go to 0? Final L log t.
    [LCG24] Theorem 1 / [AW26] Theorem 1 (are the conditions needed?), claim C7.outside

    Runs at (N, d, sigma, eta) = (16, 8, 3, 0.05) (sigma below Lemma 12's and Theorem 1's thresholds),
    (2, 8, 3, 0.05) and (2, 8, 47, 0.05) (N below sqrt(d) ln d = 5.9; at 47 sigma is not small), all
    to t = 1e9, and (16, 8, 3, 5) (a large step, to t = 1e7: the same eta t as 1e9 steps at 0.05; no
    step-size condition is stated, so only sigma is outside there). Value: the largest L(W^t) ln t at
    the end of a run (Theorem 1's quantity at the horizon). Details per run: L at 1e3, 1e6 and the end,
    sup L log t, whether L and xi2 are monotone over the checkpoints, min xi1, and the largest xi1/xi2.
    """
    outside = runs_.fetch([runs_.main_specs()[0], *runs_.OUTSIDE, runs_.eta_specs()[2]])
    rows: dict[str, dict[str, Any]] = {}
    for name, run in outside.items():
        peak, at = _loss_log_t(run)
        rows[name] = {"L_1e3": float(run.loss[np.searchsorted(run.t, 10**3)]),
                      "L_1e6": float(run.loss[np.searchsorted(run.t, 10**6)]), "t_end": int(run.t[-1]),
                      "L_end": float(run.loss[-1]), "L_log_t_end": float(run.loss[-1] * runs_.log_t(run.t[-1:])[0]),
                      "sup_L_log_t": peak, "at_t": at, "loss_nonincreasing": bool(np.all(np.diff(run.loss) <= 0)),
                      "xi2_nondecreasing": bool(np.all(runs_.xi2_steps(run.xi2) >= 0)), "min_xi1": float(run.xi1.min()),
                      "largest_xi1_over_xi2": float(np.max(run.xi1 / run.xi2)),
                      "literal_steps": run.literal_steps, "regime": runs_.in_regime(run)}
    value = max(row["L_log_t_end"] for row in rows.values())
    return Measurement(value, "; ".join(
        f"{name}: L {row['L_1e3']:.3g} (1e3) -> {row['L_1e6']:.3g} (1e6) -> {row['L_end']:.3g} ({row['t_end']:.0e}), "
        f"L log t there {row['L_log_t_end']:.3g}, sup L log t "
        f"{row['sup_L_log_t']:.3g} at t = {row['at_t']}, L "
        f"{'non-increasing' if row['loss_nonincreasing'] else 'NOT monotone'}, xi2 "
        f"{'non-decreasing' if row['xi2_nondecreasing'] else 'NOT monotone'}, max xi1/xi2 "
        f"{row['largest_xi1_over_xi2']:.3g}" for name, row in rows.items()), {"runs": rows})


#: Lemma 13's growth is asymptotic: its implied constant is taken over t >= GROWTH_FROM.
GROWTH_FROM = 10**4


@claim("C8.growth", section=SECTION, kind="measure")
def growth_constants() -> Measurement:
    """xi1^t, xi2^t = Omega(log t): the implied constant min over t in [1e4, 1e9] of min(xi1, xi2) / ln t.
    [LCG24] Lemma 13 / [AW26] Lemma 13 (growth), claim C8.growth

    Value at sigma = 47 (Lemma 12's threshold); details: xi1 / ln t and xi2 / ln t by decade for the
    main runs and every run of C7.grid, and the power p of xi ~ t^p over the last decade. The trend
    says, for the main runs, whether xi / ln t still rises at the end of the run (growth faster than
    log t) and where it is smallest, and sums up the grid the same way.
    """
    details: dict[str, Any] = {}
    value, words = math.nan, []
    main, grid_rising, grid_min = runs_.runs(), [], math.inf
    for label, run in {**main, **runs_.fetch(runs_.grid_specs())}.items():
        late = run.t >= GROWTH_FROM
        scale = runs_.log_t(run.t[late])
        per = {"xi1": run.xi1[late] / scale, "xi2": run.xi2[late] / scale}
        row: dict[str, Any] = {}
        for k in range(2, 10):
            index = int(np.searchsorted(run.t, 10**k))
            row[f"1e{k}"] = [float(run.xi1[index] / runs_.log_t(np.array([10**k]))[0]),
                             float(run.xi2[index] / runs_.log_t(np.array([10**k]))[0])]
        ends = [int(np.searchsorted(run.t, 10**k)) for k in (8, 9)]
        row["exponent_1e8_1e9"] = [float(np.log10(run.xi1[ends[1]] / run.xi1[ends[0]])),
                                   float(np.log10(run.xi2[ends[1]] / run.xi2[ends[0]]))]
        smallest = {name: float(v.min()) for name, v in per.items()}
        row["min_over_t_ge_1e4"] = smallest
        details[label] = row
        rising = all(bool(v[-1] > v[-11]) for v in per.values())  # the last decade: 10 checkpoints
        where = {name: int(run.t[late][int(v.argmin())]) for name, v in per.items()}
        if label not in main:
            grid_rising.append(rising)
            grid_min = min(grid_min, *smallest.values())
            continue
        words.append(f"{label}: min xi1/ln t {smallest['xi1']:.3g} (t = {where['xi1']}), min xi2/ln t "
                     f"{smallest['xi2']:.3g} (t = {where['xi2']}); over the last decade xi/ln t "
                     f"{'rises' if rising else 'does not rise'} (p = {row['exponent_1e8_1e9'][0]:.3g} for xi1)")
        if label == runs_.sigma_label(runs_.sigma_theorem(runs_.MAIN_N, runs_.MAIN_D)):
            value = min(smallest.values())
    if grid_rising:  # (none at a user's own setting, --set)
        words.append(f"the other {len(grid_rising)} runs of C7.grid: smallest min(xi1, xi2)/ln t {grid_min:.3g}; "
                     f"xi/ln t rises over the last decade in {sum(grid_rising)} of them")
    return Measurement(value, "; ".join(words), details)


@claim("C7.term2", section=SECTION, kind="measure")
def lemma14_second_term() -> Measurement:
    """Lemma 14's second term e^{2 xi1 - xi2} decays like t^{-1/15}: the measured exponent over the last decade.
    [LCG24] Lemma 14 as used in [AW26]'s proof of Theorem 1, claim C7.term2

    Value: d log(e^{2 xi1 - xi2}) / d log t between t = 1e8 and 1e9 at sigma = 47 (the proof claims
    -1/15; a positive value means the term grows and the loss bound says nothing). Details: 2 xi1 - xi2 by
    decade; the trend lists the exponent for the main runs and every run of C7.grid (eta = 0.05, t = 1e9).
    """
    details, value = {}, math.nan
    for label, run in {**runs_.runs(), **runs_.fetch(runs_.grid_specs())}.items():
        row = {f"1e{k}": float(2 * run.xi1[np.searchsorted(run.t, 10**k)] - run.xi2[np.searchsorted(run.t, 10**k)])
               for k in range(1, 10)}
        logs = runs_.log_t(np.array([1e8, 1e9]))
        exponent = (row["1e9"] - row["1e8"]) / float(logs[1] - logs[0])
        details[label] = {"two_xi1_minus_xi2": row, "exponent_1e8_1e9": exponent}
        if label == runs_.sigma_label(runs_.sigma_theorem(runs_.MAIN_N, runs_.MAIN_D)):
            value = exponent
    return Measurement(value, "exponent of e^{2 xi1 - xi2} in t over 1e8..1e9 (claimed -1/15): "
                       + "; ".join(f"{k}: {v['exponent_1e8_1e9']:.4g}" for k, v in details.items()), details)
