# R mmrm timings for benchmarks/bench_mmrm.py: the same simulated data sets, the same work
# (mmrm(us, REML) and a treatment-minus-control contrast per visit with Satterthwaite df via
# df_1d), median of repeats, in this process. Called by bench_mmrm.py when R's mmrm is
# installed (R_LIBS / REHABSTATS_R_LIBS); prints one JSON object.
#   Rscript mmrm_timing.R <dir with <n>x<k>.csv files> <repeats>
suppressPackageStartupMessages({library(mmrm); library(jsonlite)})
args <- commandArgs(TRUE)
dir <- args[1]
repeats <- as.integer(args[2])
one <- function(d) {
  fit <- mmrm(outcome ~ arm * visit + us(visit | subject), data = d, method = "Satterthwaite")
  p <- length(coef(fit))
  nm <- names(coef(fit))
  lv <- levels(d$visit)
  for (v in lv) {
    L <- setNames(numeric(p), nm)
    L["armactive"] <- 1
    if (v != lv[1]) L[paste0("armactive:visit", v)] <- 1
    df_1d(fit, L)
  }
  fit
}
out <- list(mmrm = as.character(packageVersion("mmrm")),
            r = paste(R.version$major, R.version$minor, sep = "."), sizes = list())
for (f in sort(list.files(dir, pattern = "\\.csv$", full.names = TRUE))) {
  d <- read.csv(f)
  d$arm <- factor(d$arm, levels = c("control", "active"))
  d$visit <- factor(d$visit, levels = unique(d$visit[order(d$visit_index)]))
  d$subject <- factor(d$subject)
  one(d)  # warm-up
  batch <- if (nrow(d) < 200) 20L else 1L
  times <- replicate(repeats, {
    t0 <- proc.time()[["elapsed"]]
    for (i in seq_len(batch)) one(d)
    (proc.time()[["elapsed"]] - t0) / batch
  })
  # peak resident set growth over one call (TMB allocates outside R's heap, so gc() would
  # not see it): reset VmHWM to the current RSS, run, read the peak
  gc()
  status <- function(key) {
    l <- grep(paste0("^", key), readLines("/proc/self/status"), value = TRUE)
    as.numeric(strsplit(trimws(sub(key, "", l)), " +")[[1]][1])
  }
  cat("5", file = "/proc/self/clear_refs")
  before <- status("VmRSS:")
  one(d)
  rss_mib <- (status("VmHWM:") - before) / 1024
  out$sizes[[sub("\\.csv$", "", basename(f))]] <- list(seconds = median(times),
                                                        rss_growth_mib = rss_mib)
}
cat(toJSON(out, auto_unbox = TRUE, digits = NA))
