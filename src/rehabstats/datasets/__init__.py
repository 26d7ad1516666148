"""Bundled sample data sets, with codebooks.

A data set is a pair of files in ``rehabstats/datasets/data/``: ``<name>.csv``
(tidy long data) and ``<name>.md`` (its codebook). An optional ``<name>.json``
declares column types, e.g. ordered categories::

    {"categoricals": {"visit": {"levels": ["pre", "post", "followup"], "ordered": true}}}

Data sets are discovered by scanning that folder, so adding one needs no code.

Examples
--------
>>> from rehabstats import datasets
>>> "cimt_ms" in datasets.names()
True
>>> df = datasets.load("cimt_ms")
>>> df["visit"].cat.categories.tolist()
['pre', 'post', 'followup']
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import pandas as pd

from ..errors import DataError

__all__ = ["codebook", "load", "names"]


def _data_dir() -> Traversable:
    return resources.files(__name__) / "data"


def names() -> list[str]:
    """Names of the bundled data sets (a ``.csv`` with a ``.md`` codebook beside it), sorted.

    Examples
    --------
    >>> from rehabstats import datasets
    >>> isinstance(datasets.names(), list)
    True
    """
    folder = _data_dir()
    files = {entry.name for entry in folder.iterdir() if entry.is_file()}
    return sorted(
        f[: -len(".csv")] for f in files if f.endswith(".csv") and f"{f[:-4]}.md" in files
    )


def _entry(name: Any, suffix: str) -> Traversable:
    available = names()
    if not isinstance(name, str) or name not in available:
        raise DataError(
            f"Unknown data set {name!r}. Available data sets: {', '.join(available) or 'none'}."
        )
    return _data_dir() / f"{name}{suffix}"


def _apply_types(frame: pd.DataFrame, spec: dict[str, Any], name: str) -> pd.DataFrame:
    for column, info in spec.get("categoricals", {}).items():
        if column not in frame.columns:
            raise DataError(f"{name}.json declares column {column!r}, which {name}.csv lacks.")
        levels = list(info["levels"])
        unknown = set(frame[column].dropna().astype(str)) - set(levels)
        if unknown:
            raise DataError(
                f"{name}.csv column {column!r} has values {sorted(unknown)} not in "
                f"the levels {levels} declared in {name}.json."
            )
        frame[column] = pd.Categorical(
            frame[column].astype("string").astype(object),
            categories=levels,
            ordered=bool(info.get("ordered")),
        )
    return frame


def load(name: str) -> pd.DataFrame:
    """Load a bundled data set as a new DataFrame (a fresh copy on every call).

    Parameters
    ----------
    name : str
        One of :func:`names`, e.g. ``"cimt_ms"``.

    Returns
    -------
    pandas.DataFrame
        Tidy long data; columns described by :func:`codebook`. Categories
        declared in ``<name>.json`` (e.g. the visit order) are applied.

    Raises
    ------
    DataError
        Unknown name (the message lists the available data sets).

    Examples
    --------
    >>> from rehabstats import datasets
    >>> trial = datasets.load("cimt_ms")
    >>> trial.groupby("arm", observed=True)["subject"].nunique().to_dict()
    {'control': 10, 'cimt': 10}
    """
    csv = _entry(name, ".csv")
    with csv.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    meta = _data_dir() / f"{name}.json"
    if meta.is_file():
        frame = _apply_types(frame, json.loads(meta.read_text(encoding="utf-8")), name)
    return frame


def codebook(name: str) -> str:
    """The codebook of a data set (Markdown text: source, columns, how it was made).

    Examples
    --------
    >>> from rehabstats import datasets
    >>> "SIMULATED" in datasets.codebook("cimt_ms")
    True
    """
    return _entry(name, ".md").read_text(encoding="utf-8")
