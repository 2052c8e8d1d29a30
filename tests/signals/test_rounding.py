"""R's round(x, digits) reproduced bit for bit (openEBGM rounds with it)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from repigment.signals import r_round


def test_known_ties_differ_from_numpy() -> None:
    # R >= 4: round(10.475, 2) = 10.47 while numpy gives 10.48.
    assert r_round([10.475], 2)[0] == 10.47
    assert np.round(10.475, 2) == 10.48
    assert r_round([0.125, -2.675], 2).tolist() == [0.12, -2.67]
    assert r_round([2.5, 3.5, -0.5], 0).tolist() == [2.0, 4.0, -0.0]


def test_special_values_pass_through() -> None:
    out = r_round([np.inf, -np.inf, np.nan, 0.0], 2)
    assert out[0] == np.inf and out[1] == -np.inf and np.isnan(out[2]) and out[3] == 0.0


def test_agrees_with_r_on_ties_and_random_values(run_r: Callable[..., str]) -> None:
    rng = np.random.default_rng(1)
    ties = (np.arange(0, 5000) + 0.5) / 100  # x.xx5 values: the hard cases
    vals = np.concatenate(
        [
            ties,
            -ties[:500],
            rng.uniform(0, 1000, 3000),
            rng.lognormal(0, 3, 2000),
            [1e15 + 0.125, 123456789012.345, 5e-324, 1.005, 2.675],
        ]
    )
    digits = [1, 2, 3]
    text = "\n".join(float(v).hex() for v in vals)
    script = (
        "x <- as.numeric(readLines(file('stdin')));"
        "for (d in c(1, 2, 3)) cat(sprintf('%a', round(x, d)), sep = '\\n')"
    )
    out = run_r(script, text + "\n").split()
    got = np.array([float.fromhex(s) for s in out]).reshape(len(digits), -1)
    for k, d in enumerate(digits):
        mine = r_round(vals, d)
        assert np.array_equal(mine, got[k]), (d, vals[mine != got[k]][:5])
    # numpy disagrees on a visible share of the ties, which is why the R rule is needed.
    assert np.sum(np.round(ties, 2) != got[1][: ties.size]) > 10
