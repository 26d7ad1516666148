# Reference values for LinearModelResult.contrasts() (tests/models/test_contrasts.py).
# R 4.2.2, emmeans 1.8.4-1, lme4 1.1-31, lmerTest 3.1-3, pbkrtest 0.5.2, nlme 3.1-162 (Debian).
# Data: ../shared/validation/rct/threearm_n45_4v.csv (control / low / high, 15 each, 4 visits).
# Run from this directory:  Rscript contrasts_reference.R   -> contrasts_reference.json
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(emmeans); library(nlme)
  library(jsonlite)
})
emm_options(pbkrtest.limit = 1e6, lmerTest.limit = 1e6)
d <- read.csv("../../../../../shared/validation/rct/threearm_n45_4v.csv", stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("control", "low", "high"))
d$visit <- factor(d$visit, levels = c("baseline", "week6", "week12", "week24"))
d <- d[!is.na(d$outcome), ]

ADJUST <- c("none", "tukey", "sidak", "bonferroni", "holm", "hochberg", "BH", "BY", "fdr",
            "dunnettx", "scheffe")
METHODS <- list(pairwise = list(method = "pairwise"),
                revpairwise = list(method = "revpairwise"),
                trt.vs.ctrl = list(method = "trt.vs.ctrl"),
                trt.vs.ctrl_ref3 = list(method = "trt.vs.ctrl", ref = 3))

table_of <- function(emm, method, adjust, level = 0.95) {
  msgs <- character(0)
  res <- withCallingHandlers({
    args <- c(list(emm), method)
    if (!is.null(adjust)) args$adjust <- adjust
    con <- do.call(contrast, args)
    s <- summary(con, infer = TRUE, level = level)
    s
  }, message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") })
  x <- as.data.frame(res)
  out <- list(contrast = as.character(x$contrast), estimate = x$estimate, se = x$SE,
              df = x$df, ci_low = if (!is.null(x$lower.CL)) x$lower.CL else x$asymp.LCL,
              ci_high = if (!is.null(x$upper.CL)) x$upper.CL else x$asymp.UCL,
              t = if (!is.null(x$t.ratio)) x$t.ratio else x$z.ratio,
              p = x$p.value, adjust_used = attr(res, "adjust"),
              mesg = attr(res, "mesg"), notes = msgs)
  for (b in attr(res, "by.vars")) out[[b]] <- as.character(x[[b]])
  out
}
all_tables <- function(emm, adjusts = ADJUST, methods = METHODS) {
  out <- list()
  for (mn in names(methods)) {
    out[[mn]] <- list(default = table_of(emm, methods[[mn]], NULL))
    for (a in adjusts) out[[mn]][[a]] <- table_of(emm, methods[[mn]], a)
  }
  out
}

ref <- list(r_version = R.version.string,
            packages = lapply(c(emmeans = "emmeans", lme4 = "lme4", lmerTest = "lmerTest",
                                pbkrtest = "pbkrtest", nlme = "nlme"),
                              function(p) as.character(packageVersion(p))),
            data = "threearm_n45_4v.csv", arm_levels = levels(d$arm),
            visit_levels = levels(d$visit))

# ANCOVA at the final visit: lm(outcome ~ arm + baseline)
dl <- d[d$visit == "week24", ]
m_lm <- lm(outcome ~ arm + baseline, data = dl)
e_lm <- emmeans(m_lm, ~ arm)
ref$ancova <- list(call = "lm(outcome ~ arm + baseline, data = week24); emmeans(~ arm)",
                   tables = all_tables(e_lm),
                   level90_tukey = table_of(e_lm, list(method = "pairwise"), "tukey", 0.90),
                   level90_dunnettx = table_of(e_lm, list(method = "trt.vs.ctrl"), "dunnettx", 0.90))
# a one-contrast family: two arms only
d2 <- droplevels(dl[dl$arm != "low", ])
e_lm2 <- emmeans(lm(outcome ~ arm + baseline, data = d2), ~ arm)
ref$ancova_two_arms <- list(call = "lm(outcome ~ arm + baseline, data = week24, arms control/high)",
                            tables = all_tables(e_lm2, adjusts = c("tukey", "dunnettx", "holm"),
                                                methods = METHODS[1:3]))

# LMM: lmer random intercept, Satterthwaite and Kenward-Roger via emmeans' lmer.df
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-14, xtol_rel = 1e-14,
                                    ftol_rel = 1e-14, maxeval = 1e5))
m_lmer <- lmer(outcome ~ arm * visit + (1 | subject), data = d, REML = TRUE, control = tight)
ref$lmm <- list(call = "lmer(outcome ~ arm * visit + (1 | subject), REML = TRUE)")
for (ddf in c("satterthwaite", "kenward-roger")) {
  e <- emmeans(m_lmer, ~ arm | visit, lmer.df = ddf)
  ref$lmm[[ddf]] <- all_tables(e)
}
e_v <- emmeans(m_lmer, ~ visit | arm, lmer.df = "satterthwaite")
ref$lmm$visit_by_arm <- all_tables(e_v, adjusts = c("tukey", "holm", "dunnettx", "scheffe"),
                                   methods = METHODS[c(1, 3)])
e_av <- emmeans(m_lmer, ~ arm * visit, lmer.df = "satterthwaite")
ref$lmm$arm_x_visit <- all_tables(e_av, adjusts = c("none", "tukey"), methods = METHODS[1])

# MMRM-like: gls unstructured (corSymm + varIdent), REML
m_gls <- gls(outcome ~ arm * visit, data = d,
             correlation = corSymm(form = ~ visit_index | subject),
             weights = varIdent(form = ~ 1 | visit), method = "REML",
             control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500))
ref$mmrm <- list(call = paste("gls(outcome ~ arm * visit, corSymm(~ visit_index | subject),",
                              "varIdent(~ 1 | visit), REML)"),
                 loglik = as.numeric(logLik(m_gls)))
for (mode in c("asymptotic", "df.error")) {
  e <- emmeans(m_gls, ~ arm | visit, mode = mode)
  ref$mmrm[[mode]] <- all_tables(e)
}

# emmeans' Dunnett approximation, its quantile solved loosely by uniroot(tol = 5e-4)
ref$dunnx <- list(k = c(2, 2, 3, 5), df = c(12.5, 41, 100.25, Inf), p = 0.95,
                  q = mapply(function(k, df) emmeans:::.qdunnx(0.95, k, df),
                             c(2, 2, 3, 5), c(12.5, 41, 100.25, Inf)),
                  pdunnx_at_2.3 = mapply(function(k, df) emmeans:::.pdunnx(2.3, k, df),
                                         c(2, 2, 3, 5), c(12.5, 41, 100.25, Inf)))
writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, null = "null", na = "string", pretty = TRUE),
           "contrasts_reference.json")
