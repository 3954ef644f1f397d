"""Seeded samplers for prompt laws.

References (THEORY.md IDs):
  S4  Assumption 1, the training law: x_1, ..., x_{N+1} iid uniform on S^{d-1}, labels iid uniform
      on {+1, -1} independent of the x's.

Randomness comes only from the ``torch.Generator`` passed in; there is no global-RNG fallback.
Each call draws one 62-bit base seed from that generator, and prompt i is then drawn from its own
generator seeded by (base, i): so prompt i does not depend on the batch size (the first k prompts
of a batch of B are the batch of k drawn from an identically seeded generator). Uniform points are
normalised standard Gaussians (rotation invariance of the Gaussian).
"""

from __future__ import annotations

import torch

from model.errors import InvalidParameter
from model.prompt import BINARY, FLOAT_DTYPES, Prompt, check_size

__all__ = ["prompt_generator", "sample_training_prompts", "uniform_sphere"]

_MASK64 = (1 << 64) - 1


def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise InvalidParameter(
            f"generator must be a seeded torch.Generator (no global RNG is used), got {type(generator).__name__}"
        )
    return generator


def prompt_generator(base: int, index: int) -> torch.Generator:
    """The generator of prompt ``index`` under base seed ``base`` (a splitmix64 mix of the two)."""
    base, index = check_size(base, "base", 0), check_size(index, "index", 0)
    z = (base + (index + 1) * 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return torch.Generator().manual_seed((z ^ (z >> 31)) & ((1 << 63) - 1))


def uniform_sphere(
    shape: tuple[int, ...], d: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Points iid uniform on S^{d-1}, shape ``shape + (d,)``."""
    d = check_size(d, "d", 2)
    if not isinstance(shape, tuple):
        raise InvalidParameter(f"shape must be a tuple of sizes, got {shape!r}")
    shape = tuple(check_size(size, "shape entry", 0) for size in shape)
    if dtype not in FLOAT_DTYPES:
        raise InvalidParameter(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    z = torch.randn(*shape, d, generator=_check_generator(generator), dtype=torch.float64)  # (..., d)
    norm = torch.linalg.vector_norm(z, dim=-1, keepdim=True)  # (..., 1), > 0 with probability 1
    return (z / norm).to(dtype)  # (..., d)


def sample_training_prompts(
    batch: int, n: int, d: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> Prompt:
    """``batch`` prompts from the training law of Assumption 1 (S4); prompt i independent of ``batch``."""
    batch = check_size(batch, "batch", 1)
    n = check_size(n, "N", 1)
    d = check_size(d, "d", 2)
    if dtype not in (torch.float32, torch.float64):
        raise InvalidParameter(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    base = int(torch.randint(0, 2**62, (1,), generator=_check_generator(generator)))
    points, labels = [], []
    for index in range(batch):
        own = prompt_generator(base, index)
        points.append(uniform_sphere((n + 1,), d, generator=own))  # (N+1, d)
        labels.append(2.0 * torch.randint(0, 2, (n,), generator=own, dtype=torch.float64) - 1.0)  # (N,)
    x = torch.stack(points).to(dtype)  # (B, N+1, d)
    y = torch.stack(labels).to(dtype)  # (B, N), +-1
    return Prompt(x[:, :n, :], y, x[:, n, :], BINARY)
