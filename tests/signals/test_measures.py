"""PRR, ROR, chi-square and IC by hand and against R."""

from __future__ import annotations

import math

import numpy as np

from repigment.signals import disproportionality, prr, relative_reporting_ratio


def test_prr_and_ror_by_hand() -> None:
    # a = 20, b = 80 (drug total 100), c = 180 (event total 200), N_total = 10_000, d = 9720.
    a, nd, ne, nt = 20.0, 100.0, 200.0, 10_000.0
    e = nd / nt * ne
    d = disproportionality(np.array([a]), np.array([nd]), np.array([ne]), nt, np.array([e]))
    assert math.isclose(d["PRR"][0], (20 / 100) / (180 / 9900), rel_tol=1e-15)
    se = math.sqrt(1 / 20 - 1 / 100 + 1 / 180 - 1 / 9900)
    assert math.isclose(d["PRR_lower"][0], math.exp(math.log(11.0) - 1.959963984540054 * se), rel_tol=1e-13)
    assert math.isclose(d["ROR"][0], 20 * 9720 / (80 * 180), rel_tol=1e-15)
    se_r = math.sqrt(1 / 20 + 1 / 80 + 1 / 180 + 1 / 9720)
    assert math.isclose(d["ROR025"][0], 13.5 * math.exp(-1.959963984540054 * se_r), rel_tol=1e-13)
    assert math.isclose(d["IC"][0], math.log2(20.5 / 2.5), rel_tol=1e-15)


def test_openebgm_zero_conventions() -> None:
    n = np.array([0.0, 3.0, 0.0])
    e = np.array([0.0, 0.0, 1.0])
    assert relative_reporting_ratio(n, e).tolist() == [0.0, math.inf, 0.0]
    # PRR 0/0 (no reports of the event besides none with the drug) is Inf as in openEBGM.
    assert prr(np.array([0.0]), np.array([2.0]), np.array([0.0]), 10.0)[0] == math.inf
    assert prr(np.array([2.0]), np.array([2.0]), np.array([2.0]), 10.0)[0] == math.inf


def test_against_r_chisq_and_qgamma(run_r) -> None:  # type: ignore[no-untyped-def]
    tables = [(20, 80, 180, 9720), (3, 40, 7, 900), (1, 0, 5, 50), (12, 300, 45, 70000), (5, 5, 5, 5)]
    a = np.array([t[0] for t in tables], float)
    b = np.array([t[1] for t in tables], float)
    c = np.array([t[2] for t in tables], float)
    dd = np.array([t[3] for t in tables], float)
    nt = a + b + c + dd
    e = (a + b) / nt * (a + c)
    rows = [
        disproportionality(
            a[i : i + 1], a[i : i + 1] + b[i : i + 1], a[i : i + 1] + c[i : i + 1], nt[i], e[i : i + 1]
        )
        for i in range(len(tables))
    ]
    script = (
        "x <- matrix(scan(file('stdin'), quiet = TRUE), ncol = 5, byrow = TRUE);"
        "for (i in seq_len(nrow(x))) { m <- matrix(x[i, 1:4], 2, byrow = TRUE);"
        " chi <- suppressWarnings(chisq.test(m, correct = TRUE)$statistic);"
        " q <- qgamma(c(0.025, 0.975), shape = x[i, 1] + 0.5, rate = x[i, 5] + 0.5);"
        " cat(sprintf('%a', c(chi, log2(q))), '\\n') }"
    )
    stdin = "\n".join(f"{t[0]} {t[1]} {t[2]} {t[3]} {float(e[i])!r}" for i, t in enumerate(tables)) + "\n"
    out = [[float.fromhex(v) for v in line.split()] for line in run_r(script, stdin).strip().splitlines()]
    for r, (chi, lo, hi) in zip(rows, out, strict=True):
        assert math.isclose(r["chi2_yates"][0], chi, rel_tol=1e-12)
        assert math.isclose(r["IC025"][0], lo, rel_tol=1e-12, abs_tol=1e-13)
        assert math.isclose(r["IC975"][0], hi, rel_tol=1e-12, abs_tol=1e-13)
