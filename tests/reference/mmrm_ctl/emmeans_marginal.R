# G-computation marginal means and arm differences per visit (rehabstats'
# MMRMResult.marginal_effect) on mmrm's fev_data, from emmeans on nlme::gls with compound
# symmetry (= mmrm's cs, REML) and an arm x baseline interaction (where G-computation
# differs from emmeans' default grid). Covariates are averaged over the subjects of the
# data (one row per subject, subjects without an observed FEV1 included, as mmrm's
# h_get_subject_data): emmeans' counterfactuals = c("ARMCD", "AVISIT") on a data set with
# each subject's row once per visit. The same numbers from weights = "proportional" on that
# data (the model is linear in the covariates). SEs are conditional on the covariates
# (L V L'); df "df.error" (n - p) and "satterthwaite".
# Run from this directory:  Rscript emmeans_marginal.R /work/shared/validation/peer_data
suppressPackageStartupMessages({library(nlme); library(emmeans); library(jsonlite)})
args <- commandArgs(TRUE)
peer <- if (length(args)) args[1] else "../../../../shared/validation/peer_data"
d <- read.csv(file.path(peer, "mmrm__fev_data.csv"))
lv <- fromJSON(file.path(peer, "mmrm__fev_data.levels.json"))
for (v in names(lv)) d[[v]] <- factor(d[[v]], levels = lv[[v]])
subj <- d[!duplicated(d$USUBJID), ]
subjv <- do.call(rbind, lapply(levels(d$AVISIT), function(v)
  transform(subj, AVISIT = factor(v, levels = levels(d$AVISIT)))))
do <- d[!is.na(d$FEV1), ]
rhs <- "FEV1_BL * ARMCD + RACE + ARMCD * AVISIT"
f <- gls(as.formula(paste("FEV1 ~", rhs)), do,
         correlation = corCompSymm(form = ~ VISITN | USUBJID), method = "REML",
         control = glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500))
one <- function(mode, how) {
  rg <- if (how == "counterfactuals") {
    ref_grid(f, counterfactuals = c("ARMCD", "AVISIT"), data = subjv, mode = mode)
  } else {
    ref_grid(f, data = subjv, mode = mode)
  }
  e <- if (how == "counterfactuals") emmeans(rg, ~ ARMCD | AVISIT) else
    emmeans(rg, ~ ARMCD | AVISIT, weights = "proportional")
  m <- as.data.frame(summary(e))
  p <- as.data.frame(summary(pairs(e, reverse = TRUE)))
  list(mode = mode, how = how,
       means = list(arm = as.character(m$ARMCD), visit = as.character(m$AVISIT),
                    estimate = m$emmean, se = m$SE, df = m$df),
       diffs = list(contrast = as.character(p$contrast), visit = as.character(p$AVISIT),
                    estimate = p$estimate, se = p$SE, df = p$df))
}
out <- list(source = paste("nlme", packageVersion("nlme"), "+ emmeans",
                           packageVersion("emmeans"), "(emmeans_marginal.R)"),
            rhs = rhs, cov = "cs", n_subjects = nrow(subj),
            loglik = as.numeric(logLik(f)),
            results = list(one("df.error", "counterfactuals"),
                           one("df.error", "proportional")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "emmeans_marginal.json")
