"""The body map in a real browser: painting, the live preview against the core, keyboard use, axe-core."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from webharness import DESKTOP, PHONE, assert_accessible, paint, screenshot

from repigment.scoring import score_assessment
from repigment.web import bodymap as bm
from repigment.web import bodymap_page

pytestmark = pytest.mark.browser


def _choose_level(page: Any, level: int) -> None:
    page.check(f'input[name="bm-tool"][value="{level}"]')


def _core_scores(drawing: dict[str, list[int]], age: float, variant: dict[str, bool]) -> dict[str, float]:
    levels = {
        name: bm.unrle(rle, len(bm.raster(name)), name, frozenset(range(101)))
        for name, rle in drawing.items()
    }
    result = score_assessment(bodymap_page.assessment(levels, age, variant))
    return {k: float(getattr(result, k)) for k in ("f_vasi", "t_vasi", "f_bsa_percent", "t_bsa_percent")}


def test_preview_equals_core_and_saved_scores(page: Any, tools_server: str) -> None:
    page.goto(tools_server + "/tools/bodymap?age=7")
    assert_accessible(page)
    rng = random.Random(5)
    for view, level in (
        ("front", 100),
        ("back", 50),
        ("face", 75),
        ("front", 25),
        ("face", 10),
        ("back", 90),
    ):
        _choose_level(page, level)
        strokes = [[(rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.9)) for _ in range(4)] for _ in range(2)]
        paint(page, view, strokes)
    _choose_level(page, 0)  # the eraser removes part of it again
    paint(page, "front", [[(0.3, 0.3), (0.7, 0.35)]])

    preview = page.evaluate("window.repigmentBodymap.totals()")
    drawing = page.evaluate("window.repigmentBodymap.drawing()")
    variant = {"face_includes_eyelids": False, "t_vasi_includes_head_neck": True}
    core = _core_scores(drawing, 7, variant)
    assert core["t_vasi"] > 0 and core["f_vasi"] > 0
    for key, value in core.items():
        assert preview[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
    shown = {k: page.text_content(f'[data-total="{k}"]') for k in core}

    page.click("button[type=submit]")
    page.wait_for_selector("[data-saved-scores]")
    saved = {k: page.text_content(f'[data-score="{k}"]') for k in core}
    assert saved == shown
    # the re-rendered page carries the drawing back: the preview still agrees
    assert page.evaluate("window.repigmentBodymap.totals()") == pytest.approx(preview)
    assert_accessible(page)


def test_preview_per_patch_hand_units_follow_lund_browder(page: Any, tools_server: str) -> None:
    """A whole area filled reads as its full Lund–Browder weight for the age, whatever its drawn size."""
    page.goto(tools_server + "/tools/bodymap?age=1")
    page.evaluate("window.repigmentBodymap.fill('thigh_left_front', 1, 100)")
    page.evaluate("window.repigmentBodymap.fill('head_back', 0.5, 50)")  # half of it at 50 %
    patches = {p["area"]: p for p in page.evaluate("window.repigmentBodymap.patches()")}
    assert patches["thigh_left_front"]["hand_units"] == pytest.approx(3.25)  # B at age 1
    cells = bm.area_cell_counts()["head_back"]
    # A at age 1 is 8.5; JS rounds the half cell up
    assert patches["head_back"]["hand_units"] == pytest.approx(math.floor(cells * 0.5 + 0.5) / cells * 8.5)
    assert patches["head_back"]["depigmentation_percent"] == 50


def test_variant_and_keyboard_entry(page: Any, tools_server: str) -> None:
    page.goto(tools_server + "/tools/bodymap?age=40")
    page.check('input[name="face_includes_eyelids"]')
    page.uncheck('input[name="t_vasi_includes_head_neck"]')
    # keyboard only: the eyelids area, filled from the keyboard panel at 90 %
    page.click(".bm-keyboard summary")
    page.select_option("#bm-kb-area", "eyelids")
    page.fill("#bm-kb-percent", "40")
    page.select_option("#bm-kb-level", "90")
    page.click("#bm-kb-apply")
    # and a whole area by focusing it and pressing Enter
    _choose_level(page, 50)
    page.click('[data-show-view="back"]')
    page.focus('[data-area="hand_left_back"]')
    page.keyboard.press("Enter")
    assert "100" in (page.get_attribute('[data-area="hand_left_back"]', "aria-label") or "")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-saved-scores]")
    drawing = page.evaluate("window.repigmentBodymap.drawing()")
    variant = {"face_includes_eyelids": True, "t_vasi_includes_head_neck": False}
    core = _core_scores(drawing, 40, variant)
    eyelid_cells = bm.area_cell_counts()["eyelids"]
    assert core["f_bsa_percent"] == pytest.approx(math.floor(eyelid_cells * 0.4 + 0.5) / eyelid_cells * 0.1)
    assert core["t_bsa_percent"] == pytest.approx(1.25)  # back of one hand; head excluded by the variant
    assert core["t_vasi"] == pytest.approx(0.625)
    preview = page.evaluate("window.repigmentBodymap.totals()")
    for key, value in core.items():
        assert preview[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
        assert page.text_content(f'[data-score="{key}"]') == page.text_content(f'[data-total="{key}"]')


def test_bodymap_screenshots_and_swedish(browser: Any, tools_server: str) -> None:
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        ctx = browser.new_context(viewport=viewport, locale="sv-SE")
        p = ctx.new_page()
        p.goto(tools_server + "/tools/bodymap?age=34")
        assert p.get_attribute("html", "lang") == "sv"
        p.evaluate("window.repigmentBodymap.fill('trunk_front', 0.3, 100)")
        p.evaluate("window.repigmentBodymap.fill('forearm_left_front', 0.6, 50)")
        assert_accessible(p)
        p.evaluate("document.querySelector('#bm-title').scrollIntoView()")
        screenshot(p, f"bodymap-{size}")
        ctx.close()


def test_keyboard_focus_is_visible(page: Any, tools_server: str) -> None:
    page.goto(tools_server + "/tools/bodymap?age=30")
    page.keyboard.press("Tab")
    skip = page.evaluate(
        "() => { const a = document.activeElement; const r = a.getBoundingClientRect();"
        " return {cls: a.className, top: r.top, left: r.left}; }"
    )
    assert skip["cls"] == "skip-link" and skip["top"] >= 0 and skip["left"] >= 0  # shown on focus
    for selector in ("#age_years", "#bm-clear", '[data-area="trunk_front"]'):
        page.focus(selector)
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth),"
            " stroke: parseFloat(s.strokeWidth), shadow: s.boxShadow}; }"
        )
        visible = (style["outline"] != "none" and style["width"] >= 2) or style["stroke"] >= 2
        assert visible, (selector, style)
