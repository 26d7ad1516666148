"""A registry of outcome measures used in rehabilitation trials, with MCID/MDC records.

Each measure has a name, aliases, range, unit and direction of improvement,
plus threshold records ``(population, statistic, value, unit, method, source)``.
Thresholds depend strongly on the population, anchor and method, so they are
stored as data, never as one constant per measure: ask for the population
you need, and read the source.

Every value comes from the project's literature notes (``DOMAIN.md`` section 5),
which give the source of each; values the notes could not find are absent, and
values they could not verify carry ``unverified=True``. Statistics:

``"mcid"``
    minimal clinically important difference / minimal important change.
``"mdc"``
    minimal detectable change, with its confidence ``level`` (0.90 or 0.95;
    None when the source does not state it).
``"sem"``
    standard error of measurement.
``"loa"``
    Bland-Altman limits of agreement (``value`` = lower, ``value_upper`` = upper).

Examples
--------
>>> from rehabstats import measures
>>> measures.get("TUG").improvement
'decrease'
>>> measures.threshold("wmft_time", statistic="mdc", population="stroke").value
4.36
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd

from ._validate import show_value
from .errors import DataError

__all__ = [
    "Measure",
    "Threshold",
    "get",
    "improvement",
    "names",
    "threshold",
    "thresholds",
]

Statistic = Literal["mcid", "mdc", "sem", "loa"]
_STATISTICS = ("mcid", "mdc", "sem", "loa")


@dataclass(frozen=True)
class Threshold:
    """One published MCID / MDC / SEM value for one population.

    Attributes
    ----------
    population : str
        Who it was measured in (diagnosis, phase, subgroup).
    statistic : str
        ``"mcid"``, ``"mdc"``, ``"sem"`` or ``"loa"``.
    value : float
        The value (the lower end when the source gives a range).
    value_upper : float or None
        Upper end of a reported range (or the upper limit of agreement), else None.
    unit : str
        Unit of ``value`` (usually the measure's unit).
    method : str
        Anchor or distribution method, as described by the source.
    source : str
        Citation (with PubMed/DOI/URL where the notes give one).
    level : float or None
        Confidence level of an MDC (0.90 = MDC90), None if not stated.
    unverified : bool
        True when the notes could not confirm the value in the source.
    note : str
        Caveats (computed conversions, flags the source itself raises).
    """

    population: str
    statistic: str
    value: float
    unit: str
    method: str
    source: str
    value_upper: float | None = None
    level: float | None = None
    unverified: bool = False
    note: str = ""


@dataclass(frozen=True)
class Measure:
    """An outcome measure: identity, scale and published thresholds.

    Attributes
    ----------
    name : str
        Canonical key, e.g. ``"6mwt"``.
    label : str
        Full name.
    aliases : tuple of str
        Other accepted keys (matched case-insensitively, ``-``/space = ``_``).
    lower, upper : float or None
        Range of possible scores (None = unbounded).
    unit : str
        Unit of the scores.
    improvement : {"increase", "decrease"}
        Direction of therapeutic change.
    thresholds : tuple of Threshold
        Published MCID/MDC/SEM records (may be empty).
    note : str
        Scale notes, e.g. what could not be found.
    """

    name: str
    label: str
    aliases: tuple[str, ...]
    lower: float | None
    upper: float | None
    unit: str
    improvement: Literal["increase", "decrease"]
    thresholds: tuple[Threshold, ...] = ()
    note: str = ""


# --------------------------------------------------------------------------- sources
_FULK = "Fulk & He 2018, J Neurol Phys Ther 42(4):235-240 (PubMed 30138230)"
_ALGHADIR = "Alghadir et al. 2018 (https://pmc.ncbi.nlm.nih.gov/articles/PMC6136166)"
_STEVENSON = "Stevenson 2001, Aust J Physiother 47:29-38 (PubMed 11552860)"
_HAYASHI = "Hayashi et al. 2022, Clin Rehabil 36:1512 (PubMed 35730136)"
_VDLEE04 = (
    "van der Lee et al. 2004, Stroke (clinimetric properties of the MAL; "
    "https://researchinformation.amsterdamumc.org/en/publications/"
    "clinimetric-properties-of-the-motor-activity-log-for-the-assessme)"
)
_CHEN12 = (
    "Chen et al. 2012, Neurorehabil Neural Repair (EXCITE control group; "
    "https://pmc.ncbi.nlm.nih.gov/articles/PMC3754443)"
)
_VDLEE01 = "van der Lee et al. 2001 (commonly cited; not read)"
_LANG08 = "Lang et al. 2008 (commonly cited; not read)"
_LIN09 = (
    "Lin et al. 2009, Neurorehabil Neural Repair (Minimal detectable change scores "
    "for the Wolf Motor Function Test)"
)
_WMFTC = (
    "Streamlined WMFT (WMFT-C) reliability study "
    "(https://stage.medifind.com/articles/publication/562150672)"
)
_CASTRILLO = "Castrillo-Viguera et al. 2010, Amyotroph Lateral Scler 11:178-180 (PubMed 19634063)"
_DZNE = "DZNE patient survey 2026, doi:10.1080/21678421.2026.2615117"
_TILSON = "Tilson et al. 2010 (https://pmc.ncbi.nlm.nih.gov/articles/PMC2816032)"
_FMA = "FMA-UE, 1-6 weeks post-stroke (https://sage.cnpereading.com/doi/10.1177/15459683231186985)"

_MAL_MCID_NOTE = (
    "DOMAIN.md lists these commonly cited MAL MCIDs without separating the "
    "amount-of-use and quality-of-movement scales; not found in the source."
)


def _mal_common_mcids() -> tuple[Threshold, ...]:
    return (
        Threshold(
            "chronic stroke",
            "mcid",
            0.5,
            "points",
            "not stated",
            _VDLEE01,
            unverified=True,
            note=_MAL_MCID_NOTE,
        ),
        Threshold(
            "early after stroke",
            "mcid",
            1.0,
            "points",
            "not stated",
            _LANG08,
            value_upper=1.1,
            unverified=True,
            note=_MAL_MCID_NOTE,
        ),
    )


_MEASURES: tuple[Measure, ...] = (
    Measure(
        "6mwt",
        "6-Minute Walk Test",
        ("6mw", "six_minute_walk", "6_minute_walk_test"),
        0.0,
        None,
        "m",
        "increase",
        (
            Threshold(
                "stroke, 2-6 months post",
                "mcid",
                71.0,
                "m",
                "anchor: modified Rankin Scale (AUC 0.66)",
                _FULK,
            ),
            Threshold(
                "stroke, 2-6 months post",
                "mcid",
                65.0,
                "m",
                "anchor: Stroke Impact Scale (AUC 0.59)",
                _FULK,
            ),
            Threshold(
                "stroke, 2-6 months post, gait speed < 0.40 m/s",
                "mcid",
                44.0,
                "m",
                "anchor: modified Rankin Scale (AUC 0.72)",
                _FULK,
            ),
            Threshold(
                "stroke, 2-6 months post, gait speed < 0.40 m/s",
                "mcid",
                34.0,
                "m",
                "anchor: Stroke Impact Scale (AUC 0.62)",
                _FULK,
            ),
            Threshold(
                "stroke, 2-6 months post, gait speed >= 0.40 m/s",
                "mcid",
                71.0,
                "m",
                "anchor: modified Rankin Scale",
                _FULK,
                note="flagged unreliable by the source",
            ),
            Threshold(
                "stroke, 2-6 months post, gait speed >= 0.40 m/s",
                "mcid",
                130.0,
                "m",
                "anchor: Stroke Impact Scale",
                _FULK,
                note="flagged unreliable by the source",
            ),
        ),
        note=(
            "Chronic stroke (Flansbjer 2005) reports SRD% 13-23% across six gait tests, no "
            "per-test value; MS 6MWT MIC (Baert 2014) and MDC (Learmonth 2012) not found."
        ),
    ),
    Measure(
        "tug",
        "Timed Up and Go",
        ("timed_up_and_go", "tug_time"),
        0.0,
        None,
        "s",
        "decrease",
        (
            Threshold("chronic stroke", "sem", 1.16, "s", "test-retest, ICC 0.98", _ALGHADIR),
            Threshold(
                "chronic stroke",
                "mdc",
                3.2,
                "s",
                "distribution (from SEM, ICC 0.98)",
                _ALGHADIR,
                note="level not stated in the notes; 2.772 x 1.16 = 3.22 matches MDC95",
            ),
            Threshold(
                "knee osteoarthritis",
                "mdc",
                1.10,
                "s",
                "single rater",
                "doi:10.1186/s12891-015-0637-8",
                note="non-neurological population, for contrast",
            ),
        ),
        note="Flansbjer 2005 (chronic stroke) gives SRD% ranges only.",
    ),
    Measure(
        "mal_aou",
        "Motor Activity Log, amount of use",
        ("mal_amount_of_use",),
        0.0,
        5.0,
        "points",
        "increase",
        (
            Threshold(
                "chronic stroke",
                "loa",
                -0.70,
                "points",
                "Bland-Altman limits of agreement",
                _VDLEE04,
                value_upper=0.85,
            ),
            Threshold(
                "stroke (EXCITE control group)",
                "mdc",
                0.84,
                "points",
                "test-retest (16.8% of the scale)",
                _CHEN12,
                level=0.90,
                note="published as 16.8% of the scale; points computed as 0.168 x 5",
            ),
            *_mal_common_mcids(),
        ),
        note="Responsiveness ratio 1.9 in chronic stroke (van der Lee 2004).",
    ),
    Measure(
        "mal_qom",
        "Motor Activity Log, quality of movement",
        ("mal_quality_of_movement", "mal_hw"),
        0.0,
        5.0,
        "points",
        "increase",
        (
            Threshold(
                "chronic stroke",
                "loa",
                -0.61,
                "points",
                "Bland-Altman limits of agreement",
                _VDLEE04,
                value_upper=0.71,
            ),
            Threshold(
                "stroke (EXCITE control group)",
                "mdc",
                0.77,
                "points",
                "test-retest (15.4% of the scale)",
                _CHEN12,
                level=0.90,
                note="published as 15.4% of the scale; points computed as 0.154 x 5",
            ),
            *_mal_common_mcids(),
        ),
        note="Responsiveness ratio 2.0 in chronic stroke (van der Lee 2004).",
    ),
    Measure(
        "wmft_time",
        "Wolf Motor Function Test, performance time",
        ("wmft_pt", "wmft_seconds"),
        0.0,
        120.0,
        "s",
        "decrease",
        (
            Threshold("stroke", "mdc", 4.36, "s", "test-retest", _LIN09, level=0.90),
            Threshold(
                "stroke", "mcid", 1.5, "s", "as reported in the abstract", _LIN09, value_upper=2.0
            ),
            Threshold(
                "chronic stroke, streamlined WMFT-C",
                "mdc",
                2.26,
                "s",
                "test-retest",
                _WMFTC,
                level=0.95,
                note="streamlined version of the test",
            ),
        ),
        note=(
            "Mean item time; each timed item is usually truncated at 120 s. EXCITE "
            "(Fritz 2009) SEM/MDC not found."
        ),
    ),
    Measure(
        "wmft_fas",
        "Wolf Motor Function Test, Functional Ability Scale",
        ("wmft_functional",),
        0.0,
        5.0,
        "points",
        "increase",
        (
            Threshold("stroke", "mdc", 0.37, "points", "test-retest", _LIN09, level=0.90),
            Threshold(
                "stroke",
                "mcid",
                0.2,
                "points",
                "as reported in the abstract",
                _LIN09,
                value_upper=0.4,
            ),
            Threshold(
                "chronic stroke, streamlined WMFT-C",
                "mdc",
                0.34,
                "points",
                "test-retest",
                _WMFTC,
                level=0.95,
                note="streamlined version of the test",
            ),
        ),
    ),
    Measure(
        "bbs",
        "Berg Balance Scale",
        ("berg", "berg_balance", "berg_balance_scale"),
        0.0,
        56.0,
        "points",
        "increase",
        (
            Threshold(
                "stroke inpatients",
                "mdc",
                6.0,
                "points",
                "'a change of +/-6 points is necessary to be 90% confident of genuine change'",
                _STEVENSON,
                level=0.90,
            ),
            Threshold("chronic stroke", "sem", 0.98, "points", "test-retest", _ALGHADIR),
            Threshold(
                "chronic stroke",
                "mdc",
                2.7,
                "points",
                "distribution (from SEM)",
                _ALGHADIR,
                note="level not stated in the notes; 2.772 x 0.98 = 2.72 matches MDC95",
            ),
            Threshold(
                "acute stroke",
                "mcid",
                6.5,
                "points",
                "anchor-based",
                _HAYASHI,
                value_upper=12.5,
                note="baseline BBS 31.2 (SD 18.9)",
            ),
            Threshold(
                "acute stroke",
                "mcid",
                2.3,
                "points",
                "distribution-based",
                _HAYASHI,
                value_upper=4.9,
                note="baseline BBS 31.2 (SD 18.9)",
            ),
        ),
        note="MS values not found.",
    ),
    Measure(
        "gmfm66",
        "Gross Motor Function Measure-66",
        ("gmfm_66",),
        0.0,
        100.0,
        "points",
        "increase",
        (),
        note=(
            "Oeffinger et al. 2008 (DMCN 50:918) derived MCIDs by GMFCS level for "
            "ambulatory children with CP; the GMFM-66 numbers were not found, so none are "
            "stored."
        ),
    ),
    Measure(
        "alsfrs_r",
        "ALS Functional Rating Scale-Revised",
        ("alsfrs", "alsfrsr"),
        0.0,
        48.0,
        "points",
        "increase",
        (
            Threshold(
                "ALS (clinician survey)",
                "mcid",
                20.0,
                "% change in ALSFRS-R slope",
                "survey of 65 NEALS clinicians: 90% rated a 20% slope change "
                "'somewhat clinically meaningful'; all endorsed >= 25%; 93% called a "
                "50% slowing 'very clinically meaningful'",
                _CASTRILLO,
            ),
            Threshold(
                "ALS (patient survey)",
                "mcid",
                20.0,
                "% change in ALSFRS-R slope",
                "patient survey (n = 395): median minimum important slowing, IQR 10-50%",
                _DZNE,
            ),
        ),
        note=(
            "Scores decline with disease progression; thresholds are relative slowing of "
            "the decline, not points. Boddy et al. 2025 MID values not found."
        ),
    ),
    Measure(
        "gas",
        "Goal Attainment Scaling T-score",
        ("goal_attainment_scaling", "gas_t"),
        None,
        None,
        "T-score",
        "increase",
        (),
        note=(
            "T = 50 means goals were met as expected (Kiresuk & Sherman 1968); see "
            "rehabstats.change.gas_tscore. No MCID in the notes."
        ),
    ),
    Measure(
        "gait_speed",
        "Gait speed (e.g. 10-metre walk)",
        ("10mwt", "walking_speed"),
        0.0,
        None,
        "m/s",
        "increase",
        (Threshold("stroke, first 60 days", "mcid", 0.16, "m/s", "anchor-based", _TILSON),),
    ),
    Measure(
        "fma_ue",
        "Fugl-Meyer Assessment, upper extremity",
        ("fugl_meyer_ue", "fma"),
        0.0,
        66.0,
        "points",
        "increase",
        (
            Threshold("stroke, 1-6 weeks post", "mcid", 13.0, "points", "anchor 1 of 3", _FMA),
            Threshold("stroke, 1-6 weeks post", "mcid", 12.0, "points", "anchor 2 of 3", _FMA),
            Threshold("stroke, 1-6 weeks post", "mcid", 9.0, "points", "anchor 3 of 3", _FMA),
            Threshold("stroke, 1-6 weeks post", "sem", 2.46, "points", "test-retest", _FMA),
            Threshold(
                "stroke, 1-6 weeks post",
                "mdc",
                6.82,
                "points",
                "from SEM",
                _FMA,
                note="level not stated in the notes; 2.772 x 2.46 = 6.82 matches MDC95",
            ),
        ),
    ),
)


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


_LOOKUP: dict[str, Measure] = {}
for _m in _MEASURES:
    for _k in (_m.name, *_m.aliases):
        _LOOKUP[_key(_k)] = _m


# --------------------------------------------------------------------------- API
def names() -> list[str]:
    """Canonical names of the registered measures, sorted.

    Examples
    --------
    >>> from rehabstats import measures
    >>> "tug" in measures.names()
    True
    """
    return sorted(m.name for m in _MEASURES)


def get(name: str) -> Measure:
    """Look a measure up by name or alias (case-insensitive; ``-`` and spaces = ``_``).

    Parameters
    ----------
    name : str
        E.g. ``"6mwt"``, ``"TUG"``, ``"mal-aou"``, ``"berg"``.

    Returns
    -------
    Measure
        A frozen dataclass.

    Raises
    ------
    DataError
        Unknown name (the message lists the known names).

    Examples
    --------
    >>> from rehabstats import measures
    >>> m = measures.get("Berg")
    >>> m.name, m.upper
    ('bbs', 56.0)
    """
    if not isinstance(name, str):
        raise DataError(f"The measure name must be a string; got {show_value(name)}.")
    try:
        return _LOOKUP[_key(name)]
    except KeyError:
        raise DataError(
            f"Unknown measure {show_value(name)}. Known measures: {', '.join(names())}."
        ) from None


def improvement(name: str) -> Literal["increase", "decrease"]:
    """Direction of improvement of a measure (``"decrease"`` for TUG and WMFT time).

    Examples
    --------
    >>> from rehabstats import measures
    >>> measures.improvement("tug")
    'decrease'
    """
    return get(name).improvement


_COLUMNS = [f.name for f in fields(Threshold)]


def _select(
    measure: Measure, statistic: str | None, population: str | None, level: float | None
) -> list[Threshold]:
    out = list(measure.thresholds)
    if statistic is not None:
        if statistic not in _STATISTICS:
            raise DataError(
                f"The 'statistic' argument must be one of "
                f"{', '.join(map(repr, _STATISTICS))}, or None; got {show_value(statistic)}."
            )
        out = [t for t in out if t.statistic == statistic]
    if population is not None:
        if not isinstance(population, str):
            raise DataError(f"'population' must be a string; got {show_value(population)}.")
        out = [t for t in out if t.population.lower() == population.strip().lower()]
    if level is not None:
        lv = _check_level(level)
        out = [t for t in out if t.level is not None and abs(t.level - lv) < 1e-12]
    return out


def _check_level(level: object) -> float:
    """An MDC confidence level: a number strictly between 0 and 1 (0.90, 0.95 are stored)."""
    stored = sorted({t.level for m in _MEASURES for t in m.thresholds if t.level is not None})
    if (
        isinstance(level, bool)
        or not isinstance(level, (int, float, np.number))
        or not 0 < float(level) < 1
    ):
        choices = ", ".join(format(v, "g") for v in stored)
        raise DataError(
            f"The 'level' argument is the confidence level of an MDC record, a "
            f"number between 0 and 1; the registry holds levels {choices} (or "
            f"use None for every level); got {show_value(level)}."
        )
    return float(level)


def thresholds(
    name: str,
    statistic: str | None = "mcid",
    population: str | None = None,
    *,
    level: float | None = None,
) -> pd.DataFrame:
    """Published threshold records of a measure as a DataFrame.

    Parameters
    ----------
    name : str
        Measure name or alias.
    statistic : {"mcid", "mdc", "sem", "loa"} or None, optional
        Which statistic; None returns every record.
    population : str, optional
        Exact population label (case-insensitive), e.g. ``"chronic stroke"``.
    level : float, optional
        Keep only MDC records with this confidence level (0.90, 0.95).

    Returns
    -------
    pandas.DataFrame
        Columns ``measure, population, statistic, value, unit, method, source,
        value_upper, level, unverified, note``; possibly empty (the measure
        has no such published value in the notes).

    Examples
    --------
    >>> from rehabstats import measures
    >>> measures.thresholds("6mwt", population="stroke, 2-6 months post")["value"].tolist()
    [71.0, 65.0]
    """
    m = get(name)
    rows = [
        {"measure": m.name, **{c: getattr(t, c) for c in _COLUMNS}}
        for t in _select(m, statistic, population, level)
    ]
    return pd.DataFrame(rows, columns=["measure", *_COLUMNS])


def threshold(
    name: str,
    *,
    statistic: str = "mcid",
    population: str | None = None,
    level: float | None = None,
    method: str | None = None,
) -> Threshold:
    """Exactly one threshold record; an error lists the choices when several match.

    Parameters
    ----------
    name : str
        Measure name or alias.
    statistic : {"mcid", "mdc", "sem", "loa"}, optional
    population : str, optional
        Population label; required when records for several populations exist.
    level : float, optional
        MDC confidence level.
    method : str, optional
        Substring of the method/anchor text to choose between records of one
        population (e.g. ``"Rankin"``).

    Returns
    -------
    Threshold

    Raises
    ------
    DataError
        No record matches, or several do (the message lists them).

    Examples
    --------
    >>> from rehabstats import measures
    >>> measures.threshold("tug", statistic="mdc", population="chronic stroke").value
    3.2
    """
    m = get(name)
    if statistic is None:
        raise DataError(
            "threshold() returns one record, so 'statistic' must be one of "
            f"{', '.join(map(repr, _STATISTICS))}; got None (use thresholds() for "
            "every statistic)."
        )
    if method is not None and not isinstance(method, str):
        raise DataError(f"'method' must be a string; got {show_value(method)}.")
    found = _select(m, statistic, population, level)
    if method is not None:
        found = [t for t in found if method.lower() in t.method.lower()]
    if len(found) == 1:
        return found[0]
    if not found:
        available = _select(m, statistic, None, None)
        pops = sorted({t.population for t in available})
        hint = (
            f" Populations with a {show_value(statistic)} record: {'; '.join(pops)}."
            if pops
            else f" {m.label} has no {show_value(statistic)} record in the registry."
        )
        raise DataError(
            f"No {show_value(statistic)} threshold for {show_value(m.name)} matches "
            f"population={show_value(population)}, level={show_value(level)}, method={show_value(method)}.{hint}"
        )
    choices = "; ".join(
        f"population={show_value(t.population)}, method={show_value(t.method)}, value={t.value}"
        + (f"-{t.value_upper}" if t.value_upper is not None else "")
        + (f", level={t.level}" if t.level is not None else "")
        for t in found
    )
    raise DataError(
        f"{len(found)} {show_value(statistic)} thresholds for {show_value(m.name)} match; choose one "
        f"with population=, level= or method=. Choices: {choices}."
    )


# Functional classification systems (GMFCS, MACS, CFCS) live in their own module.
from ._classifications import (  # noqa: E402
    Classification,
    as_levels,
    classification,
    classification_names,
)

__all__ += ["Classification", "as_levels", "classification", "classification_names"]
