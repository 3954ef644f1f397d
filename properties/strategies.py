"""Hypothesis strategies for prompts on the sphere: uniform, and adversarial.

References: the prompt setup S1/S3/S4 of THEORY.md; the adversarial families target the places
where the pointwise claims C2, C9a-c and the M-invariants are most fragile: exact ties and
near-ties at the nearest neighbour, duplicated points, the query equal to an example, antipodal
pairs, tight clusters, 1-NN decision boundaries, the circle d = 2, a single example N = 1, and long
prompts N >= 256.

Conventions (after Hypothesis's own strategies): keyword-only, typed, bounded arguments validated
up front; everything built from basic strategies so shrinking is free; ``one_of`` lists the simplest
case first, so a failing example shrinks towards a uniform prompt with N = 1, d = 2.

Every prompt strategy yields a :class:`model.prompt.Prompt` holding one prompt (batch B = 1), in
float64, with points normalised in float64 (| ||x|| - 1 | of a few ulps). Randomness inside a draw
comes from a seeded ``numpy.random.Generator`` whose seed Hypothesis draws, so examples replay.

Minimal example: ``prompts()`` shrinks to a uniform prompt with N = 1, d = 2, generator seed 0
and label +1 (binary). Parameters and matrices (xi, W, rotations) are in :mod:`properties.matrices`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st

from model.adversarial import LABELS, QUERIES, TestLaw
from model.errors import InvalidParameter
from model.multiclass import ClassPrompt
from model.prompt import BINARY, LabelSpace, Prompt, bounded

__all__ = [
    "D_LIMIT",
    "K_LIMIT",
    "LARGE_N",
    "N_LIMIT",
    "SEEDS",
    "TEST_LAW_BOUNDS",
    "adversarial_laws",
    "adversarial_prompts",
    "antipodal_prompts",
    "boundary_prompts",
    "check_int",
    "circle_prompts",
    "class_prompts",
    "clustered_prompts",
    "duplicated_prompts",
    "free_prompts",
    "label_spaces",
    "large_prompts",
    "prompts",
    "query_on_example_prompts",
    "single_example_prompts",
    "tied_prompts",
    "uniform_prompts",
    "unit_vectors",
]

#: Size range of the long prompts.
LARGE_N = (256, 512)
#: Near-tie gaps (in tau) the tie strategy tries first; a drawn gap lies in [1e-12, 1e-3] (or is 0),
#: well above model.nearest.TIE_TOL = 3.6e-15, so a near-tie is never mistaken for a tie.
NEAR_TIE_GAPS = (0.0, 1e-12, 1e-9, 1e-6, 1e-3)
#: Gaps tau* - tau_j of the boundary prompts tried first.
BOUNDARY_GAPS = (1e-6, 1e-3, 0.1, 1.0)
#: Cap radii of the clustered prompts.
CLUSTER_RADII = (1e-1, 1e-3, 1e-6, 1e-9)

#: Seeds of the numpy generators that place the points of a drawn prompt.
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
#: Longest prompt whose labels are drawn one by one (see _labels).
DRAWN_LABELS = 32
#: Largest n_max and d_max the prompt strategies accept (a drawn prompt must fit Hypothesis's buffer).
N_LIMIT, D_LIMIT = 1024, 512


def check_int(name: str, value: int, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int if it is an integer (numpy integers too, not bool) in [minimum, maximum]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise InvalidParameter(f"{name} must be an integer >= {minimum}{upper}, got {value!r}")
    return value


def _check_labels(labels: LabelSpace | None) -> LabelSpace | None:
    if labels is not None and not isinstance(labels, LabelSpace):
        raise InvalidParameter(f"labels must be a LabelSpace or None, got {type(labels).__name__}")
    return labels


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _gaussian_sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    z = rng.standard_normal((n, d))
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    z[norms[:, 0] == 0.0] = np.eye(d)[0]  # probability 0, but never divide by zero
    return _unit(z)  # (n, d)


def _orthonormal_to(rng: np.random.Generator, q: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to the unit vector q (Gram-Schmidt, twice for accuracy)."""
    u = rng.standard_normal((q.shape[0],))
    for _ in range(2):
        u = u - (u @ q) * q
    norm = float(np.linalg.norm(u))
    if norm < 1e-8:  # u was (nearly) parallel to q: take a coordinate axis instead
        axis = np.eye(q.shape[0])[int(np.argmin(np.abs(q)))]
        u = axis - (axis @ q) * q
        norm = float(np.linalg.norm(u))
    return u / norm


