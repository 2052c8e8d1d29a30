"""Every statistic against R on the same data (one Rscript run for the module).

R built-ins: binom.test (Clopper–Pearson), prop.test(correct = FALSE) (Wilson), mantelhaen.test (CMH with
its default continuity correction, RBG interval), glm(family = binomial) with confint.default (run to
convergence: R's default stopping rule leaves its
standard errors ~1e-4 from the optimum). R has no
Newcombe, RR/OR-with-Haldane or Breslow–Day function: those are written here in R as independent
implementations (Breslow–Day solves for the expected count with uniroot rather than the quadratic formula).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from repigment.outcomes import analyse, derive, simulate, stratum_codes, tables
from repigment.outcomes import stats as st

from .conftest import close, r_vec, run_r

pytestmark = pytest.mark.r_oracle

PROPS = [
    (0, 10),
    (10, 10),
    (1, 1),
    (0, 1),
    (3, 17),
    (66, 221),
    (8, 109),
    (50, 100),
    (1, 2),
    (199, 200),
    (0, 200),
]
PAIRS = [
    (66, 221, 8, 109),
    (0, 10, 0, 20),
    (10, 10, 0, 20),
    (10, 10, 10, 10),
    (5, 56, 0, 29),
    (0, 15, 4, 12),
    (7, 7, 3, 9),
    (69, 222, 12, 109),
    (1, 1, 0, 1),
    (56, 70, 48, 80),
]


def _tables() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    random4 = rng.integers(3, 40, size=(4, 2, 2))
    zero_cell = np.array([[[12, 8], [0, 15]], [[9, 11], [4, 14]], [[20, 5], [6, 10]]])
    zero_margin = np.array(
        [[[12, 8], [3, 15]], [[6, 0], [4, 0]], [[20, 5], [6, 10]]]
    )  # stratum 2: all respond
    small_delta = np.array([[[5, 5], [5, 5]], [[3, 4], [4, 5]]])  # |Σ(a − E a)| < 0.5: no correction
    all_resp_trt = np.array([[[10, 0], [4, 6]], [[8, 0], [2, 9]], [[5, 0], [5, 5]]])  # MH OR infinite
    many = rng.integers(0, 25, size=(9, 2, 2))
    many[:, :, :] += 1
    return {
        "random4": random4,
        "zero_cell": zero_cell,
        "zero_margin": zero_margin,
        "small_delta": small_delta,
        "all_resp_trt": all_resp_trt,
        "many": many,
    }


TABLES = _tables()


def _glm_sets() -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(11)
    out: dict[str, dict[str, np.ndarray]] = {}
    n = 400
    trt = (rng.random(n) < 2 / 3).astype(int)
    region = rng.choice(["eu", "na", "other"], n)
    skin = rng.choice(["i_ii", "iii_vi"], n, p=[0.3, 0.7])
    lp = -2.0 + 1.5 * trt + 0.4 * (region == "na") - 0.3 * (skin == "iii_vi")
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    out["strata"] = {"trt": trt, "y": y, "region": region, "skin": skin}
    out["plain"] = {"trt": trt, "y": y}
    y0 = y.copy()
    y0[(region == "other") & (trt == 0)] = 0  # zero responders in one control cell; MLE still exists
    out["zero_cell"] = {"trt": trt, "y": y0, "region": region, "skin": skin}
    y1 = y.copy()
    y1[trt == 1] = 1  # every treated patient responds: separation
    out["all_responders"] = {"trt": trt, "y": y1, "region": region, "skin": skin}
    return out


GLM = _glm_sets()


def _pipeline() -> tuple[dict, dict[str, np.ndarray]]:
    df = simulate(674, seed=5)
    d = derive(df, "F-VASI75", 24, 2, strata=("region", "skin_type"))
    res = analyse(d, "ruxolitinib", "vehicle", "observed")
    pop = d.observed
    vecs = {
        "trt": d.treated[pop].astype(int),
        "y": d.responder[pop].astype(int),
        "region": np.asarray(d.strata_levels["region"])[d.strata["region"][pop]],
        "skin": np.asarray(d.strata_levels["skin_type"])[d.strata["skin_type"][pop]],
    }
    return res, vecs


PIPE_RESULT, PIPE = _pipeline()


def _script() -> str:
    lines = []
    for i, (x, n) in enumerate(PROPS):
        lines.append(f'out("exact{i}", binom.test({x}, {n})$conf.int)')
        lines.append(f'out("wilson{i}", suppressWarnings(prop.test({x}, {n}, correct = FALSE))$conf.int)')
    lines.append("""
