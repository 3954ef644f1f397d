"""Empirical losses and gradients of the full model on a sample set, and the symmetrised sample set.

References (THEORY.md IDs): S5 (the loss, here on a finite set of prompts), S7 (gradient steps on the
full W), S8 (the family and its read-out), C1 (the invariance of the family under GD).

The symmetrised set. For an orthogonal map P of R^d, applying P to every x_j and x_q of a prompt
maps its scores h_j^T W h_q to h_j^T P~^T W P~ h_q with P~ = diag(P, 1, 1); so on a set S closed
under P the empirical loss satisfies L_S(P~^T W P~) = L_S(W), and at a family point (which P~
fixes) the gradient obeys G = P~ G P~^T after averaging over the copies. Flipping every label maps
(y_hat, y_*) to (-y_hat, -y_*) at any W with zero label row and column, so G = R G R with
R = diag(I_d, -1, 1). :func:`symmetrise` adds, for each prompt, the copies under
x -> roll(D_s x, k) (D_s = diag(s)) and y -> +-y, for s the rows of a Hadamard matrix restricted to
d of its non-constant columns (each column balanced, any two orthogonal) and the d cyclic shifts k:
2 n d copies, n <= 2 d (no enumeration of 2^d sign patterns). Averaging D_s G D_s over s kills
every x-block entry off the diagonal and every x-to-label or x-to-flag entry (balanced columns kill
single signs, orthogonal columns kill products of two); averaging over the shifts makes the
diagonal constant; the label flip kills the label-to-flag entries. What remains is the family:
a multiple of I_d in the x-block and the flag-flag entry (the label column's gradient is 0 by C2).
"""

from __future__ import annotations

import math

import torch
from scipy.linalg import hadamard

import model.attention as attention
from model.errors import InvalidShape
from model.nearest import nearest
from model.prompt import Prompt, as_float_tensor, check_finite, check_prompt, check_real, check_size

__all__ = ["empirical_loss", "family_gradient", "full_gradient", "sign_patterns", "symmetrise"]


def sign_patterns(d: int) -> torch.Tensor:
    """(n, d) sign vectors with balanced, pairwise orthogonal columns: d non-constant Hadamard columns."""
    d = check_size(d, "d", 1)
    order = 2 ** math.ceil(math.log2(d + 1))
    return torch.tensor(hadamard(order)[:, 1 : d + 1], dtype=torch.float64)


def symmetrise(prompt: Prompt) -> Prompt:
    """The prompts and their 2 n d copies under sign patterns, cyclic shifts and the label flip."""
    check_prompt(prompt)
    signs = sign_patterns(prompt.d).to(prompt.dtype)  # (n, d)
    xs, ys, qs = [], [], []
    for shift in range(prompt.d):
        for s in signs:
            for flip in (1.0, -1.0):
                xs.append(torch.roll(prompt.x * s, shift, dims=-1))  # (B, N, d)
                qs.append(torch.roll(prompt.xq * s, shift, dims=-1))  # (B, d)
                ys.append(prompt.y * flip)  # (B, N)
    return Prompt(torch.cat(xs), torch.cat(ys), torch.cat(qs), prompt.labels)


def _targets(prompt: Prompt) -> torch.Tensor:
    return nearest(prompt).label  # (B,) y_*, mean label of exactly tied nearest neighbours


def empirical_loss(prompt: Prompt, W: torch.Tensor) -> torch.Tensor:
    """L_S(W) = mean over the prompts of 1/2 (y_hat - y_*)^2 (a 0-dim tensor, differentiable in W)."""
    return 0.5 * ((attention.predict(prompt, W).y_hat - _targets(prompt)) ** 2).mean()


