# R mmrm 0.3.18 (built from source here, TMB 1.9.2): df_md / df_1d for given contrast matrices
# on fev_data, FEV1 ~ RACE + SEX + ARMCD * AVISIT + us(AVISIT | USUBJID), REML, with
# Satterthwaite, Kenward-Roger and Kenward-Roger-Linear. The L matrices (type3_L_fev.json)
# are rehabstats' type III hypotheses; this checks the df engine given the same L (mmrm's own
# Anova basis is tested against its snapshots in test_mmrm13_reference.py).
#   R_LIBS=<lib with mmrm> Rscript df_md_fev.R
suppressPackageStartupMessages({library(mmrm); library(jsonlite)})
L <- fromJSON("type3_L_fev.json")
out <- list(mmrm = as.character(packageVersion("mmrm")), tests = list())
for (method in c("Satterthwaite", "Kenward-Roger", "Kenward-Roger-Linear")) {
  ctl <- mmrm_control(
    method = if (method == "Kenward-Roger-Linear") "Kenward-Roger" else method,
    vcov = if (method == "Kenward-Roger-Linear") "Kenward-Roger-Linear" else NULL,
    optimizer = "nlminb")
  f <- mmrm(FEV1 ~ RACE + SEX + ARMCD * AVISIT + us(AVISIT | USUBJID), data = fev_data,
            control = ctl)
  for (k in names(L)) {
    m <- L[[k]]
    if (is.null(dim(m))) m <- matrix(m, nrow = 1)
    r <- df_md(f, m)
    out$tests[[length(out$tests) + 1]] <- list(method = method, term = k, num_df = r$num_df,
                                               denom_df = r$denom_df, f_stat = r$f_stat)
  }
  out$loglik[[method]] <- as.numeric(logLik(f))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "df_md_fev.json")
