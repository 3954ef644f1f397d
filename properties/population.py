"""Claims about the population loss on the two-parameter family: C1, C3, C11a, C12a and the reduction S8.

Every value comes from the deterministic quadrature of :mod:`model.exact` (with its error estimates)
or from the torch model itself (:mod:`model.empirical`); the statistical checks use literal seeds and
state their false-alarm rate.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp
import torch
from hypothesis import assume
from hypothesis import strategies as st
from scipy import stats

import model.attention as attention
import model.empirical as empirical
import model.exact as exact
import model.multiclass as multiclass
import model.symbolic as symbolic
from model.attention import family_W
from model.laws import sample_training_prompts
from model.prompt import BINARY, Prompt
from model.quadrature import panel_nodes
from properties.matrices import family_params
from properties.registry import check, check_at_most, claim
from properties.strategies import prompts
from properties.tolerances import ROUNDING_SAFETY

SECTION = "Population identities and lemmas"

#: Two-sided bands of the statistical checks. Batch means of 40 groups: P(|t_39| > 6) ~ 5e-7 per
#: entry; KS p-value floor 1e-6 per dimension. Family-wise false-alarm rates are stated per claim.
T_BAND, GROUPS, GROUP_SIZE = 6.0, 40, 500
KS_ALPHA, KS_SAMPLES = 1e-6, 20_000
STAT_SEED = 20261126
#: Dimensions at which the density of tau is checked (C11a).
DENSITY_DIMS = (2, 3, 4, 5, 8, 16, 64, 256)
#: Points (xi1, xi2, N, d) where the full-W gradient of the torch model meets the quadrature (C1.stat).
STAT_POINTS = ((2.0, 3.0, 6, 4), (6.0, 4.0, 3, 3), (0.5, -1.0, 2, 2))


@st.composite
def family_points(draw: Any, *, gap_min: float = -50.0, gap_max: float = 1e3) -> tuple[float, float, int, int]:
    """(xi1, xi2, N, d) in the quadrature's box, with xi2 - xi1 in [gap_min, gap_max]; small first."""
    lo_n, hi_n = exact.DOMAIN["N"]
    lo_d, hi_d = exact.DOMAIN["d"]
    N = draw(st.integers(int(lo_n), int(hi_n)))
    d = draw(st.integers(int(lo_d), int(hi_d)))
    xi1 = draw(st.floats(0.0, exact.DOMAIN["xi1"][1]))
    gap = draw(st.floats(gap_min, gap_max))
    xi2 = min(max(xi1 + gap, exact.DOMAIN["xi2"][0]), exact.DOMAIN["xi2"][1])
    return xi1, xi2, N, d


# --- S8: the reduction ----------------------------------------------------------------------------


@claim("S8", section=SECTION)
def family_reduction() -> None:
    """The family's population loss and eq.-14 pieces by quadrature equal the torch model's, by Monte Carlo.
    [LCG24] §3 / THEORY.md S8 (reduction to two parameters), claim S8

    40,000 prompts from the training law (seed STAT_SEED) through the full torch model at
    W = diag(xi1 I, 0, -xi2); each mean within 6 batch-mean standard errors (t with 39 degrees of
    freedom: false alarm ~5e-7 per mean, 6e-6 over the 12 means).
    """
    for xi1, xi2, N, d in ((2.0, 1.0, 8, 5), (5.0, 4.0, 4, 3), (1.0, 0.0, 3, 2)):
        result = exact.population(xi1, xi2, N, d)
        for name, (mean, stderr) in _monte_carlo_pieces(xi1, xi2, N, d).items():
            value = getattr(result, name)
            check_at_most(
                abs(value - mean),
                T_BAND * stderr,
                message=f"{name} at (xi1, xi2, N, d) = {(xi1, xi2, N, d)}: quadrature {value!r}, "
                f"Monte Carlo {mean!r} +- {stderr:.3g}",
            )


def _batch_means(samples: torch.Tensor) -> tuple[float, float]:
    """(mean, standard error) from GROUPS batch means."""
    means = samples.reshape(GROUPS, -1).mean(dim=1)
    return float(means.mean()), float(means.std()) / math.sqrt(GROUPS)


