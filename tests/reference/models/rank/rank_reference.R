# Rank-deficient fixed effects: R references for rehabstats' tests.
# Run from this folder:  Rscript rank_reference.R   (writes rank_reference.json and the CSVs)
# R 4.2, lme4, lmerTest 3.1-3, nlme, jsonlite (Debian packages).
suppressPackageStartupMessages({library(lmerTest); library(nlme); library(jsonlite)})
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-14, xtol_rel = 1e-14,
                                    ftol_rel = 1e-14, maxeval = 1e5))
out <- list()

coef_df <- function(tab) data.frame(term = rownames(tab), estimate = tab[, 1], se = tab[, 2],
                                    df = tab[, "df"], p = tab[, ncol(tab)], row.names = NULL)
anova_df <- function(an) data.frame(term = rownames(an), num_df = an$NumDF, den_df = an$DenDF,
                                    F = an[["F value"]], p = an[["Pr(>F)"]], row.names = NULL)

# 1. lmerTest's carrots model checked against SAS (tests/test_compare_sas.R):
#    28 estimable of 40 columns, contr.SAS coding for Frequency and Income.
l <- list(Frequency = "contr.SAS", Income = "contr.SAS")
for (ctl in c("default", "tight")) {
  m <- if (ctl == "tight") {
    lmer(Preference ~ sens2 * Frequency * Income + (1 + sens2 | Consumer), data = carrots,
         contrasts = l, control = tight)
  } else {
    lmer(Preference ~ sens2 * Frequency * Income + (1 + sens2 | Consumer), data = carrots,
         contrasts = l)
  }
  X <- model.matrix(lm(Preference ~ sens2 * Frequency * Income, data = carrots, contrasts = l))
  out[[paste0("carrots.", ctl)]] <- list(
    call = paste0("lmer(Preference ~ sens2 * Frequency * Income + (1 + sens2 | Consumer), ",
                  "data = carrots, contrasts = list(Frequency = 'contr.SAS', Income = 'contr.SAS')",
                  if (ctl == "tight") ", control = nloptwrap tolerances 1e-14" else "", ")"),
    n_columns = ncol(X), kept = names(fixef(m)),
    dropped = setdiff(colnames(X), names(fixef(m))),
    reml_loglik = as.numeric(logLik(m)),
    coefficients = coef_df(summary(m)$coefficients),
    anova = anova_df(anova(m, type = "III")))
}
# values hard-coded in lmerTest's tests/test_compare_sas.R (checked against SAS, TOL 1e-4)
out[["carrots.sas"]] <- list(
  source = "runehaubo/lmerTestR tests/test_compare_sas.R lines 15-44",
  anova_p = c(2e-5, 0.15512, 0.06939, 0.08223, 0.52459, 0.03119, 0.48344),
  anova_den_df_rounded = rep(83, 7),
  coef_p = c(1e-10, 0.005061, 0.6865554, 0.342613, 0.129157, 0.088231, 0.846000, 0.354472,
             0.526318, 0.020646, 0.010188, 0.031242, 0.055356, 0.694689, 0.099382, 0.28547,
             0.977774, 0.855653, 0.427737, 0.321086, 0.417465, 0.204385, 0.784437, 0.681434,
             0.106180, 0.149122, 0.390870, 0.273686), tol = 1e-4)

# 2. lm (ANCOVA) with an aliased covariate: baseline_pct = 100 * baseline / 40.
set.seed(7)
n <- 24
d <- data.frame(arm = rep(c("control", "cimt"), each = n / 2), baseline = round(rnorm(n, 30, 5), 1))
d$baseline_pct <- 2.5 * d$baseline
d$age <- round(runif(n, 40, 80))
d$y <- round(d$baseline * 0.8 + 5 + 3 * (d$arm == "cimt") + rnorm(n, 0, 3), 2)
write.csv(d, "ancova_aliased.csv", row.names = FALSE)
d$arm <- factor(d$arm, levels = c("control", "cimt"))
f <- lm(y ~ arm + baseline + baseline_pct + age, data = d)
s <- summary(f)$coefficients
out[["lm.ancova"]] <- list(
  call = "lm(y ~ arm + baseline + baseline_pct + age, data = ancova_aliased.csv)",
  coef_with_na = as.list(coef(f)), aliased = I(names(which(is.na(coef(f))))),
  coefficients = data.frame(term = rownames(s), estimate = s[, 1], se = s[, 2],
                            t = s[, 3], p = s[, 4], row.names = NULL),
  df_residual = f$df.residual, sigma = summary(f)$sigma, loglik = as.numeric(logLik(f)))

# 3. MMRM (unstructured, REML) with an empty arm x visit cell and an aliased covariate,
#    fitted by nlme::gls on the columns lm keeps (lm/lme4/mmrm drop the same ones).
d <- read.csv("../mmrm/sim_n30_4v_intermittent.csv")
d <- d[!is.na(d$outcome), ]
d <- d[!(d$arm == "active" & d$visit == "v3"), ]
d$age_months <- 12 * d$age
write.csv(d, "mmrm_aliased.csv", row.names = FALSE)
d$arm <- factor(d$arm, levels = c("control", "active"))
d$visit <- factor(d$visit, levels = paste0("v", 0:3))
d$subject <- factor(d$subject)
fl <- lm(outcome ~ arm * visit + age + age_months, data = d)
keep <- names(which(!is.na(coef(fl))))
Xk <- model.matrix(fl)[, keep]
colnames(Xk) <- make.names(colnames(Xk))
dd <- cbind(d, Xk)
gf <- as.formula(paste("outcome ~ 0 +", paste(colnames(Xk), collapse = " + ")))
g <- gls(gf, data = dd, correlation = corSymm(form = ~ visit_index | subject),
         weights = varIdent(form = ~ 1 | visit), method = "REML",
         control = glsControl(msMaxIter = 500, tolerance = 1e-10, msTol = 1e-10))
s <- summary(g)$tTable
out[["mmrm.us"]] <- list(
  call = paste("nlme::gls(outcome ~ 0 + <lm's non-aliased columns of",
               "outcome ~ arm * visit + age + age_months>, corSymm + varIdent(~1|visit), REML)"),
  aliased = I(names(which(is.na(coef(fl))))), kept = keep,
  reml_loglik = as.numeric(logLik(g)),
  coefficients = data.frame(term = keep, estimate = s[, 1], se = s[, 2], row.names = NULL))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "rank_reference.json")