wil <- function(x, n) suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int
newcombe <- function(x1, n1, x0, n0) {
  w1 <- wil(x1, n1); w0 <- wil(x0, n0); p1 <- x1 / n1; p0 <- x0 / n0; d <- p1 - p0
  c(d, d - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2), d + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
}
rr <- function(x1, n1, x0, n0) {
  if (x1 == 0 || x0 == 0) { x1 <- x1 + .5; x0 <- x0 + .5; n1 <- n1 + 1; n0 <- n0 + 1 }
  r <- (x1 / n1) / (x0 / n0); se <- sqrt(1/x1 - 1/n1 + 1/x0 - 1/n0)
  c(r, r * exp(c(-1, 1) * qnorm(.975) * se))
}
or <- function(x1, n1, x0, n0) {
  v <- c(x1, n1 - x1, x0, n0 - x0); if (any(v == 0)) v <- v + .5
  o <- v[1] * v[4] / (v[2] * v[3]); se <- sqrt(sum(1 / v))
  c(o, o * exp(c(-1, 1) * qnorm(.975) * se))
}
# glm's default epsilon (1e-8 on the deviance) stops while the working weights -- hence vcov -- still
# differ from the optimum by ~1e-4; compare with the converged fit.
tight <- glm.control(epsilon = 1e-13, maxit = 100)
bd <- function(x, tarone = FALSE) {
  psi <- unname(mantelhaen.test(x)$estimate)
  keep <- sapply(seq_len(dim(x)[3]), function(k) all(rowSums(x[, , k]) > 0) && all(colSums(x[, , k]) > 0))
  x <- x[, , keep, drop = FALSE]; K <- dim(x)[3]; s <- 0; sd <- 0; sv <- 0
  for (k in seq_len(K)) {
    a <- x[1, 1, k]; n1 <- sum(x[1, , k]); n0 <- sum(x[2, , k]); m1 <- sum(x[, 1, k])
    f <- function(e) e * (n0 - m1 + e) - psi * (n1 - e) * (m1 - e)
    e <- uniroot(f, c(max(0, m1 - n0), min(n1, m1)), tol = 1e-14)$root
    v <- 1 / (1/e + 1/(n1 - e) + 1/(m1 - e) + 1/(n0 - m1 + e))
    s <- s + (a - e)^2 / v; sd <- sd + (a - e); sv <- sv + v
  }
  if (tarone) s <- s - sd^2 / sv
  c(s, K - 1, pchisq(s, K - 1, lower.tail = FALSE))
}
""")
    for i, (x1, n1, x0, n0) in enumerate(PAIRS):
        lines.append(f'out("newcombe{i}", newcombe({x1}, {n1}, {x0}, {n0}))')
        lines.append(f'out("rr{i}", rr({x1}, {n1}, {x0}, {n0}))')
        lines.append(f'out("or{i}", or({x1}, {n1}, {x0}, {n0}))')
    for name, t in TABLES.items():
        lines.append(f"x <- array({r_vec(np.asarray(t).transpose(0, 2, 1))}, dim = c(2, 2, {len(t)}))")
        lines.append(
            f'm <- mantelhaen.test(x); out("cmh_{name}", m$estimate, m$conf.int, m$statistic, m$p.value)'
        )
        lines.append(f'm <- mantelhaen.test(x, correct = FALSE); out("cmhnc_{name}", m$statistic, m$p.value)')
        if name not in ("all_resp_trt",):
            lines.append(f'out("bd_{name}", bd(x)); out("bdt_{name}", bd(x, TRUE))')
    for name, d in GLM.items():
        cols = [f"{k} = {r_vec(v)}" for k, v in d.items()]
        formula = "y ~ trt" + (" + factor(region) + factor(skin)" if "region" in d else "")
        lines.append(f"d <- data.frame({', '.join(cols)})")
        lines.append(f"f <- suppressWarnings(glm({formula}, family = binomial, data = d, control = tight))")
        lines.append(
            f'out("glm_{name}", coef(f)["trt"], sqrt(vcov(f)["trt", "trt"]), '
            f'confint.default(f)["trt", ], coef(summary(f))["trt", 4])'
        )
    # the whole pipeline on simulated data: per-arm binomial CIs, CMH over region × skin type, glm
    cols = [f"{k} = {r_vec(v)}" for k, v in PIPE.items()]
    lines.append(f"p <- data.frame({', '.join(cols)})")
    lines.append("""
