"""VASI scoring: published worked examples, variants, bad input and properties."""

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repigment.body import VASI_REGIONS, region_capacities
from repigment.scoring import (
    DEPIGMENTATION_LADDER,
    Patch,
    ScoringError,
    Variant,
    score_assessment,
    score_patches,
)


def assess(
    *patches: tuple[str, Any, Any], age: Any = 34, variant: dict[str, bool] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "age_years": age,
        "patches": [{"region": r, "hand_units": h, "depigmentation_percent": d} for r, h, d in patches],
    }
    if variant is not None:
        data["variant"] = variant
    return data


def test_published_t_vasi_example() -> None:
    # Hamzavi 2004 worked example: 3 HU at 50% + 4 HU at 75% = 1.5 + 3 = 4.5.
    r = score_assessment(assess(("trunk", 3, 50), ("lower_extremities", 4, 75)))
    assert r.t_vasi == Fraction("4.5")
    assert r.t_bsa_percent == 7


def test_published_f_vasi_example() -> None:
    r = score_assessment(assess(("face", 1, 100)))
    assert r.f_vasi == 1 and r.f_bsa_percent == 1 and r.t_vasi == 1


def test_issue_example_and_breakdown() -> None:
    r = score_assessment(assess(("face", 0.5, 100), ("hands", 1.5, 75)))
    assert (r.f_vasi, r.t_vasi, r.f_bsa_percent, r.t_bsa_percent) == (
        Fraction("0.5"),
        Fraction("1.625"),
        Fraction("0.5"),
        Fraction(2),
    )
    assert r.regions["hands"].vasi == Fraction("1.125")
    assert r.regions["hands"].hand_units == Fraction("1.5")


def test_decimal_inputs_are_exact() -> None:
    # 0.1 + 0.2 as floats is 0.30000000000000004; scores are built from the decimal text.
    r = score_assessment(assess(("trunk", 0.1, 100), ("trunk", 0.2, 100)))
    assert r.t_vasi == Fraction(3, 10)


def test_eyelids_count_toward_head_neck_unless_the_face_includes_them() -> None:
    patches = (("face", 1, 100), ("eyelids", 0.1, 100), ("head_neck", 1, 50))
    default = score_assessment(assess(*patches))
    assert default.f_vasi == 1 and default.f_bsa_percent == 1
    assert default.regions["eyelids"].counts_toward == "head_neck"
    assert default.variant == Variant(face_includes_eyelids=False, t_vasi_includes_head_neck=True)
    with_lids = score_assessment(assess(*patches, variant={"face_includes_eyelids": True}))
    assert with_lids.f_vasi == Fraction("1.1") and with_lids.f_bsa_percent == Fraction("1.1")
    assert with_lids.regions["eyelids"].counts_toward == "face"
    # T-VASI is the same either way: eyelids are skin of the head whichever score they join.
    assert default.t_vasi == with_lids.t_vasi == Fraction("1.6")


def test_t_vasi_without_head_neck_drops_the_whole_head() -> None:
    r = score_assessment(
        assess(
            ("face", 1, 100),
            ("eyelids", 0.1, 100),
            ("head_neck", 1, 50),
            ("feet", 2, 25),
            variant={"t_vasi_includes_head_neck": False},
        )
    )
    assert r.t_vasi == Fraction("0.5") and r.t_bsa_percent == 2
    assert r.f_vasi == 1  # F-VASI is unaffected
    assert r.as_json()["variant"] == {"face_includes_eyelids": False, "t_vasi_includes_head_neck": False}


def test_capacity_tolerance_boundary() -> None:
    # Adult face capacity 2.9 HU; 5% tolerance → 3.045 accepted, 3.046 rejected.
    assert score_assessment(assess(("face", 3.045, 100))).f_vasi == Fraction("3.045")
    with pytest.raises(ScoringError) as e:
        score_assessment(assess(("face", 3.046, 100)))
    assert e.value.field == "patches[0].hand_units" and "capacity" in e.value.reason


def test_capacity_is_age_adjusted() -> None:
    # 5 HU of face is impossible for an adult but fits a one-year-old (face ≈ 7.04 HU).
    with pytest.raises(ScoringError):
        score_assessment(assess(("face", 5, 100), age=40))
    assert score_assessment(assess(("face", 5, 100), age=1)).f_vasi == 5


