"""The searches are strong enough to refute slightly wrong versions of the claims (not only planted model bugs).

Each test registers a deliberately weakened copy of a claim in a private registry, with the claim's
own strategy, and asserts the engine refutes it under the ``ci`` profile: a search that cannot tell
a constant of 2 from 1 would be too weak to test the paper's constants.
"""

from __future__ import annotations

import math

import pytest

import model.attention as attention
import model.nearest as nearest
from model.prompt import Prompt
from properties.engine import run_claim
from properties.pointwise import _prompt_and_xi
from properties.registry import Registry, check

SEEDS = (0, 1, 2)


def _weakened_c9b(factor: float) -> Registry:
    registry = Registry()

    @registry.claim("W9b", section="test", given={"case": _prompt_and_xi()}, target=True)
    def weakened(case: tuple[Prompt, tuple[float, float]]) -> None:
        """C9b with factor * N e^{-xi1 delta/2} in place of 2N e^{-xi1 delta/2}.
        test copy of [LCG24] Theorem 2 proof, claim W9b
        """
        prompt, (xi1, xi2) = case
        delta = float(nearest.margin(prompt)[0])
        if not (0.0 < delta < math.inf) or xi1 == 0.0:
            return
        ref = nearest.nearest(prompt)
        b = float(prompt.y.abs().max())
        y_hat = attention.predict(prompt, attention.family_W(xi1, xi2, prompt.d)).y_hat
        lhs = float((y_hat - ref.label).abs()[0])
        exponent = min(xi1 * (1.0 - float(ref.tau_star[0])) - xi2, 700.0)
        rhs = b * (factor * prompt.n * math.exp(-xi1 * delta / 2) + math.exp(exponent))
        slack = rhs * 1e-9 + 1e-15
        check(lhs <= rhs + slack, margin=rhs + slack - lhs, ratio=lhs / (rhs + slack), message=f"{lhs} > {rhs}")

    return registry


@pytest.mark.parametrize("seed", SEEDS)
def test_c9b_with_n_in_place_of_2n_is_refuted(seed: int) -> None:
    result = run_claim(_weakened_c9b(1.0).get("W9b"), seed=seed)
    assert result.verdict == "refuted", dict(result.evidence)


def test_c9b_copy_with_the_papers_constant_holds() -> None:
    # the same copy with the paper's 2N: the refutation above is due to the constant, not the copy
    assert run_claim(_weakened_c9b(2.0).get("W9b")).verdict == "holds"
