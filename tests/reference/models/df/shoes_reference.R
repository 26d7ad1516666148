# MASS shoes (Box, Hunter & Hunter): the paired t test written as an LMM.
# Run from this folder: Rscript shoes_reference.R  (writes shoes_reference.json)
# Data: ../../../../../shared/validation/peer_data/MASS__shoes.csv (MASS::shoes).
# R 4.2, lme4, lmerTest 3.1-3, pbkrtest (Debian packages).
suppressPackageStartupMessages({library(lmerTest); library(jsonlite)})
s <- read.csv(file.path("..", "..", "..", "..", "..", "shared", "validation", "peer_data",
                        "MASS__shoes.csv"))
d <- data.frame(boy = factor(rep(s$boy, 2)), material = factor(rep(c("A", "B"), each = nrow(s))),
                y = c(s$A, s$B))
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-14, xtol_rel = 1e-14,
                                    ftol_rel = 1e-14, maxeval = 1e5))
tab <- function(cf) data.frame(term = rownames(cf), estimate = cf[, 1], se = cf[, 2],
                               df = cf[, "df"], row.names = NULL)
out <- list()
for (reml in c(TRUE, FALSE)) {
  m <- lmer(y ~ material + (1 | boy), data = d, REML = reml, control = tight)
  key <- if (reml) "reml" else "ml"
  out[[key]] <- list(call = sprintf("lmer(y ~ material + (1 | boy), REML = %s, tight)", reml),
                     theta = unname(getME(m, "theta")),
                     satterthwaite = tab(summary(m)$coefficients))
  if (reml) out[[key]]$kenward_roger <- tab(summary(m, ddf = "Kenward-Roger")$coefficients)
}
tt <- t.test(s$B, s$A, paired = TRUE)
out$paired_t <- list(df = unname(tt$parameter), se = unname(tt$stderr),
                     note = "exact: df = n - 1 = 9 for materialB (REML), 10 (ML: n)")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "shoes_reference.json")
