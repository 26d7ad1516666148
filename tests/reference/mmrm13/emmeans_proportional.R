# emmeans(weights = "proportional") on a compound-symmetry GLS of mmrm's fev_data
# (nlme::gls with corCompSymm = mmrm's cs; REML), the reference for rehabstats'
# emmeans(..., weights="proportional"). Estimates depend only on the weights and
# beta; SEs on the model-based vcov (equal in both). No varIdent on purpose:
# emmeans takes weights(gls) as the grid's frequency weights (.wgt.), which for a
# varIdent fit are variance weights, not counts.
# Run from this directory:  Rscript emmeans_proportional.R /work/shared/validation/peer_data
suppressPackageStartupMessages({library(nlme); library(emmeans); library(jsonlite)})
args <- commandArgs(TRUE)
peer <- if (length(args)) args[1] else "../../../../shared/validation/peer_data"
d <- read.csv(file.path(peer, "mmrm__fev_data.csv"))
lv <- fromJSON(file.path(peer, "mmrm__fev_data.levels.json"))
for (v in names(lv)) d[[v]] <- factor(d[[v]], levels = lv[[v]])
d <- d[!is.na(d$FEV1), ]
d$VIS <- as.integer(d$AVISIT)
f <- gls(FEV1 ~ RACE + SEX + ARMCD * AVISIT + FEV1_BL, data = d,
         correlation = corCompSymm(form = ~ VIS | USUBJID), method = "REML",
         control = glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500))
emm <- function(spec, w) {
  e <- as.data.frame(summary(emmeans(f, spec, weights = w, mode = "asymptotic")))
  list(spec = deparse(spec), weights = w, emmean = e$emmean, se = e$SE,
       levels = lapply(e[, intersect(c("ARMCD", "AVISIT", "RACE"), names(e)), drop = FALSE],
                       as.character))
}
stopifnot(isTRUE(all.equal(sum(ref_grid(f)@grid$.wgt.), nrow(d))))  # counts
out <- list(emm(~ ARMCD | AVISIT, "proportional"), emm(~ ARMCD, "proportional"),
            emm(~ RACE, "proportional"), emm(~ ARMCD | AVISIT, "equal"), emm(~ ARMCD, "equal"))
writeLines(toJSON(list(source = paste("nlme", packageVersion("nlme"), "+ emmeans",
                                      packageVersion("emmeans"), "(emmeans_proportional.R)"),
                       loglik = as.numeric(logLik(f)), results = out),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), "emmeans_proportional.json")
