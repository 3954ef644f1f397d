"""Planted faults: named, plausible bugs the suite must catch (a check that cannot fail is a defect).

Each fault replaces one attribute of a model module for the duration of a ``with fault.applied():``
block, in the process that runs the claim, and names the claims that must catch it. A fault is
*caught* by a claim when the claim's verdict (or measured value) leaves its expected one.

For a patch to take effect, code must look model functions up through their module at call time:
claims write ``attention.predict(...)`` after ``import model.attention as attention``, never
``from model.attention import predict``. The model's own modules call their helpers by global name,
which the patch replaces too.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from model.errors import UnknownFault

__all__ = ["FAULTS", "Fault", "get", "no_fault"]


@dataclass(frozen=True)
class Fault:
    """One planted fault: where it patches, what it replaces the target with, who must catch it."""

    name: str
    description: str
    module: str
    attribute: str
    replacement: Callable[..., Any]
    targets: tuple[str, ...]

    def _owner(self) -> tuple[Any, str]:
        owner: Any = importlib.import_module(self.module)
        *path, last = self.attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        return owner, last

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        owner, name = self._owner()
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, self.replacement)
        try:
            yield
        finally:
            setattr(owner, name, original)


FAULTS: dict[str, Fault] = {}


def _fault(name: str, *, patches: str, targets: tuple[str, ...]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a fault replacing ``patches``: 'package.module.function' or 'package.module:Class.method'."""
    module, attribute = patches.split(":", 1) if ":" in patches else patches.rsplit(".", 1)

    def register(replacement: Callable[..., Any]) -> Callable[..., Any]:
        description = (replacement.__doc__ or "").strip().splitlines()[0]
        FAULTS[name] = Fault(name, description, module, attribute, replacement, targets)
        return replacement

    return register


def get(name: str) -> Fault:
    """The fault called ``name``; :class:`UnknownFault` lists the known names otherwise."""
    try:
        return FAULTS[name]
    except KeyError:
        raise UnknownFault(f"no planted fault {name!r}; known faults: {', '.join(FAULTS)}") from None


@contextlib.contextmanager
def no_fault() -> Iterator[None]:
    yield


# --- the attention layer -------------------------------------------------------------------------


@_fault("softmax_wrong_axis", patches="model.attention._softmax_over_keys", targets=("M1", "C9a", "C9b", "C9c"))
def _softmax_wrong_axis(scores: torch.Tensor) -> torch.Tensor:
    """Softmax taken over the batch axis instead of the key axis."""
    return torch.softmax(scores, dim=0)


@_fault("query_dropped_from_normaliser", patches="model.attention._softmax_over_keys", targets=("M1", "C9a"))
def _query_dropped(scores: torch.Tensor) -> torch.Tensor:
    """The softmax normaliser sums over the N examples only, leaving out the query's own score."""
    e = torch.exp(scores - scores.amax(dim=1, keepdim=True))
    return e / e[:, :-1].sum(dim=1, keepdim=True)


@_fault("unstable_softmax", patches="model.attention._softmax_over_keys", targets=("M1", "M8", "M9", "C9c"))
def _unstable_softmax(scores: torch.Tensor) -> torch.Tensor:
    """Softmax without subtracting the maximum: exp overflows to inf (then NaN) at large logits."""
    e = torch.exp(scores)
    return e / e.sum(dim=1, keepdim=True)


@_fault("query_label_slot_one", patches="model.attention._query_column", targets=("C2", "M3"))
def _query_label_slot_one(xq: torch.Tensor) -> torch.Tensor:
    """The query column's label slot holds 1 instead of 0 (the unknown label leaks into the scores)."""
    ones = torch.ones(xq.shape[0], 1, dtype=xq.dtype)
    return torch.cat([xq, ones, ones], dim=1)