def _at_tau(q: np.ndarray, u: np.ndarray, tau: float) -> np.ndarray:
    """The unit vector tau q + sqrt(1 - tau^2) u, whose inner product with q is tau."""
    return tau * q + math.sqrt(max(0.0, 1.0 - tau * tau)) * u


# --- building blocks ---------------------------------------------------------------------------------


def label_spaces() -> st.SearchStrategy[LabelSpace]:
    """Binary +-1 first, then bounded real labels with B in [1e-3, 1e3]."""
    return st.one_of(st.just(BINARY), st.floats(1e-3, 1e3).map(bounded))


@st.composite
def _labels(draw: Any, n: int, space: LabelSpace) -> np.ndarray:
    """n labels of the space. Up to DRAWN_LABELS they are drawn one by one (so they shrink); beyond,
    from a drawn seed, which keeps long prompts to a few choices for shrinking and targeting."""
    if n > DRAWN_LABELS:
        rng = np.random.default_rng(draw(SEEDS))
        if space.kind == "binary":
            return rng.choice(np.array([1.0, -1.0]), size=n)
        return rng.uniform(-space.bound, space.bound, size=n)
    if space.kind == "binary":
        element = st.sampled_from([1.0, -1.0])
    else:
        b = space.bound
        element = st.one_of(st.sampled_from([b, -b, 0.0]), st.floats(-b, b, allow_nan=False))
    return np.array(draw(st.lists(element, min_size=n, max_size=n)), dtype=np.float64)


@st.composite
def _unit_vector(draw: Any, d: int) -> np.ndarray:
    coords = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=d, max_size=d)), dtype=np.float64)
    norm = float(np.linalg.norm(coords))
    if norm < 1e-6:
        return np.eye(d)[0]
    return coords / norm


def unit_vectors(*, d: int) -> st.SearchStrategy[np.ndarray]:
    """A point of S^{d-1} from d bounded coordinates, normalised; shrinks to e_1."""
    check_int("d", d, 2)
    return _unit_vector(d)


def _space(draw: Any, labels: LabelSpace | None) -> LabelSpace:
    return labels if labels is not None else draw(label_spaces())


def _prompt(draw: Any, x: np.ndarray, q: np.ndarray, space: LabelSpace, *, shuffle: bool = True) -> Prompt:
    """Assemble a B = 1 prompt; optionally in a drawn order of the examples (so position is adversarial)."""
    n = x.shape[0]
    if shuffle and n > 1:
        order = draw(st.permutations(list(range(n))))
        x = x[order]
    y = draw(_labels(n, space))
    return Prompt(torch.from_numpy(x[None].copy()), torch.from_numpy(y[None]), torch.from_numpy(q[None].copy()), space)


# --- prompt families -----------------------------------------------------------------------------------
# Each public family validates its arguments when called (not at draw time) and returns a private
# composite strategy that does the drawing.


def _sizes(n_min: int, n_max: int, d_max: int, labels: LabelSpace | None) -> None:
    check_int("n_max", n_max, n_min, N_LIMIT)
    check_int("d_max", d_max, 2, D_LIMIT)
    _check_labels(labels)


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameter(f"{name} must be True or False, got {value!r}")
    return value


