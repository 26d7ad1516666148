"""Registry of the "Coming from R" page: one row per R call users know.

Importable without Sphinx. Every :class:`Row` names

* ``r_call``: the R call as a user would type it;
* ``py``: the rehabstats equivalent, a short snippet whose last line is an expression giving
  one number (statements before it are allowed). It runs in the namespace of its
  :class:`Package`'s ``setup`` code (the named data sets and fitted models, shared by the rows);
* ``fixture`` and ``key``: where R's number lives: a JSON file under ``tests/reference/``
  (``validation/...`` = the vendored validation sets of ``tests/reference/validation.tar.xz``)
  and the path inside it (strings and integers index dicts and lists; a dict selects the first
  list element whose fields equal it);
* ``rtol`` / ``atol``: the tolerance of the comparison.

``docs/coming_from_r/build.py`` renders the registry to ``docs/coming_from_r.md``;
``tests/test_coming_from_r.py`` executes every row and compares it with R.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Closed forms (1e-8 relative, as the project's reference tests) and REML/ML fits (1e-5).
CLOSED = 1e-8
FIT = 1e-5

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Row:
    """One R call and its rehabstats equivalent."""

    r_call: str
    py: str
    fixture: str
    key: Key
    rtol: float = CLOSED
    atol: float = 0.0
    note: str = ""


@dataclass(frozen=True)
class Package:
    """One R package's table: the data/model setup shared by its rows, and the rows."""

    name: str
    title: str
    versions: str
    setup: str
    rows: tuple[Row, ...] = field(default_factory=tuple)
    intro: str = ""


# -- shared data sets -------------------------------------------------------------------------
# ``VALIDATION`` (the unpacked validation sets) and ``REFERENCE`` (tests/reference) are Paths
# provided by the runner; ``pd``, ``np`` and ``rs`` (rehabstats) are imported.

CIMT = """\
cimt = pd.read_csv(VALIDATION / "rct/cimt_n20_3v.csv")
cimt["arm"] = pd.Categorical(cimt["arm"], ["control", "cimt"])
cimt["visit"] = pd.Categorical(cimt["visit"], ["pre", "post", "followup"])"""

CIMT_FINAL = (
    CIMT
    + """
final = cimt[cimt["visit"] == "followup"]
x = final.loc[final["arm"] == "cimt", "outcome"]  # treatment
y = final.loc[final["arm"] == "control", "outcome"]  # control"""
)

RCT = "validation/rct/cimt_n20_3v.json"
MMRM = "validation/rct/mmrm/cimt_n20_3v.json"
ES_FIX = "effect_sizes/effect_size_fixtures.json"
CON = "models/contrasts/contrasts_reference.json"
SCED = "validation/sced/reference/Parker2009.json"


def _out(rid: str, *rest: Any) -> Key:
    return ("results", rid, "output", *rest)


EFFECTSIZE = Package(
    name="effectsize",
    title="effectsize",
    versions="effectsize 0.8.3 (R 4.2.2)",
    intro="Two-sample effect sizes at the final visit, treatment (`x`) versus control (`y`); "
    "paired ones on the `gain` example of `tests/reference/effect_sizes/`.",
    setup=CIMT_FINAL
    + """
gain = json.loads((REFERENCE / "effect_sizes/effect_size_fixtures.json").read_text())
pre, post = gain["paired"]["gain"]["pre"], gain["paired"]["gain"]["post"]""",
    rows=(
        Row(
            "cohens_d(x, y)",
            "rs.cohens_d(x, y).estimate",
            RCT,
            _out("effect_size.cohens_d", 0, "estimate"),
        ),
        Row(
            "cohens_d(x, y)  # CI lower",
            "rs.cohens_d(x, y).ci_low",
            RCT,
            _out("effect_size.cohens_d", 0, "ci_low"),
            rtol=1e-5,
            note="effectsize solves the noncentral-t limits with Nelder-Mead",
        ),
        Row(
            "cohens_d(x, y, pooled_sd = FALSE)  # CI upper",
            "rs.cohens_d(x, y, pooled_sd=False).ci_high",
            RCT,
            _out("effect_size.cohens_d_unpooled", 0, "ci_high"),
            rtol=1e-5,
        ),
        Row(
            "hedges_g(x, y)",
            "rs.hedges_g(x, y).estimate",
            RCT,
            _out("effect_size.hedges_g", 0, "estimate"),
        ),
        Row(
            "glass_delta(x, y)",
            "rs.glass_delta(x, y).estimate",
            RCT,
            _out("effect_size.glass_delta", 0, "estimate"),
        ),
        Row(
            "cliffs_delta(x, y)",
            "rs.cliffs_delta(x, y).estimate",
            RCT,
            _out("effect_size.cliffs_delta", 0, "estimate"),
        ),
        Row(
            "rank_biserial(x, y)",
            "rs.rank_biserial(x, y).estimate",
            RCT,
            _out("effect_size.rank_biserial", 0, "estimate"),
        ),
        Row(
            "cohens_d(post, pre, paired = TRUE)",
            "rs.cohens_d(post, pre, paired=True).estimate",
            ES_FIX,
            ("paired", "gain", "cohens_d_paired", "estimate"),
        ),
        Row(
            "hedges_g(post, pre, paired = TRUE)  # CI upper",
            "rs.hedges_g(post, pre, paired=True).ci_high",
            ES_FIX,
            ("paired", "gain", "hedges_g_paired", "ci_high"),
            rtol=1e-5,
        ),
        Row("d_to_r(0.5)", "float(rs.d_to_r(0.5))", ES_FIX, ("conversions", "d_to_r", 4)),
        Row(
            "oddsratio_to_d(4)",
            "float(rs.odds_ratio_to_d(4))",
            ES_FIX,
            ("conversions", "oddsratio_to_d", 4),
        ),
        Row(
            "d_to_oddsratio(0.8)",
            "float(rs.d_to_odds_ratio(0.8))",
            ES_FIX,
            ("conversions", "d_to_oddsratio", 5),
        ),
    ),
)

