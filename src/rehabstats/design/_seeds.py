"""Seeds for simulation: one :class:`numpy.random.SeedSequence`, a child per block of data sets.

The seeding rule (documented in :func:`rehabstats.power.simulate`): simulation
``i`` belongs to block ``b = i // SIMS_PER_BLOCK``; block ``b`` is drawn from
the ``b``-th child of the root SeedSequence, always for all
``SIMS_PER_BLOCK`` of its simulations (array operations over the block). The
data of simulation ``i`` therefore depend only on the root seed and ``i`` --
not on ``n_sims``, ``n_jobs``, the backend or how the work is split into tasks.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from ..errors import DataError

__all__ = ["SIMS_PER_BLOCK", "block_seed", "draw_range", "to_seed_sequence"]

#: Simulations drawn together from one block seed (fixed: it is part of the seeding rule).
SIMS_PER_BLOCK = 100

T = TypeVar("T", bound=tuple[np.ndarray, ...])


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


def block_seed(root: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The ``index``-th child of ``root`` (independent of any earlier ``spawn``)."""
    return np.random.SeedSequence(entropy=root.entropy, spawn_key=(*root.spawn_key, int(index)))


def _blocks(lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
    """``(block, start, stop)`` within each block covering simulations ``lo .. hi - 1``."""
    b = lo // SIMS_PER_BLOCK
    while b * SIMS_PER_BLOCK < hi:
        first = b * SIMS_PER_BLOCK
        yield b, max(lo, first) - first, min(hi, first + SIMS_PER_BLOCK) - first
        b += 1


def draw_range(
    draw_block: Callable[[np.random.SeedSequence, int], T],
    root: np.random.SeedSequence,
    lo: int,
    hi: int,
) -> T:
    """Simulations ``lo .. hi - 1`` under the seeding rule.

    ``draw_block(seed, size)`` returns arrays whose first axis is the
    simulation; every block is drawn whole and the needed part is kept.
    """
    parts = [
        tuple(a[s:e] for a in draw_block(block_seed(root, b), SIMS_PER_BLOCK))
        for b, s, e in _blocks(int(lo), int(hi))
    ]
    if len(parts) == 1:
        return parts[0]  # type: ignore[return-value]
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]
