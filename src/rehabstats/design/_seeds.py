"""Seeds for simulation: one :class:`numpy.random.SeedSequence`, a child per data set."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..errors import DataError

__all__ = ["child_seeds", "to_seed_sequence"]


def to_seed_sequence(rng: Any) -> np.random.SeedSequence:
    """``rng`` (None, int seed, Generator or SeedSequence) -> a SeedSequence.

    A Generator contributes 128 bits of entropy drawn from it (so it advances).
    """
    if isinstance(rng, bool):
        raise DataError(f"'rng' must be None, an int seed or a numpy Generator; got {rng!r}.")
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, numbers.Integral):
        if int(rng) < 0:
            raise DataError(f"'rng' must be a non-negative int seed; got {rng!r}.")
        return np.random.SeedSequence(int(rng))
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence([int(v) for v in rng.integers(0, 2**63, size=2)])
    raise DataError(f"'rng' must be None, an int seed or a numpy Generator; got {rng!r}.")


def child_seeds(root: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """``n`` children of ``root`` (deterministic: they do not depend on earlier spawns)."""
    return [
        np.random.SeedSequence(entropy=root.entropy, spawn_key=(*root.spawn_key, i))
        for i in range(n)
    ]
