"""Parallel-group randomized trial with repeated measures: a design that simulates data."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .._entry import arm_levels, default_reference, resolve_visit_order
from .._results import format_number
from .._validate import show_value
from ..errors import DataError, DesignError
from ._seeds import draw_range, to_seed_sequence

__all__ = ["ParallelTrial", "PilotEstimates"]


#: Largest number of subjects per arm (the same bound as the sizes ``rs.power`` searches).
MAX_N_PER_ARM = 10**6
#: Largest number of observations (subjects x visits) of one simulated data set: its
#: DataFrame takes about 40 bytes a row (400 MB here).
MAX_OBSERVATIONS = 10**7


def _whole(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        hint = (
            " (an int, e.g. 100 rather than 1e2)"
            if isinstance(value, float) and math.isfinite(value) and value.is_integer()
            else ""
        )
        raise DesignError(
            f"'{name}' must be a whole number >= {minimum}{hint}; got {show_value(value)}."
        )
    if value < minimum:
        raise DesignError(f"'{name}' must be a whole number >= {minimum}; got {show_value(value)}.")
    if maximum is not None and int(value) > maximum:
        raise DesignError(
            f"'{name}' must be at most {maximum:,} (larger simulated data sets do "
            f"not fit in memory); got {show_value(value)}."
        )
    return int(value)


def _correlation_matrix(spec: Any, m: int) -> np.ndarray:
    """Validate ``correlation`` and return the ``m x m`` matrix."""
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        kind, value = spec
        lag = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
        if kind == "cs":
            r = _finite(value, "correlation")
            lo = -1.0 / (m - 1) if m > 1 else -1.0
            if not lo < r < 1:
                raise DesignError(
                    f"'correlation' ('cs', r) needs {lo:.4g} < r < 1 for {m} visits (otherwise "
                    f"the matrix is not positive definite); got r = {show_value(value)}."
                )
            R = np.where(lag == 0, 1.0, r)
        elif kind == "ar1":
            rho = _finite(value, "correlation")
            if not -1 < rho < 1:
                raise DesignError(
                    f"'correlation' ('ar1', rho) needs -1 < rho < 1; got {show_value(value)}."
                )
            R = rho ** lag.astype(float)
        elif kind == "toep":
            try:
                rs = np.asarray(value, dtype=float).ravel()
            except (TypeError, ValueError):
                raise DesignError(
                    f"'correlation' ('toep', [r1, ...]) needs numbers; got {show_value(value)}."
                ) from None
            if rs.size != m - 1 or not np.isfinite(rs).all():
                raise DesignError(
                    f"'correlation' ('toep', [r1, ...]) needs {m - 1} finite lag correlations "
                    f"for {m} visits; got {show_value(value)}."
                )
            R = np.concatenate([[1.0], rs])[lag]
        else:
            raise DesignError(
                f"'correlation' must be ('cs', r), ('ar1', rho), ('toep', [r1, ...]) or a full "
                f"correlation matrix; got the structure {show_value(kind)}."
            )
    else:
        try:
            R = np.array(spec, dtype=float)
        except (TypeError, ValueError):
            raise DesignError(
                "'correlation' must be ('cs', r), ('ar1', rho), ('toep', [r1, ...]) or a full "
                f"correlation matrix; got {show_value(spec)}."
            ) from None
        if R.shape != (m, m):
            raise DesignError(
                f"'correlation' as a matrix must be {m} x {m} (one row per visit); got shape "
                f"{R.shape}."
            )
        if not np.isfinite(R).all():
            raise DesignError("'correlation' has missing or infinite entries.")
        if not np.allclose(R, R.T, rtol=0, atol=1e-12):
            i, j = np.unravel_index(int(np.argmax(np.abs(R - R.T))), R.shape)
            raise DesignError(
                f"'correlation' is not symmetric: entry [{i}, {j}] = {show_value(R[i, j])} but "
                f"[{j}, {i}] = {show_value(R[j, i])}."
            )
        if not np.allclose(np.diag(R), 1.0, rtol=0, atol=1e-12):
            raise DesignError(
                f"'correlation' must have a unit diagonal; got diagonal {np.diag(R).tolist()}."
            )
        R = 0.5 * (R + R.T)
    eig = float(np.linalg.eigvalsh(R).min())
    if eig <= 1e-10:
        raise DesignError(
            f"'correlation' is not positive definite (smallest eigenvalue {eig:.3g}); no "
            "outcome can have these correlations."
        )
    return np.asarray(R, dtype=float)


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise DesignError(f"'{name}' needs a finite number; got {show_value(value)}.")
    return float(value)


def _vector(value: Any, name: str, m: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise DesignError(f"'{name}' must be numbers; got {show_value(value)}.") from None
    if arr.ndim == 0:
        arr = np.full(m, float(arr))
    if arr.shape != (m,):
        raise DesignError(
            f"'{name}' must be one number or one per visit ({m} in 'visits'); "
            f"got {show_value(value)}."
        )
    if not np.isfinite(arr).all():
        raise DesignError(f"'{name}' has missing or infinite values: {show_value(value)}.")
    if (np.abs(arr) > 1e150).any():  # squares (variances) would overflow
        raise DesignError(
            f"'{name}' has a value above 1e150 in magnitude: "
            f"{show_value(value)}; rescale (e.g. other units)."
        )
    return arr


@dataclass(frozen=True)
class PilotEstimates:
    """What :meth:`ParallelTrial.from_pilot` estimated, and from how much data."""

    means: pd.DataFrame
    sd: pd.Series
    correlation: pd.DataFrame
    retention: pd.Series
    n_per_arm: dict[Any, int]
    covariance: str
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """Plain-text account of the estimates."""
        lines = [
            f"Design estimated from a pilot ({', '.join(f'{a}: {n}' for a, n in self.n_per_arm.items())} "
            f"subjects) by an MMRM with {show_value(self.covariance)} covariance (REML):",
            "Means per arm and visit (model-based):",
            self.means.to_string(float_format=format_number),
            "SD per visit: " + ", ".join(f"{v}: {format_number(s)}" for v, s in self.sd.items()),
            "Correlation:",
            self.correlation.to_string(float_format=format_number),
            "Retention (share observed, monotone): "
            + ", ".join(f"{v}: {format_number(r)}" for v, r in self.retention.items()),
        ]
        lines.extend(self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class ParallelTrial:
    r"""A parallel-group trial with repeated outcome measures, to simulate.

    Each subject's outcomes over the visits are multivariate normal,
    :math:`y_i \sim N(\mu_{a(i)}, D R D)` with ``D = diag(sd)`` and ``R`` the
    within-subject correlation; dropout is monotone.

    Parameters
    ----------
    n_per_arm : int or dict
        Subjects per arm (an int: equal arms; a dict arm -> n).
    visits : sequence
        Visit labels **in time order**; simulated data carry them as an
        ordered Categorical in this order.
    mean : dict
        Arm -> mean at each visit (a list as long as ``visits``). The first
        arm (of ``arms``, else of ``mean``) is the reference (control).
    sd : float or sequence of float
        One SD for every visit or one per visit (> 0).
    correlation : tuple or array_like
        ``("cs", r)``, ``("ar1", rho)``, ``("toep", [r1, r2, ...])`` or a full
        correlation matrix (symmetric, unit diagonal, positive definite).
    retention : sequence of float, optional
        Proportion still observed at each visit: first 1, non-increasing,
        last > 0 (monotone dropout). None: no dropout.
    arms : sequence, optional
        Arm order (first = reference); default the order of ``mean``.
    baseline_covariate : bool, optional
        If True the first visit is the baseline: simulated data hold the
        later visits with a ``baseline`` column (the first-visit value), the
        layout for ``outcome ~ baseline + arm * visit`` and ANCOVA.
    dropout : {"mcar", "mar"} or ("mar", gamma), optional
        ``"mcar"``: a subject observed at visit ``j - 1`` is still observed at
        visit ``j`` with probability :math:`r_j / r_{j-1}`, independently of
        the outcomes (so the share observed at visit ``j`` is :math:`r_j`).
        ``"mar"``: the log-odds of dropping out before visit ``j`` is
        :math:`\operatorname{logit}(1 - r_j / r_{j-1}) + \gamma z_{i,j-1}`,
        with :math:`z_{i,j-1}` the standardized last observed value
        (``(y - mean) / sd`` at visit ``j - 1``); default
        :math:`\gamma = -1` (lower values drop out more), or give
        ``("mar", gamma)``. The shares observed then differ from ``retention``.

    Raises
    ------
    DesignError
        Naming the parameter: an impossible correlation, retention above 1,
        increasing or not starting at 1, negative SDs, means of the wrong
        length, fewer than 2 or more than 1,000,000 subjects per arm (or a
        non-integer number), more than 10,000,000 observations (subjects x
        visits) in one data set, unknown arms.

    Notes
    -----
    The truth the design knows, used for bias and coverage, is
    :attr:`effect`: the difference of the last-visit means of the second arm
    and the reference. Dropped-out visits are absent from simulated data (no
    NaN rows).

    Examples
    --------
    >>> import rehabstats as rs
    >>> trial = rs.design.ParallelTrial(
    ...     n_per_arm=10, visits=["pre", "post", "followup"],
    ...     mean={"control": [2, 2.3, 2.3], "cimt": [2, 3.3, 3.1]},
    ...     sd=1.0, correlation=("cs", 0.6), retention=[1, 1, 0.8])
    >>> data = trial.simulate(rng=1)
    >>> list(data.columns), data["visit"].cat.ordered
    (['subject', 'arm', 'visit', 'outcome'], True)
    >>> round(trial.effect, 2)
    0.8
    """

    n_per_arm: Any
    visits: Sequence[Any]
    mean: Mapping[Any, Sequence[float]]
    sd: Any
    correlation: Any
    retention: Any = None
    arms: Sequence[Any] | None = None
    baseline_covariate: bool = False
    dropout: Any = "mcar"
    pilot: PilotEstimates | None = field(default=None, compare=False, repr=False)
    _visits: list[Any] = field(init=False, repr=False, compare=False)
    _arms: list[Any] = field(init=False, repr=False, compare=False)
    _means: np.ndarray = field(init=False, repr=False, compare=False)
    _ns: list[int] = field(init=False, repr=False, compare=False)
    _sd: np.ndarray = field(init=False, repr=False, compare=False)
    _R: np.ndarray = field(init=False, repr=False, compare=False)
    _ret: np.ndarray = field(init=False, repr=False, compare=False)
    _dropout: str = field(init=False, repr=False, compare=False)
    _gamma: float = field(init=False, repr=False, compare=False)
    _chol: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        visits = list(self.visits) if not isinstance(self.visits, str) else None
        if visits is None or len(visits) < 1:
            raise DesignError(
                f"'visits' must be a list of visit labels in time order; got {show_value(self.visits)}."
            )
        if len(set(map(str, visits))) != len(visits):
            raise DesignError(f"'visits' has repeated labels: {show_value(visits)}.")
        m = len(visits)
        if not isinstance(self.mean, Mapping) or len(self.mean) < 2:
            raise DesignError(
                "'mean' must be a dict arm -> list of means per visit, for at least two arms; "
                f"got {show_value(self.mean)}."
            )
        if self.arms is None:
            arms = list(self.mean)
        else:
            arms = list(self.arms)
            if set(map(str, arms)) != set(map(str, self.mean)) or len(arms) != len(self.mean):
                raise DesignError(
                    f"'arms' {show_value(arms)} must list exactly the arms of 'mean' ({show_value(list(self.mean))})."
                )
        means = np.vstack([_vector(self.mean[a], f"mean[{show_value(a)}]", m) for a in arms])
        if isinstance(self.n_per_arm, Mapping):
            if set(map(str, self.n_per_arm)) != set(map(str, arms)):
                raise DesignError(
                    f"'n_per_arm' as a dict must give every arm ({show_value(arms)}); got "
                    f"{show_value(list(self.n_per_arm))}."
                )
            lookup = {str(k): v for k, v in self.n_per_arm.items()}
            ns = [
                _whole(lookup[str(a)], f"n_per_arm[{show_value(a)}]", 2, MAX_N_PER_ARM)
                for a in arms
            ]
        else:
            ns = [_whole(self.n_per_arm, "n_per_arm", 2, MAX_N_PER_ARM)] * len(arms)
        if sum(ns) * m > MAX_OBSERVATIONS:
            raise DesignError(
                f"'n_per_arm' ({show_value(self.n_per_arm)}) x {len(arms)} arms x {m} 'visits' "
                f"= {sum(ns) * m:,} observations per simulated data set; at most "
                f"{MAX_OBSERVATIONS:,} are supported (memory). Use fewer subjects or visits."
            )
        sd = _vector(self.sd, "sd", m)
        if (sd <= 0).any():
            raise DesignError(f"'sd' must be positive at every visit; got {show_value(self.sd)}.")
        R = _correlation_matrix(self.correlation, m)
        if self.retention is None:
            ret = np.ones(m)
        else:
            ret = _vector(self.retention, "retention", m)
            if (ret > 1).any() or (ret <= 0).any():
                raise DesignError(
                    f"'retention' must be proportions in (0, 1] at every visit; got {show_value(self.retention)}."
                )
            if ret[0] != 1:
                raise DesignError(
                    f"'retention' must start at 1 (everyone is observed at the first visit); "
                    f"got {show_value(self.retention)}."
                )
            if (np.diff(ret) > 0).any():
                j = int(np.flatnonzero(np.diff(ret) > 0)[0]) + 1
                raise DesignError(
                    f"'retention' must be non-increasing (monotone dropout); it rises at visit "
                    f"{show_value(visits[j])} ({ret[j - 1]} -> {ret[j]})."
                )
        drop = self.dropout
        if isinstance(drop, tuple) and len(drop) == 2 and drop[0] == "mar":
            kind, gamma = "mar", _finite(drop[1], "dropout")
        elif drop in ("mcar", "mar"):
            kind, gamma = str(drop), (-1.0 if drop == "mar" else 0.0)
        else:
            raise DesignError(
                f"'dropout' must be 'mcar', 'mar' or ('mar', gamma); got {show_value(drop)}."
            )
        if not isinstance(self.baseline_covariate, (bool, np.bool_)):
            raise DesignError(
                f"'baseline_covariate' must be True or False; got {show_value(self.baseline_covariate)}."
            )
        if self.baseline_covariate and m < 2:
            raise DesignError("'baseline_covariate=True' needs at least two visits.")
        chol = np.linalg.cholesky(R * np.outer(sd, sd))
        for key, value in (
            ("_visits", visits),
            ("_arms", arms),
            ("_means", means),
            ("_ns", ns),
            ("_sd", sd),
            ("_R", R),
            ("_ret", ret),
            ("_dropout", kind),
            ("_gamma", gamma),
            ("_chol", chol),
        ):
            object.__setattr__(self, key, value)

    # ------------------------------------------------------------------ properties
    @property
    def n_visits(self) -> int:
        """Number of visits."""
        return len(self._visits)

    @property
    def arm_labels(self) -> list[Any]:
        """Arms in order (first = reference)."""
        return list(self._arms)

    @property
    def n_total(self) -> int:
        """Subjects in all arms."""
        return int(sum(self._ns))

    @property
    def covariance_matrix(self) -> np.ndarray:
        """The within-subject covariance ``D R D`` over the visits."""
        sd = self._sd
        return np.asarray(self._R * np.outer(sd, sd))

    @property
    def effect(self) -> float:
        """True difference of the last-visit means: second arm minus reference."""
        mu = self._means
        return float(mu[1, -1] - mu[0, -1])

    def true_effect(self, analysis: str) -> float:
        """The estimand of a named analysis under this design (NaN when none)."""
        mu, R, sd = self._means, self._R, self._sd
        if analysis in ("ttest", "mmrm", "lmm"):
            return self.effect
        if analysis == "change_ttest":
            return float((mu[1, -1] - mu[1, 0]) - (mu[0, -1] - mu[0, 0]))
        if analysis == "ancova":
            slope = R[0, -1] * sd[-1] / sd[0]
            return float((mu[1, -1] - mu[0, -1]) - slope * (mu[1, 0] - mu[0, 0]))
        return math.nan

    # ------------------------------------------------------------------ simulation
    def _draw(self, seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
        """Outcomes ``(N, m)`` and the observed mask of one data set."""
        Y, O = self._draw_block(seed, 1)
        return Y[0], O[0]

    def _draw_range(
        self, root: np.random.SeedSequence, lo: int, hi: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Simulations ``lo .. hi - 1`` of a power simulation (the rule of :mod:`._seeds`)."""
        return draw_range(self._draw_block, root, lo, hi)

    def _draw_block(self, seed: np.random.SeedSequence, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Outcomes ``(size, N, m)`` and observed masks of ``size`` data sets from one seed.

        One generator draws a ``(max n, arms, size, 2m)`` array of uniforms:
        subject ``i`` of every arm gets row ``i`` (normals by the inverse
        normal CDF, then the dropout uniforms), so common random numbers stay
        nested: the first subjects of each arm are the same whatever
        ``n_per_arm``. Subjects are ordered arm by arm.
        """
        ns = self._ns
        m = self.n_visits
        A = len(ns)
        U = np.random.default_rng(seed).random((max(ns), A, size, 2 * m))
        if all(n == ns[0] for n in ns):
            U = U.transpose(2, 1, 0, 3).reshape(size, A * ns[0], 2 * m)
        else:
            U = np.concatenate([U[:n, a].transpose(1, 0, 2) for a, n in enumerate(ns)], axis=1)
        arm = self.arm_codes()
        y = self._means[arm] + ndtri(U[..., :m]) @ self._chol.T
        return y, self._observe(y, U[..., m:], arm)

    def _observe(self, y: np.ndarray, u: np.ndarray, arm: np.ndarray) -> np.ndarray:
        ret = self._ret
        m = ret.size
        cond = np.ones(m)
        cond[1:] = ret[1:] / ret[:-1]  # P(still in at j | in at j - 1)
        if self._dropout == "mcar" or m == 1:
            stay = u < cond
        else:
            hazard = np.clip(1.0 - cond[1:], 1e-12, 1 - 1e-12)
            zprev = (y[..., :-1] - self._means[arm, :-1]) / self._sd[:-1]
            eta = np.log(hazard / (1 - hazard)) + self._gamma * zprev
            h = np.where(cond[1:] >= 1.0, 0.0, 1.0 / (1.0 + np.exp(-eta)))
            stay = np.ones(y.shape, dtype=bool)
            stay[..., 1:] = u[..., 1:] >= h
        return np.logical_and.accumulate(stay, axis=-1)

    def arm_codes(self) -> np.ndarray:
        """Arm index (0 = reference) of each simulated subject."""
        return np.repeat(np.arange(len(self._ns)), self._ns)

    def _frame(self, y: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
        n, m = y.shape
        width = max(3, len(str(n)))
        subjects = np.array([f"S{i + 1:0{width}d}" for i in range(n)])
        arms = np.array(self._arms, dtype=object)[self.arm_codes()]
        first = 1 if self.baseline_covariate else 0
        vis = np.tile(np.arange(first, m), n)
        sub = np.repeat(np.arange(n), m - first)
        keep = observed[sub, vis]
        sub, vis = sub[keep], vis[keep]
        levels = list(self._visits)[first:]
        out = pd.DataFrame(
            {
                "subject": subjects[sub],
                "arm": pd.Categorical(arms[sub], categories=list(self._arms)),
                "visit": pd.Categorical.from_codes(vis - first, categories=levels, ordered=True),
                "outcome": y[sub, vis],
            }
        )
        if self.baseline_covariate:
            out["baseline"] = y[sub, 0]
        return out

    def simulate(self, rng: Any = None) -> pd.DataFrame:
        """Simulate one trial.

        Parameters
        ----------
        rng : None, int, numpy.random.Generator or numpy.random.SeedSequence
            Seed.

        Returns
        -------
        pandas.DataFrame
            Long data ``subject, arm, visit, outcome`` (plus ``baseline`` when
            ``baseline_covariate``), one row per observed visit; ``visit`` is
            an ordered Categorical in the order of ``visits``, ``arm`` a
            Categorical with the reference first.
        """
        y, observed = self._draw(to_seed_sequence(rng))
        return self._frame(y, observed)

    def with_n(self, n_per_arm: Any) -> ParallelTrial:
        """The same design with another ``n_per_arm``."""
        from dataclasses import replace

        return replace(self, n_per_arm=n_per_arm)

    def summary(self) -> str:
        """Plain-text description of the design."""
        lines = [
            f"Parallel trial: {', '.join(f'{a} n={n}' for a, n in zip(self._arms, self._ns, strict=True))} "
            f"(reference {show_value(self._arms[0])}); visits {', '.join(map(str, self._visits))}.",
            "Means: "
            + "; ".join(
                f"{a}: " + ", ".join(format_number(v) for v in row)
                for a, row in zip(self._arms, self._means, strict=True)
            ),
            "SD: " + ", ".join(format_number(v) for v in self._sd),
            "Retention: "
            + ", ".join(format_number(v) for v in self._ret)
            + f" ({self._dropout.upper()} monotone dropout)",
            f"Arm difference at the last visit: {format_number(self.effect)}.",
        ]
        if self.pilot is not None:
            lines += ["", self.pilot.summary()]
        return "\n".join(lines)

    # ------------------------------------------------------------------ from a pilot
    @classmethod
    def from_pilot(
        cls,
        data: pd.DataFrame,
        *,
        outcome: str,
        arm: str,
        visit: str,
        subject: str,
        covariance: str = "us",
        n_per_arm: Any = None,
        visit_order: Sequence[Any] | None = None,
        reference: Any = None,
    ) -> ParallelTrial:
        """Estimate a design (means, SDs, correlation, retention) from pilot data.

        An MMRM ``outcome ~ arm * visit`` (REML, ``covariance``) gives the
        model-based means per arm and visit (valid under MAR dropout) and the
        within-subject covariance, from which the SD per visit and the
        correlation matrix are taken; retention is the share of subjects with
        an observed outcome at each visit (made non-increasing).

        Parameters
        ----------
        data : pandas.DataFrame
            Long pilot data (not modified).
        outcome, arm, visit, subject : str
            Column names. Visit order: the library's one rule
            (``visit_order``, a Categorical's order, numeric values sorted,
            labels that all carry a number in natural order ("week4" <
            "week12"), else the within-subject row sequence when every subject
            agrees, else a DesignError asking for ``visit_order``). Reference
            arm: ``reference``, else a recognised control label ("control",
            "usual care", "sham", ...), else the first level.
        covariance : str, optional
            Covariance structure of the MMRM (``"us"``, ``"cs"``, ``"ar1"``, ...).
        n_per_arm : int or dict, optional
            Size of the planned trial; default the pilot's arm sizes.
        visit_order : sequence, optional
            The visit labels in time order.
        reference : optional
            The reference (control) arm.

        Returns
        -------
        ParallelTrial
            With ``.pilot`` (a :class:`PilotEstimates`) and ``.summary()``.

        Examples
        --------
        >>> import rehabstats as rs
        >>> pilot = rs.datasets.load("cimt_ms")
        >>> trial = rs.design.ParallelTrial.from_pilot(
        ...     pilot, outcome="mal_aou", arm="arm", visit="visit", subject="subject")
        >>> trial.arm_labels, list(trial.visits)
        (['control', 'cimt'], ['pre', 'post', 'followup'])
        """
        from .._entry import check_finite, check_labels, model_frame
        from .._validate import check_columns, check_magnitude, check_numeric_column
        from ..models import mmrm

        frame = check_columns(
            data, {"outcome": outcome, "arm": arm, "visit": visit, "subject": subject}
        )
        frame = model_frame(frame, [outcome, arm, visit, subject])
        y = check_numeric_column(frame, outcome, "outcome")
        check_finite(y.to_frame(), [outcome], {outcome: "outcome"})
        check_magnitude(y.dropna(), outcome, unit="row")
        for col, role in ((arm, "arm"), (visit, "visit"), (subject, "subject")):
            if frame[col].isna().any():
                raise DataError(
                    f"Column {show_value(col)} ('{role}') has missing labels; every row needs one."
                )
            check_labels(frame[col], str(col))
        work = pd.DataFrame(
            {
                "y": y.to_numpy(),
                "arm": frame[arm].to_numpy(),
                "visit": frame[visit].to_numpy(),
                "subject": frame[subject].to_numpy(),
            }
        )
        levels = resolve_visit_order(frame, visit, subject, visit_order)
        work["visit"] = pd.Categorical(work["visit"], categories=levels, ordered=True)
        arm_lv = arm_levels(frame[arm])
        if len(arm_lv) < 2:
            raise DesignError(
                f"Column {show_value(arm)} ('arm') has {len(arm_lv)} arm(s) "
                f"({', '.join(map(str, arm_lv))}); a parallel trial needs two "
                "or more."
            )
        ref = default_reference(arm_lv, reference, name=str(arm))
        arms = [ref, *[a for a in arm_lv if a != ref]]
        work["arm"] = pd.Categorical(work["arm"], categories=arms)
        n_sub = work.groupby("arm", observed=True)["subject"].nunique()
        observed = work.dropna(subset=["y"])
        notes: list[str] = []
        if len(observed) < len(work):
            notes.append(
                f"{len(work) - len(observed)} row(s) with a missing {show_value(outcome)} left out "
                "of the fit (they count as dropout)."
            )
        fit = mmrm(
            "y ~ arm * visit", observed, subject="subject", visit="visit", covariance=covariance
        )
        em = fit.emmeans(["arm", "visit"])
        means = em.pivot(index="arm", columns="visit", values="estimate")
        means = means.reindex(index=arms, columns=levels)
        S = fit.covariance_matrix.to_numpy()
        sd = np.sqrt(np.diag(S))
        R = S / np.outer(sd, sd)
        total = work["subject"].nunique()
        seen = observed.groupby("visit", observed=False)["subject"].nunique().reindex(levels)
        raw = seen.to_numpy(float) / total
        ret = np.minimum.accumulate(np.minimum(raw / raw[0], 1.0))
        if not np.allclose(ret, raw / raw[0]):
            notes.append("Observed shares were not monotone; retention is their running minimum.")
        pilot = PilotEstimates(
            means=means,
            sd=pd.Series(sd, index=levels, name="sd"),
            correlation=pd.DataFrame(R, index=levels, columns=levels),
            retention=pd.Series(ret, index=levels, name="retention"),
            n_per_arm={a: int(n_sub.get(a, 0)) for a in arms},
            covariance=covariance,
            notes=tuple(notes),
        )
        if n_per_arm is None:
            n_per_arm = {a: int(n_sub.get(a, 0)) for a in arms}
        return cls(
            n_per_arm=n_per_arm,
            visits=levels,
            mean={a: means.loc[a].tolist() for a in arms},
            sd=sd.tolist(),
            correlation=R,
            retention=ret.tolist(),
            arms=arms,
            pilot=pilot,
        )
