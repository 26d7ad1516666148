"""Write gw_fev.json: grouped-covariance and weighted MMRM reference values from mmrm's tests.

Transcribed from openpharma/mmrm (0.3.18, commit
ec290b2695b25057b31bc98e27c39d3f498cd0d6) ``tests/testthat``: SAS PROC MIXED
values (``GROUP=`` and ``WEIGHT``) in ``test-tmb.R`` and ``test-empirical.R``,
mmrm's own Kenward-Roger components of grouped fits (``_snaps/kenwardroger.md``,
full precision) and the printed summary of the grouped ``us`` fit
(``_snaps/mmrm-methods.md``, rounded). Each value carries the file and the
line it appears on, found by searching for the literal after the test's title
(so a transcription error fails loudly). Run with the mirror of the
repository (``fetch github:openpharma/mmrm``):

    python3 make_gw_fixture.py /path/to/mmrm.git

Quantities (evaluated by tests/models/test_mmrm_group_weights.py):
``deviance``; ``se_beta1`` sqrt(vcov[0, 0]); ``beta``; ``theta`` (from the
SAS variances and correlations: ``log(sqrt(var))`` and ``map_to_theta(rho)``
in mmrm's order); ``exp_theta[idx]``, ``map_to_cor_theta[idx]``,
``map_to_cs_cor_theta[idx]`` (1-based R indices); ``group_cov_diag[level]``
the diagonal of that group's Sigma; ``vcov_empirical`` the sandwich
covariance (column-major). Tolerances are mmrm's (testthat 3e mean relative
difference; default sqrt(eps)).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

COMMIT = "ec290b2695b25057b31bc98e27c39d3f498cd0d6"
DEFAULT = 1.4901161193847656e-08  # testthat::testthat_tolerance()


def _logsd(v: list[float]) -> list[float]:
    return [math.log(math.sqrt(x)) for x in v]


def _map_to_theta(r: list[float]) -> list[float]:
    return [x / math.sqrt(1 - x * x) for x in r]


def _sqrt(v: list[float]) -> list[float]:
    return [math.sqrt(x) for x in v]


# (test title, our args, [(quantity, expected, tolerance, literal)])
TMB = [
    (
        "grouped adh covariance structure and ML",
        dict(cov="adh", reml=False, group="ARMCD"),
        [
            ("deviance", [3688.48731427], DEFAULT, "3688.48731427"),
            ("se_beta1", [0.3339], 1e-4, "0.3339"),
            ("beta", [42.5284], 1e-4, "42.5284"),
            (
                "theta",
                _logsd([134.26, 51.4797, 19.8318, 114.89])
                + _map_to_theta([0.8038, 0.02288, 0.1635])
                + _logsd([83.6194, 32.8289, 38.6672, 215.45])
                + _map_to_theta([0.5169, 0.1976, 0.5654]),
                1e-4,
                "134.26, 51.4797",
            ),
        ],
    ),
    (
        "grouped adh covariance structure and REML",
        dict(cov="adh", reml=True, group="ARMCD"),
        [
            ("deviance", [3688.84024388], DEFAULT, "3688.84024388"),
            ("se_beta1", [0.3349], 1e-4, "0.3349"),
            ("beta", [42.5293], 1e-4, "42.5293"),
            (
                "theta",
                _logsd([134.41, 51.5930, 19.9393, 114.99])
                + _map_to_theta([0.8039, 0.02646, 0.1643])
                + _logsd([83.7418, 32.9411, 38.7701, 215.53])
                + _map_to_theta([0.5178, 0.2002, 0.5655]),
                1e-4,
                "134.41, 51.5930",
            ),
        ],
    ),
    (
        "grouped toeph covariance structure and ML",
        dict(cov="toeph", reml=False, group="ARMCD"),
        [
            ("deviance", [3704.27043196], DEFAULT, "3704.27043196"),
            ("se_beta1", [0.3553], 1e-4, "0.3553"),
            ("beta", [41.4792], 1e-4, "41.4792"),
            (
                "group_cov_diag[PBO]",
                [104.38, 40.7267, 24.9011, 127.01],
                1e-3,
                "expected_pbo_var <- c(104.38",
            ),
            ("map_to_cor_theta[5:7]", [0.3296, -0.1196, -0.3575], 1e-2, "0.3296, -0.1196"),
            ("group_cov_diag[TRT]", [74.4963, 34.1465, 49.7033, 220.01], 1e-4, "74.4963, 34.1465"),
            ("map_to_cor_theta[12:14]", [0.4663, 0.1525, -0.2756], 1e-2, "0.4663, 0.1525"),
        ],
    ),
    (
        "grouped toeph covariance structure and REML",
        dict(cov="toeph", reml=True, group="ARMCD"),
        [
            ("deviance", [3704.49921127], DEFAULT, "3704.49921127"),
            ("se_beta1", [0.3563], 1e-3, "0.3563"),
            ("beta", [41.4766], 1e-4, "41.4766"),
            ("group_cov_diag[PBO]", [104.43, 40.8152, 25.0541, 127.27], 1e-3, "104.43, 40.8152"),
            ("map_to_cor_theta[5:7]", [0.3315, -0.1172, -0.3567], 1e-2, "0.3315, -0.1172"),
            ("group_cov_diag[TRT]", [74.6153, 34.2766, 49.8505, 220.20], 1e-3, "74.6153, 34.2766"),
            ("map_to_cor_theta[12:14]", [0.4677, 0.1540, -0.2741], 1e-2, "0.4677, 0.1540"),
        ],
    ),
    (
        "grouped ar1 covariance structure and ML",
        dict(cov="ar1", reml=False, group="ARMCD"),
        [
            ("deviance", [3873.08507919], DEFAULT, "3873.08507919"),
            ("se_beta1", [0.4947], 1e-4, "0.4947"),
            ("beta", [41.9560], 1e-4, "41.9560"),
            ("exp_theta[c(1, 3)]", _sqrt([78.3954, 100.51]), 1e-4, "78.3954, 100.51"),
            ("map_to_cor_theta[c(2, 4)]", [0.3667, 0.4813], 1e-3, "0.3667, 0.4813"),
        ],
    ),
    (
        "grouped ar1 covariance structure and REML",
        dict(cov="ar1", reml=True, group="ARMCD"),
        [
            ("deviance", [3872.65212395], DEFAULT, "3872.65212395"),
            ("se_beta1", [0.4960], 1e-4, "0.4960"),
            ("beta", [41.9576], 1e-4, "41.9576"),
            ("exp_theta[c(1, 3)]", _sqrt([78.6615, 100.79]), 1e-4, "78.6615, 100.79"),
            ("map_to_cor_theta[c(2, 4)]", [0.3693, 0.4831], 1e-3, "0.3693, 0.4831"),
        ],
    ),
    (
        "grouped ar1h covariance structure and ML",
        dict(cov="ar1h", reml=False, group="ARMCD"),
        [
            ("deviance", [3724.22021102], DEFAULT, "3724.22021102"),
            ("se_beta1", [0.3713], 1e-4, "0.3713"),
            ("beta", [41.7161], 1e-4, "41.7161"),
            (
                "exp_theta[c(1:4, 6:9)]",
                _sqrt([109.37, 42.7363, 23.3590, 128.21, 76.5687, 34.2447, 46.8888, 219.43]),
                1e-4,
                "109.37,\n    42.7363",
            ),
            ("map_to_cor_theta[c(5, 10)]", [0.3160, 0.4583], 1e-3, "0.3160, 0.4583"),
        ],
    ),
    (
        "grouped ar1h covariance structure and REML",
        dict(cov="ar1h", reml=True, group="ARMCD"),
        [
            ("deviance", [3724.36099760], DEFAULT, "3724.36099760"),
            ("se_beta1", [0.37233778], 1e-4, "0.37233778"),
            ("beta", [41.7104], 1e-4, "41.7104"),
            (
                "exp_theta[c(1:4, 6:9)]",
                _sqrt(
                    [
                        109.37350823,
                        42.81343590,
                        23.52559796,
                        128.45926562,
                        76.67358836,
                        34.38779235,
                        47.06871404,
                        219.70601878,
                    ]
                ),
                1e-3,
                "109.37350823",
            ),
            ("map_to_cor_theta[c(5, 10)]", [0.3179, 0.4599], 1e-4, "0.3179, 0.4599"),
        ],
    ),
    (
        "group cs covariance structure and ML",
        dict(cov="cs", reml=False, group="ARMCD"),
        [
            ("deviance", [3915.54243738], DEFAULT, "3915.54243738"),
            ("se_beta1", [0.4236], 1e-3, "0.4236"),
            ("beta", [41.9714], 1e-4, "41.9714"),
            ("exp_theta[c(1, 3)]", _sqrt([77.9218, 96.1798]), 1e-4, "sqrt(c(77.9218, 96.1798))"),
            (
                "map_to_cs_cor_theta[c(2, 4)]",
                [3.0393 / 77.9218, 8.8558 / 96.1798],
                1e-2,
                "c(3.0393, 8.8558)",
            ),
        ],
    ),
    (
        'cs covariance structure and REML", {\n  formula <- FEV1 ~ cs(AVISIT | ARMCD',
        dict(cov="cs", reml=True, group="ARMCD"),
        [
            ("deviance", [3915.41985780], DEFAULT, "3915.41985780"),
            ("se_beta1", [0.4247], 1e-3, "0.4247"),
            ("beta", [41.9734], 1e-4, "41.9734"),
            ("exp_theta[c(1, 3)]", _sqrt([78.1081, 96.3502]), 1e-3, "sqrt(c(78.1081, 96.3502))"),
            (
                "map_to_cs_cor_theta[c(2, 4)]",
                [3.2130 / 78.1081, 9.0248 / 96.3502],
                1e-2,
                "c(3.2130, 9.0248)",
            ),
        ],
    ),
    (
        "grouped csh covariance structure and ML",
        dict(cov="csh", reml=False, group="ARMCD"),
        [
            ("deviance", [3764.21336404], DEFAULT, "3764.21336404"),
            ("se_beta1", [0.3363], 1e-4, "0.3363"),
            ("beta", [41.8492], 1e-4, "41.8492"),
            (
                "exp_theta[c(1:4, 6:9)]",
                _sqrt([122.6, 45.101, 21.2903, 125.92, 82.6, 31.2298, 44.5561, 234.25]),
                1e-4,
                "122.6,\n    45.101",
            ),
            ("map_to_cs_cor_theta[c(5, 10)]", [0.07915, 0.2082], 1e-3, "0.07915, 0.2082"),
        ],
    ),
    (
        "grouped csh covariance structure and REML",
        dict(cov="csh", reml=True, group="ARMCD"),
        [
            ("deviance", [3764.55218946], DEFAULT, "3764.55218946"),
            ("se_beta1", [0.3372], 1e-4, "0.3372"),
            ("beta", [41.8458], 1e-4, "41.8458"),
            (
                "exp_theta[c(1:4, 6:9)]",
                _sqrt([122.64, 45.1705, 21.411, 126.14, 82.7175, 31.3308, 44.6841, 234.52]),
                1e-4,
                "122.64,\n    45.1705",
            ),
            ("map_to_cs_cor_theta[c(5, 10)]", [0.08074, 0.2097], 1e-3, "0.08074, 0.2097"),
        ],
    ),
    (
        "fit_mmrm works with weights and ML",
        dict(cov="adh", reml=False, weights="WEIGHT"),
        [
            ("deviance", [3800.20590355], DEFAULT, "3800.20590355"),
            ("se_beta1", [0.3477], 1e-3, "0.3477"),
            ("beta", [42.3381], 1e-4, "42.3381"),
            (
                "theta",
                _logsd([59.9705, 19.3098, 16.0271, 83.0741])
                + _map_to_theta([0.6200, 0.08924, 0.3638]),
                1e-4,
                "59.9705, 19.3098",
            ),
        ],
    ),
    (
        "fit_mmrm works with weights and REML",
        dict(cov="adh", reml=True, weights="WEIGHT"),
        [
            ("deviance", [3800.47793975], DEFAULT, "3800.47793975"),
            ("se_beta1", [0.3487], 1e-4, "0.3487"),
            ("beta", [42.3354], 1e-4, "42.3354"),
            (
                "theta",
                _logsd([60.0152, 19.3624, 16.0953, 83.1570])
                + _map_to_theta([0.6202, 0.09264, 0.3646]),
                1e-4,
                "60.0152, 19.3624",
            ),
        ],
    ),
]

# SAS EMPIRICAL with WEIGHT, FEV1 ~ ARMCD + <cov>(AVISIT | USUBJID), method "Residual",
# tests/testthat/test-empirical.R "# weighted mmrm ----" section (tolerance 1e-4)
EMP_W = {
    "ar1": [0.3741856039623, -0.3741856039623, -0.3741856039623, 0.95376377451164],
    "ar1h": [0.22611242154248, -0.22611242154248, -0.22611242154248, 0.60705140369159],
    "cs": [0.32402882795093, -0.32402882795093, -0.32402882795093, 0.81526337857816],
    "csh": [0.21754684649458, -0.21754684649458, -0.21754684649458, 0.5806529085649],
    "toep": [0.39272956491025, -0.39272956491025, -0.39272956491025, 1.00563551122259],
    "toeph": [0.22472893956932, -0.22472893956932, -0.22472893956932, 0.60262173501823],
    "adh": [0.19660064483548, -0.19660064483548, -0.19660064483548, 0.53908302126134],
    "us": [0.198001710472, -0.198001710472, -0.198001710472, 0.53420413502786],
}

# mmrm's Kenward-Roger components P, Q, R of FEV1 ~ ARMCD + <cov>(AVISIT | SEX / USUBJID),
# REML (_snaps/kenwardroger.md, expect_snapshot_tolerance: tolerance 1e-4)
KR_GROUPED = ["ar1", "ar1h", "cs", "csh", "toep", "toeph", "us", "adh", "ad"]

_NUM = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"


def _line(text: str, literal: str, after: int = 0) -> int:
    pos = text.find(literal, after)
    if pos < 0:
        raise SystemExit(f"literal {literal!r} not found after offset {after}")
    return text.count("\n", 0, pos) + 1


def _parse_structure(body: str) -> dict[str, Any]:
    """``list(P = structure(c(...), dim = c(8L, 2L)), Q = ..., R = ...)`` of R's deparse."""
    out: dict[str, Any] = {}
    for name, values, d1, d2 in re.findall(
        r"(\w) = structure\(c\(([^)]*)\),\s*dim = c\((\d+)L,\s*(\d+)L\s*\)\)", body
    ):
        nums = [float(x) for x in re.findall(_NUM, values)]
        assert len(nums) == int(d1) * int(d2), (name, len(nums), d1, d2)
        out[name] = {"dim": [int(d1), int(d2)], "values_colmajor": nums}
    return out