def _monte_carlo_pieces(xi1: float, xi2: float, N: int, d: int) -> dict[str, tuple[float, float]]:
    prompt = sample_training_prompts(GROUPS * GROUP_SIZE * 2, N, d, generator=torch.Generator().manual_seed(STAT_SEED))
    weights = attention.predict(prompt, family_W(xi1, xi2, d)).weights  # (B, N+1)
    star = torch.einsum("bnd,bd->bn", prompt.x, prompt.xq).argmax(dim=1)  # ties have probability 0
    q_star = weights.gather(1, star[:, None])[:, 0]
    sum_q2 = (weights[:, :-1] ** 2).sum(dim=1)
    q0 = weights[:, -1]
    pieces = {"loss": (sum_q2 - 2 * q_star + 1) / 2, "q_star": q_star, "q0": q0, "eq14": q0 * (q_star - sum_q2)}
    return {name: _batch_means(value) for name, value in pieces.items()}


# --- C1: the family is invariant under GD ---------------------------------------------------------


def _off_family(G: torch.Tensor) -> torch.Tensor:
    """G with the family's two directions removed: the x-block's mean diagonal and the flag-flag entry."""
    d = G.shape[0] - 2
    rest = G.clone()
    rest[:d, :d] -= torch.eye(d, dtype=G.dtype) * G.diagonal()[:d].mean()
    rest[-1, -1] = 0.0
    return rest


@claim("C1.exact", section=SECTION, given={"case": st.tuples(prompts(n_max=6, d_max=6, labels=BINARY, large=False),
                                                              family_params(xi1_max=1e2, xi2_min=-1e2, xi2_max=1e2))})
def gradient_stays_on_family(case: tuple[Prompt, tuple[float, float]]) -> None:
    """At a family point the full-W gradient on a symmetrised sample set has no off-family part.
    [LCG24] Lemma 1 / [AW26] Lemma 4 (invariance), claim C1.exact

    The set holds each drawn prompt and its 2 n d copies (``model.empirical.symmetrise``; the symmetry
    argument is in that module's docstring). Each off-family entry must vanish to rounding: at most
    ROUNDING_SAFETY times the first-order rounding bound of ``model.empirical.full_gradient``.
    """
    prompt, (xi1, xi2) = case
    sample = empirical.symmetrise(prompt)
    G, scale = empirical.full_gradient(sample, family_W(xi1, xi2, prompt.d))
    slack = ROUNDING_SAFETY * scale
    off = _off_family(G).abs()
    ratio = torch.where(slack > 0, off / slack.clamp_min(1e-300), torch.where(off > 0, torch.inf, 0.0))
    worst = divmod(int(ratio.argmax()), prompt.d + 2)
    check(
        bool(ratio.max() <= 1),
        margin=float((slack - off).min()),
        ratio=float(ratio.max()),
        message=f"largest off-family entry relative to its rounding slack: G{worst} = {float(off[worst])!r} "
        f"(slack {float(slack[worst]):.3g}); x-diagonal {float(G[0, 0])!r}",
    )


@claim("C1.readout", section=SECTION, given={"case": st.tuples(prompts(n_max=6, d_max=6, labels=BINARY, large=False),
                                                                family_params(xi1_max=1e2, xi2_min=-1e2, xi2_max=1e2))})
