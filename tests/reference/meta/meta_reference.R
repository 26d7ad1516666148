# Reference values for rs.meta from R metafor (Debian r-cran-metafor).
# Run from the repository root:  Rscript tests/reference/meta/meta_reference.R
# Writes tests/reference/meta/metafor_reference.json (data included, full precision).
suppressMessages(library(metafor))
library(jsonlite)

out_file <- "tests/reference/meta/metafor_reference.json"
methods <- c("EE", "DL", "REML", "ML", "PM", "HE", "SJ")
tests <- c("z", "knha")

fit_record <- function(yi, vi, method, test) {
  res <- tryCatch(rma(yi, vi, method = method, test = test), error = function(e) e,
                  warning = function(w) w)
  if (inherits(res, "condition")) return(list(error = conditionMessage(res)))
  pr <- predict(res)
  k <- res$k
  crit_h <- if (k > 2) qt(0.975, k - 2) else NA
  rec <- list(k = k, estimate = c(res$b), se = res$se, ci_low = res$ci.lb, ci_high = res$ci.ub,
              stat = res$zval, p = res$pval, df = if (is.na(res$ddf)) NULL else res$ddf,
              tau2 = res$tau2, se_tau2 = res$se.tau2, I2 = res$I2, H2 = res$H2, Q = res$QE,
              Q_df = k - 1, Q_p = res$QEp, pi_low = pr$pi.lb, pi_high = pr$pi.ub,
              weights = unname(weights(res)),
              pi_higgins_low = c(res$b) - crit_h * sqrt(res$se^2 + res$tau2),
              pi_higgins_high = c(res$b) + crit_h * sqrt(res$se^2 + res$tau2))
  if (method != "EE" && k >= 2) {
    ci <- tryCatch(confint(res), error = function(e) NULL)
    if (!is.null(ci)) {
      r <- ci$random
      rec$tau2_ci_low <- r["tau^2", "ci.lb"]; rec$tau2_ci_high <- r["tau^2", "ci.ub"]
      rec$I2_ci_low <- r["I^2(%)", "ci.lb"]; rec$I2_ci_high <- r["I^2(%)", "ci.ub"]
      rec$H2_ci_low <- r["H^2", "ci.lb"]; rec$H2_ci_high <- r["H^2", "ci.ub"]
    }
  }
  rec
}

all_fits <- function(yi, vi) {
  fits <- list()
  for (m in methods) for (t in tests) {
    if (m == "EE" && t == "knha") next
    fits[[paste(m, t, sep = ".")]] <- fit_record(yi, vi, m, t)
  }
  fits
}

sets <- list()

# BCG vaccine trials (Colditz et al. 1994): log risk ratios, Mantel-Haenszel
data(dat.bcg, package = "metadat")
bcg <- dat.bcg
es <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
es_or <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
es_rd <- escalc("RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
mh <- list()
for (meas in c("RR", "OR", "RD")) {
  r <- rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, measure = meas)
  mh[[meas]] <- list(k = r$k, estimate = c(r$b), se = r$se, ci_low = r$ci.lb, ci_high = r$ci.ub,
                     stat = r$zval, p = r$pval, Q = r$QE, Q_p = r$QEp, I2 = r$I2, H2 = r$H2)
}
sets$bcg <- list(
  source = "metadat::dat.bcg (Colditz et al. 1994); escalc(measure='RR', ai=tpos, bi=tneg, ci=cpos, di=cneg)",
  data = list(study = paste(bcg$author, bcg$year), events_t = bcg$tpos, n_t = bcg$tpos + bcg$tneg,
              events_c = bcg$cpos, n_c = bcg$cpos + bcg$cneg),
  escalc = list(RR = list(yi = c(es$yi), vi = c(es$vi)), OR = list(yi = c(es_or$yi), vi = c(es_or$vi)),
                RD = list(yi = c(es_rd$yi), vi = c(es_rd$vi))),
  measure = "RR", yi = c(es$yi), vi = c(es$vi), fits = all_fits(es$yi, es$vi), mh = mh)

# Normand (1999): length of stay, specialist vs routine care (mean differences)
data(dat.normand1999, package = "metadat")
nd <- dat.normand1999
es <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = nd)
smd <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = nd)
smd_ub <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                 data = nd, vtype = "UB")
rom <- escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = nd)
sets$normand1999 <- list(
  source = "metadat::dat.normand1999 (Normand 1999); escalc(measure='MD', m1i, sd1i, n1i, m2i, sd2i, n2i)",
  data = list(study = as.character(nd$source), mean_t = nd$m1i, sd_t = nd$sd1i, n_t = nd$n1i,
              mean_c = nd$m2i, sd_c = nd$sd2i, n_c = nd$n2i),
  escalc = list(MD = list(yi = c(es$yi), vi = c(es$vi)), SMD = list(yi = c(smd$yi), vi = c(smd$vi)),
                SMD_UB = list(yi = c(smd_ub$yi), vi = c(smd_ub$vi)),
                ROM = list(yi = c(rom$yi), vi = c(rom$vi))),
  measure = "MD", yi = c(es$yi), vi = c(es$vi), fits = all_fits(es$yi, es$vi))