def _weight(W: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(W)


@_fault("scores_in_float32", patches="model.attention.query_scores", targets=("M6", "M7", "C9c", "C1.readout"))
def _scores_in_float32(H: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Scores computed after a silent float32 downcast, then cast back to float64."""
    H32, W32 = H.to(torch.float32), _weight(W).to(torch.float32)
    return torch.einsum("bkj,bk->bj", H32, H32[:, :, -1] @ W32.T).to(H.dtype)


@_fault("scores_use_W_transpose", patches="model.attention.query_scores", targets=("C2", "M7"))
def _scores_transposed(H: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Scores h_j^T W^T h_q: the key and query roles of W swapped."""
    return torch.einsum("bkj,bk->bj", H, H[:, :, -1] @ _weight(W))


@_fault(
    "embed_reshape_scramble", patches="model.attention.embed", targets=("M2", "M4", "M5", "C9b", "C9c", "C1.exact")
)
def _embed_scrambled(prompt: Any) -> torch.Tensor:
    """The (B, N, d) inputs are reshaped instead of transposed when building H, mixing N and d."""
    x, y, xq = prompt.x, prompt.y, prompt.xq
    batch, n, d = x.shape
    scrambled = x.transpose(1, 2).reshape(batch, n, d)
    zeros = torch.zeros(batch, n, 1, dtype=x.dtype)
    context = torch.cat([scrambled, y[..., None], zeros], dim=2)
    query = torch.cat([xq, torch.zeros(batch, 1, dtype=x.dtype), torch.ones(batch, 1, dtype=x.dtype)], dim=1)
    return torch.cat([context, query[:, None, :]], dim=1).transpose(1, 2)


@_fault("readout_skips_first_example", patches="model.attention._readout", targets=("M2", "C9a"))
def _readout_off_by_one(H: torch.Tensor, weights: torch.Tensor) -> Any:
    """Off-by-one in the read-out: the first example's label is left out of y_hat."""
    from model.attention import Prediction

    labels = H[:, -2, :]
    return Prediction((labels[:, 1:] * weights[:, 1:]).sum(dim=1), weights)


@_fault("layer_softmax_over_queries", patches="model.attention:AttentionLayer.attention", targets=("M10",))
def _layer_over_queries(self: Any, H: torch.Tensor) -> torch.Tensor:
    """The full layer normalises its attention over queries (rows) instead of over keys (columns)."""
    return torch.softmax(H.transpose(1, 2) @ self.W @ H, dim=2)


@_fault("layer_causal_mask", patches="model.attention:AttentionLayer.attention", targets=("M10",))
def _layer_causal(self: Any, H: torch.Tensor) -> torch.Tensor:
    """The full layer applies a causal mask (position j attends to keys i <= j only); the query still sees all."""
    scores = H.transpose(1, 2) @ self.W @ H
    size = scores.shape[1]
    allowed = torch.triu(torch.ones(size, size, dtype=torch.bool))  # [i, j]: key i visible to position j
    return torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=1)


# --- the two-parameter family ----------------------------------------------------------------------


@_fault("xi2_sign_flipped", patches="model.attention.family_W", targets=("M6", "C9b", "C9c"))
def _family_xi2_sign(xi1: float, xi2: float, d: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The family matrix carries +xi2 instead of -xi2 in its query-flag entry."""
    diagonal = [float(xi1)] * int(d) + [0.0, float(xi2)]
    return torch.diag(torch.tensor(diagonal, dtype=dtype))


@_fault("family_block_off_by_one", patches="model.attention.family_W", targets=("M4", "M6"))
def _family_block_short(xi1: float, xi2: float, d: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Off-by-one in the x-block: xi1 on the first d-1 diagonal entries only."""
    diagonal = [float(xi1)] * (int(d) - 1) + [0.0, 0.0, -float(xi2)]
    return torch.diag(torch.tensor(diagonal, dtype=dtype))


# --- the 1-NN reference ------------------------------------------------------------------------------


@_fault("ties_broken_by_index", patches="model.nearest.nearest", targets=("C9c",))
def _ties_by_index(prompt: Any) -> Any:
    """The 1-NN label at a tie is the first tied example's label instead of the tied labels' mean."""
    from model.nearest import TIE_TOL, Nearest, inner_products

    tau = inner_products(prompt)
    tau_star, first = tau.max(dim=1)
    tied = tau >= tau_star[:, None] - TIE_TOL
    label = prompt.y.to(torch.float64).gather(1, first[:, None])[:, 0]
    return Nearest(tau, tau_star, tied, label)


@_fault("margin_doubled", patches="model.nearest.margin", targets=("C9b",))
def _margin_doubled(prompt: Any) -> torch.Tensor:
    """The A_delta margin uses 4 (tau* - tau_j) instead of ||x_j - x_q||^2 - ||x_* - x_q||^2."""
    from model.nearest import nearest

    ref = nearest(prompt)
    gap = torch.where(ref.tied, 0.0, 4.0 * (ref.tau_star[:, None] - ref.tau))
    other = prompt.y.to(torch.float64) != ref.label[:, None]
    return torch.where(other, gap, float("inf")).amin(dim=1)


# --- the exact mathematics ---------------------------------------------------------------------------


@_fault(
    "kd_doubled",
    patches="model.exact.log_normaliser",
    targets=("C11a", "S8", "C1.stat", "C11c", "C11c.AW26", "C11d.lower"),
)
def _kd_doubled(d: int) -> float:
    """The density of tau normalised by [AW26]'s printed 2 Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2))."""
    from scipy import special

    return math.log(2.0) - math.log(special.beta(0.5, (d - 1) / 2))


@_fault("density_exponent_off_by_one", patches="model.exact.angle_log_density", targets=("C11a", "S8", "C1.stat"))
def _density_exponent(angle: Any, d: int) -> Any:
    """The angle density k_d sin^{d-3} (the exponent of the tau density reused for the angle's)."""
    import numpy as np

    from model.exact import log_normaliser

    with np.errstate(divide="ignore"):
        return log_normaliser(d) + (d - 3) * np.log(np.sin(angle))


@_fault("query_term_dropped", patches="model.exact._query_share", targets=("S8", "C1.stat"))
def _query_dropped_exact(log_c: Any) -> tuple[Any, Any]:
    """The query's own term e^{xi1 - xi2} left out of the quadrature's normaliser."""
    import numpy as np

    return np.zeros_like(log_c), np.ones_like(log_c)


@_fault("gradient_xi2_sign", patches="model.exact._gradient", targets=("C3.identity", "C1.stat", "C4"))
def _gradient_sign(values: dict[str, float]) -> tuple[float, float]:
    """A sign error in the gradient: dL/dxi2 returned as +E[q_0 (q_* - sum q_j^2)]."""
    return values["g1_pos"] - values["g1_neg"], values["eq14"]


@_fault("u_gap_sign", patches="model.exact._u_gap", targets=("C3.sign", "C3.identity"))
def _u_gap_sign(u: Any, v: Any) -> Any:
    """u (u - 1) written for u (1 - u) in the eq.-14 integrand."""
    import numpy as np

    return u * np.expm1(-v)


@_fault("half_range_normaliser", patches="model.symbolic.density_normaliser", targets=("C11a", "C11a.AW26"))
@functools.cache
def _half_range() -> Any:
    """The normaliser of (1 - t^2)^{(d-3)/2} integrated over [0, 1] instead of [-1, 1]."""
    import sympy as sp

    t, d = sp.Symbol("t", real=True), sp.Symbol("d", positive=True)
    return sp.simplify(sp.integrate((1 - t**2) ** ((d - 3) / 2), (t, 0, 1), conds="none"))


@_fault("codes_not_centred", patches="model.multiclass.simplex_codes_exact", targets=("C12a",))
def _codes_not_centred(K: int) -> tuple[tuple[Any, ...], ...]:
    """One-hot codes e_c in place of the simplex codes e_c - 1/K."""
    from fractions import Fraction

    return tuple(tuple(Fraction(int(c == k)) for k in range(K)) for c in range(K))


@_fault("argmax_wrong_axis", patches="model.multiclass.argmax_class", targets=("C12b", "C12c", "E2", "E3"))
def _argmax_wrong_axis(logits: torch.Tensor) -> torch.Tensor:
    """The argmax taken over the batch axis (the first) instead of the class axis (the last)."""
    return torch.argmax(torch.as_tensor(logits), dim=0)


@_fault("multiclass_scaling_dropped", patches="model.multiclass.population_loss", targets=("C12a.population",))
def _scaling_dropped(xi1: float, xi2: float, N: int, d: int, K: int) -> float:
    """The K-class population loss without its (K-1)/K: L_MC taken equal to L_bin."""
    import model.exact as exact

    return exact.population_loss(xi1, xi2, N, d)


@_fault("regime_sqrt_dropped", patches="properties.geometry.regime_ratio", targets=("C11b", "C11c", "C11c.a"))
def _regime_sqrt_dropped(N: int, d: int) -> float:
    """The regime N >= sqrt(d) ln d read as N >= d ln d."""
    return N / (d * math.log(d))


@_fault("gap_density_exponent", patches="model.geometry._density", targets=("C11d.upper", "C11d.lower"))
def _gap_density_exponent(t: Any, d: int) -> Any:
    """The density of tau with exponent (d-2)/2 in place of (d-3)/2 (the angle's exponent)."""
    import numpy as np

    from model.exact import log_normaliser

    t = np.clip(t, -1.0, 1.0)
    with np.errstate(divide="ignore"):
        return np.exp(log_normaliser(d) + (d - 2) / 2 * np.log1p(-t * t))


# --- dynamics (issue 5) -----------------------------------------------------------------------------


@_fault("readout_without_1_over_d", patches="model.dynamics._readout", targets=("C1.dynamic",))
def _readout_without_d(grad1: float, grad2: float, d: int) -> tuple[float, float]:
    """GD read-out on the family without the 1/d of the x-block: xi1 moves by -eta dL/dxi1 ([AW26] Lemma 6's form)."""
    return -grad1, -grad2


@_fault("integrator_without_error_control", patches="model.dynamics:_Field.series", targets=("S7.flow",))
def _plain_flow(self: Any, x: Any, s: float) -> tuple[Any, float]:
    """The integrator follows the gradient flow dx/ds = eta F (no log(1 + Delta) terms) and reports no cut."""
    import model.dynamics as dynamics

    F, result = dynamics.direction(float(x[0]), float(x[1]), self.N, self.d, grid=self.grid)
    self.grid = result.grid
    self.gradients += 1
    return self.eta * F, 0.0


@_fault("gradient_xi1_negative_part_dropped", patches="model.exact._gradient", targets=("C1.stat",))
def _xi1_part_dropped(values: dict[str, float]) -> tuple[float, float]:
    """dL/dxi1 keeps only its nonnegative part (the sum over neighbours, the term with (t - tau_j), is dropped)."""
    return values["g1_pos"], -values["eq14"]


@_fault("lemma9_second_term_dropped", patches="properties.lemmas.lemma9_rhs", targets=("C5.L9",))
def _lemma9_dropped(xi1: float, xi2: float, N: int, d: int) -> float:
    """Lemma 9's bound without its negative e^{2 (xi1 - xi2)} term."""
    return 2 * N / d * math.exp(-4 * xi1 / (N + 1) ** 2)


@_fault("lemma11_denominator_dropped", patches="properties.lemmas.lemma11_rhs", targets=("C5.L11", "C5.along"))
def _lemma11_denominator(xi1: float, xi2: float, N: int, d: int) -> float:
    """Lemma 11's bound without its (N+1)^3 e denominator."""
    import properties.dynamics as dynamics_claims

    return math.exp(2 * dynamics_claims.a_nd(N, d) * xi1 - 2 * xi2)


@_fault("ratio_limit_inverted", patches="properties.dynamics.ratio_limit", targets=("C6",))
def _ratio_inverted() -> float:
    """Lemma 12's ratio written upside down: 15/7 instead of 7/15."""
    return 15 / 7


@_fault("log_base_10", patches="properties.dynamics.log_t",
        targets=("C7", "C8.growth", "C7.term2", "C7.grid", "C7.outside"))
def _log_base_10(t: Any) -> Any:
    """log t taken in base 10 (the rates are in ln t)."""
    import numpy as np

    return np.log10(np.asarray(t, dtype=np.float64))


@_fault("xi2_steps_reversed", patches="properties.dynamics.xi2_steps", targets=("C8.xi2",))
def _xi2_reversed(xi2: Any) -> Any:
    """The changes of xi2 taken earlier minus later."""
    return xi2[:-1] - xi2[1:]


@_fault("lemma8_step_divided_by_d", patches="properties.lemmas.lemma8_lhs", targets=("C5.L8", "C5.L8.N"))
def _lemma8_by_d(grad1: Any, grad2: Any) -> Any:
    """Lemma 8's left side with the xi1 step divided by d once more (Delta mistaken for the raw step)."""
    return -grad1 / 8 - 2 * grad2


@_fault("lemma10_term_sign", patches="properties.lemmas.lemma10_rhs", targets=("C5.L10",))
def _lemma10_sign(xi1: Any, xi2: Any, N: int, constant: float) -> Any:
    """Lemma 10's bound with + 2 e^{2 xi1 - 2 xi2} for - 2 e^{2 xi1 - 2 xi2}."""
    import numpy as np

    with np.errstate(over="ignore"):
        return (1 - 1 / (2 * N)) * constant * np.exp(-6 * xi1) + 2 * np.exp(2 * xi1 - 2 * xi2)


@_fault("xi1_step_sign", patches="properties.lemmas.xi1_steps", targets=("C8.xi1",))
def _xi1_step_sign(grad1: Any) -> Any:
    """The xi1 step read as +dL/dxi1 (gradient ascent)."""
    return grad1


@_fault("lemma13_upper_exponent_sign", patches="properties.lemmas.lemma13_log_bounds", targets=("C8.steps",))
def _lemma13_upper_sign(xi2: Any, N: int, eta: float) -> tuple[Any, Any]:
    """Lemma 13's upper bound eta e^{+xi2/15} for eta e^{-xi2/15}."""
    return math.log(eta) - 2 * xi2 - 3 * math.log(N + 1) - 1, math.log(eta) + xi2 / 15


@_fault("shift_error_against_first_label", patches="model.shift.target_labels",
        targets=("C10", "C10.adversarial", "C10.rate", "E1"))
def _first_label(prompt: Any) -> Any:
    """The test error measured against the first example's label y_1 instead of the 1-NN label y*."""
    return prompt.y[:, 0].to(torch.float64)


@_fault("shift_bound_without_query_term", patches="model.shift._first_term", targets=("C10", "C10.adversarial"))
def _without_query_term(xi1: float, xi2: float, N: int, B: float, delta: Any) -> Any:
    """Theorem 2's bound without its q_0 term e^{2 xi1 - xi2}: B^2 (2N e^{-xi1 delta/2})^2."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        decay = np.exp(-xi1 * delta / 2) if xi1 > 0 else np.ones_like(delta)
        return B**2 * (2 * N * decay) ** 2


@_fault("shift_delta_not_optimised", patches="model.shift.c10_bound", targets=("C10", "C10.adversarial"))
def _fixed_delta(xi1: float, xi2: float, N: int, B: float, margins: Any, alpha: float) -> Any:
    """The bound at one delta (the median positive margin) instead of the inf over delta."""
    import numpy as np

    import model.shift as shift

    m = np.asarray(margins, dtype=np.float64)
    positive = m[np.isfinite(m) & (m > 0)]
    delta = float(np.median(positive)) if positive.size else 1.0  # (no finite margin: any delta will do)
    p_upper = min(1.0, float(np.mean(m < delta)) + shift.dkw_epsilon(m.size, alpha))
    first = float(shift._first_term(xi1, xi2, N, B, np.array([delta]))[0])
    return shift.BoundResult(first + (2 * B) ** 2 * p_upper, delta, p_upper, first)


# --- the training experiment (E1) ----------------------------------------------------------------


@_fault("sgd_step_ascends", patches="model.training.sgd_step", targets=("E1",))
def _sgd_ascends(W: torch.Tensor, gradient: torch.Tensor, eta: float) -> torch.Tensor:
    """The SGD step with the wrong sign: W + eta * gradient (gradient ascent on the loss)."""
    return W + eta * gradient


@_fault("smoother_untuned", patches="model.training.tune_bandwidth", targets=("E1",))
def _smoother_untuned(validation: Any, betas: Any = None) -> Any:
    """The kernel smoother's bandwidth is not tuned: the grid's first beta (0, the mean label) is kept."""
    import model.nearest as nearest
    import model.training as training

    grid = tuple(training.BETA_GRID if betas is None else betas)
    target = nearest.nearest(validation).label
    mse = tuple(float(((training.smoother_predict(validation, beta) - target) ** 2).mean()) for beta in grid)
    return training.Tuning(grid[0], grid, mse)


# --- the multiclass experiments (E2, E3) ---------------------------------------------------------


@_fault("mc_init_noise_dropped", patches="model.multiclass_training.initial_weights", targets=("E2",))
def _mc_init_noise_dropped(noises: Any, Z: torch.Tensor, d: int, K: int, sigma: float) -> torch.Tensor:
    """E2's W^0 without its noise: Assumption 2's diag(0, ..., 0, -sigma) for every eps (caught before training)."""
    import model.multiclass as multiclass

    base = multiclass.family_W(0.0, sigma, d, K)
    return base.expand(len(noises), Z.shape[0], *base.shape).clone()


@_fault("mc_query_label_slot_filled", patches="model.multiclass.embed", targets=("E2",))
def _mc_query_label_slot_filled(prompt: Any) -> torch.Tensor:
    """The query column's label slot holds 1/K instead of 0, so W's label-slot columns reach the scores."""
    batch, n, _ = prompt.x.shape
    context = torch.cat([prompt.x, prompt.codes(), torch.zeros(batch, n, 1, dtype=prompt.dtype)], dim=2)
    query = torch.cat([prompt.xq, torch.full((batch, prompt.K), 1 / prompt.K, dtype=prompt.dtype),
                       torch.ones(batch, 1, dtype=prompt.dtype)], dim=1)
    return torch.cat([context, query[:, None, :]], dim=1).transpose(1, 2)


@_fault("mc_target_first_example", patches="model.multiclass.nearest_class", targets=("E3",))
def _mc_target_first_example(prompt: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The accuracy is measured against the first example's class instead of the 1-NN class."""
    import model.multiclass as multiclass

    first = prompt.classes[:, 0]
    return multiclass.simplex_codes(prompt.K)[first], first


@_fault("mc_margin_farthest_other_class", patches="model.multiclass_training.class_margin", targets=("E3",))
def _mc_margin_farthest_other_class(prompt: Any) -> torch.Tensor:
    """The K-class margin against the farthest example of another class (a max for the min over them)."""
    import model.nearest as nearest

    tau = nearest.inner_products(prompt.geometry)  # (B, N)
    star = tau.argmax(dim=1)
    other = prompt.classes != prompt.classes[torch.arange(prompt.batch), star][:, None]  # (B, N)
    gap = torch.where(other, 2 * (tau.amax(dim=1, keepdim=True) - tau), -torch.inf).amax(dim=1)  # (B,)
    return torch.where(other.any(dim=1), gap, torch.inf)
