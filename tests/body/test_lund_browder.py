"""Body model: Lund–Browder weights by age, chart areas and VASI regions."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repigment.body import (
    ADULT_AGE_YEARS,
    CHART_AREAS,
    VASI_REGIONS,
    BodyModelError,
    age_weights,
    area_weight,
    chart_weights,
    drawn_hand_units,
    region_capacities,
)

# The chart's published columns (instruments.md §4): A, B, C at ages 0, 1, 5, 10, 15, adult.
PUBLISHED = {
    0: ("9.5", "2.75", "2.5"),
    1: ("8.5", "3.25", "2.5"),
    5: ("6.5", "4.0", "2.75"),
    10: ("5.5", "4.25", "3.0"),
    15: ("4.5", "4.5", "3.25"),
    ADULT_AGE_YEARS: ("3.5", "4.75", "3.5"),
}

ages = st.one_of(
    st.integers(min_value=0, max_value=130),
    st.fractions(min_value=0, max_value=130, max_denominator=1000),
    st.floats(min_value=0, max_value=130, allow_nan=False),
)


@pytest.mark.parametrize("age", sorted(PUBLISHED))
def test_anchor_ages_reproduce_the_published_chart(age: int) -> None:
    a, b, c = (Fraction(x) for x in PUBLISHED[age])
    assert age_weights(age) == {"A": a, "B": b, "C": c}
    # 60 fixed + 2A + 4B + 4C = 100 on the published column itself.
    assert 60 + 2 * a + 4 * b + 4 * c == 100


def test_interpolation_is_linear_between_anchors() -> None:
    # Halfway between 10 (A 5.5) and 15 (A 4.5) is 5.0; a third of the way from 15 to 18 on B is 4.5 + 0.25/3.
    assert age_weights(12.5)["A"] == Fraction(5)
    assert age_weights(16)["B"] == Fraction("4.5") + Fraction("0.25") / 3


@given(ages)
def test_every_age_sums_to_exactly_100(age: float) -> None:
    assert sum(chart_weights(age).values()) == 100
    assert sum(region_capacities(age).values()) == 100


def test_adult_regions_and_face() -> None:
    caps = region_capacities(40)
    assert caps == {
        "face": Fraction("2.9"),
        "eyelids": Fraction("0.1"),
        "head_neck": Fraction(6),  # head back 3.5 + head front rest 0.5 + neck 2
        "hands": Fraction(5),
        "upper_extremities": Fraction(14),
        "trunk": Fraction(26),
        "lower_extremities": Fraction(39),  # thighs 19 + lower legs 14 + buttocks 5 + genitalia 1
        "feet": Fraction(7),
    }
    # The face with its eyelids is about 3 HU of the adult's 3.5 HU head front.
    assert caps["face"] + caps["eyelids"] == 3


def test_child_has_a_larger_head_and_smaller_legs_than_an_adult() -> None:
    child, adult = region_capacities(2), region_capacities(30)
    assert child["face"] > adult["face"] and child["head_neck"] > adult["head_neck"]
    assert child["lower_extremities"] < adult["lower_extremities"]


def test_every_chart_area_maps_to_a_vasi_region_and_views_are_balanced() -> None:
    assert {a.region for a in CHART_AREAS} == set(VASI_REGIONS)
    names = [a.name for a in CHART_AREAS]
    assert len(names) == len(set(names))
    front = sum(area_weight(a, 40) for a in CHART_AREAS if a.view == "front")
    back = sum(area_weight(a, 40) for a in CHART_AREAS if a.view == "back")
    # Front: 28 + A + 2B + 2C; back: 32 + A + 2B + 2C (buttocks are on the back).
    assert (front, back) == (Fraction(48), Fraction(52))


def test_drawn_area_becomes_hand_units_by_weight_not_pixels() -> None:
    # Half of an adult's front thigh (B = 4.75) is 2.375 HU; the same half at age 1 (B = 3.25) is 1.625 HU.
    assert drawn_hand_units("thigh_left_front", 0.5, 40) == Fraction("2.375")
    assert drawn_hand_units("thigh_left_front", 0.5, 1) == Fraction("1.625")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: age_weights(-1), "age_years"),
        (lambda: age_weights(130.5), "age_years"),
        (lambda: age_weights("12"), "age_years"),  # type: ignore[arg-type]
        (lambda: drawn_hand_units("tail", 0.5, 40), "area"),
        (lambda: drawn_hand_units("face", 1.5, 40), "fraction_painted"),
        (lambda: drawn_hand_units("face", -0.1, 40), "fraction_painted"),
    ],
)
def test_bad_input_names_the_field(call, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BodyModelError) as e:
        call()
    assert e.value.field == field