for (arm in c(1, 0)) {
  s <- p[p$trt == arm, ]; x <- sum(s$y); n <- nrow(s)
  out(paste0("pipe_arm", arm), x, n, binom.test(x, n)$conf.int, wil(x, n))
}
tab <- xtabs(~ factor(trt, levels = c(1, 0)) + factor(y, levels = c(1, 0)) + interaction(region, skin),
             data = p)
m <- mantelhaen.test(tab); out("pipe_cmh", m$estimate, m$conf.int, m$statistic, m$p.value)
out("pipe_bd", bd(tab))
f <- glm(y ~ trt + factor(region) + factor(skin), family = binomial, data = p, control = tight)
out("pipe_glm", exp(coef(f)["trt"]), exp(confint.default(f)["trt", ]), coef(summary(f))["trt", 4])
x1 <- sum(p$y[p$trt == 1]); n1 <- sum(p$trt == 1); x0 <- sum(p$y[p$trt == 0]); n0 <- sum(p$trt == 0)
out("pipe_rd", newcombe(x1, n1, x0, n0)); out("pipe_rr", rr(x1, n1, x0, n0))
out("pipe_or", or(x1, n1, x0, n0))
""")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def r() -> dict[str, list[float]]:
    return run_r(_script())


def _all_close(mine: list[float | None], theirs: list[float], tol: float = 1e-6) -> None:
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert close(a, b, tol), (mine, theirs)


@pytest.mark.parametrize("i", range(len(PROPS)))
def test_binomial_cis(r: dict[str, list[float]], i: int) -> None:
    x, n = PROPS[i]
    _all_close(list(st.clopper_pearson_ci(x, n)), r[f"exact{i}"])
    _all_close(list(st.wilson_ci(x, n)), r[f"wilson{i}"])


@pytest.mark.parametrize("i", range(len(PAIRS)))
def test_two_arm_effects(r: dict[str, list[float]], i: int) -> None:
    x1, n1, x0, n0 = PAIRS[i]
    rd = st.risk_difference(x1, n1, x0, n0)
    _all_close([rd.estimate, *rd.ci], r[f"newcombe{i}"])
    rr = st.relative_risk(x1, n1, x0, n0)
    _all_close([rr.estimate, *rr.ci], r[f"rr{i}"])
    o = st.odds_ratio(x1, n1, x0, n0)
    _all_close([o.estimate, *o.ci], r[f"or{i}"])
    assert (o.note is not None) == (min(x1, n1 - x1, x0, n0 - x0) == 0)


@pytest.mark.parametrize("name", list(TABLES))
def test_cmh_against_mantelhaen(r: dict[str, list[float]], name: str) -> None:
    t = TABLES[name]
    res = st.cmh(t)
    est, lo, hi, stat, p = r[f"cmh_{name}"]
    _all_close([res.statistic, res.p_value], [stat, p])
    nc = st.cmh(t, correct=False)
    _all_close([nc.statistic, nc.p_value], r[f"cmhnc_{name}"])
    if math.isinf(est):
        assert res.odds_ratio is None and res.ci == (None, None) and res.note
    else:
        _all_close([res.odds_ratio, *res.ci], [est, lo, hi])
    if name == "small_delta":
        assert res.continuity_correction == 0.0 and res.statistic == nc.statistic
    else:
        assert res.continuity_correction == 0.5


@pytest.mark.parametrize("name", [n for n in TABLES if n != "all_resp_trt"])
def test_breslow_day_against_r_implementation(r: dict[str, list[float]], name: str) -> None:
    for tarone, key in ((False, "bd_"), (True, "bdt_")):
        res = st.breslow_day(TABLES[name], tarone=tarone)
        stat, df, p = r[key + name]
        assert res.df == int(df)
        _all_close([res.statistic, res.p_value], [stat, p])


def test_breslow_day_undefined_when_or_infinite() -> None:
    res = st.breslow_day(TABLES["all_resp_trt"])
    assert res.statistic is None and res.note


def test_cmh_drops_singleton_strata_like_r_would_need() -> None:
    t = np.concatenate([TABLES["random4"], [[[1, 0], [0, 0]]]])
    full, reduced = st.cmh(t), st.cmh(TABLES["random4"])
    assert full.strata_dropped == 1 and full.strata_used == 4
    assert full.statistic == reduced.statistic and full.odds_ratio == reduced.odds_ratio


@pytest.mark.parametrize("name", [n for n in GLM if n != "all_responders"])
def test_logistic_against_glm(r: dict[str, list[float]], name: str) -> None:
    d = GLM[name]
    covs = [d[k] for k in ("region", "skin") if k in d]
    res = st.logistic_treatment(d["trt"], d["y"], covs, [k for k in ("region", "skin") if k in d])
    coef, se, lo, hi, p = r[f"glm_{name}"]
    _all_close([res.coefficient, res.se, res.p_value], [coef, se, p])
    _all_close([res.odds_ratio, *res.ci], [math.exp(coef), math.exp(lo), math.exp(hi)])


def test_logistic_separation_is_reported_not_estimated(r: dict[str, list[float]]) -> None:
    d = GLM["all_responders"]
    res = st.logistic_treatment(d["trt"], d["y"], [d["region"], d["skin"]], ["region", "skin"])
    assert res.odds_ratio is None and res.note and "separation" in res.note
    coef, se, *_ = r["glm_all_responders"]
    assert abs(coef) > 10 and se > 100  # R's glm "converges" to a meaningless huge estimate


def test_pipeline_matches_r(r: dict[str, list[float]]) -> None:
    res = PIPE_RESULT
    for arm, label in ((1, "ruxolitinib"), (0, "vehicle")):
        x, n, elo, ehi, wlo, whi = r[f"pipe_arm{arm}"]
        a = res["arms"][label]
        assert (a["responders"], a["n"]) == (int(x), int(n))
        _all_close([*a["exact_ci"], *a["wilson_ci"]], [elo, ehi, wlo, whi])
    _all_close([res["risk_difference"]["estimate"], *res["risk_difference"]["ci"]], r["pipe_rd"])
    _all_close([res["relative_risk"]["estimate"], *res["relative_risk"]["ci"]], r["pipe_rr"])
    _all_close([res["odds_ratio"]["estimate"], *res["odds_ratio"]["ci"]], r["pipe_or"])
    c = res["cmh"]
    _all_close([c["odds_ratio"], *c["ci"], c["statistic"], c["p_value"]], r["pipe_cmh"])
    bd = c["breslow_day"]
    _all_close([bd["statistic"], bd["df"], bd["p_value"]], r["pipe_bd"])
    lg = res["logistic"]
    _all_close([lg["odds_ratio"], *lg["ci"], lg["p_value"]], r["pipe_glm"])


def test_tables_layout() -> None:
    treated = np.array([True, True, False, False, True])
    resp = np.array([True, False, True, False, True])
    codes, labels = stratum_codes({"s": np.array(["a", "a", "a", "b", "b"])})
    t = tables(treated, resp, codes, len(labels))
    assert labels == ["s=a", "s=b"]
    assert t.tolist() == [[[1, 1], [1, 0]], [[1, 0], [0, 1]]]
