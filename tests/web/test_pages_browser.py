"""The record pages in headless chromium on the real server: clinician visit with the body map, patient
diary with the interval warning, access between patients, the language switch, axe-core everywhere."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from webharness import DESKTOP, PHONE, assert_accessible, login, on_sqlite, paint, screenshot
from webseed import drawing_scores

from repigment.services import checks
from repigment.store import Patient, Store, Visit

pytestmark = [pytest.mark.browser, on_sqlite]


def test_clinician_paints_saves_visit_and_sees_core_scores(
    page: Any, base_url: str, clinic: Any, api_server: Any
) -> None:
    login(page, base_url, clinic.clinician, clinic.password)
    assert page.url.endswith("/clinic")
    ada = clinic.patients[0]
    row = page.locator(f'tr[data-patient="{ada}"]')
    assert row.locator('[data-flag="review_due"]').count() == 1
    assert row.locator('[data-flag="new_event"]').count() == 1
    bo = page.locator(f'tr[data-patient="{clinic.patients[1]}"]')
    assert bo.locator('[data-flag="decision_due"]').count() == 1
    assert_accessible(page)

    page.click(f'a[href="/clinic/patients/{ada}"]')
    page.wait_for_selector("#decision-title")
    assert page.locator("svg.chart").count() == 2
    assert_accessible(page)

    page.click(f'a[href="/clinic/patients/{ada}/visits/new"]')
    page.wait_for_selector("[data-bodymap]")
    rng = random.Random(24)
    for view, level in (("front", 75), ("face", 100), ("back", 50), ("face", 25)):
        page.check(f'input[name="bm-tool"][value="{level}"]')
        paint(
            page,
            view,
            [[(rng.uniform(0.25, 0.75), rng.uniform(0.15, 0.85)) for _ in range(3)] for _ in range(2)],
        )
    page.fill("#repigmentation_percent", "35")
    preview = page.evaluate("window.repigmentBodymap.totals()")
    drawing = page.evaluate("window.repigmentBodymap.drawing()")
    shown = {k: page.text_content(f'[data-total="{k}"]') for k in preview}
    assert_accessible(page)

    page.click("form button[type=submit] >> text=Save the visit")
    page.wait_for_selector("[data-saved-scores]")
    assert "saved=1" in page.url
    saved_text = {k: page.text_content(f'[data-score="{k}"]') for k in preview}
    assert saved_text == shown

    # the stored numbers are the core's (repigment.scoring via the API), equal to the preview
    visit_id = int(page.url.split("/visits/")[1].split("?")[0])
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            v = db.get(Visit, visit_id)
            p = db.get(Patient, ada)
            assert v is not None and p is not None
            age = checks.age_years(p.birth_date, v.visited_on)
            stored = {k: getattr(v, k) for k in preview}
            assert v.repigmentation_percent == 35
    finally:
        s.dispose()
    core = drawing_scores(drawing, age, {"face_includes_eyelids": False, "t_vasi_includes_head_neck": True})
    assert core["t_vasi"] > 0 and core["f_vasi"] > 0
    for k in preview:
        assert preview[k] == pytest.approx(stored[k], rel=1e-12, abs=1e-12), k
        assert core[k] == pytest.approx(stored[k], rel=1e-12, abs=1e-12), k
    assert_accessible(page)
    screenshot(page, "visit-saved-desktop")


def test_patient_logs_two_applications_six_hours_apart_and_sees_interval_warning(
    new_page: Any, base_url: str, clinic: Any
) -> None:
    page = new_page(PHONE)
    login(page, base_url, clinic.patient_user, clinic.password)
    ada = clinic.patients[0]
    assert page.url.endswith(f"/patients/{ada}")
    assert_accessible(page)
    six_hours_ago = dt.datetime.now(ZoneInfo("Europe/Stockholm")) - dt.timedelta(hours=6)
    page.click("summary >> text=Change the time")
    page.fill("#when", six_hours_ago.strftime("%Y-%m-%dT%H:%M"))
    page.click("button >> text=Log with these details")
    page.wait_for_selector("#feedback")
    assert page.get_attribute("#feedback", "data-feedback") == "ok"
    # the second in two taps: the page is open, one tap on the big button
    page.click("[data-log-now]")
    page.wait_for_selector('#feedback [data-rule="EU-4.2-interval"]')
    feedback = page.text_content("#feedback") or ""
    assert "Too soon after your last application" in feedback
    assert "at least 8 h" in feedback
    assert page.locator(".history li").count() == 2
    assert_accessible(page)
    screenshot(page, "diary-interval-phone")


def test_patient_cannot_open_another_patients_pages(new_page: Any, base_url: str, clinic: Any) -> None:
    page = new_page()
    login(page, base_url, clinic.patient_user, clinic.password)
    other = clinic.patients[1]
    for path, status in (
        (f"/patients/{other}", 404),
        (f"/patients/{other}/progress", 404),
        (f"/patients/{other}/export.json", 404),
        (f"/clinic/patients/{other}", 403),
        (f"/clinic/patients/{clinic.patients[0]}", 403),
        ("/clinic", 403),
    ):
        resp = page.goto(base_url + path)
        assert resp is not None and resp.status == status, path
        assert "Bo" not in (page.text_content("main") or ""), path
        assert_accessible(page)
    # own data can be downloaded
    resp = page.request.get(base_url + f"/patients/{clinic.patients[0]}/export.json")
    assert resp.status == 200 and resp.json()["patient"]["given_name"] == "Ada"


def test_language_switch_changes_the_page_to_swedish(new_page: Any, base_url: str, clinic: Any) -> None:
    page = new_page()
    login(page, base_url, clinic.patient_user, clinic.password)
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("h1") == "My diary"
    page.click('.lang-switch a[hreflang="sv"]')
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "sv"
    assert page.text_content("h1") == "Min dagbok"
    assert page.locator("[data-log-now]").text_content() == "Jag smorde in krämen nu"
    assert_accessible(page)
    # the choice is remembered, and dates and numbers follow the locale
    page.goto(base_url + f"/patients/{clinic.patients[0]}/progress")
    assert page.text_content("h1") == "Mina framsteg"
    table = page.locator("details table").first.text_content() or ""
    assert "," in table  # decimal comma
    screenshot(page, "progress-sv-desktop")
    page.click('.lang-switch a[hreflang="en"]')
    page.wait_for_load_state()
    assert page.text_content("h1") == "My progress"


def test_every_page_passes_axe_and_screenshots(new_page: Any, base_url: str, clinic: Any) -> None:
    ada, bo = clinic.patients[0], clinic.patients[1]
    clinician_pages = {
        "patients": "/clinic",
        "patient": f"/clinic/patients/{ada}",
        "patient-decision-due": f"/clinic/patients/{bo}",
        "visit-new": f"/clinic/patients/{ada}/visits/new",
        "adverse-event": f"/clinic/patients/{ada}/adverse-events/new",
        "calculator": "/clinic/tools/bodymap",
    }
    patient_pages = {
        "diary": f"/patients/{ada}",
        "progress": f"/patients/{ada}/progress",
        "side-effect": f"/patients/{ada}/side-effect",
    }
    login_page = new_page()
    login_page.goto(base_url + "/login")
    assert_accessible(login_page)
    screenshot(login_page, "login-desktop")
    for user, pages, sizes in (
        (clinic.clinician, clinician_pages, (("desktop", DESKTOP),)),
        (clinic.patient_user, patient_pages, (("phone", PHONE), ("desktop", DESKTOP))),
    ):
        for size, viewport in sizes:
            page = new_page(viewport)
            login(page, base_url, user, clinic.password)
            for name, path in pages.items():
                resp = page.goto(base_url + path)
                assert resp is not None and resp.status == 200, path
                assert_accessible(page)
                if name in ("patients", "patient", "visit-new", "diary", "progress") or size == "phone":
                    if page.locator(
                        "#bm-title"
                    ).count():  # show the map itself, painted, not the form above it
                        for area, share, level in (
                            ("trunk_front", 0.35, 75),
                            ("hand_right_front", 1, 100),
                            ("forearm_left_front", 0.5, 50),
                            ("face", 0.4, 90),
                        ):
                            page.evaluate(f"window.repigmentBodymap.fill('{area}', {share}, {level})")
                        page.evaluate("document.querySelector('#bm-title').scrollIntoView()")
                    screenshot(page, f"{name}-{size}")
            # a visit saved earlier in the record: the read-only map and photos form
    page = new_page(PHONE)
    login(page, base_url, clinic.clinician, clinic.password)
    page.goto(base_url + f"/clinic/patients/{ada}")
    assert_accessible(page)
    screenshot(page, "patient-phone")
    page.click(".timeline a >> nth=0")
    page.wait_for_selector("[data-saved-scores]")
    assert_accessible(page)
