"""Endpoint derivation from long data: visit choice, baseline, responder status, bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repigment.outcomes import OutcomesError, analyse, derive, normalise_endpoint, read_long
from repigment.scoring import is_responder, percent_change


def long(rows: list[tuple]) -> pd.DataFrame:
    cols = ["patient_id", "arm", "week", "f_vasi", "t_vasi", "vns"]
    return pd.DataFrame(rows, columns=cols[: len(rows[0])])


R, V = "ruxolitinib", "vehicle"


def test_nearest_visit_in_window_ties_go_to_later() -> None:
    df = long(
        [
            ("a", R, 0, 1.0, 5.0),
            ("a", R, 23, 0.5, 5.0),
            ("a", R, 25, 0.2, 5.0),  # tie at distance 1: week 25
            ("b", R, 0, 1.0, 5.0),
            ("b", R, 22.5, 0.1, 5.0),
            ("b", R, 24.5, 0.9, 5.0),  # nearest: 24.5
            ("c", V, 0, 1.0, 5.0),
            ("c", V, 21.9, 0.1, 5.0),
            ("c", V, 26.1, 0.1, 5.0),  # outside ±2: missing
            ("d", V, 0, 1.0, 5.0),
            ("d", V, 22, 0.2, 5.0),
            ("d", V, 24, np.nan, 5.0),  # 24 has no F-VASI: use 22
        ]
    )
    d = derive(df, "F-VASI75", 24, 2)
    got = dict(zip(d.patient_id, d.visit_week, strict=True))
    assert got["a"] == 25 and got["b"] == 24.5 and np.isnan(got["c"]) and got["d"] == 22
    assert d.responder.tolist() == [True, False, False, True]
    assert d.observed.tolist() == [True, True, False, True]
    # T-VASI is recorded at week 24 for d, so its T-VASI visit is 24
    t = derive(df, "T-VASI50", 24, 2)
    assert dict(zip(t.patient_id, t.visit_week, strict=True))["d"] == 24


def test_window_edges_are_inclusive_and_window_zero_means_exact_week() -> None:
    df = long([("a", R, 0, 1.0, 5.0), ("a", R, 22, 0.2, 5.0), ("b", V, 0, 1.0, 5.0), ("b", V, 24, 0.2, 5.0)])
    assert derive(df, "F-VASI75", 24, 2).observed.tolist() == [True, True]
    assert derive(df, "F-VASI75", 24, 0).observed.tolist() == [False, True]


def test_boundary_improvement_counts_and_percent_change_matches_scoring() -> None:
    df = long([("a", R, 0, 1.2, 6.0), ("a", R, 24, 0.3, 3.0), ("b", V, 0, 0.8, 4.4), ("b", V, 24, 0.6, 2.2)])
    d = derive(df, "F-VASI75", 24)
    assert d.responder.tolist() == [True, False]  # 1.2 → 0.3 is exactly 75%
    for i, (b, c) in enumerate(((Fraction("1.2"), Fraction("0.3")), (Fraction("0.8"), Fraction("0.6")))):
        assert abs(d.percent_change[i] - float(percent_change(b, c))) < 1e-12
        assert d.responder[i] == is_responder(b, c, 75)
    assert derive(df, "T-VASI50", 24).responder.tolist() == [True, True]


def test_zero_baseline_is_not_evaluable_and_not_a_non_responder() -> None:
    df = long(
        [
            ("a", R, 0, 0.0, 5.0),
            ("a", R, 24, 0.0, 5.0),
            ("b", R, 0, 1.0, 5.0),
            ("b", R, 24, 0.1, 5.0),
            ("c", V, 0, 1.0, 5.0),
            ("c", V, 24, 0.9, 5.0),
        ]
    )
    d = derive(df, "F-VASI90", 24)
    assert d.evaluable.tolist() == [False, True, True]
    res = analyse(d, R, V, "nri")
    assert res["arms"][R]["n"] == 1 and res["patients"][R]["not_evaluable_zero_baseline"] == 1


def test_observed_vs_nri_denominators() -> None:
    df = long(
        [
            ("a", R, 0, 1.0, 5.0),
            ("a", R, 24, 0.1, 5.0),
            ("b", R, 0, 1.0, 5.0),
            ("b", R, 12, 0.1, 5.0),
            ("c", V, 0, 1.0, 5.0),
            ("c", V, 24, 0.9, 5.0),
            ("d", V, 0, 1.0, 5.0),
            ("d", V, 24, 0.2, 5.0),
        ]
    )
    d = derive(df, "F-VASI75", 24)
    obs, nri = analyse(d, R, V, "observed"), analyse(d, R, V, "nri")
    assert (obs["arms"][R]["responders"], obs["arms"][R]["n"]) == (1, 1)
    assert (nri["arms"][R]["responders"], nri["arms"][R]["n"]) == (1, 2)
    assert nri["patients"][R]["missing_at_week"] == 1


def test_vns_endpoint_uses_vns_success() -> None:
    df = long(
        [
            ("a", R, 0, 1.0, 5.0, np.nan),
            ("a", R, 24, 0.5, 5.0, 4),
            ("b", V, 0, 1.0, 5.0, np.nan),
            ("b", V, 24, 0.5, 5.0, 3),
            ("c", V, 0, 1, 5, np.nan),
            ("c", V, 24, 1, 5, 5),
        ]
    )
    d = derive(df, "VNS", 24)
    assert d.endpoint == "VNS4-5" and d.responder.tolist() == [True, False, True]
    with pytest.raises(OutcomesError, match="VNS"):
        analyse(d, R, V, "mi")


def test_endpoint_names() -> None:
    assert normalise_endpoint("f-vasi75") == "F-VASI75" and normalise_endpoint("TVASI50") == "T-VASI50"
    assert normalise_endpoint("VNS 4–5") == "VNS4-5"
    with pytest.raises(OutcomesError, match="unknown endpoint"):
        normalise_endpoint("F-VASI60")


GOOD = (
    "patient_id,arm,week,f_vasi,t_vasi,region\np1,ruxolitinib,0,1.0,5,eu\np1,ruxolitinib,24,0.2,4,eu\n"
    "p2,vehicle,0,1.0,5,na\np2,vehicle,24,0.9,4,na\n"
)


@pytest.mark.parametrize(
    ("text", "row", "column", "fragment"),
    [
        (GOOD.replace(",t_vasi", ",tv"), None, "t_vasi", "required column missing"),
        (GOOD.replace("p2,vehicle,24", "p2,placebo,24"), 4, "arm", "unknown arm label 'placebo'"),
        (GOOD.replace("0.9,4,na", "abc,4,na"), 4, "f_vasi", "'abc' is not a number"),
        (GOOD.replace("p2,vehicle,0,", "p2,vehicle,4,"), 3, "week", "no baseline"),
        (GOOD + "p1,ruxolitinib,0,1.0,5,eu\n", 5, "week", "second baseline"),
        (GOOD.replace("p2,vehicle,24", "p2,ruxolitinib,24"), 4, "arm", "changes arm"),
        (GOOD.replace("p1,ruxolitinib,0,1.0", "p1,ruxolitinib,0,"), 1, "f_vasi", "baseline score missing"),
        (GOOD.replace("0.2,4,eu", "-0.2,4,eu"), 2, "f_vasi", "outside"),
        (GOOD.replace("p2,vehicle,24,", "p2,vehicle,x,"), 4, "week", "'x' is not a number"),
        (GOOD.replace("p2,vehicle,24,0.9,4,na", "p2,vehicle,24,0.9,4,eu"), 4, "region", "changes region"),
        (GOOD + "p1,ruxolitinib,24,0.3,4,eu\n", 5, "week", "two visits"),
    ],
)
def test_bad_files_name_row_and_column(
    tmp_path: Path, text: str, row: int | None, column: str, fragment: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(OutcomesError) as exc:
        derive(read_long(f, ("region",)), "F-VASI75", 24, 2, strata=("region",))
    assert exc.value.row == row and exc.value.column == column
    assert fragment in str(exc.value)


def test_csv_and_parquet_read_alike(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(GOOD)
    pd.read_csv(tmp_path / "a.csv").to_parquet(tmp_path / "a.parquet")
    a = derive(read_long(tmp_path / "a.csv"), "F-VASI75", 24)
    b = derive(read_long(tmp_path / "a.parquet"), "F-VASI75", 24)
    assert a.responder.tolist() == b.responder.tolist() == [True, False]
    with pytest.raises(OutcomesError, match="not found"):
        read_long(tmp_path / "missing.csv")


def test_integer_ids_and_subsets_of_categoricals() -> None:
    df = long([(10, R, 0, 1.0, 5.0), (10, R, 24, 0.2, 5.0), (7, V, 0, 1.0, 5.0), (7, V, 24, 1.0, 5.0)])
    d = derive(df, "F-VASI75", 24)
    assert sorted(d.patient_id.tolist()) == [7, 10]
    cat = df.astype({"patient_id": "category"})
    sub = cat[cat["patient_id"] == 10]
    assert derive(sub, "F-VASI75", 24).n_patients == 1


def _reference_visit(rows: list[tuple[float, float]], week: float, window: float) -> float | None:
    """Slow, obvious version of the visit rule: nearest in window with a score, ties to the later week."""
    cands = [(abs(w - week), -w) for w, v in rows if w > 0 and abs(w - week) <= window and not np.isnan(v)]
    return -min(cands)[1] if cands else None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([R, V]),
            st.lists(
                st.tuples(
                    st.sampled_from([1, 2, 4, 20, 21.5, 22, 23, 23.5, 24, 24.5, 25, 26, 26.5, 30]),
                    st.one_of(st.just(np.nan), st.floats(0, 3).map(lambda x: round(x, 2))),
                ),
                max_size=6,
                unique_by=lambda t: t[0],
            ),
            st.floats(0.01, 3).map(lambda x: round(x, 2)),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([0, 0.5, 1, 2, 3]),
)
def test_visit_rule_matches_a_slow_reference(patients: list, window: float) -> None:  # type: ignore[type-arg]
    rows = []
    for i, (arm, visits, base) in enumerate(patients):
        rows.append((f"p{i}", arm, 0.0, base, 5.0))
        rows.extend((f"p{i}", arm, float(w), v, 5.0) for w, v in visits)
    d = derive(long(rows), "F-VASI50", 24, window)
    order = {p: k for k, p in enumerate(d.patient_id)}
    for i, (_, visits, base) in enumerate(patients):
        k = order[f"p{i}"]
        ref = _reference_visit([(float(w), v) for w, v in visits], 24, window)
        if ref is None:
            assert np.isnan(d.visit_week[k]) and not d.observed[k]
        else:
            value = dict(visits)[ref]
            assert d.visit_week[k] == ref and d.value[k] == value
            assert d.responder[k] == is_responder(Fraction(str(base)), Fraction(str(value)), 50)
