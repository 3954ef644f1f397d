"""model.nearest: the 1-NN rule S3, its tie rule (mean label of tied neighbours) and the C9b margin.

Most prompts here put x_q = e_1 and x_j = (t_j, sqrt(1 - t_j^2)) on the circle, so tau_j = <x_j, x_q> is
exactly the literal t_j (the product with 0 and 1 is exact) and every expected value is a hand formula.
"""

from __future__ import annotations

import math

import pytest
import torch

from model.nearest import TIE_TOL, margin, nearest, runner_up_gap
from model.prompt import LabelSpace, Prompt, bounded

F64 = torch.float64
EPS = torch.finfo(F64).eps

#: Hand formulas like 2 (0.9 - 0.5) evaluated by the module and by the test: one or two roundings of
#: numbers <= 4, i.e. a few ulps; 8 ulps at 4 leaves margin.
HAND_TOL = 32 * EPS


def _circle(taus: list[float], labels: list[float], *, label_space: LabelSpace | None = None) -> Prompt:
    """One prompt with x_q = e_1 and x_j = (tau_j, sqrt(1 - tau_j^2)), so <x_j, x_q> = tau_j exactly."""
    x = torch.tensor([[[t, math.sqrt(1.0 - t * t)] for t in taus]], dtype=F64)  # (1, N, 2)
    y = torch.tensor([labels], dtype=F64)  # (1, N)
    xq = torch.tensor([[1.0, 0.0]], dtype=F64)  # (1, 2)
    return Prompt(x, y, xq) if label_space is None else Prompt(x, y, xq, label_space)


def test_nearest_on_hand_built_prompt() -> None:
    # d = 3, x_q = e_3, so tau_j is the last coordinate of x_j: (0, -1, 0.6, 0.8); i* = 4 with y = -1.
    x = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 0.8, 0.6], [0.6, 0.0, 0.8]]], dtype=F64)  # (1, 4, 3)
    prompt = Prompt(x, torch.tensor([[1.0, 1.0, 1.0, -1.0]], dtype=F64), torch.tensor([[0.0, 0.0, 1.0]], dtype=F64))
    ref = nearest(prompt)
    assert torch.equal(ref.tau, torch.tensor([[0.0, -1.0, 0.6, 0.8]], dtype=F64))
    assert float(ref.tau_star[0]) == 0.8 and ref.tied.tolist() == [[False, False, False, True]]
    assert float(ref.label[0]) == -1.0


def test_unique_nearest_label_is_its_label() -> None:
    assert float(nearest(_circle([0.1, 0.7, -0.3], [1.0, -1.0, 1.0])).label[0]) == -1.0


def test_two_tied_labels_average_to_zero() -> None:
    ref = nearest(_circle([0.5, 0.9, 0.9], [1.0, 1.0, -1.0]))  # x_2 = x_3, a duplicated point
    assert ref.tied.tolist() == [[False, True, True]] and float(ref.label[0]) == 0.0


def test_three_tied_labels_average_to_one_third() -> None:
    ref = nearest(_circle([0.9, 0.2, 0.9, 0.9], [1.0, -1.0, 1.0, -1.0]))
    assert ref.tied.tolist() == [[True, False, True, True]] and abs(float(ref.label[0]) - 1.0 / 3.0) <= HAND_TOL


def test_near_tie_1e9_apart_is_not_a_tie() -> None:
    # tau gap 1e-9 is ~4.5e6 ulps, far above TIE_TOL (16 ulps): the closer example wins outright.
    assert 1e-9 > 1e3 * TIE_TOL
    prompt = _circle([0.5, 0.5 - 1e-9], [1.0, -1.0])
    ref = nearest(prompt)
    assert ref.tied.tolist() == [[True, False]] and float(ref.label[0]) == 1.0
    assert abs(float(margin(prompt)[0]) - 2e-9) <= HAND_TOL


# --- the margin of C9b and the runner-up gap --------------------------------------------------------


def test_margin_is_twice_tau_gap_to_closest_differing_label() -> None:
    # i* = 1 (tau 0.9, y +1); differing labels at tau 0.5 and -0.2: delta_max = 2 (0.9 - 0.5) = 0.8.
    prompt = _circle([0.9, 0.5, -0.2, 0.7], [1.0, -1.0, -1.0, 1.0])
    assert abs(float(margin(prompt)[0]) - 0.8) <= HAND_TOL


def test_margin_is_inf_when_all_labels_equal() -> None:
    assert float(margin(_circle([0.9, 0.5, -0.2], [-1.0, -1.0, -1.0]))[0]) == math.inf


def test_margin_is_zero_for_tie_with_different_labels() -> None:
    assert float(margin(_circle([0.3, 0.8, 0.8], [1.0, 1.0, -1.0]))[0]) == 0.0


def test_margin_is_batched_per_prompt() -> None:
    a, b = _circle([0.9, 0.5], [1.0, -1.0]), _circle([0.9, 0.5], [1.0, 1.0])
    both = Prompt(torch.cat([a.x, b.x]), torch.cat([a.y, b.y]), torch.cat([a.xq, b.xq]))
    assert margin(both).tolist() == [margin(a)[0].item(), math.inf]


def test_margin_is_inf_when_equal_bounded_labels_are_tied() -> None:
    prompt = _circle([0.9, 0.9, 0.9, 0.2], [0.1, 0.1, 0.1, 0.1], label_space=bounded(1.0))
    assert float(margin(prompt)[0]) == math.inf


def test_runner_up_gap_is_tau_star_minus_best_untied() -> None:
    # tau* = 0.9 (twice, tied); the best untied tau is 0.7: gap 0.2.
    prompt = _circle([0.9, 0.5, 0.9, 0.7], [1.0, -1.0, 1.0, 1.0])
    assert abs(float(runner_up_gap(prompt)[0]) - 0.2) <= HAND_TOL


@pytest.mark.parametrize("taus", [[0.4], [0.4, 0.4, 0.4]], ids=["n_1", "all_duplicated"])
def test_runner_up_gap_is_inf_when_all_tied(taus: list[float]) -> None:
    assert float(runner_up_gap(_circle(taus, [1.0] * len(taus)))[0]) == math.inf