def _setup(
    draw: Any, labels: LabelSpace | None, n_lo: int, n_hi: int, d_max: int
) -> tuple[LabelSpace, int, int, np.random.Generator]:
    """The draws every seeded family starts with: label space, N in [n_lo, n_hi], d, and the rng."""
    space = _space(draw, labels)
    n = draw(st.integers(n_lo, n_hi))
    d = draw(st.integers(2, d_max))
    return space, n, d, np.random.default_rng(draw(SEEDS))


@st.composite
def _uniform(draw: Any, n_max: int, d_max: int, labels: LabelSpace | None) -> Prompt:
    space, n, d, rng = _setup(draw, labels, 1, n_max, d_max)
    points = _gaussian_sphere(rng, n + 1, d)
    return _prompt(draw, points[:n], points[n], space, shuffle=False)


def uniform_prompts(*, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None) -> st.SearchStrategy[Prompt]:
    """Assumption 1's law: x_1..x_{N+1} iid uniform on S^{d-1} (from a drawn seed), drawn labels."""
    _sizes(1, n_max, d_max, labels)
    return _uniform(n_max, d_max, labels)


def single_example_prompts(*, d_max: int = 8, labels: LabelSpace | None = None) -> st.SearchStrategy[Prompt]:
    """N = 1: one example and the query."""
    _sizes(1, 1, d_max, labels)
    return _uniform(1, d_max, labels)


@st.composite
def _circle(draw: Any, n_max: int, labels: LabelSpace | None) -> Prompt:
    space = _space(draw, labels)
    n = draw(st.integers(1, n_max))
    angles = np.array(draw(st.lists(st.floats(-math.pi, math.pi), min_size=n + 1, max_size=n + 1)))
    points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return _prompt(draw, points[:n], points[n], space, shuffle=False)


def circle_prompts(*, n_max: int = 16, labels: LabelSpace | None = None) -> st.SearchStrategy[Prompt]:
    """d = 2: points on the circle at drawn angles (exact angles 0, pi/2, pi are likely)."""
    _sizes(1, n_max, 2, labels)
    return _circle(n_max, labels)


@st.composite
def _tied(draw: Any, n_max: int, d_max: int, labels: LabelSpace | None) -> Prompt:
    space, n, d, rng = _setup(draw, labels, 2, n_max, d_max)
    q = _gaussian_sphere(rng, 1, d)[0]
    rest = _gaussian_sphere(rng, n - 2, d) if n > 2 else np.zeros((0, d))
    floor = float((rest @ q).max()) if n > 2 else -1.0  # the best tau among the other examples
    room = 1.0 - floor  # the tied pair must fit strictly between floor and 1
    gap = draw(st.one_of(st.sampled_from(NEAR_TIE_GAPS), st.floats(NEAR_TIE_GAPS[1], NEAR_TIE_GAPS[-1])))
    gap = min(gap, room / 4)  # the near-tie partner stays above the other examples
    share = draw(st.floats(0.5, 1.0, exclude_max=True))
    tau_star = floor + gap + (room - gap) * share  # in (floor + gap, 1)
    u = _orthonormal_to(rng, q)
    first = _at_tau(q, u, tau_star)
    if gap == 0.0:
        second = 2.0 * tau_star * q - first  # the mirror image about the query axis: the same tau
    else:
        second = _at_tau(q, _orthonormal_to(rng, q), tau_star - gap)
    return _prompt(draw, np.vstack([_unit(first), _unit(second), rest]), q, space)


def tied_prompts(*, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None) -> st.SearchStrategy[Prompt]:
    """Two nearest neighbours at an exact tie (gap 0: mirror images about the query axis) or a
    near-tie with gap 1e-12..1e-3 in tau, both above every other example; examples in a drawn order."""
    _sizes(2, n_max, d_max, labels)
    return _tied(n_max, d_max, labels)


