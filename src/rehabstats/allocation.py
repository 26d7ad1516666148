"""Allocation for small rehabilitation trials: permuted blocks, strata and minimisation.

Small rehab trials stratify on a few classification levels (GMFCS I–V, MACS,
EDSS bands, time since stroke). With 20 participants, simple randomisation can
easily put most GMFCS III–IV children in one arm; permuted blocks within strata
and Pocock–Simon minimisation are the two standard remedies (CONSORT 2010 item 8b).

- :func:`permuted_blocks` — a concealed allocation list made of randomly permuted
  blocks of randomly chosen sizes, within every stratum.
- :func:`minimisation` — Pocock & Simon (1975) minimisation with a random element,
  assigning one participant at a time and keeping an audit log.
- :func:`balance` — counts per factor level and arm, with the imbalance.
- :func:`export_concealed` — writes the list for the person who holds it and returns
  the recruiter's version without the arms.

References
----------
Pocock SJ, Simon R (1975). Sequential treatment assignment with balancing for
prognostic factors in the controlled clinical trial. *Biometrics* 31(1):103–115.
Altman DG, Bland JM (2005). Treatment allocation by minimisation. *BMJ* 330:843.
Schulz KF, Grimes DA (2002). Unequal group sizes in randomised trials: guarding
against guessing. *Lancet* 359:966–970 (varying block sizes).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._entry import check_labels
from ._validate import check_option, normalize_rng, show_value
from .errors import DataError, DesignError

__all__ = ["Minimisation", "balance", "export_concealed", "minimisation", "permuted_blocks"]


def _check_arms(arms: Any) -> list[str]:
    if isinstance(arms, (str, bytes)) or not isinstance(arms, Sequence):
        raise DataError(f"'arms' must be a list of at least two arm labels; got {arms!r}.")
    labels = [str(a) for a in arms]
    if len(labels) < 2:
        raise DataError(f"'arms' must name at least two arms; got {labels!r}.")
    if len(set(labels)) != len(labels):
        raise DataError(f"'arms' contains repeated labels: {labels!r}.")
    folded = {a.strip().casefold() for a in labels}
    if len(folded) != len(labels):
        raise DataError(f"'arms' contains labels that differ only in case or spaces: {labels!r}.")
    return labels


def _check_ratio(ratio: Any, n_arms: int) -> np.ndarray:
    if ratio is None:
        return np.ones(n_arms, dtype=int)
    values = list(ratio) if isinstance(ratio, Sequence) else None
    if (
        values is None
        or len(values) != n_arms
        or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 1
            for v in values
        )
    ):
        raise DataError(
            f"'ratio' must give one positive whole number per arm ({n_arms} arms); got {ratio!r}."
        )
    return np.asarray(values, dtype=int)


def _check_levels(factors: Any, what: str) -> dict[str, list[Any]]:
    if not isinstance(factors, Mapping) or not factors:
        raise DataError(
            f"'{what}' must map each factor name to its list of levels, e.g. "
            f"{{'gmfcs': ['I', 'II', 'III']}}; got {factors!r}."
        )
    out: dict[str, list[Any]] = {}
    for name, levels in factors.items():
        if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or len(levels) < 1:
            raise DataError(f"'{what}' factor {name!r} must have a list of levels; got {levels!r}.")
        lv = list(levels)
        if len(set(map(str, lv))) != len(lv):
            raise DataError(f"'{what}' factor {name!r} has repeated levels: {lv!r}.")
        out[str(name)] = lv
    return out


def permuted_blocks(
    n: int,
    *,
    arms: Sequence[str],
    block_sizes: Sequence[int] = (4, 6),
    strata: Mapping[str, Sequence[Any]] | None = None,
    ratio: Sequence[int] | None = None,
    rng: Any = None,
) -> pd.DataFrame:
    """Allocation list of randomly permuted blocks, within every stratum.

    Each block holds every arm in the allocation ``ratio`` (1:1 by default) in a
    random order; each block's size is drawn at random from ``block_sizes`` so that
    the end of a block cannot be guessed (Schulz & Grimes 2002). Every stratum (each
    combination of the ``strata`` levels) gets its own list of at least ``n`` entries,
    completed to a whole block so that every block is balanced; entries beyond the
    ones used are simply left unused.

    Parameters
    ----------
    n : int
        Participants to allocate per stratum (the whole trial when ``strata`` is None).
    arms : sequence of str
        Arm labels, the reference (control) arm first.
    block_sizes : sequence of int
        Allowed block sizes, each a multiple of ``sum(ratio)``.
    strata : mapping, optional
        Stratification factors and their levels, e.g. ``{"gmfcs": ["I-II", "III-IV"]}``;
        the list is made for every combination of levels.
    ratio : sequence of int, optional
        Allocation ratio per arm (e.g. ``(1, 2)``); default equal allocation.
    rng : int, numpy Generator or None
        Seed or generator; the same seed gives the same list.

    Returns
    -------
    pandas.DataFrame
        One row per list entry: ``stratum`` (e.g. ``"gmfcs=I-II"``, ``"all"`` without
        strata), one column per stratification factor, ``sequence`` (1, 2, ... within
        the stratum), ``block`` (1, 2, ... within the stratum), ``block_size`` and
        ``arm`` (a Categorical in the order of ``arms``).

    Examples
    --------
    >>> import rehabstats as rs
    >>> alloc = rs.allocation.permuted_blocks(
    ...     20, arms=["control", "cimt"], strata={"gmfcs": ["I-II", "III"]}, rng=1)
    >>> alloc.groupby(["stratum", "block"], observed=True)["arm"].apply(
    ...     lambda a: (a == "cimt").mean()).unique().tolist()
    [0.5]
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise DataError(f"'n' must be a positive whole number of participants; got {n!r}.")
    labels = _check_arms(arms)
    weights = _check_ratio(ratio, len(labels))
    unit = int(weights.sum())
    sizes_in = list(block_sizes) if isinstance(block_sizes, Sequence) else None
    if not sizes_in or not all(
        isinstance(b, numbers.Integral) and not isinstance(b, bool) and b > 0 for b in sizes_in
    ):
        raise DataError(
            f"'block_sizes' must be a list of positive whole numbers; got {block_sizes!r}."
        )
    bad = [int(b) for b in sizes_in if b % unit]
    if bad:
        raise DesignError(
            f"Every block size must be a multiple of {unit} (the sum of the allocation ratio "
            f"{weights.tolist()} over {len(labels)} arms) so that each block is balanced; "
            f"{bad} are not."
        )
    sizes = np.asarray(sizes_in, dtype=int)
    gen = normalize_rng(rng)
    levels = _check_levels(strata, "strata") if strata is not None else {}
    combos = list(itertools.product(*levels.values())) if levels else [()]
    pattern = np.repeat(np.arange(len(labels)), weights)  # one ratio unit of arm codes
    max_blocks = math.ceil(n / sizes.min())

    frames = []
    for combo in combos:
        chosen = sizes[gen.integers(0, len(sizes), size=max_blocks)]
        n_blocks = int(np.searchsorted(np.cumsum(chosen), n) + 1)
        chosen = chosen[:n_blocks]
        block_of = np.repeat(np.arange(n_blocks), chosen)
        codes = np.concatenate([np.tile(pattern, s // unit) for s in chosen])
        # a random order within each block: sort by block, then by a uniform key
        order = np.lexsort((gen.random(codes.size), block_of))
        stratum = (
            ", ".join(f"{k}={v}" for k, v in zip(levels, combo, strict=True)) if levels else "all"
        )
        frame = pd.DataFrame(
            {
                "stratum": stratum,
                **{k: v for k, v in zip(levels, combo, strict=True)},
                "sequence": np.arange(1, codes.size + 1),
                "block": block_of + 1,
                "block_size": np.repeat(chosen, chosen),
                "arm": pd.Categorical.from_codes(codes[order], categories=labels),
            }
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


class Minimisation:
    """Pocock–Simon minimisation, one participant at a time (see :func:`minimisation`).

    Attributes
    ----------
    allocations : pandas.DataFrame
        One row per assigned participant: ``participant``, the factors, ``arm``.
    log : pandas.DataFrame
        The audit trail: for each participant the imbalance score each arm would
        give, the arms with the smallest score, the probability used and the draw.
    """

    def __init__(
        self,
        *,
        factors: Mapping[str, Sequence[Any]],
        arms: Sequence[str],
        p_best: float = 0.8,
        weights: Mapping[str, float] | None = None,
        imbalance: str = "range",
        rng: Any = None,
    ) -> None:
        self.arms = _check_arms(arms)
        self.factors = _check_levels(factors, "factors")
        if (
            isinstance(p_best, bool)
            or not isinstance(p_best, numbers.Real)
            or not (1 / len(self.arms) <= float(p_best) <= 1)
        ):
            raise DataError(
                f"'p_best' is the probability of giving the arm that minimises imbalance and "
                f"must lie between 1/{len(self.arms)} and 1; got {p_best!r}."
            )
        self.p_best: float = float(p_best)
        w = dict.fromkeys(self.factors, 1.0)
        if weights is not None:
            if not isinstance(weights, Mapping):
                raise DataError(f"'weights' must map factor names to weights; got {weights!r}.")
            unknown = sorted(set(map(str, weights)) - set(self.factors))
            if unknown:
                raise DataError(f"'weights' names factors not in 'factors': {unknown}.")
            for k, v in weights.items():
                if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > 0:
                    raise DataError(f"'weights' for {k!r} must be a positive number; got {v!r}.")
                w[str(k)] = float(v)
        self.weights: dict[str, float] = w
        self.imbalance: str = check_option(imbalance, "imbalance", ("range", "variance"))
        self._rng: np.random.Generator = normalize_rng(rng)
        # counts[factor][level index, arm index]
        self._counts: dict[str, np.ndarray] = {
            f: np.zeros((len(lv), len(self.arms))) for f, lv in self.factors.items()
        }
        self._rows: list[dict[str, Any]] = []
        self._log: list[dict[str, Any]] = []

    def _level_index(self, participant: Mapping[str, Any]) -> dict[str, int]:
        if not isinstance(participant, Mapping):
            raise DataError(
                f"A participant is a mapping of factor values, e.g. {{'gmfcs': 'II'}}; "
                f"got {participant!r}."
            )
        missing = [f for f in self.factors if f not in participant]
        if missing:
            raise DataError(f"The participant has no value for the factor(s) {missing}.")
        out = {}
        for f, levels in self.factors.items():
            value = participant[f]
            hits = [i for i, lv in enumerate(levels) if lv == value or str(lv) == str(value)]
            if not hits:
                raise DataError(f"Factor {f!r} has no level {value!r}; expected one of {levels!r}.")
            out[f] = hits[0]
        return out

    def _scores(self, idx: Mapping[str, int]) -> np.ndarray:
        """Imbalance over the participant's factor levels if each arm were chosen."""
        k = len(self.arms)
        score = np.zeros(k)
        for f, i in idx.items():
            counts = self._counts[f][i]
            trial = counts[None, :] + np.eye(k)  # row a: counts if arm a is chosen
            spread = (
                trial.max(axis=1) - trial.min(axis=1)
                if self.imbalance == "range"
                else trial.var(axis=1, ddof=1)
            )
            score += self.weights[f] * spread
        return score

    def assign(self, participant: Mapping[str, Any], *, id: Any = None) -> str:
        """Assign the next participant (a mapping factor -> level) and return the arm.

        The arm with the smallest weighted imbalance (ties broken at random) is given
        with probability ``p_best``; otherwise one of the other arms at random.
        """
        idx = self._level_index(participant)
        scores = self._scores(idx)
        best = np.flatnonzero(np.isclose(scores, scores.min()))
        k = len(self.arms)
        u = float(self._rng.random())
        if best.size == k:
            arm = int(self._rng.integers(k))
            p_used = 1.0 / k
        else:
            pick = int(best[self._rng.integers(best.size)])
            if u < self.p_best:
                arm = pick
            else:
                others = [a for a in range(k) if a != pick]
                arm = others[int(self._rng.integers(len(others)))]
            p_used = self.p_best
        for f, i in idx.items():
            self._counts[f][i, arm] += 1
        pid = id if id is not None else len(self._rows) + 1
        values = {f: self.factors[f][i] for f, i in idx.items()}
        self._rows.append({"participant": pid, **values, "arm": self.arms[arm]})
        self._log.append(
            {
                "participant": pid,
                **values,
                **{f"score_{a}": s for a, s in zip(self.arms, scores, strict=True)},
                "best": ", ".join(self.arms[b] for b in best),
                "p_best_used": p_used,
                "draw": u,
                "arm": self.arms[arm],
            }
        )
        return self.arms[arm]

    @property
    def allocations(self) -> pd.DataFrame:
        """The allocations so far: ``participant``, the stratification factors, ``arm``."""
        frame = pd.DataFrame(self._rows, columns=["participant", *self.factors, "arm"])
        frame["arm"] = pd.Categorical(frame["arm"], categories=self.arms)
        return frame

    @property
    def log(self) -> pd.DataFrame:
        """One row per allocation with the imbalance scores behind each choice."""
        return pd.DataFrame(self._log)

    def __repr__(self) -> str:
        return (
            f"Minimisation(arms={self.arms}, factors={list(self.factors)}, "
            f"p_best={self.p_best}, assigned={len(self._rows)})"
        )


def minimisation(
    *,
    factors: Mapping[str, Sequence[Any]],
    arms: Sequence[str],
    p_best: float = 0.8,
    weights: Mapping[str, float] | None = None,
    imbalance: str = "range",
    rng: Any = None,
) -> Minimisation:
    """Pocock–Simon minimisation with a random element (Pocock & Simon 1975).

    For each new participant, the imbalance each arm would create is summed over
    the participant's levels of every factor (``imbalance="range"``: max − min of the
    arm counts at that level, Pocock & Simon's range method; ``"variance"``: their
    variance), weighted by ``weights``. The arm with the smallest total is given with
    probability ``p_best`` (0.8 by default, as Altman & Bland 2005 recommend a random
    element so that allocation cannot be predicted); otherwise another arm at random.
    Ties are broken at random.

    Parameters
    ----------
    factors : mapping
        Each minimisation factor with its levels, e.g.
        ``{"gmfcs": ["I", "II", "III"], "sex": ["F", "M"]}``.
    arms : sequence of str
        Arm labels.
    p_best : float
        Probability of the arm that minimises imbalance (1 = deterministic).
    weights : mapping, optional
        Weight per factor (default 1 each).
    imbalance : {"range", "variance"}
        Imbalance measure.
    rng : int, numpy Generator or None
        Seed or generator.

    Returns
    -------
    Minimisation
        Call ``.assign({...})`` per participant; ``.allocations`` and ``.log``
        (the audit trail) are DataFrames.

    Examples
    --------
    >>> import rehabstats as rs
    >>> m = rs.allocation.minimisation(factors={"gmfcs": ["I", "II", "III"]},
    ...                                arms=["control", "cimt"], p_best=1.0, rng=3)
    >>> arms = [m.assign({"gmfcs": g}) for g in ["I", "II", "I", "III", "II", "I", "III"]]
    >>> rs.allocation.balance(m.allocations, ["gmfcs"])["imbalance"].tolist()
    [1, 0, 0]
    """
    return Minimisation(
        factors=factors, arms=arms, p_best=p_best, weights=weights, imbalance=imbalance, rng=rng
    )


def _check_label_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Arm, factor and stratum labels: present in every row, no case/space variants."""
    for col in columns:
        if frame[col].isna().any():
            rows = [int(i) for i in np.flatnonzero(frame[col].isna().to_numpy())][:10]
            raise DataError(f"Column {col!r} of 'allocations' has missing labels (rows {rows}).")
        check_labels(frame[col], str(col))


def balance(allocations: pd.DataFrame, factors: Sequence[str], *, arm: str = "arm") -> pd.DataFrame:
    """Counts per factor level and arm, with the imbalance (max − min) of each level.

    Parameters
    ----------
    allocations : pandas.DataFrame
        One row per participant, with an ``arm`` column and the factor columns.
    factors : sequence of str
        Factor columns to tabulate.
    arm : str
        Name of the arm column.

    Returns
    -------
    pandas.DataFrame
        Columns ``factor, level``, one count column per arm, ``imbalance``; the
        total imbalance (sum over levels) is in ``.attrs["total_imbalance"]``.

    Examples
    --------
    >>> import pandas as pd, rehabstats as rs
    >>> a = pd.DataFrame({"gmfcs": ["I", "I", "II", "II"], "arm": ["a", "b", "a", "a"]})
    >>> rs.allocation.balance(a, ["gmfcs"])["imbalance"].tolist()
    [0, 2]
    """
    if not isinstance(allocations, pd.DataFrame):
        raise DataError(f"'allocations' must be a DataFrame; got {type(allocations).__name__}.")
    cols = [factors] if isinstance(factors, str) else list(factors)
    missing = [c for c in [arm, *cols] if c not in allocations.columns]
    if missing:
        raise DataError(
            f"Column(s) {missing} not in the allocations; columns are {list(allocations.columns)}."
        )
    _check_label_columns(allocations, [arm, *cols])
    arms_col = allocations[arm]
    arm_levels = (
        list(arms_col.cat.categories)
        if isinstance(arms_col.dtype, pd.CategoricalDtype)
        else sorted(arms_col.dropna().unique(), key=str)
    )
    rows = []
    for f in cols:
        table = pd.crosstab(
            allocations[f], pd.Categorical(arms_col, categories=arm_levels), dropna=False
        )
        for level, counts in table.iterrows():
            c = counts.reindex(arm_levels, fill_value=0).to_numpy(dtype=int)
            rows.append(
                {
                    "factor": f,
                    "level": level,
                    **{str(a): int(v) for a, v in zip(arm_levels, c, strict=True)},
                    "imbalance": int(c.max() - c.min()),
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["total_imbalance"] = int(out["imbalance"].sum()) if len(out) else 0
    return out


def export_concealed(
    allocations: pd.DataFrame, path: str | Path, *, prefix: str = "R"
) -> pd.DataFrame:
    """Write the concealed allocation list and return the recruiter's list.

    The file at ``path`` (CSV) holds, for the independent person who keeps it, one
    row per entry: ``code`` (e.g. ``R-s1-001``), the stratum columns and the ``arm``.
    The returned DataFrame is the same list without the arm: the recruiter sees only
    which code comes next in a stratum, as with sequentially numbered sealed
    opaque envelopes (CONSORT 2010 item 9).

    Examples
    --------
    >>> import tempfile, os, rehabstats as rs
    >>> alloc = rs.allocation.permuted_blocks(8, arms=["a", "b"], block_sizes=[4], rng=2)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     public = rs.allocation.export_concealed(alloc, os.path.join(d, "key.csv"))
    >>> "arm" in public.columns, public["code"].iloc[0]
    (False, 'R-s1-001')
    """
    if not isinstance(allocations, pd.DataFrame) or "arm" not in allocations.columns:
        raise DataError(
            "'allocations' must be a DataFrame with an 'arm' column (as permuted_blocks returns)."
        )
    if not isinstance(prefix, str):
        raise DataError(f"'prefix' must be text (e.g. 'R'); got {show_value(prefix)}.")
    _check_label_columns(allocations, ["arm", *(["stratum"] if "stratum" in allocations else [])])
    if "sequence" in allocations.columns:
        q = pd.to_numeric(allocations["sequence"], errors="coerce")
        if q.isna().any() or not (q == np.round(q)).all():
            raise DataError(
                "Column 'sequence' of 'allocations' must hold whole numbers (the "
                "order within a stratum)."
            )
    frame = allocations.copy()
    if "stratum" in frame.columns:
        s_codes = pd.factorize(frame["stratum"])[0] + 1
    else:
        s_codes = np.ones(len(frame), dtype=int)
    seq = (
        frame["sequence"].to_numpy().astype(int)
        if "sequence" in frame.columns
        else np.arange(1, len(frame) + 1)
    )
    frame.insert(0, "code", [f"{prefix}-s{s}-{q:03d}" for s, q in zip(s_codes, seq, strict=True)])
    frame.to_csv(path, index=False)
    public_cols = [c for c in frame.columns if c not in ("arm", "block", "block_size")]
    return frame[public_cols].reset_index(drop=True)
