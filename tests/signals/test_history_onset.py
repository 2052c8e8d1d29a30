"""Signal onset on a hand-built 4-quarter FAERS extract whose 2x2 tables are worked out below."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy import optimize, stats

from repigment.signals.history import onsets
from repigment.signals.history_run import HistorySettings, build_history, open_history

THETA = (0.2, 0.1, 2.0, 4.0, 1 / 3)
DEMO_H = (
    "primaryid$caseid$caseversion$i_f_code$event_dt$mfr_dt$init_fda_dt$fda_dt$rept_cod$auth_num$mfr_num$"
    "mfr_sndr$lit_ref$age$age_cod$age_grp$sex$e_sub$wt$wt_cod$rept_dt$to_mfr$occp_cod$reporter_country$"
    "occr_country"
)
DRUG_H = (
    "primaryid$caseid$drug_seq$role_cod$drugname$prod_ai$val_vbm$route$dose_vbm$cum_dose_chr$cum_dose_unit$"
    "dechal$rechal$lot_num$exp_dt$nda_num$dose_amt$dose_unit$dose_form$dose_freq"
)
# Cumulative 2x2 table of drug A and event X per quarter: a = A&X, b = A&Y, c = B&X, d = B&Y.
TABLES = {
    "2015Q1": (1, 1, 1, 10),
    "2015Q2": (3, 1, 2, 30),
    "2015Q3": (5, 12, 2, 60),
    "2015Q4": (8, 12, 2, 100),
}


def write_extract(root: Path) -> None:
    """One drug and one reaction per report; case 900 changes from B/Y to A/X in 2015Q3, an older
    version of it arriving in 2015Q4 is ignored, and case 1 (B/Y) is deleted in 2015Q4."""
    reports: dict[str, list[tuple[int, int, str, str, str]]] = {q: [] for q in TABLES}  # case, ver, date
    case = iter(range(1, 10_000))

    def add(q: str, n: int, d: str, e: str) -> None:
        reports[q] += [(next(case), 1, f"{q[:4]}{int(q[-1]) * 3:02d}01", d, e) for _ in range(n)]

    add("2015Q1", 10, "B", "Y")  # case 1 is the first of these
    add("2015Q1", 1, "A", "X")
    add("2015Q1", 1, "A", "Y")
    add("2015Q1", 1, "B", "X")
    add("2015Q2", 2, "A", "X")
    add("2015Q2", 1, "B", "X")
    add("2015Q2", 19, "B", "Y")
    reports["2015Q2"].append((900, 1, "20150610", "B", "Y"))
    add("2015Q3", 1, "A", "X")
    reports["2015Q3"].append((900, 2, "20150901", "A", "X"))
    add("2015Q3", 11, "A", "Y")
    add("2015Q3", 31, "B", "Y")
    add("2015Q4", 3, "A", "X")
    add("2015Q4", 41, "B", "Y")
    reports["2015Q4"].append((900, 0, "20150101", "B", "X"))  # older than the current version: ignored
    for q, reps in reports.items():
        label = f"{q[2:4]}Q{q[-1]}"
        a = root / f"faers_ascii_{q}" / "ASCII"
        a.mkdir(parents=True)
        demo = [
            f"{c * 10 + v}${c}${v}$I$$${dt}${dt}$EXP$$$$$40$YR$$F$Y$$$$$MD$US$US" for c, v, dt, _, _ in reps
        ]
        drug = [f"{c * 10 + v}${c}$1$PS${d}${d}$1$ORAL$$$$$$$$$$$$" for c, v, _, d, _ in reps]
        reac = [f"{c * 10 + v}${c}${e}$" for c, v, _, _, e in reps]
        (a / f"DEMO{label}.txt").write_text("\n".join([DEMO_H, *demo]) + "\n")
        (a / f"DRUG{label}.txt").write_text("\n".join([DRUG_H, *drug]) + "\n")
        (a / f"REAC{label}.txt").write_text("\n".join(["primaryid$caseid$pt$drug_rec_act", *reac]) + "\n")
    deleted = root / "faers_ascii_2015Q4" / "Deleted"
    deleted.mkdir()
    (deleted / "DELETE15Q4.txt").write_text("1\n")


def eb05(n: int, e: float) -> float:
    """The posterior 5% quantile by root finding on scipy's gamma and negative binomial (an oracle)."""
    a1, b1, a2, b2, p = THETA
    f1, f2 = stats.nbinom.pmf(n, a1, b1 / (b1 + e)), stats.nbinom.pmf(n, a2, b2 / (b2 + e))
    q = p * f1 / (p * f1 + (1 - p) * f2)

    def cdf(x: float) -> float:
        return float(
            q * stats.gamma.cdf(x, a1 + n, scale=1 / (b1 + e))
            + (1 - q) * stats.gamma.cdf(x, a2 + n, scale=1 / (b2 + e))
            - 0.05
        )

    return float(optimize.brentq(cdf, 1e-9, 1e4, xtol=1e-14, rtol=1e-14))