def full_gradient(prompt: Prompt, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(dL_S/dW by autograd, an entrywise first-order bound on its rounding error). Named errors on bad input.

    With l_i = 1/2 (y_hat - y_*)^2 and s_j = h_j^T W h_q, dl_i/dW = r sum_j q_j (y_j - y_hat) h_j h_q^T
    (r = y_hat - y_*; the query's label is 0). In floating point each q_j carries a relative error of
    about g eps, g = N + 1 + (d + 2) max|s|; so y_hat an absolute error e = g eps max|y|, and the
    differences r and y_j - y_hat absolute errors e_r = e + eps |y_*| and e_j = e + eps (|y_j| + |y_hat|),
    which dominate when y_hat is close to a label. Per prompt the error is at most
    [(|r| + e_r) sum_j q_j (|y_j - y_hat| + e_j) (1 + g eps) - T] |h_j| |h_q|^T with
    T = |r| sum_j q_j |y_j - y_hat|, and averaging n prompts adds n eps T |h_j| |h_q|^T. Claims multiply
    the bound by a safety factor (properties.tolerances.ROUNDING_SAFETY).
    """
    prompt = check_prompt(prompt)
    W = as_float_tensor(W, "W")
    if W.ndim != 2 or W.shape != (prompt.d + 2, prompt.d + 2):
        raise InvalidShape(f"W must have shape (d+2, d+2) = {(prompt.d + 2,) * 2}, got {tuple(W.shape)}")
    check_finite(W, "W")
    W = W.detach().clone().requires_grad_(True)
    prediction = attention.predict(prompt, W)
    target = _targets(prompt)  # (B,)
    residual = prediction.y_hat - target  # (B,)
    gradient = torch.autograd.grad(0.5 * (residual**2).mean(), W)[0]  # (d+2, d+2)
    with torch.no_grad():
        eps = torch.finfo(torch.float64).eps
        H = attention.embed(prompt)  # (B, d+2, N+1)
        growth = prompt.n + 1 + (prompt.d + 2) * attention.query_scores(H, W.detach()).abs().amax(dim=1)  # (B,)
        labels = torch.cat([prompt.y, torch.zeros(prompt.batch, 1, dtype=prompt.dtype)], dim=1)  # (B, N+1)
        y_hat = prediction.y_hat[:, None]  # (B, 1)
        e_hat = growth[:, None] * eps * labels.abs().amax(dim=1, keepdim=True)  # (B, 1)
        e_r = (e_hat[:, 0] + eps * target.abs())[:, None]  # (B, 1)
        e_j = e_hat + eps * (labels.abs() + y_hat.abs())  # (B, N+1)
        gap, r = (labels - y_hat).abs(), residual.abs()[:, None]
        exact_terms = r * prediction.weights * gap  # (B, N+1)
        rounded = (r + e_r) * prediction.weights * (gap + e_j) * (1 + growth[:, None] * eps)
        coeff = rounded - exact_terms + prompt.batch * eps * exact_terms
        bound = torch.einsum("bj,bkj,bl->kl", coeff, H.abs(), H[:, :, -1].abs()) / prompt.batch  # (d+2, d+2)
    return gradient, bound


def family_gradient(prompt: Prompt, xi1: float, xi2: float) -> tuple[float, float]:
    """(dL_S/dxi1, dL_S/dxi2) of the family function on the set, by autograd through ``family_predict``."""
    prompt = check_prompt(prompt)
    xi1, xi2 = check_real(xi1, "xi1"), check_real(xi2, "xi2")
    params = torch.tensor([xi1, xi2], dtype=torch.float64, requires_grad=True)
    tau = torch.einsum("bnd,bd->bn", prompt.x, prompt.xq)  # (B, N)
    own = (params[0] - params[1]).expand(prompt.batch, 1)  # (B, 1)
    weights = torch.softmax(torch.cat([params[0] * tau, own], dim=1), dim=1)  # (B, N+1)
    y_hat = (weights[:, :-1] * prompt.y).sum(dim=1)
    loss = 0.5 * ((y_hat - _targets(prompt)) ** 2).mean()
    grad = torch.autograd.grad(loss, params)[0]
    return float(grad[0]), float(grad[1])
