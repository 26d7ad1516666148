# Reference values for standardized_mean_change(standardizer = "average_var") and "average".
# Run from this folder:  Rscript make_rm_d_av_fixture.R   (writes rm_d_av_fixture.json)
#
# effectsize >= 0.8.4 has rm_d(x, y, method = "av"); Debian's effectsize 0.8.3 has not, so the
# values are computed here with base R from the definition in effectsize's source,
# R/repeated_measures_d.R (cran/effectsize, function .paired_d, method "av"):
#   d  = mean(x - y) / s,  s = sqrt((var(x) + var(y)) / 2)            (Cumming 2013, p. 291)
#   se = sqrt(var(x - y) / n) / s                                     (Algina & Keselman 2003 eq. 4)
#   CI = d + qnorm(c(a/2, 1 - a/2)) * se, then d and CI times J(n - 1) when adjust = TRUE,
# with J the exact correction of effectsize 0.8.3 (.effect_size_difference:
# exp(lgamma(df/2) - log(sqrt(df/2)) - lgamma((df - 1)/2))). rehabstats' post - pre is
# rm_d(post, pre). Lakens' d_av (mean of the two SDs, Lakens 2013 eq. 10) is written beside
# it to show that the two "average" standardisers differ.
# The "sleep" case also carries effectsize's own documented example (rm_d(Pair(extra.1,
# extra.2) ~ 1, data = sleep2, method = "av")): pre = extra.2, post = extra.1.
suppressPackageStartupMessages(library(jsonlite))
J <- function(df) exp(lgamma(df / 2) - log(sqrt(df / 2)) - lgamma((df - 1) / 2))

rm_d_av <- function(x, y, adjust, level) {
  n <- length(x)
  s <- sqrt((var(x) + var(y)) / 2)
  d <- mean(x - y) / s
  se <- sqrt(var(x - y) / n) / s
  a <- 1 - level
  ci <- d + qnorm(c(a / 2, 1 - a / 2)) * se
  j <- if (adjust) J(n - 1) else 1
  list(estimate = d * j, se = se * j, ci_low = ci[1] * j, ci_high = ci[2] * j)
}

sleep1 <- sleep$extra[sleep$group == 1]
sleep2 <- sleep$extra[sleep$group == 2]
cases <- list(
  sleep = list(pre = sleep2, post = sleep1),
  rehab_unequal_sd = list(pre = c(31.2, 28.4, 35.0, 22.9, 30.1, 26.7, 33.8, 29.5, 24.6, 27.3),
                          post = c(38.0, 30.1, 47.2, 25.0, 39.9, 27.5, 45.1, 36.6, 26.0, 33.9)),
  small = list(pre = c(10, 12, 9, 14, 11), post = c(13, 15, 10, 18, 12))
)
out <- list()
for (nm in names(cases)) {
  pre <- cases[[nm]]$pre; post <- cases[[nm]]$post
  rows <- list()
  for (adjust in c(TRUE, FALSE)) for (level in c(0.95, 0.90)) {
    rows[[length(rows) + 1]] <- c(list(adjust = adjust, level = level),
                                  rm_d_av(post, pre, adjust, level))
  }
  j <- J(length(pre) - 1)
  out[[nm]] <- list(pre = pre, post = post, average_var = rows,
                    lakens_d_av = mean(post - pre) / ((sd(pre) + sd(post)) / 2),
                    lakens_g_av = j * mean(post - pre) / ((sd(pre) + sd(post)) / 2))
}
out$meta <- list(R = R.version.string,
                 source = "cran/effectsize R/repeated_measures_d.R (.paired_d, method 'av')")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "rm_d_av_fixture.json")
