# Sandwich covariances (CR0 / CR2 / CR3 = mmrm's "Empirical" / "Empirical-Bias-Reduced" /
# "Empirical-Jackknife") and their Satterthwaite (Bell & McCaffrey 2002) df from nlme::gls +
# clubSandwich::coef_test(df_Satt): the peer of mmrm's tests/testthat/test-empirical.R
# ("Empirical Satterthwaite vs gls/clubSandwich", ar1 on complete cases), plus an
# unstructured fit on all observed rows (corSymm + varIdent = mmrm's us) with covariates.
# Run from this directory:  Rscript clubsandwich_empirical.R /work/shared/validation/peer_data
suppressPackageStartupMessages({library(nlme); library(clubSandwich); library(jsonlite)})
args <- commandArgs(TRUE)
peer <- if (length(args)) args[1] else "../../../../shared/validation/peer_data"
d <- read.csv(file.path(peer, "mmrm__fev_data.csv"))
lv <- fromJSON(file.path(peer, "mmrm__fev_data.levels.json"))
for (v in names(lv)) d[[v]] <- factor(d[[v]], levels = lv[[v]])
ctl <- glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500)
one <- function(id, fit, rhs, cov, rows) {
  res <- lapply(c(CR0 = "CR0", CR2 = "CR2", CR3 = "CR3"), function(type) {
    Vcr <- vcovCR(fit, type = type)
    V <- as.matrix(Vcr)
    ct <- coef_test(fit, vcov = Vcr, test = "Satterthwaite")
    list(terms = names(coef(fit)), estimate = unname(coef(fit)), se = ct$SE,
         df = ct$df_Satt, vcov = unname(c(V)))
  })
  names(res) <- c("empirical", "empirical-bias-reduced", "empirical-jackknife")
  list(id = id, rhs = rhs, cov = cov, rows = rows, loglik = as.numeric(logLik(fit)),
       results = res)
}
dc <- d[complete.cases(d), ]
f1 <- gls(FEV1 ~ ARMCD, dc, correlation = corAR1(form = ~ VISITN | USUBJID), method = "REML",
          control = ctl)
do <- d[!is.na(d$FEV1), ]
f2 <- gls(FEV1 ~ RACE + SEX + ARMCD * AVISIT, do,
          correlation = corSymm(form = ~ VISITN | USUBJID),
          weights = varIdent(form = ~ 1 | AVISIT), method = "REML", control = ctl)
out <- list(source = paste("nlme", packageVersion("nlme"), "+ clubSandwich",
                           packageVersion("clubSandwich"), "(clubsandwich_empirical.R)"),
            cases = list(one("ar1_complete", f1, "ARMCD", "ar1", "complete"),
                         one("us_observed", f2, "RACE + SEX + ARMCD * AVISIT", "us",
                             "observed")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "clubsandwich_empirical.json")
