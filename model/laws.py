"""Seeded samplers for prompt laws.

References (THEORY.md IDs):
  S4  Assumption 1, the training law: x_1, ..., x_{N+1} iid uniform on S^{d-1}, labels iid uniform
      on {+1, -1} independent of the x's.

Randomness comes only from the ``torch.Generator`` passed in; there is no global-RNG fallback.
Uniform points are normalised standard Gaussians (rotation invariance of the Gaussian).
"""

from __future__ import annotations

import torch

from model.errors import InvalidDimension, InvalidParameter
from model.prompt import BINARY, Prompt

__all__ = ["sample_training_prompts", "uniform_sphere"]


def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise InvalidParameter(
            "generator must be a seeded torch.Generator (no global RNG is used), "
            f"got {type(generator).__name__}"
        )
    return generator


def _check_size(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        error = InvalidDimension if name in ("N", "d") else InvalidParameter
        raise error(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def uniform_sphere(
    shape: tuple[int, ...], d: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Points iid uniform on S^{d-1}, shape ``shape + (d,)``."""
    d = _check_size(d, "d", 2)
    z = torch.randn(*shape, d, generator=_check_generator(generator), dtype=torch.float64)  # (..., d)
    norm = torch.linalg.vector_norm(z, dim=-1, keepdim=True)  # (..., 1), > 0 with probability 1
    return (z / norm).to(dtype)  # (..., d)


def sample_training_prompts(
    batch: int, n: int, d: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> Prompt:
    """``batch`` prompts from the training law of Assumption 1 (S4)."""
    batch = _check_size(batch, "batch", 1)
    n = _check_size(n, "N", 1)
    generator = _check_generator(generator)
    points = uniform_sphere((batch, n + 1), d, generator=generator, dtype=dtype)  # (B, N+1, d)
    bits = torch.randint(0, 2, (batch, n), generator=generator)  # (B, N)
    y = (2 * bits - 1).to(dtype)  # (B, N), +-1
    return Prompt(points[:, :n, :], y, points[:, n, :], BINARY)
