"""The single-case effect-size indices: one registry row per index.

Each row (:class:`SCEDIndex`) carries everything the batch machinery needs:
the one-series function, its vectorised batch core, the names of its options
and the reason shown when its value is not finite. :func:`rehabstats.sced.effect_sizes`
(tidy data) and the ``axis=`` batches of the index functions
(:mod:`rehabstats.sced._axis`) both dispatch through it, so adding an index is
one module (the function, its core and its option check side by side) plus one
row here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError
from ._axis import BatchCore
from ._nap_tau import _nap_axis_options, _nap_batch, _tau_batch, nap, tau
from ._overlap import (
    _ird_batch,
    _pand_axis_options,
    _pand_batch,
    _pem_batch,
    _pnd_batch,
    ird,
    pand,
    pem,
    pnd,
)
from ._parametric import (
    _lor_axis_options,
    _lor_batch,
    _lrm_axis_batch,
    _lrm_axis_options,
    _lrr_axis_options,
    _lrr_batch,
    _pogo_axis_batch,
    _pogo_axis_options,
    _smd_axis_options,
    _smd_batch,
    lor,
    lrm,
    lrrd,
    lrri,
    pogo,
    smd,
)
from ._tau_bc import _tau_bc_axis_options, _tau_bc_batch, tau_bc
from ._tau_u import _tau_u_axis_options, _tau_u_batch, tau_u

__all__ = ["GROUPS", "INDICES", "REGISTRY", "SCEDIndex", "check_indices", "index_names"]

#: ``axis_options(kw, {"ci": level})``: the one-series function's keyword arguments checked
#: (errors name the function's arguments) and turned into the core's options, or None
#: when these options have no vectorised core
AxisOptions = Callable[[dict[str, Any], dict[str, Any]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class SCEDIndex:
    """One single-case index: its function, batch core and option names.

    Attributes
    ----------
    function : callable
        The one-series function ``f(baseline, treatment, *, improvement, ...)``.
    group : str
        ``"nonoverlap"`` or ``"parametric"`` (the groups of ``indices=``).
    core : callable or None
        Vectorised core ``core(A, B, improvement, options)`` for blocks of series of
        equal phase lengths (rows), returning ``(estimate, se, ci_low, ci_high,
        ci_method)`` or None for options it does not cover. ``options`` has the
        keys of :func:`rehabstats.sced.effect_sizes`'s option table (``"ci"``,
        ``"se_method"``, ``"nap_ci_method"``, ...). None: always series by series.
    options : mapping
        The function's keyword -> the option of :func:`~rehabstats.sced.effect_sizes`
        passed to it when a series is computed by the one-series call.
    axis_options : callable or None
        Check of the function's own keywords for an ``axis=`` batch (see
        ``AxisOptions``); None: the index has no options beyond ``ci``.
    axis_core : callable or None
        Core of ``axis=`` batches when it differs from ``core`` (LRM and PoGO:
        ``effect_sizes`` computes them series by series, so that its errors and
        warnings are those of the one-series call).
    has_se : bool
        The index has a standard error, so a NaN one is a degenerate case.
    se_if : callable or None
        For an index whose standard error comes with its interval (Tau-U): whether
        the options request it.
    reason : str
        Why the value is not finite, when the vectorised core gives no message.
    """

    function: Callable[..., Any]
    group: str
    core: BatchCore | None
    options: Mapping[str, str] = field(default_factory=dict)
    axis_options: AxisOptions | None = None
    axis_core: BatchCore | None = None
    has_se: bool = False
    se_if: Callable[[dict[str, Any]], bool] | None = None
    reason: str = "degenerate data"

    def reports_se(self, opts: Mapping[str, Any]) -> bool:
        """Whether, with these options, a non-finite standard error is a degenerate case."""
        if self.se_if is not None:
            return self.has_se or bool(self.se_if(dict(opts)))
        return self.has_se

    def call_kwargs(self, opts: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments of the one-series call under ``effect_sizes``'s options."""
        return {kw: opts[opt] for kw, opt in self.options.items()}


_UNBIASED_1 = (
    "a phase has one observation, so the unbiased variance divides by 0 (use "
    "se_method='hanley' or 'null')"
)
_LRR = "a phase has fewer than 2 observations, or a phase mean is 0 without a truncation constant"
_NAP_OPTIONS = {"ci": "ci", "se_method": "se_method", "ci_method": "nap_ci_method"}
_LRR_OPTIONS = {
    "ci": "ci",
    "scale": "scale",
    "intervals": "intervals",
    "observation_length": "observation_length",
    "d_const": "d_const",
    "bias_correct": "bias_correct",
}

