"""A parametrised family of test laws built to break Theorem 2 (claim C10), for Hypothesis to search.

References (THEORY.md IDs): C10 holds for ANY test law on prompts on the sphere with labels bounded by
B (no independence required), with the error controlled by the mass near 1-NN decision boundaries,
P_test(A_delta^c). A :class:`TestLaw` is one such law, given by a few numbers, so that a strategy can
draw and shrink it; :func:`sample` draws prompts from it. Each knob aims at one way the bound could be
loose or wrong:

* examples: a mixture of ``clusters`` caps around centres mu_k (fixed by the law's seed), x_j =
  normalise(mu_k + spread g / sqrt(d)), g standard Gaussian, k uniform (tight clusters give small
  margins between clusters and large ones inside);
* the query (``query``):
  - ``"mixture"``: from the examples' own mixture;
  - ``"uniform"``: uniform on the sphere;
  - ``"antipodal"``: normalise(-mu_k + jitter g / sqrt(d)), opposite cluster k (with one tight cluster,
    far from every example: tau* near -1): the query's own weight q_0, with q_0 / q_{i*} =
    e^{xi1 (1 - tau*) - xi2}, carries the error, so the bound's e^{2 xi1 - xi2} term is needed;
  - ``"boundary"``: on a 1-NN decision boundary, then jittered: on the great circle from x_1 to the
    example x_b nearest to it among those labelled otherwise, the point where the 1-NN label changes
    (found by bisection, so that every other example is taken into account: there the two nearest
    examples are labelled differently and equidistant, to rounding), then normalise(point + jitter g /
    sqrt(d)). When every label is equal (no boundary), N = 1, or x_b = -x_1 (no unique great circle), the
    query is x_1 jittered;
* the labels (``labels``), all in [-B, B]:
  - ``"coin"``: +B with probability p, else -B (p near 0 or 1: heavy imbalance);
  - ``"halfspace"``: B sign(<x_j, v>) for a fixed direction v (the law's), each flipped with
    probability p: labels that depend on position;
  - ``"continuous"``: B (1 - 2 U^gamma), U uniform, gamma = p / (1 - p): bounded, not binary; uniform on
    [-B, B] at p = 1/2, piled up near +B as p -> 1 and near -B as p -> 0.

The centres and v come from the generator first, then the prompts, all vectorised (prompt i depends on
the batch size here, unlike :mod:`model.laws`; a law's sample is fixed by its seed and size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch

from model.errors import InvalidParameter
from model.laws import _check_generator, uniform_sphere
from model.prompt import Prompt, bounded, check_real, check_size

__all__ = ["LABELS", "QUERIES", "TestLaw", "sample"]

#: The query placements and label rules a :class:`TestLaw` knows (module docstring).
QUERIES = ("mixture", "uniform", "antipodal", "boundary")
LABELS = ("coin", "halfspace", "continuous")
#: At most this many clusters.
MAX_CLUSTERS = 16


@dataclass(frozen=True)
class TestLaw:
    """One test law on prompts of N examples in dimension d (module docstring for each field)."""

    __test__ = False  # not a pytest test class, despite its name

    N: int
    d: int
    clusters: int = 1
    spread: float = 1.0
    query: str = "mixture"
    jitter: float = 0.1
    labels: str = "coin"
    p: float = 0.5
    B: float = 1.0

    def __post_init__(self) -> None:
        check_size(self.N, "N", 1)
        check_size(self.d, "d", 2)
        clusters = check_size(self.clusters, "clusters", 1)
        if clusters > MAX_CLUSTERS:
            raise InvalidParameter(f"clusters must be at most {MAX_CLUSTERS}, got {clusters}")
        for name, low in (("spread", 0.0), ("jitter", 0.0), ("B", 0.0)):
            value = check_real(getattr(self, name), name)
            if value < low or (name != "jitter" and value == low):
                raise InvalidParameter(f"{name} must be {'>=' if name == 'jitter' else '>'} {low:g}, got {value!r}")
        if self.query not in QUERIES:
            raise InvalidParameter(f"unknown query placement {self.query!r}; known: {', '.join(QUERIES)}")
        if self.labels not in LABELS:
            raise InvalidParameter(f"unknown label rule {self.labels!r}; known: {', '.join(LABELS)}")
        p = check_real(self.p, "p")
        if not 0 <= p <= 1 or (self.labels == "continuous" and p in (0.0, 1.0)):
            raise InvalidParameter(f"p must lie in [0, 1] ((0, 1) for continuous labels), got {p!r}")
        for name in ("spread", "jitter", "p", "B"):  # stored as floats: equal laws describe themselves alike
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("N", "d", "clusters"):
            object.__setattr__(self, name, int(getattr(self, name)))

    def describe(self) -> str:
        """The law in one line, every field named (for evidence and counterexamples)."""
        return "TestLaw(" + ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)) + ")"


def _normalise(z: torch.Tensor) -> torch.Tensor:
    return z / torch.linalg.vector_norm(z, dim=-1, keepdim=True)


def _around(centres: torch.Tensor, width: float, d: int, generator: torch.Generator) -> torch.Tensor:
    """normalise(centre + width g / sqrt(d)) for each centre (..., d); a point that lands on 0 is redrawn."""
    while True:
        z = centres + width / math.sqrt(d) * torch.randn(centres.shape, generator=generator, dtype=torch.float64)
        norm = torch.linalg.vector_norm(z, dim=-1, keepdim=True)
        if bool((norm > 1e-12).all()):
            return z / norm


def _labels(law: TestLaw, x: torch.Tensor, v: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    draw = torch.rand(x.shape[:-1], generator=generator, dtype=torch.float64)
    high, low = torch.tensor(law.B, dtype=torch.float64), torch.tensor(-law.B, dtype=torch.float64)
    if law.labels == "coin":
        return torch.where(draw < law.p, high, low)
    if law.labels == "halfspace":
        side = torch.where(torch.einsum("bnd,d->bn", x, v) >= 0, high, low)
        return torch.where(draw < law.p, -side, side)
    return law.B * (1 - 2 * draw ** (law.p / (1 - law.p)))


def _query(law: TestLaw, x: torch.Tensor, y: torch.Tensor, centres: torch.Tensor, pick: torch.Tensor,
           generator: torch.Generator) -> torch.Tensor:
    batch, d = x.shape[0], law.d
    if law.query == "mixture":
        return _around(centres[pick], law.spread, d, generator)
    if law.query == "uniform":
        return uniform_sphere((batch,), d, generator=generator)
    if law.query == "antipodal":
        return _around(-centres[pick], law.jitter, d, generator)
    return _around(_on_boundary(x, y), law.jitter, d, generator)


#: Bisection steps of the boundary query: the interval along the great circle shrinks to 2^-60 of its length.
_BISECTIONS = 60


def _nearest_label(x: torch.Tensor, y: torch.Tensor, point: torch.Tensor) -> torch.Tensor:
    """The label of the example nearest to ``point`` (B, d), (B,) (the first on exact ties)."""
    return y.gather(1, torch.einsum("bnd,bd->bn", x, point).argmax(dim=1, keepdim=True))[:, 0]


def _on_boundary(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A point on a 1-NN decision boundary per prompt (module docstring, ``"boundary"``), (B, d)."""
    start = x[:, 0]  # (B, d)
    differs = y != y[:, :1]  # (B, N)
    closeness = torch.where(differs, torch.einsum("bnd,bd->bn", x, start), -torch.inf)
    end = x[torch.arange(x.shape[0]), closeness.argmax(dim=1)]  # (B, d): the nearest example labelled otherwise
    usable = differs.any(dim=1) & (torch.linalg.vector_norm(start + end, dim=-1) > 1e-12)  # (B,)

    def along(t: torch.Tensor) -> torch.Tensor:  # the great circle's points (normalised chords), (B, d)
        return _normalise((1 - t)[:, None] * start + t[:, None] * end)

    low, high = torch.zeros(x.shape[0], dtype=torch.float64), torch.ones(x.shape[0], dtype=torch.float64)
    label_low = _nearest_label(x, y, start)
    for _ in range(_BISECTIONS):  # keep: the 1-NN label at ``low`` is x_1's, at ``high`` it differs
        middle = (low + high) / 2
        same = _nearest_label(x, y, along(middle)) == label_low
        low, high = torch.where(same, middle, low), torch.where(same, high, middle)
    return torch.where(usable[:, None], along(high), start)


def sample(law: TestLaw, batch: int, *, generator: torch.Generator) -> Prompt:
    """``batch`` prompts from ``law`` (module docstring), float64, labels bounded by law.B."""
    if not isinstance(law, TestLaw):
        raise InvalidParameter(f"law must be a model.adversarial.TestLaw, got {type(law).__name__}")
    batch = check_size(batch, "batch", 1)
    generator = _check_generator(generator)
    centres = uniform_sphere((law.clusters,), law.d, generator=generator)  # (K, d)
    v = uniform_sphere((), law.d, generator=generator)  # (d,)
    assign = torch.randint(0, law.clusters, (batch, law.N), generator=generator)
    x = _around(centres[assign], law.spread, law.d, generator)  # (batch, N, d)
    y = _labels(law, x, v, generator)  # (batch, N)
    pick = torch.randint(0, law.clusters, (batch,), generator=generator)
    xq = _query(law, x, y, centres, pick, generator)  # (batch, d)
    return Prompt(x, y, xq, bounded(law.B))
