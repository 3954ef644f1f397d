"""Inputs that broke a check during development, pinned as explicit examples of their claims.

Hypothesis replays every pinned example before it searches, so a CI verdict never depends on the
luck of the search finding them again. Each entry says what it broke.
"""

from __future__ import annotations

import torch

from model.laws import sample_training_prompts
from model.prompt import BINARY, Prompt, bounded

__all__ = ["BOUNDARY_N10", "CIRCLE_N1", "THREE_EQUAL_LABELS", "ZERO_LABEL_N1"]

_F64 = torch.float64

#: The strategies' minimal prompt (N = 1, d = 2, label +1). With xi1 = 0 and delta = inf (no
#: differing label) C9b once computed 0 * inf = NaN; with xi2 = -1e4 its bound overflowed exp().
CIRCLE_N1 = Prompt(
    torch.tensor([[[0.6894137976242853, -0.7243677350940344]]], dtype=_F64),
    torch.tensor([[1.0]], dtype=_F64),
    torch.tensor([[0.9868491083539974, 0.1616441689047899]], dtype=_F64),
    BINARY,
)

#: The same prompt with the bounded label 0, so B = max |y_j| = 0: with xi2 = -1e4 C9b once
#: computed 0 * inf = NaN for its bound.
ZERO_LABEL_N1 = Prompt(CIRCLE_N1.x, torch.zeros_like(CIRCLE_N1.y), CIRCLE_N1.xq, bounded(1.0))

#: N = 3, d = 2, every label +1 (seed 139 of the training law). At xi = (958, 219) M6 once compared
#: the attention weights with a slack that ignored the scores' rounding: their gap 2.5e-14 exceeded it.
_base = sample_training_prompts(1, 3, 2, generator=torch.Generator().manual_seed(139))
THREE_EQUAL_LABELS = Prompt(_base.x, torch.ones_like(_base.y), _base.xq, BINARY)

#: A 1-NN decision boundary: x_q = e_1, the nearest neighbour at tau* = 0.9 with label +1 and nine
#: examples labelled -1 at tau = 0.8 (delta = 0.2). At xi = (46.05, 100) the wrong labels carry
#: |y_hat - y*| = 0.165 > N e^{-xi1 delta/2} = 0.1: a bound with N in place of 2N is false here,
#: while the paper's 2N e^{-xi1 delta/2} = 0.2 holds (found by the review of issue 3).
BOUNDARY_N10 = Prompt(
    torch.tensor([[[0.9, 0.19**0.5]] + [[0.8, 0.36**0.5]] * 9], dtype=_F64),
    torch.tensor([[1.0] + [-1.0] * 9], dtype=_F64),
    torch.tensor([[1.0, 0.0]], dtype=_F64),
    BINARY,
)
