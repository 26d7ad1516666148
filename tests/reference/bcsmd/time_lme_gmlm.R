# Timing of the REML core of scdhlm::calc_BCSMD (nlme::lme + lmeInfo::g_mlm, the
# two calls calc_BCSMD makes after preprocessing) on a 5-case multiple baseline
# (Rodriguez & Anderson 2014, bundled in scdhlm), for benchmarks/bench_bcsmd.py.
# Run from the repository root:
#   Rscript tests/reference/bcsmd/time_lme_gmlm.R ../shared/validation/bcsmd/datasets
.libPaths(c("/work/rlib", .libPaths()))
suppressPackageStartupMessages({library(nlme); library(lmeInfo)})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "../shared/validation/bcsmd/datasets"
d <- read.csv(file.path(data_dir, "Rodriguez.csv"))
d <- d[order(d$case, d$session), ]
first_trt <- tapply(d$session[d$trt == 1], d$case[d$trt == 1], min)
d$session_trt <- pmax(0, d$session - first_trt[d$case] + 1)
ctrl <- lmeControl(msMaxIter = 50, apVar = FALSE, returnObject = TRUE)
one <- function(model) {
  if (model == "M1") {
    fit <- lme(outcome ~ 1 + trt, random = ~ 1 | case,
               correlation = corAR1(0.01, ~ session | case), data = d, control = ctrl)
    g_mlm(fit, p_const = c(0, 1), r_const = c(1, 0, 1), infotype = "expected")
  } else {
    fit <- suppressWarnings(lme(outcome ~ 1 + trt, random = ~ 1 + trt | case,
               correlation = corAR1(0.01, ~ session | case), data = d, control = ctrl))
    g_mlm(fit, p_const = c(0, 1), r_const = c(1, 0, 0, 0, 1), infotype = "expected")
  }
}
for (model in c("M1", "M3")) {
  one(model)
  t <- replicate(20, system.time(one(model))[["elapsed"]])
  cat(sprintf("%s median %.4f s (min %.4f, max %.4f) over 20 runs\n", model, median(t), min(t), max(t)))
}