def test_capacity_sums_patches_of_a_region() -> None:
    with pytest.raises(ScoringError) as e:
        score_assessment(assess(("hands", 1, 100), ("face", 1, 100), ("hands", 4.5, 50)))
    assert e.value.field == "patches[0].hand_units"


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        (assess(("face", 1, 60)), "patches[0].depigmentation_percent", "not on the VASI ladder"),
        (assess(("face", 1, 75.5)), "patches[0].depigmentation_percent", "not on the VASI ladder"),
        (assess(("face", 1, "75")), "patches[0].depigmentation_percent", "must be a number"),
        (assess(("face", 1, 100), ("hands", -0.5, 50)), "patches[1].hand_units", "negative"),
        (assess(("face", "1", 100)), "patches[0].hand_units", "must be a number"),
        (assess(("face", True, 100)), "patches[0].hand_units", "must be a number"),
        (assess(("face", float("nan"), 100)), "patches[0].hand_units", "finite"),
        (assess(("face", float("inf"), 100)), "patches[0].hand_units", "finite"),
        (assess(("elbow", 1, 100)), "patches[0].region", "unknown region"),
        (assess(("face", 1, 100), age=-1), "age_years", "between 0 and 130"),
        (assess(("face", 1, 100), age=131), "age_years", "between 0 and 130"),
        (assess(("face", 1, 100), age="34"), "age_years", "must be a number"),
        ({"patches": []}, "age_years", "required"),
        ({"age_years": 34, "patches": {}}, "patches", "must be a list"),
        ({"age_years": 34, "patches": [], "extra": 1}, "assessment", "unknown field"),
        (
            {"age_years": 34, "patches": [{"region": "face", "hand_units": 1}]},
            "patches[0].depigmentation_percent",
            "required",
        ),
        ({"age_years": 34, "patches": [7]}, "patches[0]", "must be an object"),
        (assess(variant={"face_includes_eyelids": "yes"}), "variant.face_includes_eyelids", "true or false"),
        (assess(variant={"eyelids": True}), "variant", "unknown field"),
        ([1, 2], "assessment", "JSON object"),
    ],
)
def test_bad_input_is_rejected_naming_patch_and_field(data: Any, field: str, fragment: str) -> None:
    with pytest.raises(ScoringError) as e:
        score_assessment(data)
    assert e.value.field == field
    assert fragment in e.value.reason


# --- properties -------------------------------------------------------------------------------------------

levels = st.sampled_from(DEPIGMENTATION_LADDER)
# At most 10 patches of ≤ 0.01 HU: even all on the eyelids (0.1 HU) they stay within capacity.
adult_patches = st.lists(
    st.tuples(
        st.sampled_from(VASI_REGIONS),
        st.fractions(min_value=0, max_value=Fraction(1, 100), max_denominator=1000),
        levels,
    ),
    max_size=10,
)


def patches_of(raw: list[tuple[str, Fraction, int]]) -> list[Patch]:
    return [Patch(region=r, hand_units=h, depigmentation_percent=d) for r, h, d in raw]  # type: ignore[arg-type]


@given(adult_patches, st.booleans(), st.booleans())
def test_scores_are_bounded(raw: list[tuple[str, Fraction, int]], lids: bool, head: bool) -> None:
    r = score_patches(patches_of(raw), 40, Variant(lids, head))
    assert 0 <= r.f_vasi <= r.f_bsa_percent <= 3
    assert 0 <= r.t_vasi <= r.t_bsa_percent <= 100
    assert r.f_vasi <= r.t_vasi or not head


def test_maximum_scores_at_full_capacity() -> None:
    caps = region_capacities(40)
    full = [Patch(region=r, hand_units=caps[r], depigmentation_percent=100) for r in VASI_REGIONS]
    r = score_patches(full, 40, Variant(face_includes_eyelids=True))
    assert r.t_vasi == 100 and r.t_bsa_percent == 100 and r.f_vasi == 3


@given(adult_patches, adult_patches)
def test_additive_over_patches(
    a: list[tuple[str, Fraction, int]], b: list[tuple[str, Fraction, int]]
) -> None:
    ra, rb, rab = (score_patches(patches_of(x), 40) for x in (a, b, a + b))
    assert rab.t_vasi == ra.t_vasi + rb.t_vasi
    assert rab.f_vasi == ra.f_vasi + rb.f_vasi
    assert rab.t_bsa_percent == ra.t_bsa_percent + rb.t_bsa_percent


@given(adult_patches, st.data())
def test_monotonic_in_depigmentation(raw: list[tuple[str, Fraction, int]], data: st.DataObject) -> None:
    if not raw:
        return
    i = data.draw(st.integers(0, len(raw) - 1))
    region, hu, level = raw[i]
    higher = data.draw(st.sampled_from([x for x in DEPIGMENTATION_LADDER if x >= level]))
    bumped = list(raw)
    bumped[i] = (region, hu, higher)
    before, after = score_patches(patches_of(raw), 40), score_patches(patches_of(bumped), 40)
    assert after.t_vasi >= before.t_vasi and after.f_vasi >= before.f_vasi
    assert after.t_bsa_percent == before.t_bsa_percent


def test_whole_body_total_above_100_is_refused() -> None:
    # Every region at 105% of its capacity passes each region's margin but totals 105 hand units:
    # T-BSA and T-VASI cannot exceed 100 (issue 14).
    caps = region_capacities(40)
    over = [
        Patch(region=r, hand_units=caps[r] * Fraction(105, 100), depigmentation_percent=100)
        for r in VASI_REGIONS
    ]
    with pytest.raises(ScoringError) as e:
        score_patches(over, 40)
    assert e.value.field.startswith("patches[") and e.value.field.endswith("].hand_units")
    assert "whole body" in e.value.reason and "105" in e.value.reason
    # the patch named is the one that takes the running total past 100
    index = int(e.value.field[len("patches[") : e.value.field.index("]")])
    assert (
        sum((p.hand_units for p in over[:index]), Fraction(0))
        <= 100
        < sum((p.hand_units for p in over[: index + 1]), Fraction(0))
    )


def test_whole_body_exactly_100_is_allowed() -> None:
    caps = region_capacities(40)
    full = [Patch(region=r, hand_units=caps[r], depigmentation_percent=100) for r in VASI_REGIONS]
    assert score_patches(full, 40).t_bsa_percent == 100