METAFOR = Package(
    name="metafor",
    title="metafor `escalc`",
    versions="metafor 3.8-1 (R 4.2.2)",
    intro="`escalc()` on the final-visit summaries (`SMD`), per arm on the pre/final pairs "
    "of the subjects observed at both (`SMCR`, `SMCC`), and on a 2 x 2 table "
    "(`tests/reference/effect_sizes/`).",
    setup=CIMT_FINAL
    + """
wide = cimt.pivot(index=["subject", "arm"], columns="visit", values="outcome").reset_index()
ctl, trt = wide[wide["arm"] == "control"], wide[wide["arm"] == "cimt"]
# a 2 x 2 table: 12/20 events under treatment, 5/20 under control
ai, n1i, ci, n2i = 12, 20, 5, 20""",
    rows=(
        Row(
            'escalc("SMD", m1i, sd1i, n1i, m2i, sd2i, n2i)$yi',
            "rs.hedges_g(x, y).estimate",
            RCT,
            _out("metafor.SMD_LS", 0, "yi"),
        ),
        Row(
            'escalc("SMD", ...)$vi',
            "rs.hedges_g(x, y).se ** 2",
            RCT,
            _out("metafor.SMD_LS", 0, "vi"),
        ),
        Row(
            'escalc("SMD", ..., vtype = "UB")$vi',
            'rs.hedges_g(x, y).details["var_unbiased"]',
            RCT,
            _out("metafor.SMD_UB", 0, "vi"),
        ),
        Row(
            'escalc("SMCR", m1i = mean(post), m2i = mean(pre), sd1i = sd(pre), ni, ri)$yi  # cimt',
            'rs.standardized_mean_change(trt["pre"], trt["followup"], standardizer="pre").estimate',
            RCT,
            _out("metafor.SMCR", "cimt", "yi"),
        ),
        Row(
            'escalc("SMCR", ...)$vi  # control',
            'rs.standardized_mean_change(ctl["pre"], ctl["followup"], standardizer="pre").se ** 2',
            RCT,
            _out("metafor.SMCR", "control", "vi"),
        ),
        Row(
            'escalc("SMCC", m1i, m2i, sd1i, sd2i, ni, ri)$yi  # cimt',
            'rs.standardized_mean_change(trt["pre"], trt["followup"],\n'
            '                            standardizer="change").estimate',
            RCT,
            _out("metafor.SMCC", "cimt", "yi"),
        ),
        Row(
            'escalc("SMCC", ...)$vi  # control',
            'rs.standardized_mean_change(ctl["pre"], ctl["followup"],\n'
            '                            standardizer="change").se ** 2',
            RCT,
            _out("metafor.SMCC", "control", "vi"),
        ),
        Row(
            'escalc("RR", ai = 12, n1i = 20, ci = 5, n2i = 20)$yi',
            "np.log(rs.risk_ratio(ai, n1i, ci, n2i).estimate)",
            ES_FIX,
            ("binary", 0, "rr", "yi"),
        ),
        Row(
            'escalc("OR", ai = 12, n1i = 20, ci = 5, n2i = 20)$vi',
            "rs.odds_ratio(ai, n1i, ci, n2i).se ** 2",
            ES_FIX,
            ("binary", 0, "or", "vi"),
        ),
        Row(
            'escalc("RD", ai = 12, n1i = 20, ci = 5, n2i = 20)$vi',
            "rs.risk_difference(ai, n1i, ci, n2i).se ** 2",
            ES_FIX,
            ("binary", 0, "rd", "vi"),
        ),
    ),
)