def gd_readout(case: tuple[Prompt, tuple[float, float]]) -> None:
    """On the family, one full-W GD step moves xi1 by -(eta/d) dL/dxi1 and xi2 by -eta dL/dxi2 (not -eta dL/dxi1).
    THEORY.md S8 (GD read-out; [AW26] Lemma 6 omits the 1/d), claim C1.readout

    dL/dW is the autograd gradient of the full model on the symmetrised set; (dL/dxi1, dL/dxi2) the
    autograd gradient of the two-parameter family function on the same set (a different code path).
    Each x-diagonal entry must be (1/d) dL/dxi1 and the flag-flag entry -dL/dxi2, to rounding.
    """
    prompt, (xi1, xi2) = case
    sample = empirical.symmetrise(prompt)
    d = prompt.d
    G, scale = empirical.full_gradient(sample, family_W(xi1, xi2, d))
    g1, g2 = empirical.family_gradient(sample, xi1, xi2)
    slack = ROUNDING_SAFETY * float(scale.max())
    gaps = [abs(float(G[i, i]) - g1 / d) for i in range(d)] + [abs(float(G[-1, -1]) + g2)]
    check(
        max(gaps) <= 2 * slack,
        margin=2 * slack - max(gaps),
        message=f"x-diagonal {float(G[0, 0])!r} vs dL/dxi1 / d = {g1 / d!r}; flag entry {float(G[-1, -1])!r} "
        f"vs -dL/dxi2 = {-g2!r} (slack {2 * slack:.3g})",
    )


@claim("C1.stat", section=SECTION)
def gradient_matches_population() -> None:
    """On iid training prompts the full-W gradient is, within its confidence band, the family's population gradient.
    [LCG24] Lemma 1 / [AW26] Lemma 4 (invariance), claim C1.stat

    20,000 prompts (seed STAT_SEED) at each point of STAT_POINTS; 40 batch means per entry. Off-family
    entries must be 0 and the family entries (1/d) dL/dxi1 and -dL/dxi2 from ``model.exact``, within 6
    standard errors (t_39: false alarm ~5e-7 per entry, under 2e-4 over all entries and points).
    """
    for xi1, xi2, N, d in STAT_POINTS:
        prompt = sample_training_prompts(GROUPS * GROUP_SIZE, N, d, generator=torch.Generator().manual_seed(STAT_SEED))
        W = family_W(xi1, xi2, d)
        groups = torch.stack([
            empirical.full_gradient(_slice(prompt, k * GROUP_SIZE, GROUP_SIZE), W)[0] for k in range(GROUPS)
        ])  # (GROUPS, d+2, d+2)
        grad1, grad2 = exact.population_grad(xi1, xi2, N, d)
        target = torch.zeros(d + 2, d + 2, dtype=torch.float64)
        target[:d, :d] = torch.eye(d, dtype=torch.float64) * grad1 / d
        target[-1, -1] = -grad2
        mean, stderr = groups.mean(dim=0), groups.std(dim=0) / math.sqrt(GROUPS)
        z = ((mean - target).abs() / stderr.clamp_min(1e-300)).nan_to_num(0.0)
        worst = int(z.argmax())
        check(
            bool(z.max() <= T_BAND),
            margin=T_BAND - float(z.max()),
            ratio=float(z.max()) / T_BAND,
            message=f"entry {divmod(worst, d + 2)} at (xi1, xi2, N, d) = {(xi1, xi2, N, d)}: Monte Carlo "
            f"{float(mean.flatten()[worst])!r} +- {float(stderr.flatten()[worst]):.3g}, "
            f"quadrature {float(target.flatten()[worst])!r}",
        )


def _slice(prompt: Prompt, start: int, size: int) -> Prompt:
    stop = start + size
    return Prompt(prompt.x[start:stop], prompt.y[start:stop], prompt.xq[start:stop], prompt.labels)


# --- C3: eq. 14 -----------------------------------------------------------------------------------

#: Step of the fourth-order central differences in xi2 (L varies on a scale of 1 in xi2).
FD_STEP = 0.05
#: Differences are trusted where their error bound is below this fraction of the derivative.
FD_RESOLUTION = 1e-3
FD_RTOL = 1e-11


def _central_difference(xi1: float, xi2: float, N: int, d: int, h: float) -> tuple[float, float]:
    """Fourth-order central difference of L in xi2 and its quadrature-error bound."""
    points = [exact.population(xi1, xi2 + k * h, N, d, rtol=FD_RTOL) for k in (-2, -1, 1, 2)]
    values = [p.loss for p in points]
    errors = [p.errors["loss"] for p in points]
    return (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * h), 1.5 * max(errors) / h


