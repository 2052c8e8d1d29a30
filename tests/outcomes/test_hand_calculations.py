"""Statistics against published worked examples and hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from repigment.outcomes import stats as st

# Newcombe (1998) Stat Med 17:873-890, Table II, method 10 (hybrid score), examples (a)–(h).
NEWCOMBE_1998 = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_1998)
def test_newcombe_1998_table_ii(counts: tuple[int, int, int, int], expected: tuple[float, float]) -> None:
    ci = st.risk_difference(*counts).ci
    assert ci[0] is not None and ci[1] is not None
    assert round(ci[0], 4) == expected[0] and round(ci[1], 4) == expected[1]


def test_nnt_notation_altman_1998() -> None:
    clear = st.number_needed_to_treat(0.2, (0.1, 0.25))
    assert clear["kind"] == "NNTB" and clear["ci"] == [4.0, 10.0] and not clear["crosses_zero"]
    harm = st.number_needed_to_treat(-0.1, (-0.2, -0.05))
    assert harm["kind"] == "NNTH" and harm["ci"] == [5.0, 20.0] and harm["ci_text"] == "NNTH 5.0 to 20.0"
    cross = st.number_needed_to_treat(0.1, (-0.05, 0.25))
    assert cross["crosses_zero"] and cross["ci_text"] == "NNTB 4.0 to ∞ to NNTH 20.0"
    assert cross["ci"] is None and cross["ci_through_infinity"] == {"NNTB": 4.0, "NNTH": 20.0}
    zero = st.number_needed_to_treat(0.0, (-0.1, 0.1))
    assert zero["estimate"] is None and zero["ci_text"] == "NNTB 10.0 to ∞ to NNTH 10.0"


def test_haldane_flag_and_values() -> None:
    o = st.odds_ratio(5, 5, 2, 10)  # b = 0
    assert o.note and "Haldane" in o.note
    assert o.estimate == pytest.approx((5.5 * 8.5) / (0.5 * 2.5))
    assert st.odds_ratio(4, 10, 2, 10).note is None


def test_rubin_rules_by_hand() -> None:
    q, u = [0.30, 0.32, 0.28, 0.31], [0.001, 0.0011, 0.0009, 0.001]
    p = st.rubin(q, u)
    qbar, ubar, b = 0.3025, 0.001, float(np.var(q, ddof=1))
    t = ubar + 1.25 * b
    r = 1.25 * b / ubar
    df = 3 * (1 + 1 / r) ** 2
    assert p.estimate == pytest.approx(qbar) and p.variance == pytest.approx(t) and p.df == pytest.approx(df)
    half = sps.t.ppf(0.975, df) * math.sqrt(t)
    assert p.ci == pytest.approx((qbar - half, qbar + half))
    same = st.rubin([0.3, 0.3, 0.3], [0.001] * 3)  # no between-imputation variance: normal interval
    assert same.df is None and same.ci[1] - 0.3 == pytest.approx(1.959963984540054 * math.sqrt(0.001))


def test_d2_by_hand() -> None:
    d = [3.1, 4.0, 2.5, 3.6, 2.9]
    m, k = 5, 1
    r = (1 + 1 / m) * float(np.var(np.sqrt(d), ddof=1))
    d2 = (np.mean(d) / k - (m + 1) / (m - 1) * r) / (1 + r)
    df2 = k ** (-3 / m) * (m - 1) * (1 + 1 / r) ** 2
    got = st.d2_chisq(d, k)
    assert got[0] == pytest.approx(d2) and got[1] == pytest.approx(df2)
    assert got[2] == pytest.approx(sps.f.sf(d2, k, df2))


def test_cmh_undefined_parts_are_none() -> None:
    res = st.cmh(np.array([[[0, 5], [0, 5]], [[0, 3], [0, 4]]]))  # nobody responds anywhere
    assert res.statistic is None and res.odds_ratio is None and res.ci == (None, None)


def test_bad_tables_rejected() -> None:
    with pytest.raises(st.OutcomesError):
        st.as_tables(np.zeros((2, 3, 2)))
    with pytest.raises(st.OutcomesError):
        st.as_tables(-np.ones((1, 2, 2)))


def test_sas_proc_freq_migraine_example() -> None:
    """SAS/STAT User's Guide, PROC FREQ example "Cochran-Mantel-Haenszel Statistics" (Migraine data).

    Treatment (Active, Placebo) × Response (Better, Same) by Gender. Printed there: CMH statistic (no
    continuity correction) 8.3052, p 0.0040; MH common odds ratio 3.3132 (95% CI 1.4456–7.5934);
    Breslow–Day 1.4929, df 1, p 0.2218.
    """
    t = [[[16, 11], [5, 20]], [[12, 16], [7, 19]]]
    c = st.cmh(t, correct=False)
    assert c.statistic is not None and c.p_value is not None and c.odds_ratio is not None
    assert round(c.statistic, 4) == 8.3052 and round(c.p_value, 4) == 0.0040
    assert round(c.odds_ratio, 4) == 3.3132
    assert c.ci[0] is not None and c.ci[1] is not None
    assert (round(c.ci[0], 4), round(c.ci[1], 4)) == (1.4456, 7.5934)
    bd = st.breslow_day(t)
    assert bd.statistic is not None and bd.p_value is not None
    assert (round(bd.statistic, 4), bd.df, round(bd.p_value, 4)) == (1.4929, 1, 0.2218)
