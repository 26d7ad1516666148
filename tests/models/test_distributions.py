"""The t / F / chi-square tails of the models: scipy.stats' numbers, without scipy.stats.

``rehabstats.models._adjust`` computes them with scipy.special (what scipy.stats calls
underneath) so that a model fit does not import scipy.stats (~0.5 s). The tests pin
the equality bit for bit, edges included, so a scipy release that changes either
side is caught here rather than as a drifting p-value.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from rehabstats.models._adjust import _f_sf, chi2_sf, f_sf, t_sf, t_upper_quantile

RNG = np.random.default_rng(20261202)
EDGES = np.array([0.0, -0.0, 1e-300, 1e300, np.inf, -np.inf, np.nan, -1.0, -1e-17, 3.0])


def _x() -> np.ndarray:
    return np.concatenate([RNG.exponential(3.0, 500), RNG.normal(0.0, 4.0, 500), EDGES])


def _df() -> np.ndarray:
    n = 1000 + EDGES.size
    d = RNG.uniform(0.3, 400.0, n)
    d[::97] = np.inf
    d[1::89] = 1.0
    d[2::83] = np.nan
    d[3::79] = 0.0
    d[4::73] = -2.0
    d[5::71] = 1e12
    return d


def _same(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_array_equal(np.asarray(a, float), np.asarray(b, float), strict=False)


def test_t_tail_equals_scipy_stats_bit_for_bit() -> None:
    x, df = _x(), _df()
    _same(t_sf(x, df), stats.t.sf(x, df))
    grid_x, grid_d = np.meshgrid(EDGES, [0.3, 1.0, 5.0, np.inf, np.nan, 0.0, -2.0, 1e12])
    _same(t_sf(grid_x, grid_d), stats.t.sf(grid_x, grid_d))
    assert float(t_sf(2.5, np.inf)) == pytest.approx(stats.norm.sf(2.5), rel=1e-14)  # z


def test_t_upper_quantile_equals_scipy_stats_on_its_range() -> None:
    q = np.concatenate([RNG.uniform(0.5, 1.0, 1000), [0.5, 0.975, 1 - 1e-16, 1.0, np.nan]])
    df = _df()[: q.size]
    _same(t_upper_quantile(q, df), stats.t.ppf(q, df))


def test_f_and_chi2_tails_equal_scipy_stats_bit_for_bit() -> None:
    x, d1, d2 = _x(), _df(), _df()[::-1].copy()
    _same(f_sf(x, d1, d2), stats.f.sf(x, d1, d2))
    _same(chi2_sf(x, d1), stats.chi2.sf(x, d1))
    grid_x, grid_d = np.meshgrid(EDGES, [0.3, 1.0, 5.0, np.inf, np.nan, 0.0, -2.0, 1e12])
    _same(f_sf(grid_x, grid_d, grid_d[::-1]), stats.f.sf(grid_x, grid_d, grid_d[::-1]))
    _same(chi2_sf(grid_x, grid_d), stats.chi2.sf(grid_x, grid_d))
    # d2 = inf is chi-square(d1) / d1 (an F test with infinite denominator df)
    finite_d2 = np.where(np.isinf(d2), 5.0, d2)
    with np.errstate(invalid="ignore"):
        want = np.where(np.isinf(d2), stats.chi2.sf(x * d1, d1), stats.f.sf(x, d1, finite_d2))
    _same(_f_sf(x, d1, d2), want)


def test_a_model_fit_does_not_import_scipy_stats() -> None:
    """An MMRM fit, its summary, visit contrasts and F tests load scipy.special only."""
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import rehabstats as rs\n"
        "d = rs.datasets.load('cimt_ms')\n"
        "for fit in (rs.mmrm('mal_aou ~ arm * visit', d, subject='subject', visit='visit'),\n"
        "            rs.lmm('mal_aou ~ arm * visit', d, subject='subject')):\n"
        "    fit.summary(); fit.anova()\n"
        "rs.mmrm('mal_aou ~ arm * visit', d, subject='subject', visit='visit').marginal_effect()\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("adjust", ["tukey", "scheffe", "dunnettx", "sidak"])
def test_adjusted_contrasts_in_a_fresh_interpreter_equal_the_ones_here(adjust: str) -> None:
    """Tukey, Scheffe and Dunnett load scipy.stats on first use (rehabstats._lazy): the
    same p-values and limits as in this process, where scipy.stats is long imported."""
    import warnings

    import rehabstats as rs

    code = (
        "import sys, warnings, json\n"
        "warnings.simplefilter('ignore')\n"
        "import rehabstats as rs\n"
        "d = rs.datasets.load('cimt_ms')\n"
        "f = rs.mmrm('mal_aou ~ arm * visit', d, subject='subject', visit='visit')\n"
        "assert 'scipy.stats' not in sys.modules\n"
        f"t = f.contrasts('visit', by='arm', adjust={adjust!r})\n"
        "print(json.dumps([t['p'].tolist(), t['ci_low'].tolist(), 'scipy.stats' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    import json

    p, lo, loaded = json.loads(out.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = rs.datasets.load("cimt_ms")
        here = rs.mmrm("mal_aou ~ arm * visit", d, subject="subject", visit="visit").contrasts(
            "visit", by="arm", adjust=adjust
        )
    assert p == here["p"].tolist()
    assert lo == here["ci_low"].tolist()
    assert loaded == (adjust != "sidak")
