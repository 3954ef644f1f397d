"""model.adversarial: the parametrised test laws C10.adversarial searches over, and their strategy."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import model.adversarial as adversarial
import model.shift as shift
from model.adversarial import TestLaw
from model.errors import InvalidDimension, InvalidParameter
from model.nearest import nearest
from properties.strategies import adversarial_laws


def _draw(law: TestLaw, batch: int = 300, seed: int = 3) -> Any:
    return adversarial.sample(law, batch, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("query", adversarial.QUERIES)
@pytest.mark.parametrize("labels", adversarial.LABELS)
def test_every_law_gives_unit_points_and_labels_within_the_bound(query: str, labels: str) -> None:
    law = TestLaw(N=9, d=5, clusters=3, spread=0.4, query=query, jitter=0.2, labels=labels, p=0.3, B=2.5)
    prompt = _draw(law)
    assert prompt.x.shape == (300, 9, 5) and prompt.xq.shape == (300, 5) and prompt.y.shape == (300, 9)
    assert prompt.x.dtype == prompt.y.dtype == prompt.xq.dtype == torch.float64
    one = torch.ones((), dtype=torch.float64)
    assert torch.allclose(torch.linalg.vector_norm(prompt.x, dim=-1), one, atol=1e-14)
    assert torch.allclose(torch.linalg.vector_norm(prompt.xq, dim=-1), one, atol=1e-14)
    assert float(prompt.y.abs().max()) <= 2.5
    if labels != "continuous":
        assert set(prompt.y.unique().tolist()) <= {-2.5, 2.5}


def test_the_same_seed_gives_the_same_sample_and_another_seed_another() -> None:
    law = TestLaw(N=6, d=3, clusters=2, query="boundary", labels="continuous")
    first, again, other = _draw(law), _draw(law), _draw(law, seed=4)
    assert torch.equal(first.x, again.x) and torch.equal(first.y, again.y) and torch.equal(first.xq, again.xq)
    assert not torch.equal(first.x, other.x)


def test_coin_labels_follow_p() -> None:
    assert float(_draw(TestLaw(N=8, d=4, p=0.0)).y.max()) == -1.0  # heavy imbalance, to the limit
    assert float(_draw(TestLaw(N=8, d=4, p=1.0)).y.min()) == 1.0
    share = float((_draw(TestLaw(N=8, d=4, p=0.2), batch=2000).y > 0).double().mean())
    assert abs(share - 0.2) < 0.02  # 16,000 coins: sd 0.003


def test_halfspace_labels_flip_with_p() -> None:
    kept = _draw(TestLaw(N=8, d=4, clusters=2, labels="halfspace", p=0.0))
    flipped = _draw(TestLaw(N=8, d=4, clusters=2, labels="halfspace", p=1.0))
    assert torch.equal(kept.x, flipped.x) and torch.equal(kept.y, -flipped.y)  # the same points, every label flipped
    # labels set by a half-space: a linear separator through 0 exists (the least-squares direction finds it)
    x, y = kept.x.reshape(-1, 4), kept.y.reshape(-1)
    direction = torch.linalg.lstsq(x, y[:, None]).solution[:, 0]
    assert float(((x @ direction) * y > 0).double().mean()) > 0.9


def test_continuous_labels_are_bounded_and_skewed_by_p() -> None:
    middle = _draw(TestLaw(N=8, d=4, labels="continuous", p=0.5, B=2.0), batch=2000).y
    assert abs(float(middle.mean())) < 0.05 and float(middle.abs().max()) <= 2.0  # uniform on [-2, 2]: sd 0.013
    assert len(middle.unique()) > 1000  # not binary
    assert float(_draw(TestLaw(N=8, d=4, labels="continuous", p=0.9)).y.mean()) > 0.5
    assert float(_draw(TestLaw(N=8, d=4, labels="continuous", p=0.1)).y.mean()) < -0.5


@pytest.mark.parametrize(("N", "d", "labels"), [(2, 3, "coin"), (64, 8, "coin"), (16, 2, "halfspace"),
                                                 (16, 8, "continuous")])
def test_boundary_query_without_jitter_sits_on_a_1nn_boundary(N: int, d: int, labels: str) -> None:
    prompt = _draw(TestLaw(N=N, d=d, clusters=2, spread=1.0, query="boundary", jitter=0.0, labels=labels, p=0.3))
    mixed = (prompt.y != prompt.y[:, :1]).any(dim=1).numpy()  # prompts with a boundary at all
    margins = shift.margins_of(prompt)
    assert mixed.mean() > 0.3 and float(margins[mixed].max()) < 1e-12  # two nearest, labelled apart, equidistant
    assert bool((margins[~mixed] == math.inf).all())  # one label throughout: no boundary, margin inf


def test_equal_laws_describe_themselves_alike() -> None:
    assert TestLaw(N=4, d=3, p=0, B=1) == TestLaw(N=4, d=3, p=0.0, B=1.0)
    assert TestLaw(N=4, d=3, p=0, B=1).describe() == TestLaw(N=4, d=3, p=0.0, B=1.0).describe()


def test_antipodal_query_is_far_from_a_tight_cluster() -> None:
    prompt = _draw(TestLaw(N=8, d=6, clusters=1, spread=0.05, query="antipodal", jitter=0.05))
    assert float(nearest(prompt).tau_star.max()) < -0.9


def test_a_single_example_and_the_circle_work() -> None:
    for law in (TestLaw(N=1, d=2, query="boundary"), TestLaw(N=5, d=2, clusters=16, query="antipodal")):
        prompt = _draw(law, batch=50)
        assert prompt.x.shape == (50, law.N, 2)


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"N": 0}, InvalidDimension, "N"),
        ({"d": 1}, InvalidDimension, "d"),
        ({"clusters": 0}, InvalidParameter, "clusters"),
        ({"clusters": 17}, InvalidParameter, "clusters"),
        ({"spread": 0.0}, InvalidParameter, "spread"),
        ({"spread": math.nan}, InvalidParameter, "spread must be a finite"),
        ({"jitter": -0.1}, InvalidParameter, "jitter"),
        ({"B": 0.0}, InvalidParameter, "B"),
        ({"query": "far"}, InvalidParameter, "query"),
        ({"labels": "gauss"}, InvalidParameter, "label rule"),
        ({"p": 1.5}, InvalidParameter, "p must"),
        ({"labels": "continuous", "p": 0.0}, InvalidParameter, "continuous"),
    ],
)
def test_bad_laws_are_refused_with_a_named_error(changes: dict[str, Any], error: type[Exception], words: str) -> None:
    fields: dict[str, Any] = {"N": 4, "d": 3, **changes}
    with pytest.raises(error, match=words):
        TestLaw(**fields)


def test_bad_sample_arguments_are_refused() -> None:
    law = TestLaw(N=4, d=3)
    with pytest.raises(InvalidParameter, match="batch"):
        adversarial.sample(law, 0, generator=torch.Generator())
    with pytest.raises(InvalidParameter, match="generator"):
        adversarial.sample(law, 5, generator=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="TestLaw"):
        adversarial.sample("uniform", 5, generator=torch.Generator())  # type: ignore[arg-type]


def test_describe_names_every_field() -> None:
    words = TestLaw(N=4, d=3, query="antipodal").describe()
    assert words.startswith("TestLaw(N=4, d=3, clusters=1") and "query='antipodal'" in words and "B=1.0" in words


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.data())
def test_the_strategy_draws_valid_laws_at_the_given_sizes(data: st.DataObject) -> None:
    law = data.draw(adversarial_laws(sizes=((16, 8), (5, 2))))
    assert (law.N, law.d) in ((16, 8), (5, 2))
    assert _draw(law, batch=20).x.shape == (20, law.N, law.d)


@pytest.mark.parametrize("sizes", [(), [(16, 8)], ((16,),), ((0, 8),), ((16, 1),)])
def test_the_strategy_refuses_bad_sizes(sizes: Any) -> None:
    with pytest.raises((InvalidParameter, InvalidDimension)):
        adversarial_laws(sizes=sizes)
