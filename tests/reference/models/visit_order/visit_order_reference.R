# Reference for issue 7 section 1 (visit order): nlme::gls with corAR1 on the 30-person
# repro of the issue (repro_issue7.csv, written by tests/models/test_visit_order.py's
# generator: seed 11, participant p00 misses week4).
# Right order baseline < week4 < week12, and the wrong order baseline < week12 < week4 that
# first appearance gave. REML, homogeneous variance, AR(1) over visit positions.
# Run: Rscript visit_order_reference.R   (writes visit_order_reference.json)
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
d <- read.csv("repro_issue7.csv")
fit_order <- function(levels) {
  d$visit <- factor(d$visit, levels = levels)
  d$arm <- factor(d$arm, levels = c("usual", "ex"))
  d$pos <- as.integer(d$visit)
  m <- gls(y ~ arm * visit, data = d, correlation = corAR1(form = ~ pos | pid),
           method = "REML", control = glsControl(tolerance = 1e-10, msTol = 1e-10))
  list(levels = levels, loglik = as.numeric(logLik(m)),
       rho = as.numeric(coef(m$modelStruct$corStruct, unconstrained = FALSE)),
       sigma = m$sigma, coef = as.list(coef(m)),
       se = as.list(sqrt(diag(vcov(m)))))
}
out <- list(
  source = "nlme::gls(y ~ arm * visit, correlation = corAR1(form = ~ pos | pid), method = 'REML')",
  r_version = R.version.string, nlme_version = as.character(packageVersion("nlme")),
  right = fit_order(c("baseline", "week4", "week12")),
  wrong = fit_order(c("baseline", "week12", "week4")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "visit_order_reference.json")