def test_onsets_against_the_hand_built_example(tmp_path: Path) -> None:
    write_extract(tmp_path / "faers")
    out = tmp_path / "h.parquet"
    theta = ",".join(repr(v) for v in THETA)
    build_history([tmp_path / "faers"], out, HistorySettings(strata=(), policy="fixed", theta=theta))
    rows = open_history(out).to_table().to_pandas()
    ax = rows[(rows["drug"] == "A") & (rows["event"] == "X")].set_index("quarter")
    assert list(ax.index) == list(TABLES)
    for q, (a, b, c, d) in TABLES.items():
        n = a + b + c + d
        e = (a + b) * (a + c) / n
        r = ax.loc[q]
        assert (r["N"], r["n_drug"], r["n_event"]) == (a, a + b, a + c)
        assert r["E"] == pytest.approx(e, rel=1e-15)
        assert r["PRR"] == pytest.approx((a / (a + b)) / (c / (c + d)), rel=1e-14)
        yates = n * (abs(a * d - b * c) - n / 2) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
        assert r["chi2_yates"] == pytest.approx(yates, rel=1e-12)
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        assert r["ROR025"] == pytest.approx(a * d / (b * c) * math.exp(-1.959963984540054 * se), rel=1e-12)
        ic025 = math.log2(stats.gamma.ppf(0.025, a + 0.5) / (e + 0.5))
        assert r["IC025"] == pytest.approx(ic025, rel=1e-9)
        assert r["QUANT_05"] == pytest.approx(eb05(a, e), rel=1e-9)
    # Worked out by hand from the tables above:
    #   Evans (PRR >= 2, chi2 >= 4, N >= 3): 2015Q1 N = 1 < 3; 2015Q2 PRR 12.0, chi2 8.89 -> met, N = 3.
    #   EMA (ROR025 > 1, N >= 5): 2015Q2 ROR025 3.09 but N = 3; 2015Q3 ROR025 2.17, N = 5 -> met.
    #   WHO-UMC (IC025 > 0): -2.90, -0.32, -0.07, then 0.82 in 2015Q4 (N = 8).
    #   EB05 >= 2: 0.20, 0.67, 0.80, then 2.10 in 2015Q4 (N = 8).
    on = onsets(open_history(out)).set_index(["drug", "event"]).loc[("A", "X")]
    assert (on["first_quarter"], on["first_N"]) == ("2015Q1", 1)
    assert (on["onset_evans"], on["N_onset_evans"]) == ("2015Q2", 3)
    assert (on["onset_ema"], on["N_onset_ema"]) == ("2015Q3", 5)
    assert (on["onset_who_umc"], on["N_onset_who_umc"]) == ("2015Q4", 8)
    assert (on["onset_eb05"], on["N_onset_eb05"]) == ("2015Q4", 8)
    ay = onsets(open_history(out)).set_index(["drug", "event"]).loc[("A", "Y")]  # reported less than expected
    assert ay[["onset_evans", "onset_ema", "onset_who_umc", "onset_eb05", "onset_mhra"]].isna().all()