@st.composite
def _duplicated(draw: Any, n_max: int, d_max: int, labels: LabelSpace | None) -> Prompt:
    space, n, d, rng = _setup(draw, labels, 2, n_max, d_max)
    points = _gaussian_sphere(rng, n + 1, d)
    x, q = points[:n], points[n]
    copies = draw(st.integers(1, n - 1))
    source = int(np.argmax(x @ q)) if draw(st.booleans()) else draw(st.integers(0, n - 1))
    x[[i for i in range(n) if i != source][:copies]] = x[source]
    return _prompt(draw, x, q, space)


def duplicated_prompts(
    *, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None
) -> st.SearchStrategy[Prompt]:
    """Exact duplicates among the examples (the nearest neighbour included), labels drawn independently."""
    _sizes(2, n_max, d_max, labels)
    return _duplicated(n_max, d_max, labels)


@st.composite
def _query_on_example(draw: Any, n_max: int, d_max: int, labels: LabelSpace | None) -> Prompt:
    space, n, d, rng = _setup(draw, labels, 1, n_max, d_max)
    x = _gaussian_sphere(rng, n, d)
    return _prompt(draw, x, x[draw(st.integers(0, n - 1))].copy(), space)


def query_on_example_prompts(
    *, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None
) -> st.SearchStrategy[Prompt]:
    """The query equals one of the examples exactly (tau* = ||x_q||^2 = 1 up to rounding)."""
    _sizes(1, n_max, d_max, labels)
    return _query_on_example(n_max, d_max, labels)