LME4 = Package(
    name="lme4",
    title="lme4 / lmerTest / pbkrtest",
    versions="lme4 1.1-31, lmerTest 3.1-3, pbkrtest 0.5.2 (R 4.2.2)",
    intro="`m <- lmer(outcome ~ arm * visit + (1 | subject), data = cimt)` (REML) and the "
    "random-slope model `(1 + visit_index | subject)`.",
    setup=CIMT
    + """
m = rs.lmm("outcome ~ arm * visit", cimt, subject="subject")
m_rs = rs.lmm("outcome ~ arm * visit", cimt, subject="subject", random="1 + visit_index")""",
    rows=(
        Row("logLik(m)  # REML", "m.loglik", RCT, _out("lmer.ri.fit", "reml_loglik"), rtol=FIT),
        Row("AIC(m)", "m.aic", RCT, _out("lmer.ri.fit", "AIC"), rtol=FIT),
        Row("sigma(m)", "m.sigma", RCT, _out("lmer.ri.fit", "sigma"), rtol=FIT),
        Row(
            'fixef(m)["armcimt:visitpost"]',
            "m.beta[4]",
            RCT,
            _out("lmer.ri.fit", "fixef", "armcimt:visitpost"),
            rtol=FIT,
        ),
        Row(
            "VarCorr(m)  # subject variance",
            'm.variance_components["variance_or_cov"].iloc[0]',
            RCT,
            _out("lmer.ri.fit", "variance_components", 0, "variance_or_cov"),
            rtol=FIT,
        ),
        Row(
            'summary(m, ddf = "Satterthwaite")  # df of armcimt',
            'm.coef(df_method="satterthwaite").loc[1, "df"]',
            RCT,
            _out("lmer.ri.summary_satterthwaite", {"term": "armcimt"}, "df"),
            rtol=FIT,
        ),
        Row(
            'summary(m, ddf = "Kenward-Roger")  # SE of armcimt:visitpost',
            'm.coef(df_method="kenward-roger").loc[4, "se"]',
            RCT,
            _out("lmer.ri.summary_kenward_roger", {"term": "armcimt:visitpost"}, "se"),
            rtol=FIT,
        ),
        Row(
            'anova(m, type = "III", ddf = "Satterthwaite")  # F of arm:visit',
            'm.anova(df_method="satterthwaite").loc[2, "F"]',
            RCT,
            _out("lmer.ri.anova_satterthwaite", {"term": "arm:visit"}, "F"),
            rtol=FIT,
        ),
        Row(
            'anova(m, type = "III", ddf = "Kenward-Roger")  # den df of arm',
            'm.anova(df_method="kenward-roger").loc[0, "den_df"]',
            RCT,
            _out("lmer.ri.anova_kenward_roger", {"term": "arm"}, "den_df"),
            rtol=FIT,
        ),
        Row(
            "logLik(lmer(outcome ~ arm * visit + (1 + visit_index | subject)))",
            "m_rs.loglik",
            RCT,
            _out("lmer.rs.fit", "reml_loglik"),
            rtol=0,
            atol=1e-7,
            note="lme4's default optimiser stops ~1e-8 short of the optimum",
        ),
    ),
)

