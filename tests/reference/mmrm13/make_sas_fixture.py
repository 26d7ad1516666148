"""Write sas_fev.json: SAS PROC MIXED / mmrm values from mmrm's own tests.

The expected numbers are transcribed from openpharma/mmrm (0.3.18, commit
ec290b2695b25057b31bc98e27c39d3f498cd0d6) ``tests/testthat/*.R``; each value
carries the file and the line it appears on (found here by searching the
file for the literal, so a transcription error fails loudly). Run with the
mirror of the repository available (``fetch github:openpharma/mmrm``):

    python3 make_sas_fixture.py /path/to/mmrm.git

Quantities (evaluated by tests/models/test_mmrm13_reference.py):
``deviance`` -2 logLik; ``se_beta1`` sqrt(vcov[0, 0]); ``beta`` all
coefficients; ``theta``; ``cov_lower_tri`` Sigma[lower.tri(Sigma)] in R's
column-major order; ``cov_diag``; ``exp_theta[i..j]``; ``map_to_cor_theta[i]``;
``map_to_cs_cor_theta[i]``; ``plogis_theta2_pow2`` plogis(theta[2])^2;
``sp_gau_range`` sqrt(-1 / log(plogis(theta[2]))); ``kr_se``/``kr_df`` (and
``krl_``) of the ARMCDTRT coefficient; ``pred``/``pred_se`` conditional
predictions of rows 1 and 3 of fev_data (both missing FEV1). Tolerances are
mmrm's (testthat 3e: mean relative difference, default sqrt(eps)).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

COMMIT = "ec290b2695b25057b31bc98e27c39d3f498cd0d6"
DEFAULT = 1.4901161193847656e-08  # testthat::testthat_tolerance()

# (file, case id, formula (R), our args, [(quantity, expected, tolerance, literal to locate)])
CASES = [
    (
        "test-tmb.R",
        "us_ml",
        "FEV1 ~ us(AVISIT | USUBJID)",
        dict(rhs="1", cov="us", reml=False),
        [
            ("deviance", [3700.68707570], DEFAULT, "3700.68707570"),
            ("se_beta1", [0.3499], 1e-4, "0.3499"),
            ("beta", [42.8367], 1e-4, "42.8367"),
            (
                "cov_lower_tri",
                [49.8121, 2.6246, -40.5833, 4.8398, -8.6607, 22.9163],
                1e-3,
                "49.8121, 2.6246",
            ),
        ],
    ),
    (
        "test-tmb.R",
        "us_reml",
        "FEV1 ~ us(AVISIT | USUBJID)",
        dict(rhs="1", cov="us", reml=True),
        [
            ("deviance", [3700.94648570], DEFAULT, "3700.94648570"),
            ("se_beta1", [0.3509], 1e-4, "0.3509"),
            ("beta", [42.8338], 1e-4, "42.8338"),
            (
                "cov_lower_tri",
                [49.8999, 2.7459, -40.4566, 4.9722, -8.5335, 23.0555],
                1e-3,
                "49.8999, 2.7459",
            ),
        ],
    ),
    (
        "test-tmb.R",
        "ad_ml",
        "FEV1 ~ ad(AVISIT | USUBJID)",
        dict(rhs="1", cov="ad", reml=False),
        [
            ("deviance", [3855.8794], DEFAULT, "3855.8794"),
            ("se_beta1", [0.5222], 1e-4, "0.5222"),
            ("beta", [43.0574], 1e-4, "43.0574"),
            ("theta", [2.2695640, 0.9147445, 0.7249571, 0.1897019], 1e-4, "2.2695640, 0.9147445"),
        ],
    ),
    (
        "test-tmb.R",
        "ad_reml",
        "FEV1 ~ ad(AVISIT | USUBJID)",
        dict(rhs="1", cov="ad", reml=True),
        [
            ("deviance", [3855.3383], DEFAULT, "3855.3383"),
            ("se_beta1", [0.5236], 1e-4, "0.5236"),
            ("beta", [43.0560], 1e-4, "43.0560"),
            ("theta", [2.2713398, 0.9175433, 0.7303929, 0.1919114], 1e-4, "2.2713398, 0.9175433"),
        ],
    ),
    (
        "test-tmb.R",
        "adh_ml",
        "FEV1 ~ adh(AVISIT | USUBJID)",
        dict(rhs="1", cov="adh", reml=False),
        [
            ("deviance", [3713.24501787], DEFAULT, "3713.24501787"),
            ("se_beta1", [0.3519], 1e-4, "0.3519"),
            ("beta", [42.9019], 1e-4, "42.9019"),
            (
                "adh_theta_sas",
                [114.78, 44.5191, 26.7673, 158.33, 0.7104, 0.09992, 0.3650],
                1e-4,
                "114.78, 44.5191",
            ),
        ],
    ),
    (
        "test-tmb.R",
        "adh_reml",
        "FEV1 ~ adh(AVISIT | USUBJID)",
        dict(rhs="1", cov="adh", reml=True),
        [
            ("deviance", [3713.49317786], DEFAULT, "3713.49317786"),
            ("se_beta1", [0.3529], 1e-4, "0.3529"),
            ("beta", [42.9009], 1e-4, "42.9009"),
            (
                "adh_theta_sas",
                [114.89, 44.6313, 26.8922, 158.47, 0.7106, 0.1033, 0.3657],
                1e-4,
                "114.89, 44.6313",
            ),
        ],
    ),
    (
        "test-tmb.R",
        "toep_ml",
        "FEV1 ~ toep(AVISIT | USUBJID)",
        dict(rhs="1", cov="toep", reml=False),
        [
            ("deviance", [3857.00777313], DEFAULT, "3857.00777313"),
            ("se_beta1", [0.4669], 1e-3, "0.4669"),
            ("beta", [42.3717], 1e-4, "42.3717"),
            ("cov_diag1", [88.8193], 1e-4, "88.8193"),
            (
                "cov_lower_tri",
                [41.2525, 6.7009, -17.7604, 41.2525, 6.7009, 41.2525],
                1e-4,
                "41.2525, 6.7009, -17.7604",
            ),
        ],
    ),
    (
        "test-tmb.R",
        "toep_reml",
        "FEV1 ~ toep(AVISIT | USUBJID)",
        dict(rhs="1", cov="toep", reml=True),
        [
            ("deviance", [3856.68995273], DEFAULT, "3856.68995273"),
            ("se_beta1", [0.4684], 1e-4, "0.4684"),
            ("beta", [42.3721], 1e-4, "42.3721"),
            ("cov_diag1", [89.0847], 1e-4, "89.0847"),
            (
                "cov_lower_tri",
                [41.5499, 6.9536, -17.6135, 41.5499, 6.9536, 41.5499],
                1e-4,
                "41.5499, 6.9536, -17.6135",
            ),
        ],
    ),
    (
        "test-tmb.R",
        "toeph_ml",
        "FEV1 ~ toeph(AVISIT | USUBJID)",
        dict(rhs="1", cov="toeph", reml=False),
        [
            ("deviance", [3722.29178558], DEFAULT, "3722.29178558"),
            ("se_beta1", [0.3812], 1e-4, "0.3812"),
            ("beta", [41.6769], 1e-4, "41.6769"),
            ("cov_diag", [90.3084, 38.4717, 35.9728, 175.50], 1e-4, "90.3084, 38.4717"),
            (
                "cov_lower_tri",
                [25.2231, 2.4950, -39.4085, 15.9192, 3.5969, 34.0009],
                1e-4,
                "25.2231, 2.4950",
            ),
        ],
    ),
    (
        "test-tmb.R",
        "toeph_reml",
        "FEV1 ~ toeph(AVISIT | USUBJID)",
        dict(rhs="1", cov="toeph", reml=True),
        [
            ("deviance", [3722.38018329], DEFAULT, "3722.38018329"),
            ("se_beta1", [0.3822], 1e-4, "0.3822"),
            ("beta", [41.6726], 1e-4, "41.6726"),
            ("cov_diag", [90.4041, 38.5927, 36.1518, 175.78], 1e-4, "90.4041, 38.5927"),
            (
                "cov_lower_tri",
                [25.3713, 2.6128, -39.2746, 16.0440, 3.7643, 34.2409],
                1e-4,
                "25.3713, 2.6128",
            ),
        ],
    ),
    (
        "test-tmb.R",
        "ar1_ml",
        "FEV1 ~ ar1(AVISIT | USUBJID)",
        dict(rhs="1", cov="ar1", reml=False),
        [
            ("deviance", [3875.95352406], DEFAULT, "3875.95352406"),
            ("se_beta1", [0.5000], 1e-4, "0.5000"),
            ("beta", [42.3252], 1e-4, "42.3252"),
            ("exp_theta[1]", [88.7088**0.5], 1e-4, "sqrt(88.7088)"),
            ("map_to_cor_theta[2]", [0.4249], 1e-3, "0.4249"),
        ],
    ),
    (
        "test-tmb.R",
        "ar1_reml",
        "FEV1 ~ ar1(AVISIT | USUBJID)",
        dict(rhs="1", cov="ar1", reml=True),
        [
            ("deviance", [3875.49945459], DEFAULT, "3875.49945459"),
            ("se_beta1", [0.5013], 1e-4, "0.5013"),
            ("beta", [42.3255], 1e-4, "42.3255"),
            ("exp_theta[1]", [88.9866**0.5], 1e-4, "sqrt(88.9866)"),
            ("map_to_cor_theta[2]", [0.4272], 1e-3, "0.4272"),
        ],
    ),
    (
        "test-tmb.R",
        "ar1h_ml",
        "FEV1 ~ ar1h(AVISIT | USUBJID)",
        dict(rhs="1", cov="ar1h", reml=False),
        [
            ("deviance", [3739.94416707], DEFAULT, "3739.94416707"),
            ("se_beta1", [0.3936], 1e-4, "0.3936"),
            ("beta", [41.7017], 1e-4, "41.7017"),
            (
                "exp_theta[1..4]",
                [v**0.5 for v in (92.2283, 38.3927, 35.0194, 176.08)],
                1e-4,
                "92.2283, 38.3927",
            ),
            ("map_to_cor_theta[5]", [0.4113], 1e-3, "0.4113"),
        ],
    ),
    (
        "test-tmb.R",
        "ar1h_reml",
        "FEV1 ~ ar1h(AVISIT | USUBJID)",
        dict(rhs="1", cov="ar1h", reml=True),
        [
            ("deviance", [3739.96835012], DEFAULT, "3739.96835012"),
            ("se_beta1", [0.3947], 1e-4, "0.3947"),
            ("beta", [41.6955], 1e-4, "41.6955"),
            (
                "exp_theta[1..4]",
                [v**0.5 for v in (92.3009, 38.5178, 35.2148, 176.37)],
                1e-4,
                "92.3009, 38.5178",
            ),
            ("map_to_cor_theta[5]", [0.4130], 1e-3, "0.4130"),
        ],
    ),
    (
        "test-tmb.R",
        "cs_ml",
        "FEV1 ~ cs(AVISIT | USUBJID)",
        dict(rhs="1", cov="cs", reml=False),
        [
            ("deviance", [3918.12214544], DEFAULT, "3918.12214544"),
            ("se_beta1", [0.4273], 1e-3, "0.4273"),
            ("beta", [42.2897], 1e-4, "42.2897"),
            ("exp_theta[1]", [86.7143**0.5], 1e-4, "sqrt(86.7143)"),
            ("map_to_cs_cor_theta[2]", [0.06596], 1e-2, "0.06596"),
        ],
    ),
    (
        "test-tmb.R",
        "cs_reml",
        "FEV1 ~ cs(AVISIT | USUBJID)",
        dict(rhs="1", cov="cs", reml=True),
        [
            ("deviance", [3917.98183508], DEFAULT, "3917.98183508"),
            ("se_beta1", [0.4285], 1e-4, "0.4285"),
            ("beta", [42.2896], 1e-4, "42.2896"),
            ("exp_theta[1]", [86.8968**0.5], 1e-4, "sqrt(86.8968)"),
            ("map_to_cs_cor_theta[2]", [0.06783], 1e-2, "0.06783"),
        ],
    ),
    (
        "test-tmb.R",
        "csh_ml",
        "FEV1 ~ csh(AVISIT | USUBJID)",
        dict(rhs="1", cov="csh", reml=False),
        [
            ("deviance", [3784.63158043], DEFAULT, "3784.63158043"),
            ("se_beta1", [0.3566], 1e-4, "0.3566"),
            ("beta", [42.0018], 1e-4, "42.0018"),
            (
                "exp_theta[1..4]",
                [v**0.5 for v in (104.54, 38.5253, 31.1656, 178.62)],
                1e-4,
                "104.54, 38.5253",
            ),
            ("map_to_cs_cor_theta[5]", [0.1566], 1e-3, "0.1566"),
        ],
    ),
    (
        "test-tmb.R",
        "csh_reml",
        "FEV1 ~ csh(AVISIT | USUBJID)",
        dict(rhs="1", cov="csh", reml=True),
        [
            ("deviance", [3784.85341599], DEFAULT, "3784.85341599"),
            ("se_beta1", [0.3575], 1e-4, "0.3575"),
            ("beta", [41.9964], 1e-4, "41.9964"),
            (
                "exp_theta[1..4]",
                [v**0.5 for v in (104.61, 38.6137, 31.3143, 178.91)],
                1e-4,
                "104.61, 38.6137",
            ),
            ("map_to_cs_cor_theta[5]", [0.1582], 1e-3, "0.1582"),
        ],
    ),
    (
        "test-tmb.R",
        "sp_exp_ml",
        "FEV1 ~ sp_exp(VISITN | USUBJID)",
        dict(rhs="1", cov="sp_exp", reml=False, time="VISITN"),
        [
            ("deviance", [3875.95353357], DEFAULT, "3875.95353357"),
            ("beta1", [42.3252], 1e-4, "42.3252"),
            ("plogis_theta2_pow2", [0.1805], 1e-3, "0.1805"),
            ("exp_theta[1]", [88.7005], 1e-3, "88.7005"),
        ],
    ),
    (
        "test-tmb.R",
        "sp_exp_reml",
        "FEV1 ~ sp_exp(VISITN | USUBJID)",
        dict(rhs="1", cov="sp_exp", reml=True, time="VISITN"),
        [
            ("deviance", [3875.49946734], DEFAULT, "3875.49946734"),
            ("beta1", [42.3254], 1e-4, "42.3254"),
            ("plogis_theta2_pow2", [0.1823], 1e-3, "0.1823"),
            ("exp_theta[1]", [88.9768], 1e-3, "88.9768"),
        ],
    ),
    (
        "test-tmb.R",
        "sp_gau_ml",
        "FEV1 ~ sp_gau(VISITN | USUBJID)",
        dict(rhs="1", cov="sp_gau", reml=False, time="VISITN"),
        [
            ("deviance", [3871.0583], 1e-4, "3871.0583"),
            ("beta1", [42.3539], 1e-4, "42.3539"),
            ("sp_gau_range", [1.0853], 1e-3, "1.0853"),
            ("exp_theta[1]", [88.4874], 1e-3, "88.4874"),
        ],
    ),
    (
        "test-tmb.R",
        "sp_gau_reml",
        "FEV1 ~ sp_gau(VISITN | USUBJID)",
        dict(rhs="1", cov="sp_gau", reml=True, time="VISITN"),
        [
            ("deviance", [3870.6985], 1e-4, "3870.6985"),
            ("beta1", [42.3542], 1e-4, "42.3542"),
            ("sp_gau_range", [1.0871], 1e-3, "1.0871"),
            ("exp_theta[1]", [88.7170], 1e-3, "88.7170"),
        ],
    ),
]

# Kenward-Roger (SAS DDFM=KR) of ARMCDTRT in FEV1 ~ ARMCD + <cov>(AVISIT | USUBJID)
KR = [
    (
        "ar1",
        (0.95865439662225, 188.46934887972, 1e-4, 1e-4),
        (0.96058142305176, 188.46934887972, 1e-4, 1e-4),
    ),
    (
        "ar1h",
        (0.7590316099633, 188.225339095373, 1e-2, 1e-4),
        (0.75924807546934, 188.225339095373, 1e-3, 1e-4),
    ),
    ("cs", (0.7965, 177.038485931223, 1e-2, 1e-4), (0.7964696053595, 177.038485931223, 1e-4, 1e-4)),
    (
        "csh",
        (0.67414806011886, 190.737701349941, 1e-2, 1e-3),
        (0.67403858183242, 190.737701349941, 1e-2, 1e-3),
    ),
    (
        "adh",
        (0.66172017349971, 162.393385281755, 1e-2, 1e-3),
        (0.66158550758897, 162.393385281755, 1e-3, 1e-3),
    ),
    (
        "toep",
        (0.87839805519623, 160.027408337368, 1e-2, 1e-3),
        (0.87839805519623, 160.027408337368, 1e-3, 1e-3),
    ),
    (
        "toeph",
        (0.72543828853831, 180.062730071701, 1e-2, 1e-3),
        (0.72537324518435, 180.062730071701, 1e-3, 1e-3),
    ),
    (
        "us",
        (0.66124382270307, 160.733266403768, 1e-1, 1e-3),
        (0.66124382270307, 160.73326640376, 1e-3, 1e-3),
    ),
]

# conditional predictions (SAS) of rows 1 and 3 (PT1 VIS1, VIS3; FEV1 missing)
PRED = [
    (
        "us",
        "satterthwaite",
        (44.9753553724207, 41.4074753229983),
        (7.07537882030293, 4.72199122235202),
        1e-3,
    ),
    (
        "us",
        "kenward-roger",
        (44.9753553724207, 41.4074753229983),
        (7.07537882030293, 4.72199122235202),
        1e-3,
    ),
    (
        "toep",
        "satterthwaite",
        (49.2972533971016, 32.5585487765097),
        (7.89495102841021, 7.32982693449642),
        1e-3,
    ),
    (
        "ar1",
        "satterthwaite",
        (42.7404650408987, 34.8347780646782),
        (8.469966361884, 7.88346546930503),
        1e-3,
    ),
    (
        "ar1",
        "kenward-roger",
        (42.7404650408987, 34.8347780646782),
        (8.50085016679827, 7.91455389252041),
        1e-2,
    ),
    (
        "cs",
        "satterthwaite",
        (44.0595030539703, 44.0595030539703),
        (9.10525401644359, 9.10525401644359),
        1e-3,
    ),
    (
        "cs",
        "kenward-roger",
        (44.0595030539703, 44.0595030539703),
        (9.13792825096229, 9.13792825096229),
        1e-2,
    ),
]


# mmrm's own values (testthat snapshots, full precision): anova type II / III
# (Satterthwaite) and Kenward-Roger df_1d / df_md. (snapshot file, literal, case)
SNAPS = [
    {
        "id": "anova3_get_mmrm",
        "snap": "interop-car.md",
        "lit": "36.9114313439291, 0.375714493693753, 31.6630556880263",
        "rhs": "RACE + SEX + ARMCD * AVISIT",
        "cov": "us",
        "type": 3,
        "terms": ["RACE", "SEX", "ARMCD", "AVISIT", "ARMCD:AVISIT"],
        "num_df": [2, 1, 1, 3, 3],
        "den_df": [
            165.663091950489,
            166.132390274796,
            168.517347862674,
            150.27935903331,
            150.218537341506,
        ],
        "F": [
            36.9114313439291,
            0.375714493693753,
            31.6630556880263,
            142.112225163936,
            0.258059683823142,
        ],
        "p": [
            5.52657561571804e-14,
            0.540743930456335,
            7.50169682381283e-08,
            1.11521289925283e-43,
            0.855495765990094,
        ],
    },
    {
        "id": "anova3_get_mmrm_trans",
        "snap": "interop-car.md",
        "lit": "24.3786559829693, \n    39.6855702345423",
        "rhs": "np.log(FEV1_BL) + ARMCD * AVISIT",
        "cov": "ar1",
        "type": 3,
        "terms": ["np.log(FEV1_BL)", "ARMCD", "AVISIT", "ARMCD:AVISIT"],
        "num_df": [1, 1, 3, 3],
        "den_df": [204.598069467616, 177.332876562674, 347.570877428911, 347.710159082832],
        "F": [24.3786559829693, 39.6855702345423, 122.816025583016, 0.404902734286199],
        "p": [1.63992367599562e-06, 2.28527514227412e-09, 3.03611956324799e-54, 0.749568888649195],
    },
    {
        "id": "anova2_get_mmrm",
        "snap": "interop-car.md",
        "lit": "165.555271036152, \n    166.132390274796, 169.118081341052",
        "rhs": "RACE + SEX + ARMCD * AVISIT",
        "cov": "us",
        "type": 2,
        "terms": ["RACE", "SEX", "ARMCD", "AVISIT", "ARMCD:AVISIT"],
        "num_df": [2, 1, 1, 3, 3],
        "den_df": [
            165.555271036152,
            166.132390274796,
            169.118081341052,
            148.651576899468,
            147.914553164601,
        ],
        "F": [
            36.9114313439291,
            0.375714493693753,
            31.4209157299747,
            142.822149813409,
            0.258059683823141,
        ],
        "p": [
            5.54457484361994e-14,
            0.540743930456335,
            8.29557548465617e-08,
            1.38538296396102e-43,
            0.855493665048657,
        ],
    },
    {
        "id": "anova2_get_mmrm_trans",
        "snap": "interop-car.md",
        "lit": "177.031664765275",
        "rhs": "np.log(FEV1_BL) + ARMCD * AVISIT",
        "cov": "ar1",
        "type": 2,
        "terms": ["np.log(FEV1_BL)", "ARMCD", "AVISIT", "ARMCD:AVISIT"],
        "num_df": [1, 1, 3, 3],
        "den_df": [204.598069467616, 177.031664765275, 338.757188084037, 337.796986533425],
        "F": [24.3786559829693, 39.9226532710277, 123.044964588839, 0.404902734286199],
        "p": [1.63992367599562e-06, 2.07599124936334e-09, 6.50377681330269e-54, 0.749571535192762],
    },
    {
        "id": "kr_df_1d_c01",
        "snap": "kenwardroger.md",
        "lit": "est = 4.22574283798881",
        "rhs": "ARMCD",
        "cov": "ar1",
        "L": [0, 1],
        "df_method": "kenward-roger",
        "est": 4.22574283798881,
        "se": 0.958582835484051,
        "df": 188.469542953831,
        "t": 4.40832308024267,
        "p_t": 1.74717113178929e-05,
    },
    {
        "id": "kr_df_1d_c11",
        "snap": "kenwardroger.md",
        "lit": "est = 44.5138538316888",
        "rhs": "ARMCD",
        "cov": "ar1",
        "L": [1, 1],
        "df_method": "kenward-roger",
        "est": 44.5138538316888,
        "se": 0.690340153834085,
        "df": 183.109526300275,
        "t": 64.4810439961561,
        "p_t": 8.00428173980469e-128,
    },
    {
        "id": "kr_df_md",
        "snap": "kenwardroger.md",
        "lit": "denom_df = 188.648444482487",
        "rhs": "ARMCD",
        "cov": "ar1",
        "L": [[0, 1], [1, 0]],
        "df_method": "kenward-roger",
        "num_df": 2,
        "den_df": 188.648444482487,
        "F": 3913.7241325595,
        "p_F": 2.57603724255367e-154,
    },
]


# mmrm's own residuals (first 5 rows, tolerance 1e-3), tests/testthat/test-tmb-methods.R
RESID = [
    {
        "id": "resid_get_mmrm",
        "block": 'test_that("residuals works as expected", {',
        "rhs": "RACE + SEX + ARMCD * AVISIT",
        "cov": "us",
        "values": {
            "response": [-1.2349, -31.6025, -4.1618, -4.2406, 2.9770],
            "pearson": [-0.23957, -3.23296, -0.80740, -1.09871, 0.30455],
            "normalized": [-0.23957, -3.23322, -0.80740, -0.99548, 0.43232],
        },
    },
    {
        "id": "resid_spatial",
        "block": 'test_that("residuals works as expected with a model using spatial',
        "rhs": "ARMCD",
        "cov": "sp_exp",
        "time": "VISITN",
        # the test's third check calls type = "normalized" again (labelled pearson): not used
        "values": {
            "response": [-4.5428, -24.0301, -8.8329, -3.4092, 8.5200],
            "normalized": [-0.4943, -2.5698, -0.9613, 0.0046, 1.1645],
        },
    },
]


# between-within df, tests/testthat/test-between-within.R (exact integers; F at 1e-3)
BW = [
    {
        "id": "bw_intercept_only",
        "block": 'test_that("h_df_1d_bw works as expected for a model with only',
        "rhs": "1",
        "cov": "us",
        "L": [1],
        "est": 42.8338,
        "se": 0.3509,
        "df": 340,
        "t": 122.07,
        "lit": "340L",
    },
    {
        "id": "bw_race_contrast",
        "block": 'test_that("h_df_1d_bw works as expected for univariate',
        "rhs": "ARMCD + RACE",
        "cov": "us",
        "L": [0, 0, 1, -1],
        "df": 193,
        "lit": "193L",
    },
    {
        "id": "bw_race_with_intercept",
        "block": "contrast <- c(1, 0, -1, 0)",
        "rhs": "ARMCD + RACE",
        "cov": "us",
        "L": [1, 0, -1, 0],
        "df": 193,
        "lit": "193L",
    },
    {
        "id": "bw_md_between",
        "block": 'test_that("h_df_md_bw works as expected - between effect',
        "rhs": "RACE + SEX + ARMCD * AVISIT",
        "cov": "us",
        "L_md": [[2, 3]],
        "num_df": 2,
        "den_df": 192,
        "F": 36.91,
        "lit": "36.91",
    },
    {
        "id": "bw_md_within",
        "block": 'test_that("h_df_md_bw works as expected - within effect',
        "rhs": "RACE + SEX + ARMCD * AVISIT",
        "cov": "us",
        "L_md": [[6, 7]],
        "num_df": 2,
        "den_df": 334,
        "F": 80.96,
        "lit": "80.96",
    },
    {
        "id": "bw_md_both",
        "block": 'test_that("h_df_md_bw works as expected - both effects',
        "rhs": "RACE + SEX + ARMCD * AVISIT",
        "cov": "us",
        "L_md": [[2, 3], [6, 7]],
        "num_df": 2,
        "den_df": 192,
        "F": 117.65,
        "lit": "117.65",
    },
]


# sandwich covariances, tests/testthat/test-empirical.R (SAS EMPIRICAL, unweighted, method
# "Residual"; tolerance 1e-4) and _snaps/empirical.md (mmrm's own, ar1; tolerance 1e-4):
# vcov of (Intercept), ARMCDTRT in FEV1 ~ ARMCD + <cov>(AVISIT | USUBJID), column-major
EMP_SAS = {
    "ar1": [0.27666930670945, -0.27666930670945, -0.27666930670945, 0.68196697308307],
    "ar1h": [0.19106397930347, -0.19106397930347, -0.19106397930347, 0.46203608554929],
    "cs": None,
    "csh": None,
    "toep": None,
    "toeph": None,
    "adh": None,
    "us": [0.16725909903518, -0.16725909903518, -0.16725909903518, 0.40908637028234],
}
EMP_SNAP = [
    (
        "empirical",
        "# h_get_empirical obtain empirical covariance",
        [0.276669200825678, -0.276669200825678, -0.276669200825678, 0.681966674143019],
    ),
    (
        "empirical-jackknife",
        "# h_get_empirical obtain jackknife covariance",
        [0.282126502688394, -0.282126502688394, -0.282126502688394, 0.696645916580453],
    ),
    (
        "empirical-bias-reduced",
        "0.27938383855849",
        [0.27938383855849, -0.27938383855849, -0.27938383855849, 0.689265455017577],
    ),
]


def _line(text: str, literal: str, after: int = 0) -> int:
    pos = text.find(literal, after)
    if pos < 0:
        raise SystemExit(f"literal {literal!r} not found")
    return text.count("\n", 0, pos) + 1


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
    for fname, cid, rform, args, checks in CASES:
        t = text(fname)
        start = t.find(f"formula <- {rform}")
        # the case's own test block: locate the formula, then the reml flag after it
        reml_lit = f"reml = {'TRUE' if args['reml'] else 'FALSE'}"
        while True:
            s = t.find(reml_lit, start)
            nxt = t.find("formula <-", start + 1)
            if nxt == -1 or s < nxt:
                break
            start = t.find(f"formula <- {rform}", nxt)
            if start < 0:
                raise SystemExit(f"{cid}: block not found")
        out = []
        for q, exp, tol, lit in checks:
            out.append(
                {
                    "quantity": q,
                    "expected": exp,
                    "tolerance": tol,
                    "source": f"tests/testthat/{fname}:{_line(t, lit, start)}",
                }
            )
        cases.append(
            {
                "id": cid,
                "r_formula": rform,
                **args,
                "source": f"tests/testthat/{fname}:{_line(t, rform, start)}",
                "checks": out,
            }
        )
    t = text("test-kenwardroger.R")
    for cov, kr, krl in KR:
        start = t.find(f'test_that("kr give similar results as SAS for {cov}')
        start2 = t.find(f'test_that("kr linear give similar results as SAS for {cov}')
        if cov == "us":
            start = t.find('test_that("kr give similar results as SAS for unstructured')
            start2 = t.find('test_that("kr linear give similar results as SAS for unstructured')
        checks = []
        for tag, vals, st in (("kr", kr, start), ("krl", krl, start2)):
            se, df, se_tol, df_tol = vals
            ln = _line(t, repr(se) if tag == "kr" or cov != "us" else "0.66124382270307", st)
            checks += [
                {
                    "quantity": f"{tag}_se",
                    "expected": [se],
                    "tolerance": se_tol,
                    "source": f"tests/testthat/test-kenwardroger.R:{ln}",
                },
                {
                    "quantity": f"{tag}_df",
                    "expected": [df],
                    "tolerance": df_tol,
                    "source": f"tests/testthat/test-kenwardroger.R:{ln}",
                },
            ]
        cases.append(
            {
                "id": f"{cov}_kr",
                "r_formula": f"FEV1 ~ ARMCD + {cov}(AVISIT | USUBJID)",
                "rhs": "ARMCD",
                "cov": cov,
                "reml": True,
                "source": f"tests/testthat/test-kenwardroger.R:{_line(t, 'FEV1 ~ ARMCD + ' + cov, start)}",
                "checks": checks,
            }
        )
    t = text("test-tmb-methods.R")
    for cov, method, p, se, tol in PRED:
        start = t.find(
            f'test_that("predict gives same result with sas in '
            f"{'unstructured' if cov == 'us' else cov}"
        )
        if method == "kenward-roger":  # the block's second half, after the unadjusted check
            start = t.find("sas_res_p <-", t.find("fit$beta_vcov)", start))
        lp = _line(t, repr(p[0]), start)
        lse = _line(t, repr(se[0]), start)
        cases.append(
            {
                "id": f"{cov}_pred_{method}",
                "r_formula": f"FEV1 ~ ARMCD + {cov}(AVISIT | USUBJID)",
                "rhs": "ARMCD",
                "cov": cov,
                "reml": True,
                "source": f"tests/testthat/test-tmb-methods.R:{_line(t, 'FEV1 ~ ARMCD', start)}",
                "checks": [
                    {
                        "quantity": "pred_rows_1_3",
                        "expected": list(p),
                        "tolerance": 1e-3,
                        "source": f"tests/testthat/test-tmb-methods.R:{lp}",
                    },
                    {
                        "quantity": f"pred_se_rows_1_3:{method}",
                        "expected": list(se),
                        "tolerance": tol,
                        "source": f"tests/testthat/test-tmb-methods.R:{lse}",
                    },
                ],
            }
        )
    snaps = []
    for sn in SNAPS:
        t = text(f"_snaps/{sn['snap']}")
        lit = sn["lit"].replace("\\n", "\n")
        snaps.append(
            {
                **{k: v for k, v in sn.items() if k not in ("lit", "snap")},
                "tolerance": 1e-4,
                "source": f"tests/testthat/_snaps/{sn['snap']}:{_line(t, lit)}",
            }
        )
    resid = []
    t = text("test-tmb-methods.R")
    for r in RESID:
        start = t.find(r["block"])
        if start < 0:
            raise SystemExit(f"{r['id']}: block not found")
        lines = {
            k: f"tests/testthat/test-tmb-methods.R:{_line(t, repr(v[1]), start)}"
            for k, v in r["values"].items()
        }
        resid.append(
            {
                **{k: v for k, v in r.items() if k != "block"},
                "reml": True,
                "tolerance": 1e-3,
                "sources": lines,
            }
        )
    bw = []
    t = text("test-between-within.R")
    for b in BW:
        start = t.find(b["block"])
        if start < 0:
            raise SystemExit(f"{b['id']}: block not found")
        bw.append(
            {
                **{k: v for k, v in b.items() if k not in ("block", "lit")},
                "reml": True,
                "source": f"tests/testthat/test-between-within.R:{_line(t, b['lit'], start)}",
            }
        )
    emp = []
    t = text("test-empirical.R")
    for cov in EMP_SAS:
        start = t.find(f'test_that("empirical covariance are the same with SAS result for {cov}"')
        mpos = t.find("expected <- matrix(", start)
        line = _line(t, "c(", mpos)
        body = t[t.find("c(", mpos) + 2 : t.find(")", t.find("c(", mpos))]
        vals = [float(v) for v in body.split(",")]
        if EMP_SAS[cov] is not None and EMP_SAS[cov] != vals:
            raise SystemExit(f"{cov}: transcription differs from the file")
        emp.append(
            {
                "id": f"emp_sas_{cov}",
                "rhs": "ARMCD",
                "cov": cov,
                "reml": True,
                "vcov": "empirical",
                "expected": vals,
                "tolerance": 1e-4,
                "source": f"tests/testthat/test-empirical.R:{line}",
            }
        )
    t = text("_snaps/empirical.md")
    for kind, lit, vals in EMP_SNAP:
        emp.append(
            {
                "id": f"emp_snap_{kind}",
                "rhs": "ARMCD",
                "cov": "ar1",
                "reml": True,
                "vcov": kind,
                "expected": vals,
                "tolerance": 1e-4,
                "source": f"tests/testthat/_snaps/empirical.md:{_line(t, repr(vals[0]), t.find(lit))}",
            }
        )
    out = {
        "source": "openpharma/mmrm 0.3.18, tests/testthat",
        "commit": COMMIT,
        "snapshots": snaps,
        "residuals": resid,
        "between_within": bw,
        "empirical": emp,
        "data": "peer_data/mmrm__fev_data.csv (+ .levels.json)",
        "tolerance_rule": "testthat 3e / waldo: mean(|x - y|) / mean(|y|) < tolerance",
        "cases": cases,
    }
    Path(__file__).with_name("sas_fev.json").write_text(json.dumps(out, indent=1) + "\n")
    print(len(cases), "cases,", sum(len(c["checks"]) for c in cases), "checks")


if __name__ == "__main__":
    main(sys.argv[1])
