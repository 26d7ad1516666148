"""A module imported on its first attribute access (``scipy.stats`` for the models).

``scipy.stats`` takes about half a second to import, most of it for distributions
and tests that a model fit never calls: the fit, its coefficient table and its
contrasts need only the t, F, chi-square and normal functions of
:mod:`scipy.special`. Modules that use ``scipy.stats`` for rarer results (Tukey's
studentized range, a bootstrap) name it through :func:`lazy_module`, so that it
loads when one of those results is first asked for, not with the model code.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    """Forwards attribute access to the module ``name``, importing it the first time."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module: ModuleType = importlib.import_module(self._name)  # cached after the first
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name`` that imports the module on first attribute access.

    Examples
    --------
    >>> from rehabstats._lazy import lazy_module
    >>> stats = lazy_module("scipy.stats")
    >>> round(float(stats.norm.ppf(0.975)), 4)
    1.96
    """
    return _LazyModule(name)
