# %% [markdown]
# ## Single-case studies on the group-trial scale: the design-comparable SMD
#
# Within-case indices such as NAP and Tau-U describe each child separately and
# have no counterpart in a between-group trial. The design-comparable
# (between-case) standardized mean difference of Hedges, Pustejovsky & Shadish
# puts a multiple-baseline study on the scale of Hedges' *g* from a two-arm
# trial: the treatment effect is divided by the *total* (between- plus
# within-case) SD of the outcome, as a trial's SD would be. Two estimators are
# available, both as in R's scdhlm:
#
# * `rs.sced.bc_smd` fits a hierarchical model by REML (random case levels,
#   AR(1) errors within case; Pustejovsky, Hedges & Shadish, 2014) and reports
#   *g*<sub>AB</sub>: the effect at time *B* of a treatment started after time
#   *A* (by default: the end of the shortest baseline and that plus the
#   shortest treatment phase), with its SE, degrees of freedom ν and a
#   *t*(ν) interval;
# * `rs.sced.bc_smd_hps` gives the earlier moment estimator (Hedges et al.,
#   2013), which assumes no time trends.
#
# Laski, Charlop & Schreibman (1988) trained parents of eight autistic children
# in the Natural Language Paradigm; the outcome is the percentage of intervals
# with child speech, in a multiple baseline across participants (the data set
# bundled with scdhlm).

# %%
import sys
from pathlib import Path

import pandas as pd

import rehabstats as rs

# the published single-case data bundled with scdhlm travel with the repository's
# validation sets (tests/reference); fall back to ../shared/validation beside it
REPO = Path(rs.__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "reference"))
try:
    from validation_data import unpack_validation
    VALIDATION = unpack_validation()
except ImportError:
    VALIDATION = REPO.parent / "shared" / "validation"
BCSMD_DATA = VALIDATION / "bcsmd" / "datasets"
laski = pd.read_csv(BCSMD_DATA / "Laski.csv")
keys = dict(outcome="outcome", phase="condition", session="session", case="case")
laski.groupby(["case", "condition"]).size().unstack()

# %% [markdown]
# First the within-case view: NAP and Tau-U for each child (speech should increase).

# %%
within = rs.sced.effect_sizes(laski, **keys, indices=("nap", "tau_u"),
                              baseline_phase="baseline", treatment_phase="treatment",
                              improvement="increase")
within.pivot(index="case", columns="index", values="estimate")

# %% [markdown]
# Now one number for the study on the between-group scale. scdhlm's default
# model (random intercepts, a fixed change in level, AR(1) errors) gives
# *g*<sub>AB</sub> = 1.405 (SE 0.286, ν = 18.6) for these data; the HPS moment
# estimator gives 1.388 (the value printed in scdhlm's tests). A model with
# baseline trends and trend changes (time centred at *A* = 4) shows how much the
# estimate depends on the time-trend assumptions.

# %%
level = rs.sced.bc_smd(laski, **keys, treatment_phase="treatment")
trends = rs.sced.bc_smd(laski, **keys, treatment_phase="treatment", center=4,
                        fe_base=(0, 1), re_base=(0, 1), fe_trt=(0, 1))
hps = rs.sced.bc_smd_hps(laski, **keys, treatment_phase="treatment")
print(level.summary())
print(trends.summary())
print(hps.summary())
pd.concat([level.to_frame().assign(model="REML: level change"),
           trends.to_frame().assign(model="REML: level + trend change"),
           hps.to_frame().assign(model="HPS moment estimator")],
          ignore_index=True)[["model", "estimate", "se", "ci_low", "ci_high", "df",
                              "phi", "rho"]]

# %% [markdown]
# The within-case indices say each child improved (NAP from 0.74 to 1); the
# BC-SMD says by how much for the study as a whole, in SD units comparable with
# a trial. Its uncertainty is
# large because between-case variation is estimated from eight children
# (ν ≈ 19 degrees of freedom for the variance).
#
# ### Pooling single-case studies with `rs.meta.meta_analysis`
#
# Each `to_frame()` row carries `estimate` and `variance`, i.e. `yi` and `vi`.
# Here the BC-SMD of Laski is pooled with those of the two replicated
# multiple-baseline-across-behaviours studies of social-communication
# interventions for autistic children by Thiemann & Goldstein (2001, 2004),
# also bundled with scdhlm (series = behaviour within child; the same
# level-change model with random levels for children and for series).
# Group trials entered with `rs.meta.study_effects(..., measure="SMD")` would
# be stacked into the same table.

# %%
studies = {"Laski 1988": level}
for name in ("Thiemann2001", "Thiemann2004"):
    d = pd.read_csv(BCSMD_DATA / f"{name}.csv")
    studies[f"Thiemann & Goldstein {name[-4:]}"] = rs.sced.bc_smd(
        d, **keys, treatment_phase="treatment", design="RMBB", series="series")
table = pd.concat([r.to_frame().assign(study=s) for s, r in studies.items()],
                  ignore_index=True)
pooled = rs.meta.meta_analysis(table["estimate"].to_numpy(), table["variance"].to_numpy(),
                               labels=list(table["study"]), method="REML", test="hksj")
print(table[["study", "estimate", "se", "df"]].to_string(index=False))
print(pooled.summary())

# %%
pooled.forest()
