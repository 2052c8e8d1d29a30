"""Percent change and responder flags, exact at the thresholds; VNS and VitiQoL."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repigment.scoring import (
    ScoringError,
    compare_scores,
    is_responder,
    percent_change,
    responder_mask,
    score_assessment,
    vitiqol,
    vns_success,
)


def test_exact_boundary_1_2_to_0_30_is_a_75_percent_improvement() -> None:
    b, c = Fraction("1.2"), Fraction("0.30")
    assert percent_change(b, c) == -75
    assert is_responder(b, c, 75) is True
    assert is_responder(b, c, 90) is False
    # The float comparison this guards against: (1.2 - 0.3) * 100 = 89.99999999999999 < 1.2 * 75 = 90.
    assert (1.2 - 0.3) * 100 < 1.2 * 75


@pytest.mark.parametrize(
    ("baseline", "current", "threshold", "expected"),
    [
        ("2", "1", 50, True),  # exactly 50%
        ("2", "1.0001", 50, False),  # just short
        ("1", "0.25", 75, True),
        ("1", "0.1", 90, True),
        ("0.3", "0.03", 90, True),
        ("0.3", "0.0301", 90, False),
        ("1", "1.5", 25, False),  # worsening
    ],
)
def test_boundary_responders(baseline: str, current: str, threshold: int, expected: bool) -> None:
    assert is_responder(Fraction(baseline), Fraction(current), threshold) is expected


def test_zero_baseline_is_undefined_not_false() -> None:
    assert percent_change(Fraction(0), Fraction(0)) is None
    assert is_responder(Fraction(0), Fraction(0), 75) is None


def test_compare_shape_through_scoring() -> None:
    base = score_assessment(
        {
            "age_years": 30,
            "patches": [
                {"region": "face", "hand_units": 1.2, "depigmentation_percent": 100},
            ],
        }
    )
    cur = score_assessment(
        {
            "age_years": 30,
            "patches": [
                {"region": "face", "hand_units": 1.2, "depigmentation_percent": 25},
            ],
        }
    )
    out = compare_scores(base, cur)
    assert out["f_vasi"] == {
        "baseline": 1.2,
        "current": 0.3,
        "percent_change": -75.0,
        "responders": {"F-VASI25": True, "F-VASI50": True, "F-VASI75": True, "F-VASI90": False},
    }
    assert out["t_vasi"]["responders"] == {"T-VASI50": True, "T-VASI75": True}


def test_compare_with_no_body_involvement_is_null() -> None:
    empty = score_assessment({"age_years": 30, "patches": []})
    out = compare_scores(empty, empty)
    assert out["t_vasi"]["percent_change"] is None
    assert set(out["t_vasi"]["responders"].values()) == {None}


decimals = st.decimals(min_value=0, max_value=100, places=2)


@given(decimals, decimals, st.sampled_from([25, 50, 75, 90]))
def test_vectorised_mask_agrees_with_exact_path(b, c, t) -> None:  # type: ignore[no-untyped-def]
    resp, defined = responder_mask([float(b)], [float(c)], t)
    exact = is_responder(Fraction(b), Fraction(c), t)
    assert bool(defined[0]) is (exact is not None)
    assert bool(resp[0]) is bool(exact)


def test_vectorised_mask_handles_missing() -> None:
    resp, defined = responder_mask([1.2, np.nan, 0.0, 1.0], [0.3, 0.1, 0.0, np.nan], 75)
    assert resp.tolist() == [True, False, False, False]
    assert defined.tolist() == [True, False, False, False]


def test_vns() -> None:
    assert [vns_success(v) for v in (1, 2, 3, 4, 5)] == [False, False, False, True, True]
    for bad in (0, 6, 3.5, "4", True):
        with pytest.raises(ScoringError):
            vns_success(bad)


def test_vitiqol_domains_and_item16() -> None:
    items = [1, 2, 3, 4, 5, 6, 0, 6, 6, 6, 6, 6, 2, 2, 2]
    r = vitiqol(items, item16=5)
    assert (r.participation_limitation, r.stigma, r.behaviour) == (21, 30, 6)
    assert r.total == 57 == sum(items)
    assert r.severity_item16 == 5
    assert vitiqol([6] * 15).total == 90 and vitiqol([0] * 15).total == 0


@pytest.mark.parametrize(
    ("items", "item16", "field"),
    [
        ([0] * 14, None, "vitiqol.items"),
        ([0] * 14 + [7], None, "vitiqol.items[15]"),
        ([0] * 15, 7, "vitiqol.item16"),
        ([0] * 14 + [1.5], None, "vitiqol.items[15]"),
    ],
)
def test_vitiqol_bad_input(items: list[object], item16: object, field: str) -> None:
    with pytest.raises(ScoringError) as e:
        vitiqol(items, item16)
    assert e.value.field == field


def test_compare_refuses_other_variant_or_body_model() -> None:
    import dataclasses

    from repigment.scoring import ScoringError, Variant

    face = [{"region": "face", "hand_units": 1, "depigmentation_percent": 100}]
    lids = [*face, {"region": "eyelids", "hand_units": 0.1, "depigmentation_percent": 100}]
    base = score_assessment({"age_years": 30, "patches": lids})
    cur = score_assessment({"age_years": 30, "patches": lids, "variant": {"face_includes_eyelids": True}})
    with pytest.raises(ScoringError) as e:
        compare_scores(base, cur)
    assert e.value.field == "variant"
    same = compare_scores(base, cur, rescore=True)
    assert same["f_vasi"]["percent_change"] == 0.0 and same["variant"] == Variant().as_dict()
    other_model = dataclasses.replace(cur, body_model="another/v2")
    with pytest.raises(ScoringError) as e:
        compare_scores(base, other_model, rescore=True)
    assert e.value.field == "body_model"
    # a result without its patches cannot be rescored
    with pytest.raises(ScoringError):
        compare_scores(base, dataclasses.replace(cur, patches=()), rescore=True)
    assert compare_scores(base, base)["body_model"] == base.body_model
