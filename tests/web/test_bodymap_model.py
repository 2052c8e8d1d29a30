"""The body-map grid and the drawing → patches conversion (no browser)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from repigment.body import CHART_AREAS, chart_weights
from repigment.scoring import score_assessment
from repigment.web import bodymap as bm
from repigment.web import bodymap_page


def _empty() -> dict[str, list[int]]:
    return {v.name: [0] * (v.cols * v.rows) for v in bm.VIEWS}


def test_every_chart_area_is_drawable_on_exactly_one_view() -> None:
    counts = bm.area_cell_counts()
    assert set(counts) == {a.name for a in CHART_AREAS}
    assert min(counts.values()) >= 50  # enough cells for a usable resolution even on the eyelids
    for a in CHART_AREAS:
        views = [v.name for v in bm.VIEWS if bm.AREA_INDEX[a.name] in bm.raster(v.name)]
        assert views == [bm.map_view(a.name)]
    assert bm.map_view("face") == bm.map_view("eyelids") == "face"


def test_whole_map_painted_is_the_whole_body_at_every_age() -> None:
    drawing = {v.name: [100] * (v.cols * v.rows) for v in bm.VIEWS}
    for age in (0, 1, 3, 7.5, 15, 40):
        result = score_assessment(bodymap_page.assessment(drawing, age, {}))
        assert result.t_bsa_percent == 100  # exact: Σ Lund–Browder weights of all areas
        assert result.t_vasi == 100
        assert result.f_bsa_percent == chart_weights(age)["face"]


def test_hand_units_are_share_of_area_times_its_weight_not_pixels() -> None:
    drawing = _empty()
    front = bm.raster("front")
    thigh = [k for k, a in enumerate(front) if a == bm.AREA_INDEX["thigh_left_front"]]
    for k in thigh[: len(thigh) // 4]:
        drawing["front"][k] = 75
    patches = bm.drawing_patches(drawing, 5)
    assert len(patches) == 1
    p = patches[0]
    share = Fraction(len(thigh) // 4, len(thigh))
    assert p["hand_units"] == share * Fraction("4.0")  # B at age 5
    assert (p["area"], p["region"], p["depigmentation_percent"]) == (
        "thigh_left_front",
        "lower_extremities",
        75,
    )
    # an unpaintable cell (outside every area) never counts
    outside = front.index(-1)
    drawing["front"][outside] = 100
    assert bm.drawing_patches(drawing, 5) == patches


def test_rle_round_trip_and_errors() -> None:
    cells = [0, 0, 100, 100, 100, 25, 0]
    assert bm.rle(cells) == [0, 2, 100, 3, 25, 1, 0, 1]
    assert bm.unrle(bm.rle(cells), len(cells), "x", frozenset({0, 25, 100})) == cells
    with pytest.raises(bm.DrawingError, match="level 33"):
        bm.parse_drawing({"front": [33, 22000]})
    with pytest.raises(bm.DrawingError, match="covers 5 cells"):
        bm.parse_drawing({"back": [0, 5]})
    with pytest.raises(bm.DrawingError, match="unknown view"):
        bm.parse_drawing({"side": [0, 1]})
    with pytest.raises(bm.DrawingError, match="not valid JSON"):
        bm.parse_drawing("{nope")
    with pytest.raises(bm.DrawingError, match="run length"):
        bm.parse_drawing({"front": [0, -3]})
    assert bm.parse_drawing("") == _empty()


def test_a_run_longer_than_the_cells_left_is_refused_before_allocating() -> None:
    """Regression: ``[0, 50000000]`` built a list of 5e7 cells (400 MB) before the length check, and
    ``[0, 10000000000000]`` raised MemoryError (a 500)."""
    import tracemalloc

    n = len(bm.raster("front"))
    tracemalloc.start()
    try:
        for run in (50_000_000, 10_000_000_000_000, n + 1):
            with pytest.raises(bm.DrawingError, match=f"longer than the {n} cells left"):
                bm.parse_drawing({"front": [0, run]})
        with pytest.raises(bm.DrawingError, match="at position 3 is longer than the 1 cells left"):
            bm.parse_drawing({"front": [0, n - 1, 25, 2]})
        with pytest.raises(bm.DrawingError, match="numbers too long or nesting too deep"):
            bm.parse_drawing("[" * 100_000 + "]" * 100_000)
        with pytest.raises(bm.DrawingError, match="numbers too long or nesting too deep"):
            bm.parse_drawing('{"front": [0, ' + "9" * 5000 + "]}")
        assert tracemalloc.get_traced_memory()[1] < 20 * 2**20  # peak: the view's own cells, not the claim
    finally:
        tracemalloc.stop()
    assert bm.parse_drawing({"front": [0, n - 1, 25, 1]})["front"][-1] == 25


def test_drawing_rebuilt_from_saved_patches_scores_the_same() -> None:
    drawing = _empty()
    face = bm.raster("face")
    for k, a in enumerate(face):
        if a == bm.AREA_INDEX["face"] and k % 3 == 0:
            drawing["face"][k] = 50
        if a == bm.AREA_INDEX["eyelids"] and k % 2 == 0:
            drawing["face"][k] = 100
    back = bm.raster("back")
    for k, a in enumerate(back):
        if a == bm.AREA_INDEX["trunk_back"] and k % 5 == 0:
            drawing["back"][k] = 10
    age = 12.5
    saved = bodymap_page.assessment_json(bodymap_page.assessment(drawing, age, {}))
    rebuilt = bm.drawing_from_patches(saved["patches"], age)
    a = score_assessment(bodymap_page.assessment(drawing, age, {}))
    b = score_assessment(bodymap_page.assessment(rebuilt, age, {}))
    assert (a.f_vasi, a.t_vasi, a.f_bsa_percent, a.t_bsa_percent) == (
        b.f_vasi,
        b.t_vasi,
        b.f_bsa_percent,
        b.t_bsa_percent,
    )


def test_page_config_serves_the_core_weights() -> None:
    cfg = bm.page_config(3, {"face_includes_eyelids": True})
    weights = chart_weights(3)
    for area in cfg["areas"]:
        assert Fraction(area["weight_exact"]) == weights[area["name"]]
        assert area["weight"] == float(weights[area["name"]])
    assert cfg["variant"] == {"face_includes_eyelids": True}
    assert cfg["levels"] == [100, 90, 75, 50, 25, 10]


def test_region_only_patches_are_spread_over_the_region_areas() -> None:
    """Patches entered without an area (API clients, the demo) still show on the map, scoring the same."""
    age = 40
    patches = [
        {"region": "hands", "hand_units": 2.0, "depigmentation_percent": 75},
        {"region": "trunk", "hand_units": 13.0, "depigmentation_percent": 50},
    ]
    drawing = bm.drawing_from_patches(patches, age)
    redrawn = score_assessment(bodymap_page.assessment(drawing, age, {}))
    entered = score_assessment({"age_years": age, "patches": patches})
    assert float(redrawn.t_vasi) == pytest.approx(float(entered.t_vasi), abs=0.02)  # cell rounding only
    assert float(redrawn.regions["hands"].hand_units) == pytest.approx(2.0, abs=0.02)