EMMEANS = Package(
    name="emmeans",
    title="emmeans",
    versions="emmeans 1.8.4-1 (R 4.2.2)",
    intro="On the lmer fit `m` above (`cimt`), and on the three-arm trial (`threearm`: "
    "control / low / high) with `fit <- lm(outcome ~ arm + baseline, data = week24)` and "
    "`m3 <- lmer(outcome ~ arm * visit + (1 | subject))` (and its unstructured MMRM `g3`): "
    "the default adjustments.",
    setup=CIMT
    + """
m = rs.lmm("outcome ~ arm * visit", cimt, subject="subject")
threearm = pd.read_csv(VALIDATION / "rct/threearm_n45_4v.csv")
threearm["arm"] = pd.Categorical(threearm["arm"], ["control", "low", "high"])
threearm["visit"] = pd.Categorical(threearm["visit"], ["baseline", "week6", "week12", "week24"])
week24 = threearm[threearm["visit"] == "week24"]
fit = rs.ancova(week24, outcome="outcome", arm="arm", baseline="baseline")
two = week24[week24["arm"] != "low"].copy()
two["arm"] = two["arm"].cat.remove_unused_categories()
fit2 = rs.ancova(two, outcome="outcome", arm="arm", baseline="baseline")
m3 = rs.lmm("outcome ~ arm * visit", threearm, subject="subject")
g3 = rs.mmrm("outcome ~ arm * visit", threearm, subject="subject", visit="visit")""",
    rows=(
        Row(
            'emmeans(m, ~ arm | visit, lmer.df = "satterthwaite")  # cimt at post',
            'm.emmeans("arm", by="visit").loc[3, "estimate"]',
            RCT,
            _out("lmer.ri.emmeans_satterthwaite", "emmeans", 3, "emmean"),
            rtol=FIT,
        ),
        Row(
            'emmeans(m, ~ arm | visit, lmer.df = "satterthwaite")  # its df',
            'm.emmeans("arm", by="visit").loc[3, "df"]',
            RCT,
            _out("lmer.ri.emmeans_satterthwaite", "emmeans", 3, "df"),
            rtol=FIT,
        ),
        Row(
            'pairs(emmeans(m, ~ arm | visit, lmer.df = "kenward-roger"), reverse = TRUE)  # SE',
            'm.contrasts("arm", by="visit", method="revpairwise",\n'
            '            df_method="kenward-roger").loc[1, "se"]',
            RCT,
            _out("lmer.ri.emmeans_kenward_roger", "contrasts", 1, "se"),
            rtol=FIT,
        ),
        Row(
            'pairs(emmeans(fit, ~ arm))  # p, "control - low" (tukey)',
            'fit.contrasts("arm").loc[0, "p"]',
            CON,
            ("ancova", "tables", "pairwise", "default", "p", 0),
            rtol=1e-6,
        ),
        Row(
            'contrast(emmeans(fit, ~ arm), "trt.vs.ctrl")  # p, "low - control" (dunnettx)',
            'fit.contrasts("arm", method="trt.vs.ctrl").loc[0, "p"]',
            CON,
            ("ancova", "tables", "trt.vs.ctrl", "default", "p", 0),
            rtol=1e-6,
        ),
        Row(
            'contrast(emmeans(fit, ~ arm), "trt.vs.ctrl", ref = 3)  # CI upper',
            'fit.contrasts("arm", method="trt.vs.ctrl", ref="high").loc[0, "ci_high"]',
            CON,
            ("ancova", "tables", "trt.vs.ctrl_ref3", "default", "ci_high", 0),
            rtol=1e-6,
        ),
        Row(
            'pairs(emmeans(fit, ~ arm), adjust = "holm")  # p, "control - high"',
            'fit.contrasts("arm", adjust="holm").loc[1, "p"]',
            CON,
            ("ancova", "tables", "pairwise", "holm", "p", 1),
        ),
        Row(
            "pairs(emmeans(fit2, ~ arm))  # one contrast: no adjustment",
            'fit2.contrasts("arm").loc[0, "p"]',
            CON,
            ("ancova_two_arms", "tables", "pairwise", "default", "p"),
        ),
        Row(
            'pairs(emmeans(m3, ~ arm | visit), reverse = TRUE)  # p, "high - control" at week12',
            'm3.contrasts("arm", by="visit", method="revpairwise").loc[7, "p"]',
            CON,
            ("lmm", "satterthwaite", "revpairwise", "default", "p", 7),
            rtol=1e-4,
            note="tukey per visit; Satterthwaite df",
        ),
        Row(
            'pairs(emmeans(gls_fit, ~ arm | visit, mode = "asymptotic"), reverse = TRUE)  # p',
            'g3.contrasts("arm", by="visit", method="revpairwise",\n'
            '             df_method="asymptotic").loc[3, "p"]',
            CON,
            ("mmrm", "asymptotic", "revpairwise", "default", "p", 3),
            rtol=1e-4,
            note="gls_fit = nlme::gls(corSymm, varIdent), the unstructured MMRM",
        ),
    ),
)

