"""The one-layer softmax-attention model of [LCG24], its embedding, and the two-parameter family.

References (THEORY.md IDs):
  [1] S1 embedding: column j <= N of H is [x_j; y_j; 0], the query column is [x_q; 0; 1].
  [2] S2 model: f(H; W) = H softmax(H^T W H), softmax over keys (each column); the prediction is
      y_hat = [f(H; W)]_{d+1, N+1} = sum_{j<=N} q_j y_j with q_j = softmax_j(h_j^T W h_q).
      W = W_K^T W_Q is the merged key-query matrix; the factorised form is the same function.
  [3] S6 initialisation W^0 = diag(0, ..., 0, -sigma); S8 family W = diag(xi1 I_d, 0, -xi2), where
      q_j = e^{xi1 tau_j} / (sum_l e^{xi1 tau_l} + e^{xi1 - xi2}) with tau_j = <x_j, x_q>.

Rows of H: 0..d-1 hold x, row d the label (the paper's row d+1), row d+1 the query flag. The query
is the last column (index N); its attention weight q_{N+1} =: q_0 is returned last in ``weights``.
Softmax is computed with the maximum subtracted, so logits of 1e4 and beyond stay finite.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from model.errors import InvalidDType, InvalidParameter, InvalidShape, NonFiniteValue
from model.prompt import FLOAT_DTYPES, Prompt, as_float_tensor, check_finite, check_prompt, check_real, check_size

__all__ = [
    "AttentionLayer",
    "Prediction",
    "embed",
    "family_W",
    "family_predict",
    "init_W",
    "predict",
    "predict_factorised",
    "query_scores",
]


class Prediction(NamedTuple):
    """The model's output on a prompt batch."""

    y_hat: torch.Tensor  # (B,) the label-row entry of the query column
    weights: torch.Tensor  # (B, N+1) attention of the query over keys; the last entry is q_0


def embed(prompt: Prompt) -> torch.Tensor:
    """The embedding S1: a (B, d+2, N+1) matrix H per prompt (see module docstring)."""
    x, y, xq = check_prompt(prompt).x, prompt.y, prompt.xq  # (B, N, d), (B, N), (B, d)
    batch, n, _ = x.shape
    zeros = torch.zeros(batch, n, dtype=x.dtype)  # (B, N)
    context = torch.cat([x, y[..., None], zeros[..., None]], dim=2)  # (B, N, d+2)
    query = _query_column(xq)  # (B, d+2)
    return torch.cat([context, query[:, None, :]], dim=1).transpose(1, 2)  # (B, d+2, N+1)


def _query_column(xq: torch.Tensor) -> torch.Tensor:
    """[x_q; 0; 1]: the label slot is 0 (the label is unknown), the flag is 1."""
    batch = xq.shape[0]
    slot = torch.zeros(batch, 1, dtype=xq.dtype)  # (B, 1)
    flag = torch.ones(batch, 1, dtype=xq.dtype)  # (B, 1)
    return torch.cat([xq, slot, flag], dim=1)  # (B, d+2)


def _softmax_over_keys(scores: torch.Tensor) -> torch.Tensor:
    """Numerically stable softmax over the key axis: axis 1 of (B, N+1) query scores, or of the
    (B, N+1, N+1) score matrix of the full layer (rows are keys, columns are queries)."""
    shifted = scores - scores.amax(dim=1, keepdim=True)  # (B, N+1), max entry 0
    e = torch.exp(shifted)  # (B, N+1), in (0, 1]
    return e / e.sum(dim=1, keepdim=True)  # (B, N+1)


def _finite_scores(scores: torch.Tensor) -> torch.Tensor:
    """Refuse to softmax scores that overflowed: W (or xi) too large for the dtype. Never NaN."""
    finite = torch.isfinite(scores)
    if not bool(finite.all()):
        bad = float(scores.detach()[~finite][0])
        raise NonFiniteValue(
            f"attention scores overflow {scores.dtype} (a score is {bad}): "
            "the entries of W (or xi1, xi2) are too large for this dtype"
        )
    return scores


def _check_weight(W: torch.Tensor, H: torch.Tensor, name: str = "W") -> torch.Tensor:
    W = as_float_tensor(W, name)
    size = H.shape[1]
    if tuple(W.shape) != (size, size):
        raise InvalidShape(f"{name} must have shape (d+2, d+2) = {(size, size)}, got {tuple(W.shape)}")
    if W.dtype != H.dtype:
        raise InvalidDType(f"{name} has dtype {W.dtype} but the prompt has {H.dtype}")
    check_finite(W, name)
    return W


