# Reference values for rs.change.icc: psych::ICC (Shrout & Fleiss 1979 forms).
# Run: Rscript tests/reference/change/icc_reference.R  (writes icc_reference.json beside it)
suppressPackageStartupMessages({library(psych); library(jsonlite)})
out <- list(psych_version = as.character(packageVersion("psych")), R = R.version.string)
sets <- list()
# Shrout & Fleiss (1979) Table 2: 6 targets rated by 4 judges (psych's ?ICC example).
sets$shrout_fleiss <- matrix(c(9,6,8,7,10,6, 2,1,4,1,5,2, 5,3,6,2,6,4, 8,2,8,6,9,7), ncol = 4)
set.seed(20261201)
# A test-retest-like set: 15 participants, 3 sessions, session effect and noise.
true <- rnorm(15, 40, 8)
sets$retest_15x3 <- round(outer(true, c(0, 1.5, 2.5), "+") + matrix(rnorm(45, 0, 3), 15), 1)
# Two raters, 12 participants (the smallest ordinary MDC study).
true2 <- rnorm(12, 20, 5)
sets$two_raters_12 <- round(cbind(true2 + rnorm(12, 0, 2), true2 + 1 + rnorm(12, 0, 2)), 1)
for (nm in names(sets)) {
  m <- sets[[nm]]
  for (alpha in c(0.05, 0.10)) {
    r <- psych::ICC(m, alpha = alpha, lmer = FALSE)
    res <- r$results
    out[[paste0(nm, "_alpha", alpha)]] <- list(
      data = unname(split(m, row(m))), alpha = alpha,
      type = as.character(res$type), icc = res$ICC, f = res$F, df1 = res$df1, df2 = res$df2,
      p = res$p, ci_low = res$`lower bound`, ci_high = res$`upper bound`,
      ms_rows = r$summary[[1]][["Mean Sq"]][1])
  }
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))),
                     "icc_reference.json"))