MMRM_PKG = Package(
    name="mmrm",
    title="mmrm",
    versions="mmrm 0.3.18 (R 4.2.2, tight `nlminb` fits)",
    intro="`fit <- mmrm(outcome ~ arm * visit + us(visit | subject), data = cimt)` and other "
    "covariance structures; contrasts are treatment minus control per visit.",
    setup=CIMT
    + """
fit = rs.mmrm("outcome ~ arm * visit", cimt, subject="subject", visit="visit", covariance="us")
fit_cs = rs.mmrm("outcome ~ arm * visit", cimt, subject="subject", visit="visit", covariance="cs")
fit_ar1 = rs.mmrm("outcome ~ arm * visit", cimt, subject="subject", visit="visit", covariance="ar1")""",
    rows=(
        Row("logLik(fit)", "fit.loglik", MMRM, _out("mmrm.us.tight", "reml_loglik"), rtol=CLOSED),
        Row("AIC(fit)", "fit.aic", MMRM, _out("mmrm.us.tight", "AIC"), rtol=CLOSED),
        Row("BIC(fit)", "fit.bic", MMRM, _out("mmrm.us.tight", "BIC"), rtol=CLOSED),
        Row(
            'component(fit, "varcor")[3, 3]',
            "fit.covariance_matrix.iloc[2, 2]",
            MMRM,
            _out("mmrm.us.tight", "covariance", "values", 2, 2),
            rtol=FIT,
        ),
        Row(
            "df_1d(fit, L)  # Satterthwaite, cimt - control at post",
            'fit.contrasts("arm", by="visit", method="revpairwise",\n'
            '             df_method="satterthwaite").loc[1, "df"]',
            MMRM,
            _out("mmrm.us.tight", "contrasts_satterthwaite", 1, "df"),
            rtol=1e-4,
        ),
        Row(
            'mmrm(..., method = "Kenward-Roger")  # SE of the contrast at post',
            'fit.contrasts("arm", by="visit", method="revpairwise",\n'
            '             df_method="kenward-roger").loc[1, "se"]',
            MMRM,
            _out("mmrm.us.tight", "kenward_roger", "contrasts", 1, "se"),
            rtol=FIT,
        ),
        Row(
            'mmrm(..., method = "Kenward-Roger", vcov = "Kenward-Roger-Linear")  # SE',
            'fit.contrasts("arm", by="visit", method="revpairwise",\n'
            '             df_method="kenward-roger-linear").loc[1, "se"]',
            MMRM,
            _out("mmrm.us.tight", "kenward_roger_linear", "contrasts", 1, "se"),
            rtol=FIT,
        ),
        Row(
            "AIC(mmrm(outcome ~ arm * visit + cs(visit | subject)))",
            "fit_cs.aic",
            MMRM,
            _out("mmrm.cs.tight", "AIC"),
            rtol=CLOSED,
        ),
        Row(
            "logLik(mmrm(outcome ~ arm * visit + ar1(visit | subject)))",
            "fit_ar1.loglik",
            MMRM,
            _out("mmrm.ar1.tight", "reml_loglik"),
            rtol=CLOSED,
        ),
    ),
)

AFEX = Package(
    name="afex",
    title="afex",
    versions="afex 1.2-1 (R 4.2.2)",
    intro='`a <- aov_ez(id = "subject", dv = "outcome", data = cimt, between = "arm", '
    'within = "visit")` (type III, Greenhouse-Geisser, generalised eta squared).',
    setup=CIMT
    + """
a = rs.models.mixed_anova(cimt, outcome="outcome", arm="arm", visit="visit", subject="subject")""",
    rows=(
        Row(
            "a$anova_table  # F of visit",
            'a.table.loc[1, "F"]',
            RCT,
            _out("afex.aov_ez", "anova_GG", 1, "F"),
        ),
        Row(
            "a$anova_table  # GG-corrected num df of arm:visit",
            'a.table.loc[2, "num_df"]',
            RCT,
            _out("afex.aov_ez", "anova_GG", 2, "num_df"),
        ),
        Row(
            "a$anova_table  # ges of arm",
            'a.table.loc[0, "ges"]',
            RCT,
            _out("afex.aov_ez", "anova_GG", 0, "ges"),
        ),
        Row(
            "a$anova_table  # p of arm:visit",
            'a.table.loc[2, "p"]',
            RCT,
            _out("afex.aov_ez", "anova_GG", 2, "p"),
        ),
        Row(
            'anova(a, correction = "none")  # p of visit',
            'a.uncorrected.loc[1, "p"]',
            RCT,
            _out("afex.aov_ez", "anova_uncorrected", 1, "p"),
        ),
        Row(
            "summary(a)$pval.adjustments  # GG epsilon",
            'a.table.loc[1, "epsilon"]',
            RCT,
            _out("afex.aov_ez", "sphericity_epsilons", 0, "GG_eps"),
        ),
    ),
)

