# Type II F tests of linear models (car::Anova(type = 2)) on mmrm's fev_data at one
# visit (VIS4, unbalanced), the reference for rehabstats' anova(type=2) of a one-visit
# MMRM with df_method="residual" (GLS with one variance = OLS). Also a balanced
# two-factor design, where type II equals the sequential anova(lm).
# Run from this directory:  Rscript car_type2.R /work/shared/validation/peer_data
suppressPackageStartupMessages({library(car); library(jsonlite)})
args <- commandArgs(TRUE)
peer <- if (length(args)) args[1] else "../../../../shared/validation/peer_data"
d <- read.csv(file.path(peer, "mmrm__fev_data.csv"))
lv <- fromJSON(file.path(peer, "mmrm__fev_data.levels.json"))
for (v in names(lv)) d[[v]] <- factor(d[[v]], levels = lv[[v]])
d4 <- d[d$AVISIT == "VIS4" & !is.na(d$FEV1), ]
tab <- function(a) {
  a <- a[rownames(a) != "Residuals", ]
  list(term = rownames(a), num_df = a$Df, F = a[["F value"]], p = a[["Pr(>F)"]])
}
out <- list()
for (rhs in c("FEV1_BL + RACE * ARMCD + SEX", "RACE * ARMCD * SEX", "ARMCD * SEX + WEIGHT")) {
  f <- lm(as.formula(paste("FEV1 ~", rhs)), data = d4)
  out[[length(out) + 1]] <- c(list(rhs = rhs, nobs = nrow(d4), resid_df = f$df.residual),
                              tab(Anova(f, type = 2)))
}
# balanced: every ARMCD x SEX cell with the same number of subjects
set.seed(1)
b <- expand.grid(rep = 1:6, SEX = c("Male", "Female"), ARMCD = c("PBO", "TRT"))
b$y <- rnorm(nrow(b)) + (b$ARMCD == "TRT") * 0.7
fb <- lm(y ~ ARMCD * SEX, data = b)
balanced <- list(data = b, type2 = tab(Anova(fb, type = 2)), sequential = tab(anova(fb)))
writeLines(toJSON(list(source = paste("car", packageVersion("car"), "Anova(type = 2), car_type2.R"),
                       fev_vis4 = out, balanced = balanced),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), "car_type2.json")