@claim(
    "C3.identity",
    section=SECTION,
    given={"point": family_points(gap_min=-15.0, gap_max=15.0)},
    budget=0.05,
    examples=[{"point": (2.0, 3.0, 4, 3)}, {"point": (5.0, 9.0, 8, 3)}],
)
def eq14_identity(point: tuple[float, float, int, int]) -> None:
    """dL/dxi2 = -E[q_0 (q_* - sum_j q_j^2)] on the family (eq. 14), and population_grad returns it.
    [LCG24] eq. 14 / [AW26] Lemma 11 proof, claim C3.identity

    Left side: fourth-order central differences of the quadrature loss (steps h and 2h; the
    truncation error is bounded by 4 |D(h) - D(2h)| / 15 (Richardson) plus 1.5 max err_L / h from the
    loss's error estimates). Where that bound exceeds FD_RESOLUTION of the derivative, differences
    cannot resolve it and the input is skipped (``assume``).
    """
    xi1, xi2, N, d = point
    assume(xi2 - 2 * FD_STEP >= exact.DOMAIN["xi2"][0] and xi2 + 2 * FD_STEP <= exact.DOMAIN["xi2"][1])
    fine, fine_err = _central_difference(xi1, xi2, N, d, FD_STEP)
    coarse, _ = _central_difference(xi1, xi2, N, d, 2 * FD_STEP)
    bound = 4 * abs(fine - coarse) / 15 + fine_err
    assume(bound <= FD_RESOLUTION * abs(fine))
    result = exact.population(xi1, xi2, N, d)
    rhs, grad2 = -result.eq14, result.grad_xi2
    tol = bound + result.errors["eq14"]
    gap = max(abs(fine - rhs), abs(fine - grad2))
    check_at_most(
        gap,
        tol,
        message=f"at (xi1, xi2, N, d) = {point}: dL/dxi2 by differences {fine!r} (+- {bound:.3g}), "
        f"-E[q_0 (q_* - sum q_j^2)] = {rhs!r}, population_grad = {grad2!r}",
    )


@claim(
    "C3.sign", section=SECTION, given={"point": family_points()}, budget=0.1, examples=[{"point": (5.0, 20.0, 8, 3)}]
)
def xi2_never_decreases(point: tuple[float, float, int, int]) -> None:
    """For xi1 >= 0, E[q_0 (q_* - sum_j q_j^2)] >= 0, so a GD step never decreases xi2.
    [LCG24] eq. 14 / [AW26] §3.2, claim C3.sign

    The sign follows algebraically: q_* - sum q_j^2 = (C + sum u_j (1 - u_j)) / D^2 with u_j <= 1
    when xi1 >= 0 (``model.exact``'s docstring). The search therefore guards the implementation of
    that form (a sign slip inside it is a planted fault this claim catches), not the algebra.
    """
    result = exact.population(*point)
    check(
        result.eq14 >= -result.errors["eq14"],
        margin=result.eq14 + result.errors["eq14"],
        message=f"at (xi1, xi2, N, d) = {point}: E[q_0 (q_* - sum q_j^2)] = {result.eq14!r}",
    )


# --- C11a: the density of tau ---------------------------------------------------------------------

#: The density's integral by Gauss-Kronrod on 64 panels of [0, pi]: rounding of ~1e3 terms.
DENSITY_TOL = 1e-13


