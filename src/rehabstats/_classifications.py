"""Functional classification systems as ordered categories (GMFCS, MACS, CFCS).

Small paediatric rehab trials stratify or minimise on these levels; as ordered
pandas Categoricals they sort, tabulate and stratify correctly (level "II" < "IV"),
and values that are not levels are caught. Re-exported from :mod:`rehabstats.measures`.

References
----------
Palisano R, Rosenbaum P, Walter S, Russell D, Wood E, Galuppi B (1997). Development and
reliability of a system to classify gross motor function in children with cerebral
palsy. *Dev Med Child Neurol* 39(4):214–223 (GMFCS; expanded and revised 2007).
Eliasson AC, Krumlinde-Sundholm L, Rösblad B, et al. (2006). The Manual Ability
Classification System (MACS) for children with cerebral palsy. *Dev Med Child Neurol*
48(7):549–554.
Hidecker MJC, Paneth N, Rosenbaum PL, et al. (2011). Developing and validating the
Communication Function Classification System for individuals with cerebral palsy.
*Dev Med Child Neurol* 53(8):704–710.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .errors import DataError

__all__ = ["Classification", "as_levels", "classification", "classification_names"]

_ROMAN = ("I", "II", "III", "IV", "V")


@dataclass(frozen=True)
class Classification:
    """A classification system: ordered levels (best function first) with descriptions."""

    name: str
    label: str
    levels: tuple[str, ...]
    descriptions: tuple[str, ...]
    source: str

    @property
    def dtype(self) -> pd.CategoricalDtype:
        """The ordered Categorical dtype of the levels."""
        return pd.CategoricalDtype(list(self.levels), ordered=True)

    def to_frame(self) -> pd.DataFrame:
        """One row per level: ``level, description``."""
        return pd.DataFrame({"level": self.levels, "description": self.descriptions})


_SYSTEMS = {
    "gmfcs": Classification(
        "gmfcs",
        "Gross Motor Function Classification System (GMFCS E&R)",
        _ROMAN,
        (
            "Walks without limitations",
            "Walks with limitations",
            "Walks using a hand-held mobility device",
            "Self-mobility with limitations; may use powered mobility",
            "Transported in a manual wheelchair",
        ),
        "Palisano et al. 1997, Dev Med Child Neurol 39:214-223; expanded and revised 2007",
    ),
    "macs": Classification(
        "macs",
        "Manual Ability Classification System (MACS)",
        _ROMAN,
        (
            "Handles objects easily and successfully",
            "Handles most objects but with somewhat reduced quality and/or speed",
            "Handles objects with difficulty; needs help to prepare and/or modify activities",
            "Handles a limited selection of easily managed objects in adapted situations",
            "Does not handle objects and has severely limited ability to perform even simple "
            "actions",
        ),
        "Eliasson et al. 2006, Dev Med Child Neurol 48:549-554",
    ),
    "cfcs": Classification(
        "cfcs",
        "Communication Function Classification System (CFCS)",
        _ROMAN,
        (
            "Effective sender and receiver with unfamiliar and familiar partners",
            "Effective but slower-paced sender and/or receiver with unfamiliar and/or familiar "
            "partners",
            "Effective sender and effective receiver with familiar partners",
            "Inconsistent sender and/or receiver with familiar partners",
            "Seldom effective sender and receiver even with familiar partners",
        ),
        "Hidecker et al. 2011, Dev Med Child Neurol 53:704-710",
    ),
}


def classification_names() -> list[str]:
    """Names of the registered classification systems.

    >>> classification_names()
    ['cfcs', 'gmfcs', 'macs']
    """
    return sorted(_SYSTEMS)


def classification(name: str) -> Classification:
    """Look up a classification system by name (``"gmfcs"``, ``"macs"``, ``"cfcs"``).

    Examples
    --------
    >>> from rehabstats import measures
    >>> measures.classification("GMFCS").levels
    ('I', 'II', 'III', 'IV', 'V')
    """
    key = str(name).strip().lower() if isinstance(name, str) else None
    if key not in _SYSTEMS:
        raise DataError(
            f"Unknown classification {name!r}; known: {', '.join(classification_names())}."
        )
    return _SYSTEMS[key]


def _normalise_level(value: Any) -> Any:
    """'level 2', 2, 'ii', 'II ' -> 'II'; missing stays missing; anything else unchanged."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and float(value) in (1, 2, 3, 4, 5)
    ):
        return _ROMAN[int(value) - 1]
    text = re.sub(r"^(level|lvl|gmfcs|macs|cfcs)[\s:]*", "", str(value).strip(), flags=re.I)
    if text.isdigit() and 1 <= int(text) <= 5:
        return _ROMAN[int(text) - 1]
    return text.upper() if text.upper() in _ROMAN else value


def as_levels(values: Any, system: str) -> pd.Series:
    """Convert recorded levels (``2``, ``"II"``, ``"level 2"``) to the system's ordered Categorical.

    Values that are not a level raise a DataError that lists them.

    Examples
    --------
    >>> from rehabstats import measures
    >>> s = measures.as_levels([1, "II", "level 3", None], "gmfcs")
    >>> s.tolist()[:3], s.cat.ordered
    (['I', 'II', 'III'], True)
    """
    cls = classification(system)
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    mapped = series.astype(object).map(_normalise_level)
    bad = sorted({str(v) for v in mapped.dropna() if v not in cls.levels})
    if bad:
        raise DataError(
            f"Values {bad} are not {cls.name.upper()} levels; expected one of "
            f"{list(cls.levels)} (or 1-5)."
        )
    return pd.Series(pd.Categorical(mapped, dtype=cls.dtype), index=series.index, name=series.name)