SCED_SETUP = """\
p09 = pd.read_csv(VALIDATION / "sced/datasets/Parker2009.csv")  # Case1, A1-B1-A2-B2
A = p09.loc[p09["phase"] == "A1", "outcome"].to_numpy()  # first baseline
B = p09.loc[p09["phase"] == "B1", "outcome"].to_numpy()  # first treatment phase"""


def _rec(rid: int, *rest: Any) -> Key:
    return ({"record_id": rid}, "output", *rest)


def _sces(fn: str, n: int) -> str:
    return f"Parker2009|Case1|SingleCaseES|{fn}|{n}"


def _scan(fn: str, n: int) -> str:
    return f"Parker2009|Case1|scan|{fn}|{n}"


SINGLECASEES = Package(
    name="SingleCaseES",
    title="SingleCaseES",
    versions="SingleCaseES 0.7.4 (R 4.2.2)",
    intro="`FUN(A_data = A, B_data = B)` on the first A-B pair of Parker (2009), case 1 "
    "(percentages; the baseline is constant at 0).",
    setup=SCED_SETUP,
    rows=(
        Row(
            "NAP(A_data = A, B_data = B)",
            "rs.sced.nap(A, B).estimate",
            SCED,
            _rec(_sces("NAP", 13797), "Est"),
        ),
        Row(
            "NAP(A_data = A, B_data = B)  # SE",
            "rs.sced.nap(A, B).se",
            SCED,
            _rec(_sces("NAP", 13797), "SE"),
        ),
        Row(
            'Tau(A, B, SE = "Hanley")  # SE',
            'rs.sced.tau(A, B, se_method="hanley").se',
            SCED,
            _rec(_sces("Tau", 13802), "SE"),
        ),
        Row(
            "Tau_U(A, B)", "rs.sced.tau_u(A, B).estimate", SCED, _rec(_sces("Tau_U", 13804), "Est")
        ),
        Row(
            "Tau_BC(A, B, Kendall = TRUE)",
            "rs.sced.tau_bc(A, B, kendall=True).estimate",
            SCED,
            _rec(_sces("Tau_BC", 13807), "Est"),
            rtol=1e-6,
            note="Kendall's tau-b from the Kendall package (single precision)",
        ),
        Row("PND(A, B)", "rs.sced.pnd(A, B).estimate", SCED, _rec(_sces("PND", 13811), "Est")),
        Row("PEM(A, B)", "rs.sced.pem(A, B).estimate", SCED, _rec(_sces("PEM", 13812), "Est")),
        Row("PAND(A, B)", "rs.sced.pand(A, B).estimate", SCED, _rec(_sces("PAND", 13813), "Est")),
        Row("IRD(A, B)", "rs.sced.ird(A, B).estimate", SCED, _rec(_sces("IRD", 13814), "Est")),
        Row(
            'SMD(A, B, std_dev = "pool")',
            'rs.sced.smd(A, B, standardizer="pooled").estimate',
            SCED,
            _rec(_sces("SMD", 13817), "Est"),
        ),
        Row(
            'LRRd(A, B, improvement = "increase", scale = "percentage")',
            'rs.sced.lrrd(A, B, improvement="increase", scale="percentage").estimate',
            SCED,
            _rec(_sces("LRRd", 13819), "Est"),
        ),
    ),
)

