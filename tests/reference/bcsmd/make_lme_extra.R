# Reference values for rs.sced.bc_smd options the shared scdhlm records do not
# cover: MA(1) errors, phase-specific error variances (varIdent) and explicit
# A/B times. Each model is fitted with nlme::lme exactly as scdhlm's
# calc_BCSMD builds it (scdhlm 0.7.4, R/calc_BCSMD.R: fixed/random formulas,
# corAR1(0.01, ~ session | case) or corARMA(0, ~ session | case, p = 0, q = 1),
# varIdent(form = ~ 1 | phase)) and passed to lmeInfo::g_mlm with the
# p_const / r_const of scdhlm's calc_consts (written out below).
#
# Run from the repository root (R >= 4.2, nlme, lmeInfo, jsonlite):
#   Rscript tests/reference/bcsmd/make_lme_extra.R ../shared/validation/bcsmd/datasets
# Writes tests/reference/bcsmd/lme_extra.json.
.libPaths(c("/work/rlib", .libPaths()))
suppressPackageStartupMessages({library(nlme); library(lmeInfo); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "../shared/validation/bcsmd/datasets"

load_ds <- function(name, measure = NULL) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
  if (!is.null(measure)) d <- d[d$measure == measure, ]
  d <- d[order(d$case, d$session), ]
  d$phase <- factor(d$condition, levels = c(setdiff(unique(d$condition[d$trt == 0]), ""),
                                            unique(d$condition[d$trt == 1])))
  d$session <- as.integer(round(d$session))
  first_trt <- tapply(d$session[d$trt == 1], d$case[d$trt == 1], min)
  d$session_trt <- pmax(0, d$session - first_trt[d$case] + 1)
  d$case <- factor(d$case)
  d
}

ctrl <- lmeControl(msMaxIter = 200, maxIter = 200, apVar = FALSE, returnObject = TRUE)
specs <- list(
  list(id = "Laski_MA1", ds = "Laski", fixed = outcome ~ 1 + trt, random = ~ 1 | case,
       cor = "MA1", het = FALSE, p = c(0, 1), r = c(1, 0, 1),
       args = list(design = "MBP", cor_struct = "MA1")),
  list(id = "Laski_het", ds = "Laski", fixed = outcome ~ 1 + trt, random = ~ 1 | case,
       cor = "AR1", het = TRUE, p = c(0, 1), r = c(1, 0, 0, 1),
       args = list(design = "MBP", var_struct = "het")),
  list(id = "Laski_IID_het", ds = "Laski", fixed = outcome ~ 1 + trt, random = ~ 1 | case,
       cor = "IID", het = TRUE, p = c(0, 1), r = c(1, 0, 1),
       args = list(design = "MBP", cor_struct = "IID", var_struct = "het")),
  list(id = "Schutte_MA1_het", ds = "Schutte", fixed = outcome ~ 1 + trt, random = ~ 1 | case,
       cor = "MA1", het = TRUE, p = c(0, 1), r = c(1, 0, 0, 1),
       args = list(design = "MBP", cor_struct = "MA1", var_struct = "het")),
  list(id = "Saddler_wq_MA1", ds = "Saddler", measure = "writing quality",
       fixed = outcome ~ 1 + trt, random = ~ 1 | case, cor = "MA1", het = FALSE,
       p = c(0, 1), r = c(1, 0, 1), args = list(design = "MBP", cor_struct = "MA1")),
  # trends with explicit A = 5, B = 15, no centring: p = (0, 0, 1, B - A),
  # r = (1, 2 B, B^2, 0, 1) for random intercepts and trends
  list(id = "Laski_trends_A5_B15", ds = "Laski",
       fixed = outcome ~ 1 + I(session^1) + trt + I(session_trt^1),
       random = ~ 1 + I(session^1) | case, cor = "AR1", het = FALSE,
       p = c(0, 0, 1, 10), r = c(1, 30, 225, 0, 1),
       args = list(design = "MBP", fe_base = c(0, 1), re_base = c(0, 1), fe_trt = c(0, 1),
                   a = 5, b = 15)),
  list(id = "Anglesea_TR_het", ds = "Anglesea", fixed = outcome ~ 1 + trt, random = ~ 1 | case,
       cor = "AR1", het = TRUE, p = c(0, 1), r = c(1, 0, 0, 1),
       args = list(design = "TR", var_struct = "het"))
)

out <- lapply(specs, function(s) {
  d <- if (is.null(s$measure)) load_ds(s$ds) else load_ds(s$ds, s$measure)
  cor <- switch(s$cor, AR1 = corAR1(0.01, ~ session | case),
                MA1 = corARMA(0, ~ session | case, p = 0, q = 1), IID = NULL)
  w <- if (s$het) varIdent(form = ~ 1 | phase) else NULL
  warns <- character(0)
  fit <- withCallingHandlers(
    lme(fixed = s$fixed, random = s$random, correlation = cor, weights = w, data = d,
        control = ctrl),
    warning = function(x) { warns <<- c(warns, conditionMessage(x)); invokeRestart("muffleWarning") })
  g <- g_mlm(fit, p_const = s$p, r_const = s$r, infotype = "expected")
  nu <- g$nu
  ci <- g$g_AB + c(-1, 1) * qt(0.975, nu) * g$SE_g_AB
  list(id = s$id, dataset = s$ds, measure = if (is.null(s$measure)) NULL else s$measure,
       arguments = s$args, converged = length(warns) == 0, warnings = warns,
       var_reference_level = if (s$het) levels(d$phase)[1] else NULL,
       input = list(case = as.character(d$case), session = d$session,
                    condition = d$condition, outcome = d$outcome),
       output = list(g_AB = g$g_AB, SE_g_AB = g$SE_g_AB, nu = nu, delta_AB = g$delta_AB,
                     kappa = g$kappa, CI_L = ci[1], CI_U = ci[2],
                     theta = unlist(g$theta), logLik = as.numeric(logLik(fit)),
                     fixef = fixef(fit)))
})
names(out) <- vapply(specs, `[[`, "", "id")
meta <- list(generated_by = "tests/reference/bcsmd/make_lme_extra.R",
             R = R.version.string, nlme = as.character(packageVersion("nlme")),
             lmeInfo = as.character(packageVersion("lmeInfo")), records = out)
writeLines(toJSON(meta, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE),
           "tests/reference/bcsmd/lme_extra.json")
cat("wrote", length(out), "records\n")