# Hackshaw (1998): passive smoking and lung cancer, log odds ratios as printed (yi, vi)
data(dat.hackshaw1998, package = "metadat")
hk <- dat.hackshaw1998
sets$hackshaw1998 <- list(
  source = "metadat::dat.hackshaw1998 (Hackshaw et al. 1997); yi = log OR, vi",
  measure = "OR", yi = hk$yi, vi = hk$vi, fits = all_fits(hk$yi, hk$vi))

# Raudenbush (1985): teacher expectancy, standardized mean differences (yi, vi)
data(dat.raudenbush1985, package = "metadat")
rb <- dat.raudenbush1985
sets$raudenbush1985 <- list(
  source = "metadat::dat.raudenbush1985 (Raudenbush 1984); yi = SMD, vi",
  measure = "SMD", yi = rb$yi, vi = rb$vi, fits = all_fits(rb$yi, rb$vi))

# k = 2: the first two BCG trials (log RR)
es <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg[1:2, ])
sets$k2_bcg <- list(source = "first two trials of dat.bcg (log RR)", measure = "RR",
                    yi = c(es$yi), vi = c(es$vi), fits = all_fits(es$yi, es$vi))

# k = 1: one study (metafor fits the single study; tau^2 = 0)
r1 <- rma(yi = 0.3, vi = 0.04)
sets$k1 <- list(source = "rma(yi = 0.3, vi = 0.04)", yi = list(0.3), vi = list(0.04),
                fits = list(REML.z = list(k = 1, estimate = c(r1$b), se = r1$se, ci_low = r1$ci.lb,
                                          ci_high = r1$ci.ub, tau2 = r1$tau2, Q = r1$QE,
                                          Q_p = r1$QEp, I2 = r1$I2, H2 = r1$H2)))

# Pre-post: the Morris (2008) Table 5 summaries (as in metafor's Morris 2008 analysis example;
# post-test SDs are inputs for SMCC only), both arms stacked; SMCR and SMCC per arm
mo <- data.frame(
  study = rep(paste("Study", 1:5), 2), group = rep(c("treatment", "control"), each = 5),
  m_pre = c(30.6, 23.5, 0.5, 53.4, 35.6, 23.1, 24.9, 0.6, 55.7, 34.8),
  m_post = c(38.5, 26.8, 0.7, 75.9, 36.0, 19.7, 25.3, 0.6, 60.7, 33.4),
  sd_pre = c(15.0, 3.1, 0.1, 14.5, 4.7, 13.8, 4.1, 0.2, 17.3, 3.1),
  sd_post = c(11.6, 4.1, 0.1, 4.4, 4.6, 14.8, 3.3, 0.2, 17.9, 6.9),
  ni = c(20, 50, 9, 10, 14, 20, 42, 9, 11, 14),
  ri = rep(c(0.47, 0.64, 0.77, 0.89, 0.44), 2))
smcr <- escalc("SMCR", m1i = m_post, m2i = m_pre, sd1i = sd_pre, ni = ni, ri = ri, data = mo)
smcc <- escalc("SMCC", m1i = m_post, m2i = m_pre, sd1i = sd_pre, sd2i = sd_post, ni = ni, ri = ri,
               data = mo)
sets$morris2008 <- list(
  source = "Morris (2008) Table 5 summaries (metafor analysis example); escalc SMCR (m1i=m_post, m2i=m_pre, sd1i=sd_pre, ni, ri) and SMCC",
  data = list(mean_pre = mo$m_pre, mean_post = mo$m_post, sd_pre = mo$sd_pre, sd_post = mo$sd_post,
              n = mo$ni, r = mo$ri, study = mo$study, group = mo$group),
  escalc = list(SMCR = list(yi = c(smcr$yi), vi = c(smcr$vi)),
                SMCC = list(yi = c(smcc$yi), vi = c(smcc$vi))))

doc <- list(r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
            generated = format(Sys.time(), "%Y-%m-%d %H:%M:%S UTC", tz = "UTC"),
            script = "tests/reference/meta/meta_reference.R", sets = sets)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
           out_file)
cat("wrote", out_file, "\n")
