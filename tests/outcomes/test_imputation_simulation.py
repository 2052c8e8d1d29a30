"""Multiple imputation, the published reference data and the calibrated simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from repigment.outcomes import (
    SimulationParameters,
    analyse,
    derive,
    impute,
    published_rates,
    reconstruct,
    simulate,
)
from repigment.outcomes.published import RECONSTRUCTION_NOTE, render_text, trial_sizes


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return simulate(40_000, seed=2024)


def test_simulated_week24_rates_match_published(big: pd.DataFrame) -> None:
    rates = published_rates()
    zs = []
    for trial in ("TRuE-V1", "TRuE-V2"):
        sub = big[big["trial"] == trial]
        for ep in ("F-VASI50", "F-VASI75", "F-VASI90", "T-VASI50", "VNS4-5"):
            d = derive(sub, ep, 24, 2)
            for arm, k in ((True, 0), (False, 1)):
                m = d.observed & (d.treated == arm)
                n, p = int(m.sum()), float(d.responder[m].mean())
                e = rates[(trial, ep)][k]
                z = (p - e) / np.sqrt(e * (1 - e) / n)
                zs.append(z)
                assert abs(z) < 4, (trial, ep, arm, p, e, n)
    assert len(zs) == 20 and abs(float(np.mean(zs))) < 1.5  # no systematic bias across the 20 rates


def test_simulator_design(big: pd.DataFrame) -> None:
    base = big[big["week"] == 0]
    share = (base["arm"] == "ruxolitinib").mean()
    assert abs(share - 2 / 3) < 0.001  # permuted blocks of 3
    assert abs((base["skin_type"] == "III-VI").mean() - 0.675) < 0.015
    assert abs(base["f_vasi"].mean() - 1.0) < 0.02 and abs(base["t_vasi"].mean() - 6.5) < 0.05
    nominal = big["week"].round().unique()
    assert set(nominal) == {0, 2, 4, 8, 12, 16, 20, 24}
    sizes = trial_sizes()
    v1 = sizes["TRuE-V1"]["randomised_treatment"].value + sizes["TRuE-V1"]["randomised_control"].value
    assert base["trial"].eq("TRuE-V1").sum() == pytest.approx(40_000 * v1 / 674, abs=1)
    dropped = 1 - big[big["week"].round() == 24]["patient_id"].nunique() / len(base)
    assert 0.06 < dropped < 0.16


def test_simulator_is_reproducible() -> None:
    a, b, c = simulate(60, seed=3), simulate(60, seed=3), simulate(60, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert (
        simulate(30, seed=1, params=SimulationParameters(treatment="rux", control="veh"))["arm"]
        .isin(["rux", "veh"])
        .all()
    )


@pytest.fixture(scope="module")
def mi_data():  # type: ignore[no-untyped-def]
    df = simulate(3000, seed=9)
    return derive(df, "F-VASI75", 24, 2, strata=("region", "skin_type"))


def test_mi_is_seeded_and_keeps_observed_values(mi_data) -> None:  # type: ignore[no-untyped-def]
    a, b, c = impute(mi_data, 5, seed=1), impute(mi_data, 5, seed=1), impute(mi_data, 5, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    obs = mi_data.observed
    assert np.array_equal(a[:, obs], np.repeat(mi_data.value[None, obs], 5, axis=0))
    miss = mi_data.evaluable & ~obs
    assert np.isfinite(a[:, miss]).all() and (a[:, miss] >= 0).all()
    assert not np.array_equal(a[0, miss], a[1, miss])  # proper draws differ between imputations


def test_mi_analysis_reproducible_and_sensible(mi_data) -> None:  # type: ignore[no-untyped-def]
    r1 = analyse(mi_data, "ruxolitinib", "vehicle", "mi", imputations=10, seed=5)
    r2 = analyse(mi_data, "ruxolitinib", "vehicle", "mi", imputations=10, seed=5)
    assert r1 == r2
    obs = analyse(mi_data, "ruxolitinib", "vehicle", "observed")
    nri = analyse(mi_data, "ruxolitinib", "vehicle", "nri")
    for arm in ("ruxolitinib", "vehicle"):
        m, o, n = r1["arms"][arm], obs["arms"][arm], nri["arms"][arm]
        assert m["n"] == n["n"] > o["n"]
        # missing completely at random: MI ≈ observed cases; NRI biased downwards
        assert abs(m["rate"] - o["rate"]) < 0.02 and n["rate"] < o["rate"]
        # MI intervals are wider than a complete-data Wilson interval of the same n would be
        assert m["rubin_ci"][1] - m["rubin_ci"][0] > 0
        assert m["effective_n"] < m["n"]
    assert r1["cmh"]["odds_ratio"] > 1 and 0 <= r1["cmh"]["p_value"] < 0.05
    assert r1["logistic"]["odds_ratio"] > 1 and r1["imputation"]["seed"] == 5


def test_mi_without_missing_data_equals_observed() -> None:
    df = simulate(300, seed=1, params=SimulationParameters(dropout_by_week24=0.0, missed_visit=0.0))
    d = derive(df, "F-VASI50", 24, 2)
    mi, obs = analyse(d, "ruxolitinib", "vehicle", "mi", 3), analyse(d, "ruxolitinib", "vehicle", "observed")
    for arm in ("ruxolitinib", "vehicle"):
        assert mi["arms"][arm]["rate"] == pytest.approx(obs["arms"][arm]["rate"], abs=1e-12)
        assert mi["arms"][arm]["wilson_ci"] == pytest.approx(obs["arms"][arm]["wilson_ci"])
    assert mi["odds_ratio"]["estimate"] == pytest.approx(obs["odds_ratio"]["estimate"])


def test_published_reconstruction() -> None:
    rec = reconstruct("true-v")
    assert rec["note"] == RECONSTRUCTION_NOTE
    row = next(r for r in rec["trials"] if r["trial"] == "TRuE-V1" and r["endpoint"] == "F-VASI75")
    assert row["reconstructed_counts"] == {
        "treatment": [round(0.298 * 221), 221],
        "control": [round(0.074 * 109), 109],
    }
    assert "treatment_percent" in row["unconfirmed_inputs"]
    assert row["published"]["odds_ratio"]["value"] == 5.28 and not row["published"]["odds_ratio"]["confirmed"]
    assert row["published"]["relative_risk"]["confirmed"]  # press summary [C]
    pooled = next(p for p in rec["pooled"] if p["endpoint"] == "F-VASI75")
    assert (
        pooled["reconstructed_counts"]["treatment"][1] + pooled["reconstructed_counts"]["control"][1] == 661
    )
    assert pooled["published_pooled"]["patients"]["value"] == 661
    assert abs(pooled["rates"]["treatment"] - 0.31) < 0.01 and abs(pooled["rates"]["control"] - 0.10) < 0.01
    text = render_text(rec)
    assert "RECONSTRUCTED" in text and "29.8*" in text and "NNTB" in text


def test_imputation_model_is_the_per_arm_regression_on_baseline() -> None:
    # treatment arm: week-24 score exactly 0.2 × baseline; control: 0.9 × baseline + 0.05 (no residual noise),
    # so every posterior draw reproduces the line and imputed values are exact.
    rows = []
    for i in range(12):
        b = 0.5 + 0.1 * i
        for arm, (slope, icpt) in (("ruxolitinib", (0.2, 0.0)), ("vehicle", (0.9, 0.05))):
            pid = f"{arm[0]}{i}"
            rows.append((pid, arm, 0, b, 5.0))
            if i % 4:  # every 4th patient has no week-24 visit
                rows.append((pid, arm, 24, slope * b + icpt, 5.0))
    df = pd.DataFrame(rows, columns=["patient_id", "arm", "week", "f_vasi", "t_vasi"])
    d = derive(df, "F-VASI75", 24)
    done = impute(d, 3, seed=0)
    miss = ~d.observed
    slope = np.where(d.treated, 0.2, 0.9)
    icpt = np.where(d.treated, 0.0, 0.05)
    assert np.allclose(done[:, miss], (slope * d.baseline + icpt)[miss], atol=1e-9)
    res = analyse(d, "ruxolitinib", "vehicle", "mi", imputations=3)
    assert res["arms"]["ruxolitinib"]["rate"] == 1.0 and res["arms"]["vehicle"]["rate"] == 0.0
    assert res["imputation"]["imputed"] == {"ruxolitinib": 3, "vehicle": 3}