def main(git_dir: str) -> None:
    files: dict[str, str] = {}

    def text(name: str) -> str:
        if name not in files:
            files[name] = subprocess.run(
                ["git", f"--git-dir={git_dir}", "show", f"{COMMIT}:tests/testthat/{name}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        return files[name]

    cases = []
    t = text("test-tmb.R")
    for title, args, checks in TMB:
        start = t.find(title)
        if start < 0:
            raise SystemExit(f"test {title!r} not found")
        checks_out = []
        for q, val, tol, lit in checks:
            checks_out.append(
                {
                    "quantity": q,
                    "expected": val,
                    "tolerance": tol,
                    "source": f"tests/testthat/test-tmb.R:{_line(t, lit, start)}",
                }
            )
        cases.append(
            {
                "id": f"{args['cov']}_{'reml' if args['reml'] else 'ml'}_"
                f"{'group' if 'group' in args else 'weights'}",
                "rhs": "1",
                **args,
                "test": title.split('"')[0],
                "source": f"tests/testthat/test-tmb.R:{_line(t, title)}",
                "checks": checks_out,
            }
        )
    te = text("test-empirical.R")
    sec = te.find("# weighted mmrm ----")
    emp = []
    for cov, vals in EMP_W.items():
        title = f'test_that("empirical covariance are the same with SAS result for {cov}"'
        start = te.find(title, sec)
        lit = f"{vals[0]!r}"[:12]
        emp.append(
            {
                "id": f"emp_w_{cov}",
                "rhs": "ARMCD",
                "cov": cov,
                "weights": "WEIGHT",
                "vcov": "empirical",
                "expected_colmajor": vals,
                "tolerance": 1e-4,
                "source": f"tests/testthat/test-empirical.R:{_line(te, lit, start)}",
            }
        )
    snap = text("_snaps/kenwardroger.md")
    kr = []
    for cov in KR_GROUPED:
        head = f"# h_get_kr_comp works as expected on {cov} grouped mmrm"
        start = snap.find(head + "\n")
        end = snap.find("\n# ", start + 1)
        comp = _parse_structure(snap[start:end])
        assert set(comp) == {"P", "Q", "R"}, comp.keys()
        kr.append(
            {
                "id": f"kr_comp_{cov}_sex",
                "rhs": "ARMCD",
                "cov": cov,
                "group": "SEX",
                "reml": True,
                "tolerance": 1e-4,
                **comp,
                "source": f"tests/testthat/_snaps/kenwardroger.md:{_line(snap, head)}",
                "layout": "P: rows (theta i, beta row) = i * p + a; Q, R: within-group pairs, "
                "rows ((g * kg + r) * kg + j) * p + a for group g, local r, j "
                "(src/kr_comp.cpp)",
            }
        )
    ms = text("_snaps/mmrm-methods.md")
    head = "# print.summary.mmrm works as expected for grouped fits"
    start = ms.find(head)
    summary = {
        "id": "summary_us_group_armcd",
        "rhs": "ARMCD",
        "cov": "us",
        "group": "ARMCD",
        "reml": True,
        "source": f"tests/testthat/_snaps/mmrm-methods.md:{_line(ms, head)}",
        "note": "printed values, rounded: compare at half a unit of the last printed digit",
        "aic": [3702.7, 0.05, _line(ms, "3702.7", start)],
        "bic": [3768.3, 0.05, _line(ms, "3768.3", start)],
        "loglik": [-1831.3, 0.05, _line(ms, "-1831.3", start)],
        "deviance": [3662.7, 0.05, _line(ms, "3662.7", start)],
        "estimate": [[41.2, 3.5], 0.05, _line(ms, "(Intercept)     41.2", start)],
        "se": [[0.4, 0.6], 0.05, _line(ms, "(Intercept)     41.2", start)],
        "df": [[94.0, 147.0], 0.5, _line(ms, "ARMCDTRT         3.5", start)],
        "cov_PBO": [
            [
                [110.7, 49.2, -7.0, -47.0],
                [49.2, 40.1, -2.7, -22.4],
                [-7.0, -2.7, 23.5, 17.7],
                [-47.0, -22.4, 17.7, 132.0],
            ],
            0.05,
            _line(ms, "Group: PBO", start),
        ],
        "cov_TRT": [
            [
                [106.8, 42.6, 2.8, -46.3],
                [42.6, 40.7, 4.6, -4.8],
                [2.8, 4.6, 26.0, 20.5],
                [-46.3, -4.8, 20.5, 172.9],
            ],
            0.05,
            _line(ms, "Group: TRT", start),
        ],
    }
    out = {
        "source": "openpharma/mmrm tests/testthat (SAS PROC MIXED GROUP= / WEIGHT values, "
        "mmrm snapshots)",
        "commit": COMMIT,
        "data": "fev_data (peer_data/mmrm__fev_data.csv), rows with missing FEV1 dropped",
        "tolerance_rule": "testthat 3e: mean(|x - y|) / mean(|y|) < tolerance",
        "cases": cases,
        "empirical_weighted": emp,
        "kr_comp_grouped": kr,
        "summary": summary,
    }
    Path(__file__).with_name("gw_fev.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/openpharma+mmrm/repo")
