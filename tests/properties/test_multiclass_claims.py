"""properties.multiclass and the K-class strategy: what the claims rely on, checked directly."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import find, given, settings
from hypothesis import strategies as st

import model.multiclass as multiclass
import properties.multiclass as mc_claims
from model.errors import InvalidParameter
from model.nearest import nearest
from properties.strategies import class_prompts


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.data())
def test_class_prompts_are_valid_k_class_prompts(data: st.DataObject) -> None:
    prompt = data.draw(class_prompts(k_max=6))
    assert isinstance(prompt, multiclass.ClassPrompt) and prompt.batch == 1 and 2 <= prompt.K <= 6
    assert bool(((prompt.classes >= 0) & (prompt.classes < prompt.K)).all())


def test_class_prompts_can_be_heavily_imbalanced_and_shrink_to_two_classes() -> None:
    lopsided = find(class_prompts(), lambda p: p.n >= 8 and int(torch.bincount(p.classes[0]).max()) == p.n,
                    settings=settings(database=None, derandomize=True, max_examples=2000))
    assert lopsided.n >= 8  # one class only: the imbalance the strategy can reach
    minimal = find(class_prompts(), lambda _: True, settings=settings(database=None, derandomize=True))
    assert minimal.K == 2 and minimal.n == 1


def test_class_prompts_refuse_more_than_ten_classes() -> None:
    with pytest.raises(InvalidParameter, match="k_max"):
        class_prompts(k_max=11)


def test_the_separated_k_class_sample_has_the_query_on_an_example_and_the_margin() -> None:
    prompt = mc_claims.separated_classes(5)
    ref = nearest(prompt.geometry)
    assert torch.allclose(ref.tau_star, torch.ones_like(ref.tau_star))
    others = (ref.tau < 1 - 1e-12)  # every other example is at squared distance >= delta*
    assert float((2 - 2 * ref.tau)[others].min()) >= mc_claims.DELTA_STAR - 1e-12
    assert set(prompt.classes.unique().tolist()) == set(range(5))


def test_c12c_condition_falls_with_xi() -> None:
    assert mc_claims.c12c_condition(0.0, 0.0, 16) > 0.5
    assert mc_claims.c12c_condition(60.0, 60.0, 16) < mc_claims.c12c_condition(40.0, 60.0, 16) < 0.5
    assert math.isclose(mc_claims.c12c_condition(0.0, 0.0, 1), math.sqrt(2) + 1)

