"""MGPS: the caers fit, openEBGM's published scores, its quantile bisection, squashing, failures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from repigment.signals import (
    Counts,
    SignalsError,
    Theta,
    auto_squash,
    count_long,
    fit_theta,
    neg_log_lik,
    posterior_cdf,
    posterior_qn,
    quantile_exact,
    quantile_openebgm,
    score,
    squash_level,
)


@pytest.fixture(scope="module")
def cells(caers: Path) -> Counts:
    return count_long(caers, strata=[])


def test_fit_reaches_the_published_minimum(cells: Counts, vignette_theta: Theta) -> None:
    fit = fit_theta(cells.n, cells.e)
    assert fit.converged and fit.theta is not None, fit.reason
    published = neg_log_lik(vignette_theta, cells.n, cells.e)
    assert abs(published - 4162.456) < 5e-4  # our likelihood is openEBGM's: same value at its optimum
    assert fit.nll <= published + 1e-6
    assert fit.nll <= 4162.456
    # Parameters agree with openEBGM's to the precision a fit has across platforms.
    assert np.allclose(fit.theta, vignette_theta, rtol=1e-4)
    # The weighted (merged identical points) likelihood equals the plain one.
    assert math.isclose(neg_log_lik(fit.theta, cells.n, cells.e), fit.nll, rel_tol=1e-12)


def test_openebgm_scores_with_its_test_theta(cells: Counts, test_theta: Theta) -> None:
    t = score(cells, test_theta, mode="openebgm")
    top = t.sort_values("EBGM", ascending=False).iloc[0]
    assert (top["drug"], top["event"]) == ("REUMOFAN PLUS", "WEIGHT INCREASED")
    assert (top["N"], top["EBGM"], top["QUANT_05"], top["QUANT_95"]) == (16, 23.26, 15.68, 33.48)
    assert int((t["QUANT_05"] >= 2).sum()) == 131
    assert len(t) == 17_189


def test_fast_bisection_equals_literal_bisection(cells: Counts, test_theta: Theta) -> None:
    n, e = cells.n.astype(float), cells.e
    qn = posterior_qn(test_theta, n, e)
    for p in (0.05, 0.95):
        fast = quantile_openebgm(test_theta, n, e, qn, p)
        literal = quantile_openebgm(test_theta, n, e, qn, p, literal=True)
        assert np.array_equal(fast, literal)


def test_bisection_midpoint_is_not_the_rounded_quantile(cells: Counts, test_theta: Theta) -> None:
    n, e = cells.n.astype(float), cells.e
    qn = posterior_qn(test_theta, n, e)
    exact = quantile_exact(test_theta, n, e, qn, 0.05)
    compat = quantile_openebgm(test_theta, n, e, qn, 0.05, exact=exact)
    differ = np.round(exact, 2) != compat
    assert differ.sum() > 1000  # thousands of caers cells differ by 0.01 (reference section 3)
    assert np.max(np.abs(np.round(exact, 2) - compat)) <= 0.0100001


def test_exact_quantile_inverts_the_posterior_cdf(cells: Counts, test_theta: Theta) -> None:
    n, e = cells.n.astype(float), cells.e
    qn = posterior_qn(test_theta, n, e)
    for p in (0.025, 0.05, 0.5, 0.95):
        q = quantile_exact(test_theta, n, e, qn, p)
        assert np.max(np.abs(posterior_cdf(test_theta, n, e, qn, q) - p)) < 1e-13


def test_quantiles_against_r_pgamma_mixture(test_theta: Theta, run_r) -> None:  # type: ignore[no-untyped-def]
    n = np.array([1.0, 2.0, 16.0, 40.0, 3.0])
    e = np.array([0.01, 0.5, 0.4064, 3.0, 20.0])
    qn = posterior_qn(test_theta, n, e)
    q = quantile_exact(test_theta, n, e, qn, 0.05)
    a1, b1, a2, b2, _ = test_theta
    script = (
        "x <- matrix(scan(file('stdin'), quiet = TRUE), ncol = 4, byrow = TRUE);"
        f"f <- function(v, N, E, Q) Q * pgamma(v, {a1} + N, rate = {b1} + E) + "
        f"(1 - Q) * pgamma(v, {a2} + N, rate = {b2} + E);"
        "for (i in seq_len(nrow(x))) cat(sprintf('%.17g', f(x[i, 4], x[i, 1], x[i, 2], x[i, 3])), '\\n')"
    )
    stdin = "\n".join(
        f"{float(n[i])!r} {float(e[i])!r} {float(qn[i])!r} {float(q[i])!r}" for i in range(n.size)
    )
    got = [float(v) for v in run_r(script, stdin + "\n").split()]
    assert np.allclose(got, 0.05, rtol=0, atol=1e-13)


def test_squashing_keeps_weights_and_largest_points() -> None:
    rng = np.random.default_rng(3)
    e = rng.lognormal(-2, 1.5, 1203)
    se, w = squash_level(e, keep=100, bin_size=50)
    assert w.sum() == 1203
    assert np.array_equal(se[-100:], np.sort(e)[-100:])
    assert se.size == 100 + math.ceil(1103 / 50)
    assert math.isclose(float(np.dot(se, w)), float(e.sum()), rel_tol=1e-12)
    n = np.concatenate([np.ones(1203), np.full(300, 2.0), np.full(20, 7.0)])
    ee = np.concatenate([e, rng.lognormal(-1, 1, 300), rng.lognormal(0, 1, 20)])
    sn, se2, sw = auto_squash(n, ee)
    assert sw.sum() == n.size
    assert sn.size < n.size
    assert np.sum(sn == 7.0) == 20  # only the lowest four count levels are squashed; 20 points stay


def test_squashed_fit_is_close(cells: Counts) -> None:
    fit = fit_theta(cells.n, cells.e, squash=True)
    assert fit.squashed and fit.theta is not None and fit.n_points < 2000
    full = neg_log_lik(fit.theta, cells.n, cells.e)
    assert full < 4162.456 + 0.5  # a good prior for the unsquashed data too


def test_fit_failures_say_why() -> None:
    f = fit_theta(np.array([0, 0]), np.array([1.0, 2.0]))
    assert f.theta is None and "no drug-event cells with N >= 1" in f.reason
    f = fit_theta(np.array([1, 1, 1]), np.array([1.0, 2.0, 0.5]))
    assert f.theta is None and "same count" in f.reason
    # Counts that follow E exactly (no extra variation): the prior collapses onto the boundary.
    rng = np.random.default_rng(0)
    e = rng.uniform(0.5, 5, 400)
    n = np.maximum(rng.poisson(e), 1)
    f = fit_theta(n, e)
    assert not f.converged and f.reason and f.theta is not None
    assert "boundary" in f.reason or "consistent convergence failed" in f.reason


def test_theta_parsing() -> None:
    assert Theta.parse("3.2,0.4,2,1.9,0.06") == Theta(3.2, 0.4, 2.0, 1.9, 0.06)
    for bad, msg in (
        ("1,2,3", "5 comma-separated"),
        ("1,2,3,4,1.5", "p must"),
        ("1,-2,3,4,0.5", "beta1"),
        ("a,b,c,d,e", "not a list"),
    ):
        with pytest.raises(SignalsError, match=msg):
            Theta.parse(bad)


FIT_SCRIPT = """
import numpy as np
from repigment.signals.mgps import fit_theta
rng = np.random.default_rng(4)
e = rng.lognormal(-1.5, 1.5, 30_000)
n = np.maximum(rng.poisson(e * rng.gamma(0.5, 2.0, e.size)), 1)
fit = fit_theta(n, e)
print(fit.theta.as_text(), repr(fit.nll))
"""


def test_fit_does_not_depend_on_the_number_of_blas_threads() -> None:
    # Regression: the likelihood's weighted sums went through BLAS, whose threads split them
    # differently, so the prior differed in its last digits between 1 and 2 threads (a Dask worker
    # runs BLAS on one thread; machines differ in cores).
    import os
    import subprocess
    import sys

    got = set()
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        r = subprocess.run(
            [sys.executable, "-c", FIT_SCRIPT], capture_output=True, text=True, env=env, timeout=300
        )
        assert r.returncode == 0, r.stderr
        got.add(r.stdout)
    assert len(got) == 1, got
