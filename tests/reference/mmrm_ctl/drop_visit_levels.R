# drop_visit_levels: an AR(1) fit of mmrm's fev_data without visit VIS2, with the visit
# positions 1, 3, 4 (VIS2 kept as a level: mmrm's drop_visit_levels = FALSE; lag 2 from VIS1
# to VIS3) and 1, 2, 3 (VIS2 dropped: mmrm's default). nlme::gls with corAR1 on the integer
# position is mmrm's ar1 (same REML likelihood, rho on the correlation scale).
# Run from this directory:  Rscript drop_visit_levels.R /work/shared/validation/peer_data
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
args <- commandArgs(TRUE)
peer <- if (length(args)) args[1] else "../../../../shared/validation/peer_data"
d <- read.csv(file.path(peer, "mmrm__fev_data.csv"))
lv <- fromJSON(file.path(peer, "mmrm__fev_data.levels.json"))
for (v in names(lv)) d[[v]] <- factor(d[[v]], levels = lv[[v]])
d <- d[!is.na(d$FEV1) & d$AVISIT != "VIS2", ]
d$KEPT <- as.integer(d$AVISIT)                       # 1, 3, 4
d$DROPPED <- as.integer(droplevels(d$AVISIT))        # 1, 2, 3
ctl <- glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500)
one <- function(pos) {
  f <- gls(FEV1 ~ ARMCD + FEV1_BL, d, correlation = corAR1(form = as.formula(
    paste("~", pos, "| USUBJID"))), method = "REML", control = ctl)
  list(loglik = as.numeric(logLik(f)), sigma = f$sigma,
       rho = as.numeric(coef(f$modelStruct$corStruct, unconstrained = FALSE)),
       beta = unname(coef(f)), se = unname(sqrt(diag(vcov(f)))))
}
out <- list(source = paste("nlme", packageVersion("nlme"), "(drop_visit_levels.R)"),
            rhs = "ARMCD + FEV1_BL", cov = "ar1",
            kept = one("KEPT"), dropped = one("DROPPED"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "drop_visit_levels.json")
