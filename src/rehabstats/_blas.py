"""One BLAS thread for the library's small matrices.

The models work on matrices of at most a few thousand rows and a few dozen
columns. Threaded BLAS on them is no faster even on an idle machine, and on a busy
one it is many times slower: OpenBLAS's worker threads busy-wait for work after
every threaded call, so a single QR in the data checks keeps a second core
spinning while the (single-threaded) fit runs -- twice the CPU time for the same
wall time, and on a loaded machine seconds lost to threads fighting for a core.
:func:`single_thread_blas` limits BLAS to one thread for the duration of a call
(through threadpoolctl, ~15 microseconds); ``mmrm()`` and ``lmm()`` run whole under it.
The user's own BLAS setting is restored afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["single_thread_blas"]

_CONTROLLER: list[Any] = []
_DEPTH = [0]


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run the block with one BLAS thread (nested uses cost nothing).

    Examples
    --------
    >>> import numpy as np
    >>> with single_thread_blas():
    ...     float(np.linalg.det(np.eye(3)))
    1.0
    """
    if _DEPTH[0]:  # already inside: nothing to change
        yield
        return
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    if not _CONTROLLER:
        # the controller sees the libraries loaded when it is made: load scipy's BLAS
        # (scipy.linalg bundles its own OpenBLAS beside numpy's) before making it
        import scipy.linalg  # noqa: F401

        _CONTROLLER.append(ThreadpoolController())
    _DEPTH[0] += 1
    try:
        with _CONTROLLER[0].limit(limits=1, user_api="blas"):
            yield
    finally:
        _DEPTH[0] -= 1