#: canonical index name -> its row; the order is that of :func:`index_names`
REGISTRY: dict[str, SCEDIndex] = {
    "pnd": SCEDIndex(pnd, "nonoverlap", _pnd_batch),
    "pem": SCEDIndex(pem, "nonoverlap", _pem_batch),
    "pand": SCEDIndex(
        pand, "nonoverlap", _pand_batch, {"method": "pand_method"}, _pand_axis_options
    ),
    "ird": SCEDIndex(ird, "nonoverlap", _ird_batch),
    "nap": SCEDIndex(
        nap,
        "nonoverlap",
        _nap_batch,
        _NAP_OPTIONS,
        _nap_axis_options,
        has_se=True,
        reason=_UNBIASED_1,
    ),
    "tau": SCEDIndex(
        tau,
        "nonoverlap",
        _tau_batch,
        _NAP_OPTIONS,
        _nap_axis_options,
        has_se=True,
        reason=_UNBIASED_1,
    ),
    "tau_u": SCEDIndex(
        tau_u,
        "nonoverlap",
        _tau_u_batch,
        # effect_sizes' tau_u_ci is the interval and its method together
        {"method": "tau_u_method", "ci": "tau_u_level", "ci_method": "tau_u_ci_method"},
        _tau_u_axis_options,
        se_if=lambda o: o["tau_u_ci"] != "none",
        reason="the Tau-U interval is undefined for these data (see rehabstats.sced.tau_u)",
    ),
    "tau_bc": SCEDIndex(
        tau_bc,
        "nonoverlap",
        _tau_bc_batch,
        {
            "ci": "ci",
            "se_method": "se_method",
            "kendall": "kendall",
            "pretest_trend": "pretest_trend",
        },
        _tau_bc_axis_options,
        has_se=True,
        reason=_UNBIASED_1,
    ),
    "smd": SCEDIndex(
        smd,
        "parametric",
        _smd_batch,
        {"ci": "ci", "standardizer": "standardizer", "bias_correct": "bias_correct"},
        _smd_axis_options,
        has_se=True,
        reason="the standardising SD is 0 (the outcome does not vary) or a phase "
        "has fewer than 2 observations",
    ),
    "lrrd": SCEDIndex(
        lrrd,
        "parametric",
        _lrr_batch("d"),
        _LRR_OPTIONS,
        _lrr_axis_options,
        has_se=True,
        reason=_LRR,
    ),
    "lrri": SCEDIndex(
        lrri,
        "parametric",
        _lrr_batch("i"),
        _LRR_OPTIONS,
        _lrr_axis_options,
        has_se=True,
        reason=_LRR,
    ),
    "lor": SCEDIndex(
        lor,
        "parametric",
        _lor_batch,
        {
            "ci": "ci",
            "scale": "scale",
            "intervals": "intervals",
            "d_const": "d_const",
            "bias_correct": "bias_correct",
        },
        _lor_axis_options,
        has_se=True,
        reason="a phase has fewer than 2 observations, or a phase mean is 0 or "
        "100% without a truncation constant",
    ),
    "lrm": SCEDIndex(
        lrm,
        "parametric",
        None,
        {"ci": "ci", "delta_method": "delta_method"},
        _lrm_axis_options,
        axis_core=_lrm_axis_batch,
        has_se=True,
        reason="a phase has fewer than 2 observations or a median of 0",
    ),
    "pogo": SCEDIndex(
        pogo,
        "parametric",
        None,
        {"ci": "ci", "goal": "goal"},
        _pogo_axis_options,
        axis_core=_pogo_axis_batch,
        has_se=True,
        reason="a phase has fewer than 2 observations",
    ),
}

#: canonical index name -> function ``f(baseline, treatment, *, improvement, ...)``
INDICES: dict[str, Callable[..., Any]] = {name: row.function for name, row in REGISTRY.items()}

#: named groups accepted by :func:`rehabstats.sced.effect_sizes`
GROUPS: dict[str, tuple[str, ...]] = {
    group: tuple(name for name, row in REGISTRY.items() if row.group == group)
    for group in dict.fromkeys(row.group for row in REGISTRY.values())
}

#: indices with a standard error (NaN there is a degenerate case, not "no SE")
HAS_SE = frozenset(name for name, row in REGISTRY.items() if row.has_se)


def index_names() -> list[str]:
    """Names of every index :func:`rehabstats.sced.effect_sizes` computes.

    Examples
    --------
    >>> from rehabstats.sced import index_names
    >>> index_names()[:3]
    ['pnd', 'pem', 'pand']
    """
    return list(INDICES)


def check_indices(indices: Any) -> list[str]:
    """Expand groups and check index names; unknown names raise a DataError listing valid ones."""
    if isinstance(indices, str):
        indices = [indices]
    if not isinstance(indices, Iterable):
        raise DataError(f"'indices' must be an index name or a list of names; got {indices!r}.")
    out: list[str] = []
    for name in indices:
        if isinstance(name, str) and name in GROUPS:
            out.extend(n for n in GROUPS[name] if n not in out)
        elif isinstance(name, str) and name in INDICES:
            if name not in out:
                out.append(name)
        else:
            valid = ", ".join(list(INDICES) + list(GROUPS))
            raise DataError(f"Unknown index {name!r} in 'indices'; valid names are: {valid}.")
    if not out:
        raise DataError("'indices' is empty; name at least one index.")
    return out