SCAN = Package(
    name="scan",
    title="scan",
    versions="scan 0.67.1 (R 4.2.2)",
    intro="`FUN(scdf)` on the same first A-B pair of Parker (2009), case 1, and `scdf2` = "
    "its second A-B pair (`ab2`) for `plm` and `rand_test`. scan reports percentages "
    "where rehabstats reports proportions.",
    setup=SCED_SETUP
    + """
ab2 = p09[p09["phase"].isin(["A2", "B2"])]  # second A-B pair
plm = rs.sced.piecewise_regression(
    ab2, outcome="outcome", phase="phase", session="session"
).to_frame()
rt = rs.sced.randomization_test(
    ab2,
    outcome="outcome",
    phase="phase",
    session="session",
    baseline_phase="A2",
    treatment_phase="B2",
    min_phase_length=4,
)""",
    rows=(
        Row(
            "nap(scdf)$nap$NAP",
            "100 * rs.sced.nap(A, B).estimate",
            SCED,
            _rec(_scan("nap", 13833), "NAP"),
        ),
        Row(
            "pnd(scdf)", "100 * rs.sced.pnd(A, B).estimate", SCED, _rec(_scan("pnd", 13830), "PND")
        ),
        Row(
            "pem(scdf)  # ties with the median count 0",
            '100 * rs.sced.pem(A, B).details["pem_strict"]',
            SCED,
            _rec(_scan("pem", 13831), "PEM"),
        ),
        Row(
            'pand(scdf, method = "minimum")',
            '100 * rs.sced.pand(A, B, method="minimum").estimate',
            SCED,
            _rec(_scan("pand", 13834), "pand"),
        ),
        Row(
            'pand(scdf, method = "sort")',
            '100 * rs.sced.pand(A, B, method="sort").estimate',
            SCED,
            _rec(_scan("pand", 13836), "pand"),
        ),
        Row("ird(scdf)", "rs.sced.ird(A, B).estimate", SCED, _rec(_scan("ird", 13835), "ird")),
        Row(
            "smd(scdf)  # Hedges' g correction",
            'rs.sced.smd(A, B, standardizer="pooled").estimate',
            SCED,
            _rec(_scan("smd", 13837), "Hedges' g correction"),
        ),
        Row(
            'tau_u(scdf, method = "complete")  # A vs. B Tau',
            'rs.sced.tau_u_table(A, B).loc[0, "Tau"]',
            SCED,
            _rec(_scan("tau_u", 13843), "table", 0, "Tau"),
        ),
        Row(
            "overlap(scdf)$Base_Tau  # = corrected_tau(scdf)$tau",
            "rs.sced.corrected_tau(A, B, baseline_sessions=np.arange(1, 8),\n"
            "                      treatment_sessions=np.arange(8, 24)).estimate",
            SCED,
            _rec(_scan("overlap", 13829), "Base_Tau"),
        ),
        Row(
            "overlap(scdf)$Diff_trend",
            'rs.sced.describe(p09[p09["phase"].isin(["A1", "B1"])], outcome="outcome",\n'
            '                 phase="phase", session="session").transitions.loc[0, "trend_change"]',
            SCED,
            _rec(_scan("overlap", 13829), "Diff_trend"),
        ),
        Row(
            'plm(scdf2)  # model "W": level effect',
            'plm.loc[2, "estimate"]',
            SCED,
            _rec(_scan("plm", 13920), "coefficients", 2, "estimate"),
        ),
        Row(
            "plm(scdf2)  # p of the slope effect",
            'plm.loc[3, "p"]',
            SCED,
            _rec(_scan("plm", 13920), "coefficients", 3, "p"),
        ),
        Row(
            'rand_test(scdf2, statistic = "Mean B-A", limit = 4, complete = TRUE)$p.value',
            "rt.p_value",
            SCED,
            _rec(_scan("rand_test", 13924), "p_value"),
        ),
        Row(
            "rand_test(scdf2, ...)  # observed statistic",
            "rt.statistic",
            SCED,
            _rec(_scan("rand_test", 13924), "observed_statistic"),
        ),
    ),
)

PSYCH = Package(
    name="psych",
    title="psych (ICC)",
    versions="psych 2.2.9 (R 4.2.2)",
    intro="`ICC(sf)` on Shrout & Fleiss's (1979) 6 targets x 4 judges, in long format.",
    setup="""\
ref = json.loads((REFERENCE / "change/icc_reference.json").read_text())
sf = np.array(ref["shrout_fleiss_alpha0.05"]["data"])  # 6 targets x 4 judges
ratings = pd.DataFrame(
    {"subject": np.repeat(np.arange(6), 4), "rater": np.tile(np.arange(4), 6), "score": sf.ravel()}
)
icc = rs.change.icc(ratings, subject="subject", rater="rater", score="score").to_frame()""",
    rows=(
        Row(
            "ICC(sf)$results  # ICC1",
            'icc.loc[0, "icc"]',
            "change/icc_reference.json",
            ("shrout_fleiss_alpha0.05", "icc", 0),
        ),
        Row(
            "ICC(sf)$results  # ICC2",
            'icc.loc[1, "icc"]',
            "change/icc_reference.json",
            ("shrout_fleiss_alpha0.05", "icc", 1),
        ),
        Row(
            "ICC(sf)$results  # ICC3 lower bound",
            'icc.loc[2, "ci_low"]',
            "change/icc_reference.json",
            ("shrout_fleiss_alpha0.05", "ci_low", 2),
        ),
        Row(
            "ICC(sf)$results  # ICC2k upper bound",
            'icc.loc[4, "ci_high"]',
            "change/icc_reference.json",
            ("shrout_fleiss_alpha0.05", "ci_high", 4),
        ),
        Row(
            "ICC(sf)$results  # F of ICC3",
            'icc.loc[2, "f"]',
            "change/icc_reference.json",
            ("shrout_fleiss_alpha0.05", "f", 2),
        ),
        Row(
            "ICC(sf)$results  # p of ICC1",
            'icc.loc[0, "p"]',
            "change/icc_reference.json",
            ("shrout_fleiss_alpha0.05", "p", 0),
        ),
    ),
)

