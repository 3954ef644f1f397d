"""Inputs that broke a check during development, pinned as explicit examples of their claims.

Hypothesis replays every pinned example before it searches, so a CI verdict never depends on the
luck of the search finding them again. Each entry says what it broke.
"""

from __future__ import annotations

import numpy as np
import torch

from model.prompt import BINARY, Prompt, bounded

__all__ = [
    "BOUNDARY_N10",
    "CIRCLE_N1",
    "M5_CANCELLATION",
    "M8_SATURATED",
    "M9_SUBNORMAL",
    "THREE_EQUAL_LABELS",
    "ZERO_LABEL_N1",
]

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

#: N = 3, d = 2, every label +1 (seed 139 of the training law, written out). At xi = (958, 219) M6
#: once compared the attention weights with a slack that ignored the scores' rounding: their gap
#: 2.5e-14 exceeded it.
THREE_EQUAL_LABELS = Prompt(
    torch.tensor(
        [
            [
                [-0.9579481511133557, -0.28694135250692493],
                [0.8280366594132501, -0.5606739611108628],
                [0.9999943813003359, -0.0033522183339264543],
            ]
        ],
        dtype=_F64,
    ),
    torch.tensor([[1.0, 1.0, 1.0]], dtype=_F64),
    torch.tensor([[-0.5537008745850686, -0.8327156426318233]], dtype=_F64),
    BINARY,
)

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

#: M5 (seed 13 of verify): three examples at x_q = e_1 and one at -e_4, W = diag(0, 310, 310, 310, 310, 0).
#: Every score is exactly 0 in this frame (W[0, 0] = 0), but after a dense rotation the same zero is
#: a cancellation of terms of size 310; the slack once counted the rounding of one frame only.
_U = np.array(
    [
        [-0.27051217797555616, -0.31620795074884983, 0.6627759336613024, 0.6225461872098517],
        [-0.681227346063419, -0.05903472979048137, -0.6383090803039063, 0.3535614821435405],
        [-0.6674444388371733, 0.3607784441628259, 0.3898937676369718, -0.521861749173695],
        [0.1314168391327499, 0.8754235242379708, 0.03567113285021349, 0.4637788674404114],
    ]
)
M5_CANCELLATION = (
    Prompt(
        torch.tensor([[[1.0, 0.0, 0.0, 0.0]] * 3 + [[0.0, 0.0, 0.0, -1.0]]], dtype=_F64),
        torch.tensor([[1.0, 1.0, 1.0, -1.0]], dtype=_F64),
        torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=_F64),
        bounded(1.0),
    ),
    _U,
    np.diag([0.0, 310.0, 310.0, 310.0, 310.0, 0.0]),
)

#: M8 (seed 6 of verify): N = 1, d = 8, W = 4840 everywhere. The float32 score error is so large that
#: expm1(2 e) overflowed to inf, and inf times a zero dispersion (a single label) made the slack NaN.
M8_SATURATED = (
    Prompt(
        torch.tensor(
            [
                [
                    [
                        -0.1661586261651785,
                        0.18374995854778356,
                        -0.680750000250703,
                        -0.19604289012988865,
                        -0.27943080903072703,
                        -0.09430314627075684,
                        0.5881643193381126,
                        0.062144662668493,
                    ]
                ]
            ],
            dtype=_F64,
        ),
        torch.tensor([[544.0]], dtype=_F64),
        torch.tensor(
            [
                [
                    0.32077359988491116,
                    0.5923023259574131,
                    0.07596391918774786,
                    -0.40874311179482786,
                    -0.11948056946955381,
                    -0.3347836835942923,
                    -0.444290742138248,
                    -0.22291437592211114,
                ]
            ],
            dtype=_F64,
        ),
        bounded(544.0),
    ),
    np.full((10, 10), 4840.0),
)


#: M9 (seed 31 of verify): a label of 1.86e-43 is subnormal in float32, where it rounds to
#: 1.8637e-43 (a relative change of 2e-3): a bound relative to the float64 label cannot hold there.
M9_SUBNORMAL = (
    Prompt(
        torch.tensor([[[0.725915527392315, -0.6877838665531033]]], dtype=_F64),
        torch.tensor([[1.8598120155620397e-43]], dtype=_F64),
        torch.tensor([[0.6786129481130193, -0.7344960630618496]], dtype=_F64),
        bounded(1.0),
    ),
    -100.0 * np.eye(4),
)
