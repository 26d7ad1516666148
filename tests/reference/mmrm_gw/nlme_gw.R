# nlme::gls references for rehabstats' mmrm(weights=) and mmrm(group=) on mmrm's fev_data
# (rows with missing FEV1 dropped).
#
# weights: mmrm's Cov(y_i) = W_i^{-1/2} Sigma W_i^{-1/2} is gls's varFixed(~ 1 / w); an
#   unstructured Sigma is corSymm + varIdent(visit). Fitted for us and ar1 (corAR1), REML
#   and ML, with FEV1 ~ ARMCD and FEV1 ~ RACE + ARMCD * AVISIT.
# group: a separate Sigma per arm with a mean model fully interacted with the arm
#   (FEV1 ~ ARMCD * AVISIT or FEV1 ~ ARMCD) factorises into one fit per arm (for REML too,
#   X'V^-1X being block diagonal), so each arm is fitted on its own (FEV1 ~ AVISIT or
#   FEV1 ~ 1), without and with weights; the grouped logLik is the sum.
# Sigma is reported for unit weight, row-major, visits VIS1..VIS4.
# Run from this directory:  Rscript nlme_gw.R /work/shared/validation/peer_data
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
args <- commandArgs(TRUE)
peer <- if (length(args)) args[1] else "../../../../shared/validation/peer_data"
d <- read.csv(file.path(peer, "mmrm__fev_data.csv"))
lv <- fromJSON(file.path(peer, "mmrm__fev_data.levels.json"))
for (v in names(lv)) d[[v]] <- factor(d[[v]], levels = lv[[v]])
d <- d[!is.na(d$FEV1), ]
d$INVW <- 1 / d$WEIGHT
ctrl <- glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500)

sigma_of <- function(f, cov) {
  visits <- levels(d$AVISIT)
  m <- length(visits)
  s2 <- f$sigma^2
  if (cov == "us") {
    vi <- f$modelStruct$varStruct
    if (inherits(vi, "varComb")) vi <- vi[[1]]
    ratio <- coef(vi, unconstrained = FALSE, allCoef = TRUE)[visits]
    # the first subject observed at every visit gives the full correlation matrix
    full <- names(which(table(getGroups(f)) == m))[1]
    R <- corMatrix(f$modelStruct$corStruct)[[full]]
    sd <- sqrt(s2) * ratio
  } else {
    rho <- unname(coef(f$modelStruct$corStruct, unconstrained = FALSE))[1]
    R <- rho^abs(outer(seq_len(m), seq_len(m), "-"))
    sd <- rep(sqrt(s2), m)
  }
  S <- diag(sd) %*% R %*% diag(sd)
  as.numeric(t(S))
}

fit_one <- function(data, form, cov, reml, weighted) {
  cor <- if (cov == "us") corSymm(form = ~ VISITN | USUBJID) else corAR1(form = ~ VISITN | USUBJID)
  w <- if (cov == "us") {
    if (weighted) varComb(varIdent(form = ~ 1 | AVISIT), varFixed(~ INVW)) else varIdent(form = ~ 1 | AVISIT)
  } else if (weighted) varFixed(~ INVW) else NULL
  f <- gls(form, data = data, correlation = cor, weights = w,
           method = if (reml) "REML" else "ML", control = ctrl)
  list(loglik = as.numeric(logLik(f)), coef = unname(coef(f)),
       se = unname(sqrt(diag(vcov(f)))), coef_names = names(coef(f)),
       sigma = sigma_of(f, cov), nobs = nrow(data))
}

weighted <- list()
for (cov in c("us", "ar1")) for (rhs in c("ARMCD", "RACE + ARMCD * AVISIT")) for (reml in c(TRUE, FALSE)) {
  r <- fit_one(d, as.formula(paste("FEV1 ~", rhs)), cov, reml, TRUE)
  weighted[[length(weighted) + 1]] <- c(list(cov = cov, rhs = rhs, reml = reml), r)
}

grouped <- list()
for (cov in c("us", "ar1")) for (rhs in c("1", "AVISIT")) for (reml in c(TRUE, FALSE)) for (wt in c(FALSE, TRUE)) {
  per <- lapply(levels(d$ARMCD), function(a)
    fit_one(d[d$ARMCD == a, ], as.formula(paste("FEV1 ~", rhs)), cov, reml, wt))
  names(per) <- levels(d$ARMCD)
  grouped[[length(grouped) + 1]] <- list(
    cov = cov, rhs_per_arm = rhs, rhs_grouped = if (rhs == "1") "ARMCD" else "ARMCD * AVISIT",
    reml = reml, weights = wt, loglik = sum(sapply(per, `[[`, "loglik")),
    sigma = lapply(per, `[[`, "sigma"), coef_per_arm = lapply(per, `[[`, "coef"),
    se_per_arm = lapply(per, `[[`, "se"))
}

writeLines(toJSON(list(source = "nlme::gls (nlme_gw.R)", r = paste(R.version$major, R.version$minor, sep = "."),
                       nlme = as.character(packageVersion("nlme")),
                       weighted = weighted, grouped = grouped),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), "nlme_gw.json")
