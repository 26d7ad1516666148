"""Single-case experimental designs with randomized phase changes, to simulate."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.signal import lfilter
from scipy.special import ndtri

from ..errors import DesignError
from ._seeds import block_seed, draw_range, to_seed_sequence

__all__ = ["SingleCaseDesign"]

_DESIGNS = ("AB", "ABAB", "MBD")
_DISTRIBUTIONS = ("normal", "poisson", "binomial")


#: Upper bounds (memory: every admissible assignment of every series is enumerated).
MAX_SESSIONS = 10_000
MAX_CASES = 1_000
MAX_ASSIGNMENTS_PER_CASE = 1_000_000


def _whole(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise DesignError(f"'{name}' must be a whole number >= {minimum}; got {value!r}.")
    if maximum is not None and int(value) > maximum:
        raise DesignError(f"'{name}' must be at most {maximum:,}; got {value!r}.")
    return int(value)


def _real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise DesignError(f"'{name}' must be a finite number; got {value!r}.")
    return float(value)


@dataclass(frozen=True)
class SingleCaseDesign:
    r"""A single-case design with a randomized intervention start, to simulate.

    Parameters
    ----------
    design : {"AB", "ABAB", "MBD"}
        A-B series, A-B-A-B withdrawal (three randomized change points), or a
        multiple-baseline design across ``n_cases`` cases (one A-B series per
        case, each with its own randomized start).
    n_sessions : int
        Sessions per case.
    min_phase_length : int, optional
        Shortest admissible phase (scan's ``limit``), default 3.
    n_cases : int, optional
        Cases (series). ``"AB"`` and ``"ABAB"`` describe one series each; for
        ``"MBD"`` at least 2.
    start_points : sequence or dict, optional
        Sessions (1-based) at which phase B may start, for every case or per
        case index (A-B and multiple-baseline designs). Default every session
        that leaves both phases ``min_phase_length`` long:
        ``min_phase_length + 1, ..., n_sessions - min_phase_length + 1``, the
        windows :func:`rehabstats.sced.randomization_test` counts. For A-B-A-B
        every set of change points leaving each phase ``min_phase_length`` long.
    level_effect, slope_effect : float, optional
        Shift in each B phase, and its change per session after the phase's
        first session: :math:`\mu_t = b + \text{level} + \text{slope}\,(t - t_B)`.
    sd : float, optional
        SD of the errors (> 0; normal), or of the noise added to the rate /
        probability (poisson, binomial; may be 0).
    ar : float, optional
        Lag-1 autocorrelation of the errors, ``-1 < ar < 1``: stationary AR(1),
        :math:`e_t = \phi e_{t-1} + \sqrt{1-\phi^2}\,\sigma\,u_t`.
    distribution : {"normal", "poisson", "binomial"}
        ``normal``: :math:`y_t = \mu_t + e_t`; ``poisson``: counts with mean
        :math:`\max(\mu_t + e_t, 0)`; ``binomial``: successes out of
        ``trials`` with probability :math:`\min(\max(\mu_t + e_t, 0), 1)`.
    trials : int, optional
        Trials per session (binomial only).
    baseline_level : float, optional
        Baseline mean :math:`b` (default 0 for normal, 10 for poisson, 0.5 for
        binomial).

    Raises
    ------
    DesignError
        Naming the parameter: unknown design or distribution, start windows
        that do not fit ``n_sessions``, ``n_sessions`` too short for the
        phases, more than 10,000 sessions, 1,000 cases or 1,000,000
        admissible assignments per case, a negative SD, ``|ar| >= 1``,
        missing ``trials``.

    Examples
    --------
    >>> import rehabstats as rs
    >>> d = rs.design.SingleCaseDesign(design="AB", n_sessions=20, level_effect=1.0)
    >>> data = d.simulate(rng=3)
    >>> list(data.columns), d.n_assignments
    (['case', 'session', 'phase', 'outcome'], 15)
    """

    design: str = "AB"
    n_sessions: int = 20
    min_phase_length: int = 3
    n_cases: int = 1
    start_points: Any = None
    level_effect: float = 0.0
    slope_effect: float = 0.0
    sd: float = 1.0
    ar: float = 0.0
    distribution: str = "normal"
    trials: int | None = None
    baseline_level: float | None = None
    _cps: list[np.ndarray] = field(init=False, repr=False, compare=False)
    _base: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.design not in _DESIGNS:
            raise DesignError(
                f"'design' must be one of {', '.join(map(repr, _DESIGNS))}; got {self.design!r}."
            )
        if self.distribution not in _DISTRIBUTIONS:
            raise DesignError(
                f"'distribution' must be one of "
                f"{', '.join(map(repr, _DISTRIBUTIONS))}; got {self.distribution!r}."
            )
        n = _whole(self.n_sessions, "n_sessions", 2, MAX_SESSIONS)
        k = _whole(self.min_phase_length, "min_phase_length", 1)
        cases = _whole(self.n_cases, "n_cases", 1, MAX_CASES)
        if self.design == "MBD" and cases < 2:
            raise DesignError(
                f"'n_cases' must be at least 2 for a multiple-baseline design; "
                f"got {self.n_cases!r}."
            )
        if self.design != "MBD" and cases != 1:
            raise DesignError(
                f"'n_cases' must be 1 for design={self.design!r} (use 'MBD' for "
                f"several cases); got {self.n_cases!r}."
            )
        runs = 4 if self.design == "ABAB" else 2
        if n < runs * k:
            raise DesignError(
                f"'n_sessions' = {n} is too short for {runs} phases of min_phase_length={k} "
                f"(needs at least {runs * k})."
            )
        n_cp = math.comb(n - runs * k + runs - 1, runs - 1)  # run lengths >= k summing to n
        if n_cp > MAX_ASSIGNMENTS_PER_CASE:
            raise DesignError(
                f"'n_sessions' = {n} with min_phase_length={k} gives {n_cp:,} admissible "
                f"assignments per case for design={self.design!r}; at most "
                f"{MAX_ASSIGNMENTS_PER_CASE:,} can be enumerated (memory). Use fewer sessions "
                "or a longer min_phase_length."
            )
        sd = _real(self.sd, "sd")
        if sd < 0 or (sd == 0 and self.distribution == "normal"):
            raise DesignError(
                f"'sd' must be positive (>= 0 for counts/proportions); got {self.sd!r}."
            )
        ar = _real(self.ar, "ar")
        if not -1 < ar < 1:
            raise DesignError(f"'ar' must be between -1 and 1 (exclusive); got {self.ar!r}.")
        _real(self.level_effect, "level_effect")
        _real(self.slope_effect, "slope_effect")
        if self.distribution == "binomial":
            if self.trials is None:
                raise DesignError(
                    "'trials' (trials per session) is required for distribution='binomial'."
                )
            _whole(self.trials, "trials", 1)
        elif self.trials is not None:
            raise DesignError(
                f"'trials' applies to distribution='binomial' only; got "
                f"trials={self.trials!r} with {self.distribution!r}."
            )
        base = {"normal": 0.0, "poisson": 10.0, "binomial": 0.5}[self.distribution]
        if self.baseline_level is not None:
            base = _real(self.baseline_level, "baseline_level")
        if self.distribution == "binomial" and not 0 <= base <= 1:
            raise DesignError(f"'baseline_level' is a probability for binomial data; got {base!r}.")
        if self.distribution == "poisson" and base < 0:
            raise DesignError(f"'baseline_level' is a mean count (>= 0); got {base!r}.")
        cps = self._admissible(n, k, cases, runs)
        object.__setattr__(self, "_cps", cps)
        object.__setattr__(self, "_base", base)

    def _admissible(self, n: int, k: int, cases: int, runs: int) -> list[np.ndarray]:
        """Per case: admissible change points (0-based run starts), shape (n_options, runs - 1)."""
        from ..sced._randomization import _change_points

        default = _change_points(n, runs, k)
        if self.start_points is None:
            return [default] * cases
        if runs != 2:
            raise DesignError(
                "'start_points' applies to A-B and multiple-baseline designs; "
                "for 'ABAB' every admissible set of change points is used."
            )
        if isinstance(self.start_points, Mapping):
            keys = set(self.start_points)
            if keys != set(range(cases)):
                raise DesignError(
                    f"'start_points' as a dict needs one window per case index "
                    f"0..{cases - 1}; got keys {sorted(keys, key=str)!r}."
                )
            windows = [self.start_points[c] for c in range(cases)]
        else:
            windows = [self.start_points] * cases
        out = []
        for c, w in enumerate(windows):
            try:
                arr = np.unique(np.asarray(w, dtype=float).ravel())
            except (TypeError, ValueError):
                raise DesignError(
                    f"'start_points' for case {c} must be session numbers; got {w!r}."
                ) from None
            if arr.size == 0 or not np.all(arr == np.round(arr)):
                raise DesignError(
                    f"'start_points' for case {c} must be whole session numbers; got {w!r}."
                )
            lo, hi = k + 1, n - k + 1
            bad = arr[(arr < lo) | (arr > hi)]
            if bad.size:
                raise DesignError(
                    f"'start_points' for case {c}: session(s) {bad.astype(int).tolist()} do not "
                    f"fit n_sessions={n} with min_phase_length={k} (B may start at sessions "
                    f"{lo}..{hi})."
                )
            out.append((arr.astype(np.intp) - 1)[:, None])
        return out

    # ------------------------------------------------------------------ properties
    @property
    def n_assignments(self) -> int:
        """Number of admissible assignments (product over cases)."""
        return int(np.prod([len(c) for c in self._cps]))

    @property
    def min_p(self) -> float:
        """Smallest p a randomization test can reach: ``1 / n_assignments``."""
        return 1.0 / self.n_assignments

    @property
    def n_runs(self) -> int:
        """Phases per case (2 or 4)."""
        return 4 if self.design == "ABAB" else 2

    def with_n(self, **changes: Any) -> SingleCaseDesign:
        """The same design with other ``n_sessions`` / ``n_cases``."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ simulation
    def _draw(self, seed: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Outcomes (n_cases, n_sessions), treatment mask and each case's drawn assignment."""
        y, treat, chosen = self._draw_block(seed, 1)
        return y[0], treat[0], chosen[0]

    def _draw_range(
        self, root: np.random.SeedSequence, lo: int, hi: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Simulations ``lo .. hi - 1`` of a power simulation (the rule of :mod:`._seeds`)."""
        return draw_range(self._draw_block, root, lo, hi)

    def _draw_block(
        self, seed: np.random.SeedSequence, size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Outcomes (size, n_cases, n_sessions), treatment masks and, per case, the
        index of the drawn assignment among its admissible ones (size, n_cases).

        Case ``c`` has its own generator (child ``c`` of ``seed``), which draws
        a ``(2 n_sessions + 1, size)`` array of uniforms: row 0 the start point,
        then per session the error (inverse normal CDF) and the count draw
        (inverse Poisson / binomial CDF). Common random numbers stay nested: the
        first cases, and the first sessions' errors, are the same whatever
        ``n_cases`` and ``n_sessions``. AR(1) errors by a linear filter along
        the sessions, for all series at once.
        """
        n, cases = int(self.n_sessions), int(self.n_cases)
        U = np.stack(
            [
                np.random.default_rng(block_seed(seed, c)).random((2 * n + 1, size))
                for c in range(cases)
            ],
            axis=1,
        )  # (2n + 1, cases, size)
        U = U.transpose(2, 1, 0)  # (size, cases, 2n + 1): start, then (error, count) per session
        start, err, cnt = U[..., 0], U[..., 1::2], U[..., 2::2]
        sizes = np.array([len(c) for c in self._cps])
        chosen = np.minimum((start * sizes).astype(np.intp), sizes - 1)  # (S, cases)
        cps = np.stack([self._cps[c][chosen[:, c]] for c in range(cases)], axis=1)  # (S, C, r-1)
        t = np.arange(n)
        run = (t[None, None, :, None] >= cps[:, :, None, :]).sum(axis=3)  # (S, C, n)
        treat = run % 2 == 1
        starts = np.concatenate([np.zeros((*cps.shape[:2], 1), dtype=np.intp), cps], axis=2)
        since = t - np.take_along_axis(starts, run, axis=2)
        mu = self._base + np.where(treat, self.level_effect + self.slope_effect * since, 0.0)
        phi, s = float(self.ar), float(self.sd)
        z = ndtri(err)
        w = math.sqrt(1.0 - phi * phi) * s * z
        w[..., 0] = s * z[..., 0]  # stationary start: e_1 ~ N(0, sd^2)
        e = lfilter([1.0], [1.0, -phi], w, axis=-1) if phi != 0 else w
        if self.distribution == "normal":
            y = mu + e
        elif self.distribution == "poisson":
            y = stats.poisson.ppf(cnt, np.maximum(mu + e, 0.0))
        else:
            y = stats.binom.ppf(cnt, int(self.trials or 1), np.clip(mu + e, 0.0, 1.0))
        return np.asarray(y, dtype=float), treat, chosen

    def _frame(self, y: np.ndarray, treat: np.ndarray) -> pd.DataFrame:
        cases, n = y.shape
        return pd.DataFrame(
            {
                "case": np.repeat([f"case{c + 1}" for c in range(cases)], n),
                "session": np.tile(np.arange(1, n + 1), cases),
                "phase": np.where(treat.ravel(), "B", "A"),
                "outcome": y.ravel(),
            }
        )

    def simulate(self, rng: Any = None) -> pd.DataFrame:
        """Simulate one study.

        Returns
        -------
        pandas.DataFrame
            ``case, session, phase, outcome`` (phases ``"A"``/``"B"``), ready for
            :func:`rehabstats.sced.randomization_test` and the index functions.
        """
        y, treat, _ = self._draw(to_seed_sequence(rng))
        return self._frame(y, treat)

    def summary(self) -> str:
        """Plain-text description of the design."""
        return (
            f"Single-case {self.design} design: {self.n_cases} case(s) x {self.n_sessions} "
            f"sessions, min phase length {self.min_phase_length}, {self.n_assignments} "
            f"admissible assignments (smallest attainable p = {self.min_p:.4g}); level effect "
            f"{self.level_effect}, slope effect {self.slope_effect}, SD {self.sd}, AR(1) "
            f"{self.ar}, {self.distribution} outcomes."
        )
