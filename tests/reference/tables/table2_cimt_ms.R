# Reference values for rs.tables.outcome_table (Table 2) on the bundled cimt_ms data:
# observed mean / SD / n per arm and visit, the ANCOVA (lm + emmeans) adjusted difference
# at follow-up and at post, and an MMRM-equivalent GLS (unstructured: corSymm + varIdent,
# REML) with emmeans' Satterthwaite df per visit.
# Run: Rscript tests/reference/tables/table2_cimt_ms.R  (writes table2_cimt_ms.json)
suppressPackageStartupMessages({library(nlme); library(emmeans); library(jsonlite)})
d <- read.csv("src/rehabstats/datasets/data/cimt_ms.csv")
d$arm <- factor(d$arm, levels = c("control", "cimt"))
d$visit <- factor(d$visit, levels = c("pre", "post", "followup"))
obs <- d[!is.na(d$mal_aou), ]
observed <- do.call(rbind, lapply(split(obs, list(obs$visit, obs$arm)), function(g)
  data.frame(visit = as.character(g$visit[1]), arm = as.character(g$arm[1]),
             mean = mean(g$mal_aou), sd = sd(g$mal_aou), n = nrow(g))))

wide <- reshape(d[, c("subject", "arm", "visit", "mal_aou")], idvar = c("subject", "arm"),
                timevar = "visit", direction = "wide")
ancova <- list()
for (v in c("post", "followup")) {
  f <- as.formula(paste0("mal_aou.", v, " ~ mal_aou.pre + arm"))
  m <- lm(f, data = wide)
  ct <- summary(contrast(emmeans(m, "arm"), "trt.vs.ctrl"), infer = TRUE)
  ancova[[v]] <- list(estimate = ct$estimate, se = ct$SE, df = ct$df, ci_low = ct$lower.CL,
                      ci_high = ct$upper.CL, p = ct$p.value)
}

g <- gls(mal_aou ~ arm * visit, data = obs, method = "REML",
         correlation = corSymm(form = ~ as.integer(visit) | subject),
         weights = varIdent(form = ~ 1 | visit))
emm <- emmeans(g, "arm", by = "visit", mode = "satterthwaite")
ct <- summary(contrast(emm, "trt.vs.ctrl"), infer = TRUE)
gls_rows <- data.frame(visit = as.character(ct$visit), estimate = ct$estimate, se = ct$SE,
                       df = ct$df, ci_low = ct$lower.CL, ci_high = ct$upper.CL, p = ct$p.value)

out <- list(
  source = paste("R", getRversion(), "nlme", packageVersion("nlme"), "emmeans",
                 packageVersion("emmeans")),
  observed = observed, ancova = ancova, gls = gls_rows,
  gls_loglik = as.numeric(logLik(g)))
write_json(out, "tests/reference/tables/table2_cimt_ms.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
