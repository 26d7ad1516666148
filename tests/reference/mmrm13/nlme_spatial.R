# nlme::gls references for rehabstats' spatial MMRM structures (sp_exp = corExp,
# sp_gau = corGaus, homogeneous variance, no nugget) on mmrm's fev_data, with the
# visit number as time and with subject-specific times (VISITN + a per-subject
# shift of -0.25, 0 or 0.25, so the time grid has 12 points), and with two coordinates
# (VISITN, YPOS = 0, 0.5 or 1 varying within subject; Euclidean distances, a 12-point grid).
# Run from this directory:  Rscript nlme_spatial.R /work/shared/validation/peer_data
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
args <- commandArgs(TRUE)
peer <- if (length(args)) args[1] else "../../../../shared/validation/peer_data"
d <- read.csv(file.path(peer, "mmrm__fev_data.csv"))
lv <- fromJSON(file.path(peer, "mmrm__fev_data.levels.json"))
for (v in names(lv)) d[[v]] <- factor(d[[v]], levels = lv[[v]])
d <- d[!is.na(d$FEV1), ]
num <- as.integer(sub("PT", "", as.character(d$USUBJID)))
d$TSHIFT <- d$VISITN + ((num %% 3) - 1) * 0.25
d$YPOS <- ((num + d$VISITN) %% 3) * 0.5
out <- list()
for (cs in c("sp_exp", "sp_gau")) for (tm in c("VISITN", "TSHIFT", "VISITN + YPOS")) for (reml in c(TRUE, FALSE)) {
  form <- as.formula(paste("~", tm, "| USUBJID"))
  cor <- if (cs == "sp_exp") corExp(form = form) else corGaus(form = form)
  f <- gls(FEV1 ~ ARMCD, data = d, correlation = cor,
           method = if (reml) "REML" else "ML",
           control = glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500))
  range <- coef(f$modelStruct$corStruct, unconstrained = FALSE)[["range"]]
  rho <- if (cs == "sp_exp") exp(-1 / range) else exp(-1 / range^2)
  out[[length(out) + 1]] <- list(
    cov = cs, time = tm, reml = reml, loglik = as.numeric(logLik(f)),
    coef = unname(coef(f)), se = unname(sqrt(diag(vcov(f)))),
    sigma2 = f$sigma^2, range = range, rho = rho,
    nobs = nrow(d), r = paste(R.version$major, R.version$minor, sep = "."),
    nlme = as.character(packageVersion("nlme")))
}
writeLines(toJSON(list(source = "nlme::gls, corExp / corGaus (nlme_spatial.R)", fits = out),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE), "nlme_spatial.json")