MMRM13 = "mmrm13/sas_fev.json"


def _sas(case: str, quantity: str, i: int = 0) -> Key:
    return ("cases", {"id": case}, "checks", {"quantity": quantity}, "expected", i)


MMRM_FEV = Package(
    name="mmrm_fev",
    title="mmrm on fev_data (SAS values in mmrm's tests)",
    versions="mmrm 0.3.18 tests/testthat (SAS PROC MIXED; mmrm snapshots)",
    intro="mmrm's own `fev_data`; the numbers are the SAS PROC MIXED values and mmrm snapshots "
    "written in mmrm's test files (source line in the fixture), at mmrm's tolerances.",
    setup="""\
import json

fev = pd.read_csv(VALIDATION / "peer_data/mmrm__fev_data.csv")
for k, v in json.loads((VALIDATION / "peer_data/mmrm__fev_data.levels.json").read_text()).items():
    fev[k] = pd.Categorical(fev[k], categories=v)
obs = fev.dropna(subset=["FEV1"])
kw = dict(subject="USUBJID", visit="AVISIT")
fit_ad = rs.mmrm("FEV1 ~ 1", obs, covariance="ad", **kw)
fit_ar1 = rs.mmrm("FEV1 ~ ARMCD", obs, covariance="ar1", **kw)
fit_sp = rs.mmrm("FEV1 ~ 1", obs, covariance="sp_exp", time="VISITN", **kw)
fit_us = rs.mmrm("FEV1 ~ RACE + SEX + ARMCD * AVISIT", obs, **kw)
fit_cs = rs.mmrm("FEV1 ~ ARMCD", obs, covariance="cs", **kw)""",
    rows=(
        Row(
            "deviance(mmrm(FEV1 ~ ad(AVISIT | USUBJID)))",
            "-2 * fit_ad.loglik",
            MMRM13,
            _sas("ad_reml", "deviance"),
            rtol=1e-8,
        ),
        Row(
            "deviance(mmrm(FEV1 ~ sp_exp(VISITN | USUBJID)))",
            "-2 * fit_sp.loglik",
            MMRM13,
            _sas("sp_exp_reml", "deviance"),
            rtol=1e-8,
        ),
        Row(
            'df_1d(mmrm(FEV1 ~ ARMCD + ar1(AVISIT | USUBJID), method = "Kenward-Roger"), '
            "c(0, 1))$se",
            'fit_ar1.test([0, 1], df_method="kenward-roger")["se"].iloc[0]',
            MMRM13,
            _sas("ar1_kr", "kr_se"),
            rtol=1e-4,
        ),
        Row(
            'car::Anova(fit, type = "II")  # F of RACE, fit = FEV1 ~ RACE + SEX + ARMCD * '
            "AVISIT + us(AVISIT | USUBJID)",
            'fit_us.anova(type=2).set_index("term").loc["RACE", "F"]',
            MMRM13,
            ("snapshots", {"id": "anova2_get_mmrm"}, "F", 0),
            rtol=1e-4,
            note="mmrm's snapshot comes from its default (not tightened) nlminb fit",
        ),
        Row(
            "predict(fit, fev_data, conditional = TRUE)  # PT1 at VIS1 (FEV1 missing), "
            "fit = FEV1 ~ ARMCD + cs(AVISIT | USUBJID)",
            'fit_cs.predict(fev, interval="prediction")["estimate"].iloc[0]',
            MMRM13,
            (
                "cases",
                {"id": "cs_pred_satterthwaite"},
                "checks",
                {"quantity": "pred_rows_1_3"},
                "expected",
                0,
            ),
            rtol=1e-4,
        ),
    ),
)

PACKAGES: tuple[Package, ...] = (
    EFFECTSIZE,
    METAFOR,
    LME4,
    EMMEANS,
    MMRM_PKG,
    MMRM_FEV,
    AFEX,
    SINGLECASEES,
    SCAN,
    PSYCH,
)