def query_scores(H: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """The query column of H^T W H: s_j = h_j^T W h_q for every key j (the query last), (B, N+1)."""
    H = as_float_tensor(H, "H")
    if H.ndim != 3 or H.shape[1] < 1 or H.shape[2] < 1:
        raise InvalidShape(f"H must have shape (B, rows, N+1), got {tuple(H.shape)}")
    check_finite(H, "H")
    W = _check_weight(W, H)
    hq = H[:, :, -1]  # (B, d+2)
    w_hq = hq @ W.T  # (B, d+2), row b is W h_q
    return torch.einsum("bkj,bk->bj", H, w_hq)  # (B, N+1)


def _readout(H: torch.Tensor, weights: torch.Tensor) -> Prediction:
    labels = H[:, -2, :]  # (B, N+1), the label row; the query's entry is 0
    return Prediction((labels * weights).sum(dim=1), weights)  # (B,), (B, N+1)


def predict(prompt: Prompt, W: torch.Tensor) -> Prediction:
    """y_hat and the query's attention weights for the merged key-query matrix W (S2)."""
    H = embed(prompt)  # (B, d+2, N+1)
    return _readout(H, _softmax_over_keys(_finite_scores(query_scores(H, W))))


def predict_factorised(prompt: Prompt, W_K: torch.Tensor, W_Q: torch.Tensor) -> Prediction:
    """The same model with separate key and query maps: scores (W_K h_j)^T (W_Q h_q) (S2).

    W_K and W_Q are (r, d+2) for any rank r >= 1; the merged matrix is W = W_K^T W_Q.
    """
    H = embed(prompt)  # (B, d+2, N+1)
    W_K = as_float_tensor(W_K, "W_K")
    W_Q = as_float_tensor(W_Q, "W_Q")
    size = H.shape[1]
    for M, name in ((W_K, "W_K"), (W_Q, "W_Q")):
        if M.ndim != 2 or M.shape[1] != size or M.shape[0] < 1:
            raise InvalidShape(f"{name} must have shape (r, d+2) with d+2 = {size}, got {tuple(M.shape)}")
        if M.dtype != H.dtype:
            raise InvalidDType(f"{name} has dtype {M.dtype} but the prompt has {H.dtype}")
        check_finite(M, name)
    if W_K.shape[0] != W_Q.shape[0]:
        raise InvalidShape(f"W_K and W_Q need the same rank r, got {W_K.shape[0]} and {W_Q.shape[0]}")
    keys = torch.einsum("rk,bkj->brj", W_K, H)  # (B, r, N+1)
    query = H[:, :, -1] @ W_Q.T  # (B, r)
    scores = torch.einsum("brj,br->bj", keys, query)  # (B, N+1)
    return _readout(H, _softmax_over_keys(_finite_scores(scores)))


def _check_xi(value: float, name: str) -> float:
    return check_real(value, name)


def family_W(xi1: float, xi2: float, d: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The two-parameter family W = diag(xi1 I_d, 0, -xi2) of S8, shape (d+2, d+2)."""
    xi1, xi2 = _check_xi(xi1, "xi1"), _check_xi(xi2, "xi2")
    d = check_size(d, "d", 2)
    if dtype not in FLOAT_DTYPES:
        raise InvalidDType(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    diagonal = torch.cat([torch.full((int(d),), xi1, dtype=dtype), torch.tensor([0.0, -xi2], dtype=dtype)])  # (d+2,)
    return torch.diag(diagonal)  # (d+2, d+2)


def init_W(sigma: float, d: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Assumption 2's initialisation W^0 = diag(0, ..., 0, -sigma) with sigma > 0 (S6)."""
    sigma = _check_xi(sigma, "sigma")
    if sigma <= 0:
        raise InvalidParameter(f"sigma must be > 0 (Assumption 2), got {sigma!r}")
    return family_W(0.0, sigma, d, dtype=dtype)


def family_predict(prompt: Prompt, xi1: float, xi2: float) -> Prediction:
    """The family's closed form (S8), computed from tau_j = <x_j, x_q> without building H or W.

    Scores are xi1 tau_j for the examples and xi1 - xi2 for the query (it uses ||x_q|| = 1).
    """
    xi1, xi2 = _check_xi(xi1, "xi1"), _check_xi(xi2, "xi2")
    check_prompt(prompt)
    tau = torch.einsum("bnd,bd->bn", prompt.x, prompt.xq)  # (B, N)
    own = torch.full((prompt.batch, 1), xi1 - xi2, dtype=prompt.dtype)  # (B, 1)
    scores = torch.cat([xi1 * tau, own], dim=1)  # (B, N+1)
    weights = _softmax_over_keys(_finite_scores(scores))  # (B, N+1)
    return Prediction((weights[:, :-1] * prompt.y).sum(dim=1), weights)  # (B,), (B, N+1)


class AttentionLayer(nn.Module):
    """f(H; W) = H softmax(H^T W H): the full layer (every column), value map fixed to the identity."""

    def __init__(self, W: torch.Tensor) -> None:
        super().__init__()
        W = as_float_tensor(W, "W")
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 4:
            raise InvalidShape(f"W must be square of size d+2 >= 4, got {tuple(W.shape)}")
        check_finite(W, "W")
        self.W = nn.Parameter(W.clone())  # (d+2, d+2)

    def attention(self, H: torch.Tensor) -> torch.Tensor:
        """softmax(H^T W H) over keys: column j holds the attention of position j, (B, N+1, N+1)."""
        H = as_float_tensor(H, "H")
        if H.ndim != 3 or H.shape[1] != self.W.shape[0]:
            raise InvalidShape(f"H must have shape (B, d+2, N+1) with d+2 = {self.W.shape[0]}, got {tuple(H.shape)}")
        check_finite(H, "H")
        if H.dtype != self.W.dtype:
            raise InvalidDType(f"H has dtype {H.dtype} but W has {self.W.dtype}")
        scores = H.transpose(1, 2) @ self.W @ H  # (B, N+1, N+1), [i, j] = h_i^T W h_j
        return _softmax_over_keys(_finite_scores(scores))  # (B, N+1, N+1), each column sums to 1 over keys

    def forward(self, H: torch.Tensor) -> torch.Tensor:
        return H @ self.attention(H)  # (B, d+2, N+1)