@st.composite
def _antipodal(draw: Any, n_max: int, d_max: int, labels: LabelSpace | None) -> Prompt:
    space, n, d, rng = _setup(draw, labels, 2, n_max, d_max)
    half = _gaussian_sphere(rng, (n + 1) // 2, d)
    x = np.vstack([half, -half])[:n]
    q = -x[0] if draw(st.booleans()) else _gaussian_sphere(rng, 1, d)[0]
    return _prompt(draw, x, q.copy(), space)


def antipodal_prompts(
    *, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None
) -> st.SearchStrategy[Prompt]:
    """Antipodal pairs x_k = -x_j among the examples, and possibly the query antipodal to an example."""
    _sizes(2, n_max, d_max, labels)
    return _antipodal(n_max, d_max, labels)


@st.composite
def _clustered(draw: Any, n_max: int, d_max: int, labels: LabelSpace | None) -> Prompt:
    space, n, d, rng = _setup(draw, labels, 1, n_max, d_max)
    radius = draw(st.sampled_from(CLUSTER_RADII))
    centre = _gaussian_sphere(rng, 1, d)[0]
    points = _unit(centre + radius * rng.standard_normal((n + 1, d)))
    return _prompt(draw, points[:n], points[n], space, shuffle=False)


def clustered_prompts(
    *, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None
) -> st.SearchStrategy[Prompt]:
    """Examples and query in a cap of radius 1e-1 down to 1e-9: near-ties everywhere."""
    _sizes(1, n_max, d_max, labels)
    return _clustered(n_max, d_max, labels)


@st.composite
def _large(draw: Any, d_max: int, labels: LabelSpace | None) -> Prompt:
    space, n, d, rng = _setup(draw, labels, LARGE_N[0], LARGE_N[1], d_max)
    points = _gaussian_sphere(rng, n + 1, d)
    return _prompt(draw, points[:n], points[n], space, shuffle=False)


def large_prompts(*, d_max: int = 8, labels: LabelSpace | None = None) -> st.SearchStrategy[Prompt]:
    """Long prompts, N in [256, 512], uniform points."""
    _sizes(1, 1, d_max, labels)
    return _large(d_max, labels)


@st.composite
def _boundary(draw: Any, n_max: int, d_max: int, labels: LabelSpace | None) -> Prompt:
    space, n, d, rng = _setup(draw, labels, 2, n_max, d_max)
    q = _gaussian_sphere(rng, 1, d)[0]
    gap = draw(st.one_of(st.sampled_from(BOUNDARY_GAPS), st.floats(-6.0, 0.0).map(lambda e: 10.0**e)))
    tau_star = draw(st.floats(-1.0 + gap, 1.0))
    nearest_point = _at_tau(q, _orthonormal_to(rng, q), tau_star)
    others = [_at_tau(q, _orthonormal_to(rng, q), tau_star - gap) for _ in range(n - 1)]
    x = np.vstack([_unit(nearest_point), *[_unit(o) for o in others]])
    sign = draw(st.sampled_from([1.0, -1.0]))
    y = np.array([sign * space.bound] + [-sign * space.bound] * (n - 1))
    order = draw(st.permutations(list(range(n))))
    return Prompt(
        torch.from_numpy(x[order][None].copy()),
        torch.from_numpy(y[order][None].copy()),
        torch.from_numpy(q[None].copy()),
        space,
    )


def boundary_prompts(*, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None) -> st.SearchStrategy[Prompt]:
    """At a 1-NN decision boundary: one nearest neighbour with label +-B and every other example with
    the opposite label -+B, all at the same tau* - g (g from 1e-6 to 1). The first term of C9b's bound,
    2N e^{-xi1 delta/2}, is nearly tight on these prompts."""
    _sizes(2, n_max, d_max, labels)
    return _boundary(n_max, d_max, labels)


@st.composite
def _free(draw: Any, n_max: int, d_max: int, labels: LabelSpace | None) -> Prompt:
    space = _space(draw, labels)
    n = draw(st.integers(1, n_max))
    d = draw(st.integers(2, d_max))
    points = np.stack([draw(_unit_vector(d)) for _ in range(n + 1)])
    return _prompt(draw, points[:n], points[n], space, shuffle=False)


def free_prompts(*, n_max: int = 8, d_max: int = 4, labels: LabelSpace | None = None) -> st.SearchStrategy[Prompt]:
    """Every coordinate drawn by Hypothesis (no seeded generator), so shrinking and ``hypothesis.target``
    can move the points themselves; shrinks towards all points at e_1 (an exact tie)."""
    _sizes(1, n_max, d_max, labels)
    return _free(n_max, d_max, labels)


def adversarial_prompts(
    *, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None, large: bool = True
) -> st.SearchStrategy[Prompt]:
    """The adversarial families, simplest first (see the module docstring).

    With ``n_max = 1`` only the families that fit one example remain (N = 1, circle, query on it,
    clusters, and the long prompts if ``large``).
    """
    _sizes(1, n_max, d_max, labels)
    _check_flag("large", large)
    families = [
        single_example_prompts(d_max=d_max, labels=labels),
        circle_prompts(n_max=n_max, labels=labels),
        free_prompts(n_max=min(n_max, 8), d_max=min(d_max, 4), labels=labels),
    ]
    if n_max >= 2:
        families += [
            tied_prompts(n_max=n_max, d_max=d_max, labels=labels),
            duplicated_prompts(n_max=n_max, d_max=d_max, labels=labels),
        ]
    families.append(query_on_example_prompts(n_max=n_max, d_max=d_max, labels=labels))
    if n_max >= 2:
        families.append(antipodal_prompts(n_max=n_max, d_max=d_max, labels=labels))
        families.append(boundary_prompts(n_max=n_max, d_max=d_max, labels=labels))
    families.append(clustered_prompts(n_max=n_max, d_max=d_max, labels=labels))
    if large:
        families.append(large_prompts(d_max=d_max, labels=labels))
    return st.one_of(*families)


def prompts(
    *, n_max: int = 16, d_max: int = 8, labels: LabelSpace | None = None, large: bool = True
) -> st.SearchStrategy[Prompt]:
    """Uniform prompts first, then every adversarial family. ``labels=None`` draws the label space."""
    return st.one_of(
        uniform_prompts(n_max=n_max, d_max=d_max, labels=labels),
        adversarial_prompts(n_max=n_max, d_max=d_max, labels=labels, large=large),
    )


#: Label bounds the test-law strategy tries (both sides of C10 scale with B^2; B != 1 checks that they do).
TEST_LAW_BOUNDS = (1.0, 0.5, 3.0)


@st.composite
def _test_law(draw: Any, sizes: tuple[tuple[int, int], ...]) -> TestLaw:
    N, d = draw(st.sampled_from(sizes))
    return TestLaw(
        N=N, d=d,
        clusters=draw(st.integers(1, 8)),
        spread=draw(st.floats(0.01, 2.0)),
        query=draw(st.sampled_from(QUERIES)),
        jitter=draw(st.floats(0.0, 0.5)),
        labels=draw(st.sampled_from(LABELS)),
        p=draw(st.floats(0.01, 0.99)),
        B=draw(st.sampled_from(TEST_LAW_BOUNDS)),
    )


def adversarial_laws(*, sizes: tuple[tuple[int, int], ...]) -> st.SearchStrategy[TestLaw]:
    """Adversarial test laws for C10 (model.adversarial.TestLaw) with (N, d) drawn from ``sizes``.

    Every knob of the law is drawn: 1..8 clusters of spread 0.01..2, each query placement (from the
    mixture, uniform, antipodal, on a 1-NN boundary) with jitter 0..0.5, each label rule (coin with
    P(+B) = p, labels set by a half-space and flipped with probability p, continuous labels skewed by p)
    with p in [0.01, 0.99], and B in TEST_LAW_BOUNDS. Shrinks towards the first size, one cluster of
    spread 1, queries from the mixture without jitter, fair coin labels (p = 1/2) and B = 1.
    """
    if not isinstance(sizes, tuple) or not sizes:
        raise InvalidParameter(f"sizes must be a nonempty tuple of (N, d) pairs, got {sizes!r}")
    for pair in sizes:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise InvalidParameter(f"each size must be an (N, d) pair, got {pair!r}")
        check_int("N", pair[0], 1)
        check_int("d", pair[1], 2)
    return _test_law(sizes)


#: The largest number of classes the K-class strategies draw ([AW26]'s experiments go to K = 10).
K_LIMIT = 10


@st.composite
def _class_prompt(draw: Any, k_max: int, n_max: int, d_max: int) -> ClassPrompt:
    geometry = draw(prompts(n_max=n_max, d_max=d_max, labels=BINARY))  # any geometry, adversarial ones included
    K = draw(st.integers(2, k_max))
    # class imbalance: a dominant class with probability `share`, the rest uniform; share = 1/K is balanced
    share = draw(st.one_of(st.just(1.0 / K), st.floats(0.0, 1.0)))
    dominant = draw(st.integers(0, K - 1))
    rng = np.random.default_rng(draw(SEEDS))
    p = np.full(K, (1.0 - share) / (K - 1))
    p[dominant] = share
    classes = rng.choice(K, size=(1, geometry.n), p=p / p.sum())
    return ClassPrompt(geometry.x, torch.from_numpy(classes), geometry.xq, K)


def class_prompts(*, k_max: int = K_LIMIT, n_max: int = 16, d_max: int = 8) -> st.SearchStrategy[ClassPrompt]:
    """One K-class prompt (model.multiclass.ClassPrompt, B = 1): the geometry of :func:`prompts` (uniform and
    every adversarial family: ties, near-ties, boundaries, clusters, d = 2, long prompts), K in [2, k_max],
    classes iid with one dominant class (share drawn in [0, 1], or balanced). Shrinks towards the minimal
    prompt of :func:`prompts` with K = 2 balanced classes."""
    check_int("k_max", k_max, 2, K_LIMIT)
    _sizes(1, n_max, d_max, BINARY)
    return _class_prompt(k_max, n_max, d_max)