@claim("C11a", section=SECTION)
def tau_density() -> None:
    """tau = <x_j, x_q> has density k_d (1 - t^2)^{(d-3)/2} with k_d = Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)).
    [LCG24] Lemma 16 / [AW26] Lemma 16 (density of tau), claim C11a

    Three checks: SymPy integrates (1 - t^2)^{(d-3)/2} for symbolic d and k_d times it simplifies
    to 1; the density the quadrature uses integrates to 1 (to DENSITY_TOL) at DENSITY_DIMS; and its
    distribution function matches tau sampled from the training law (Kolmogorov-Smirnov,
    KS_SAMPLES draws per d, p >= KS_ALPHA: false alarm 8e-6 over the 8 dimensions).
    """
    d = sp.Symbol("d", positive=True)
    k_d = sp.gamma(d / 2) / (sp.sqrt(sp.pi) * sp.gamma((d - 1) / 2))
    product = sp.simplify(k_d * symbolic.density_normaliser())
    check(product == 1, margin=0.0 if product == 1 else -1.0, message=f"k_d * int (1-t^2)^((d-3)/2) dt = {product}")
    nodes, weights, _ = panel_nodes(np.linspace(0.0, math.pi, 65))
    for dim in DENSITY_DIMS:
        total = float((weights * np.exp(exact.angle_log_density(nodes, dim))).sum())
        check(abs(total - 1) <= DENSITY_TOL, margin=DENSITY_TOL - abs(total - 1),
              message=f"the quadrature's density integrates to {total!r} at d = {dim}")
        prompt = sample_training_prompts(KS_SAMPLES, 1, dim, generator=torch.Generator().manual_seed(STAT_SEED + dim))
        tau = torch.einsum("bnd,bd->bn", prompt.x, prompt.xq)[:, 0].numpy()
        p_value = float(stats.kstest(tau, lambda t: exact.tau_cdf(t, dim)).pvalue)  # noqa: B023
        check(p_value >= KS_ALPHA, margin=p_value - KS_ALPHA,
              message=f"KS test of sampled tau against F_d at d = {dim}: p = {p_value:.3g}")


@claim("C11a.AW26", section=SECTION, given={"d": st.integers(2, 256)}, budget=0.1)
def aw26_normaliser(d: int) -> None:
    """[AW26]'s printed k_d = 2 Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2)) makes f_d integrate to 1.
    [AW26] Lemma 16 (printed normalisation), claim C11a.AW26
    """
    integral = symbolic.aw26_normaliser_integral(d)
    check(integral == 1, margin=-abs(float(integral) - 1),
          message=f"int_(-1)^1 of the printed density at d = {d} is {integral}")


# --- C12a: the multiclass/binary scaling ----------------------------------------------------------


@st.composite
def _weights_and_classes(draw: Any) -> tuple[tuple[Fraction, ...], int, int]:
    K = draw(st.integers(2, 5))
    N = draw(st.integers(1, 4 if K <= 3 else 3))
    raw = draw(st.lists(st.integers(1, 10**6), min_size=N + 1, max_size=N + 1))
    q = tuple(Fraction(r, sum(raw)) for r in raw)  # q_1..q_N and the query's q_0, exactly
    return q, K, draw(st.integers(0, N - 1))


@claim("C12a", section=SECTION, given={"case": _weights_and_classes()})
def multiclass_scaling(case: tuple[tuple[Fraction, ...], int, int]) -> None:
    """For attention weights independent of the labels, E||l - u_*||^2 = (K-1)/K E(y_hat - y_*)^2, exactly.
    [AW26] Lemma 3 and Fig. 2 (L_MC = (K-1)/K L_bin on the family), claim C12a

    Exact rational arithmetic over every labelling: classes iid uniform on [K] with simplex codes,
    binary labels iid uniform on {+1, -1}, the same weights q (any probability vector, as on the
    family, where q depends on the inputs only).
    """
    q, K, star = case
    N = len(q) - 1
    codes = multiclass.simplex_codes_exact(K)
    mc = Fraction(0)
    for classes in itertools.product(range(K), repeat=N):
        l_minus_u = [sum((q[j] * codes[classes[j]][k] for j in range(N)), Fraction(0)) - codes[classes[star]][k]
                     for k in range(K)]
        mc += sum(v * v for v in l_minus_u)
    mc /= K**N
    binary = Fraction(0)
    for labels in itertools.product((1, -1), repeat=N):
        binary += (sum((q[j] * labels[j] for j in range(N)), Fraction(0)) - labels[star]) ** 2
    binary /= 2**N
    scaled = Fraction(K - 1, K) * binary
    check(mc == scaled, margin=-abs(float(mc - scaled)),
          message=f"K = {K}, q = {[str(v) for v in q]}: E||l - u*||^2 = {mc} vs (K-1)/K E(y_hat - y*)^2 = {scaled}")
