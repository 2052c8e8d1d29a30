"""The record pages over real HTTP (no browser): errors next to the field, CSRF, access, photos, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image
from webharness import on_sqlite

from repigment.store import AdverseEvent, Application, Override, Store

pytestmark = on_sqlite


def _login_token(c: httpx.Client) -> str:
    """The log-in form's CSRF token (its cookie is kept by the client)."""
    html = c.get("/login").text
    return html.split('name="login_csrf" value="', 1)[1].split('"', 1)[0]


def _login(c: httpx.Client, data: dict[str, str], **kw: Any) -> httpx.Response:
    return c.post("/login", data={**data, "login_csrf": _login_token(c)}, **kw)


def _client(base_url: str, username: str, password: str, lang: str | None = None) -> httpx.Client:
    """A logged-in page client; ``lang`` chooses the page language as the switch in the header does."""
    c = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    r = _login(c, {"username": username, "password": password, "next": "/"})
    assert r.status_code == 303, r.text
    if lang is not None:
        from repigment.web.i18n import LOCALE_COOKIE

        c.cookies.set(LOCALE_COOKIE, lang)
    return c


def _csrf(c: httpx.Client) -> str:
    return str(c.cookies.get("repigment_csrf"))


@pytest.fixture()
def clin(base_url: str, clinic: Any) -> Iterator[httpx.Client]:
    c = _client(base_url, clinic.clinician, clinic.password)
    yield c
    c.close()


@pytest.fixture()
def pat(base_url: str, clinic: Any) -> Iterator[httpx.Client]:
    c = _client(base_url, clinic.patient_user, clinic.password)
    yield c
    c.close()


def _field_error(html: str, field: str) -> str:
    marker = f'id="err-{field}"'
    assert marker in html, f"no error shown next to {field}"
    return html.split(marker, 1)[1].split(">", 1)[1].split("</p>", 1)[0]


def test_login_errors_are_shown_next_to_the_field(base_url: str, clinic: Any) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        r = _login(c, {"username": "", "password": ""})
        assert r.status_code == 422
        assert _field_error(r.text, "username") == "Enter your username."
        assert _field_error(r.text, "password") == "Enter your password."
        r = _login(
            c,
            {"username": clinic.clinician, "password": "wrong password"},
            headers={"Accept-Language": "sv"},
        )
        assert r.status_code == 422 and _field_error(r.text, "password") == "Fel användarnamn eller lösenord."
        assert "Traceback" not in r.text
        # an unsafe redirect target is ignored
        r = _login(
            c,
            {"username": clinic.clinician, "password": clinic.password, "next": "//evil.example/"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert r.cookies.get("repigment_session") and r.cookies.get("repigment_csrf")
        assert c.get("/", follow_redirects=False).headers["location"] == "/clinic"


def test_the_log_in_form_needs_its_csrf_token_and_our_origin(base_url: str, clinic: Any) -> None:
    """Regression: the log-in form had no CSRF token and accepted a foreign Origin (log-in CSRF: another
    site could log the visitor's browser in to an account of its own choosing)."""
    good = {"username": clinic.clinician, "password": clinic.password}
    with httpx.Client(base_url=base_url, timeout=30) as c:
        r = c.post("/login", data=good)  # no token
        assert r.status_code == 403 and "came from another site" in _field_error(r.text, "form")
        assert not r.cookies.get("repigment_session")
        r = c.post("/login", data={**good, "login_csrf": "forged"})
        assert r.status_code == 403
        token = _login_token(c)
        r = c.post("/login", data={**good, "login_csrf": token}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and not r.cookies.get("repigment_session")
        r = c.post("/login", data={**good, "login_csrf": _login_token(c)}, headers={"Origin": base_url})
        assert r.status_code == 303 and r.cookies.get("repigment_session")
    with httpx.Client(base_url=base_url, timeout=30) as other:  # a token is good with its own cookie only
        other.get("/login")
        other.cookies.set("repigment_login", "another value")
        assert other.post("/login", data={**good, "login_csrf": token}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(base_url: str, clinic: Any) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        r = c.get(f"/clinic/patients/{clinic.patients[0]}?x=1", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == f"/login?next=%2Fclinic%2Fpatients%2F{clinic.patients[0]}%3Fx%3D1"
        # a form sent after the session ended comes back to the page it was on, not to the form's target
        diary = f"/patients/{clinic.patients[0]}"
        r = c.post(
            diary + "/applications",
            data={"hand_units": "1"},
            headers={"Referer": base_url + diary},
            follow_redirects=False,
        )
        assert (
            r.status_code == 303
            and r.headers["location"] == f"/login?next=%2Fpatients%2F{clinic.patients[0]}"
        )


def test_forms_without_the_csrf_token_are_refused_with_a_page(clin: httpx.Client, clinic: Any) -> None:
    r = clin.post(f"/clinic/patients/{clinic.patients[0]}/adverse-events/new", data={"term": "Headache"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "The form had expired" in r.text


def test_visit_form_errors_keep_the_drawing(clin: httpx.Client, clinic: Any) -> None:
    url = f"/clinic/patients/{clinic.patients[0]}/visits/new"
    drawing = json.dumps({"front": [0, 100, 75, 300, 0, 21600]})
    r = clin.post(
        url,
        data={
            "csrf_token": _csrf(clin),
            "visited_on": "not a date",
            "drawing": drawing,
            "t_vasi_includes_head_neck": "1",
        },
    )
    assert r.status_code == 422
    assert _field_error(r.text, "visited_on") == "Enter the date of the visit."
    assert '"front": [0, 100, 75, 300, 0, 21600]' in r.text.replace(
        "&#34;", '"'
    ) or "[0,100,75,300" in r.text.replace(" ", "")
    r = clin.post(
        url, data={"csrf_token": _csrf(clin), "visited_on": "2026-01-01", "drawing": '{"front": [33, 5]}'}
    )
    assert r.status_code == 422
    assert "level 33" in _field_error(r.text, "drawing")
    r = clin.post(
        url,
        data={
            "csrf_token": _csrf(clin),
            "visited_on": dt.date.today().isoformat(),
            "drawing": "",
            "repigmentation_percent": "150",
        },
    )
    assert r.status_code == 422
    assert "repigmentation_percent" in r.text and "err-repigmentation_percent" in r.text


def test_decision_against_a_finding_needs_a_reason(clin: httpx.Client, clinic: Any, api_server: Any) -> None:
    bo = clinic.patients[1]
    url = f"/clinic/patients/{bo}/decision"
    page = clin.get(f"/clinic/patients/{bo}")
    assert "Less than 25 % repigmentation at week 52" in page.text
    assert 'data-flag="decision_due"' in page.text
    r = clin.post(
        url, data={"csrf_token": _csrf(clin), "milestone": "week-52", "choice": "continue", "reason": ""}
    )
    assert r.status_code == 422
    assert _field_error(r.text, "reason") == "Give the reason for continuing despite the finding."
    r = clin.post(
        url,
        data={
            "csrf_token": _csrf(clin),
            "milestone": "week-52",
            "choice": "continue",
            "reason": "Facial repigmentation is starting; patient wishes to continue.",
        },
    )
    assert r.status_code == 303
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            rules = sorted(o.rule for o in db.query(Override).filter(Override.patient_id == bo))
    finally:
        s.dispose()
    assert rules == ["EU-4.2-week52", "decision:week-52:continue"]
    page = clin.get(f"/clinic/patients/{bo}")
    assert 'data-flag="decision_due"' not in page.text
    assert "Facial repigmentation is starting" in page.text


def test_a_stop_decision_that_cannot_be_stored_leaves_the_course_running(
    clin: httpx.Client, clinic: Any, api_server: Any
) -> None:
    """Stopping and the decision are one transaction: when the decision's insert fails in the database,
    the course is not stopped either (it was, before the decision became one use case)."""
    from sqlalchemy import select, text

    from repigment.store import Course

    bo = clinic.patients[1]
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            before = db.scalars(select(Course).where(Course.patient_id == bo)).all()
            n_overrides = len(db.scalars(select(Override.id).where(Override.patient_id == bo)).all())
        assert before and all(c.status == "active" for c in before)
        with s.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_override BEFORE INSERT ON override "
                    f"WHEN NEW.patient_id = {int(bo)} BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        try:
            r = clin.post(
                f"/clinic/patients/{bo}/decision",
                data={
                    "csrf_token": _csrf(clin),
                    "milestone": "week-52",
                    "choice": "stop",
                    "reason": "No gain.",
                },
            )
        finally:
            with s.engine.begin() as conn:
                conn.execute(text("DROP TRIGGER refuse_override"))
        assert r.status_code == 422 and "conflicts with the stored record" in r.text
        with s.read() as db:
            after = db.scalars(select(Course).where(Course.patient_id == bo)).all()
            assert [(c.status, c.stopped_on) for c in after] == [("active", None)] * len(before)
            assert len(db.scalars(select(Override.id).where(Override.patient_id == bo)).all()) == n_overrides
    finally:
        s.dispose()


def test_adverse_event_pick_list_and_free_text(
    clin: httpx.Client, pat: httpx.Client, clinic: Any, api_server: Any
) -> None:
    ada = clinic.patients[0]
    url = f"/clinic/patients/{ada}/adverse-events/new"
    assert "Application site acne" in clin.get(url).text
    r = clin.post(
        url, data={"csrf_token": _csrf(clin), "term": "other", "term_other": "", "onset_on": "2026-01-02"}
    )
    assert r.status_code == 422 and _field_error(r.text, "term_other")
    r = clin.post(
        url,
        data={
            "csrf_token": _csrf(clin),
            "term": "Application site acne",
            "onset_on": "2026-01-02",
            "serious": "1",
        },
    )
    assert r.status_code == 422 and "seriousness criterion" in _field_error(r.text, "criteria")
    r = clin.post(
        url,
        data={
            "csrf_token": _csrf(clin),
            "term": "Application site acne",
            "onset_on": dt.date.today().isoformat(),
            "causality": "possibly_related",
            "outcome": "recovering",
        },
    )
    assert r.status_code == 303
    r = pat.post(
        f"/patients/{ada}/side-effect",
        data={
            "csrf_token": _csrf(pat),
            "term": "other",
            "term_other": "Stinging after use",
            "onset_on": dt.date.today().isoformat(),
            "causality": "related",
        },
    )
    assert r.status_code == 303
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            events = {e.term: e for e in db.query(AdverseEvent).filter(AdverseEvent.patient_id == ada)}
    finally:
        s.dispose()
    assert events["Application site acne"].causality == "possibly_related"
    assert events["Stinging after use"].causality == "not_assessed"  # patients do not assess causality
    assert events["Stinging after use"].reporter_role == "patient"


def test_diary_errors_and_idempotent_resubmission(pat: httpx.Client, clinic: Any, api_server: Any) -> None:
    ada = clinic.patients[0]
    url = f"/patients/{ada}/applications"
    future = (dt.datetime.now(ZoneInfo("Europe/Stockholm")) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = pat.post(url, data={"csrf_token": _csrf(pat), "when": future, "hand_units": "2"})
    assert r.status_code == 422 and _field_error(r.text, "when") == "The time is in the future."
    r = pat.post(url, data={"csrf_token": _csrf(pat), "hand_units": "lots"})
    assert r.status_code == 422 and "hand sizes" in _field_error(r.text, "hand_units")
    # Regression: year 1 with an offset east of UTC was a JSON 500 (OverflowError), not a page.
    for when in ("0001-01-01T00:00+14:00", "0001-01-01T00:30", "0001-01-01", "9999-12-31T23:30-12:00"):
        r = pat.post(url, data={"csrf_token": _csrf(pat), "when": when, "hand_units": "2"})
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), (when, r.text)
        # the diary entry's own range (ApplicationIn), as the API and the FHIR import refuse it
        assert _field_error(r.text, "when") == "Enter a date between 1900-01-01 and 2100-12-31.", when
    entry = "3b0d3a4e-9e53-4e0f-8a55-0f6a0c0c1a11"
    for _ in range(2):  # the same form sent twice (a double tap) stores one entry
        r = pat.post(
            url,
            data={
                "csrf_token": _csrf(pat),
                "id": entry,
                "hand_units": "2",
                "sites": ["face"],
                "when": "2026-01-05T08:00",
            },
        )
        assert r.status_code == 303, r.text
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            assert db.query(Application).filter(Application.id == entry).count() == 1
    finally:
        s.dispose()
    csv_text = pat.get(f"/patients/{ada}/export.csv?table=applications").text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [r["id"] for r in rows] == [entry] and rows[0]["sites"] == '["face"]'
    data = pat.get(f"/patients/{ada}/export.json").json()
    assert (
        data["patient"]["id"] == ada and len(data["visits"]) == 2 and data["applications"][0]["id"] == entry
    )


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 150, 120))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    gps = {1: "N", 2: (59.0, 19.0, 48.0), 3: "E", 4: (18.0, 4.0, 6.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photos_are_cleaned_stored_with_checksum_and_served_only_to_the_record(
    clin: httpx.Client, pat: httpx.Client, base_url: str, clinic: Any
) -> None:
    ada = clinic.patients[0]
    visit_page = clin.get(f"/clinic/patients/{ada}").text
    import re

    visit_id = int(re.findall(rf"/clinic/patients/{ada}/visits/(\d+)", visit_page)[0])
    url = f"/clinic/patients/{ada}/visits/{visit_id}/photos"
    raw = _jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)
    r = clin.post(
        url,
        data={"csrf_token": _csrf(clin), "kind": "face_front"},
        files={"photo": ("p.jpg", raw, "image/jpeg")},
    )
    assert r.status_code == 303, r.text
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    r = clin.post(
        url,
        data={"csrf_token": _csrf(clin), "kind": "hands"},
        files={"photo": ("p.gif", gif.getvalue(), "image/gif")},
    )
    assert (
        r.status_code == 422 and _field_error(r.text, "photo") == "Only JPEG and PNG photos can be uploaded."
    )
    r = clin.post(
        url,
        data={"csrf_token": _csrf(clin), "kind": "hands"},
        files={"photo": ("p.png", b"not an image", "image/png")},
    )
    assert r.status_code == 422 and "not a readable" in _field_error(r.text, "photo")
    r = clin.post(
        url, data={"csrf_token": _csrf(clin), "kind": ""}, files={"photo": ("p.jpg", raw, "image/jpeg")}
    )
    assert r.status_code == 422 and _field_error(r.text, "kind")

    page = clin.get(f"/clinic/patients/{ada}/visits/{visit_id}").text
    photo_url = page.split('<img src="', 1)[1].split('"', 1)[0]
    sha = photo_url.rsplit("/", 1)[1]
    served = clin.get(photo_url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    import hashlib

    assert hashlib.sha256(served.content).hexdigest() == sha
    clean = Image.open(io.BytesIO(served.content))
    assert not clean.getexif()  # no GPS, no camera, no orientation tag left
    assert clean.size == (48, 64)  # the orientation was applied to the pixels first
    stored = Path(os.environ["REPIGMENT_PHOTO_DIR"]) / str(ada) / f"{sha}.jpg"
    assert stored.read_bytes() == served.content
    assert pat.get(photo_url).status_code == 200  # the patient's own photo
    other = _client(base_url, clinic.other_patient_user, clinic.password)
    try:
        assert other.get(photo_url).status_code == 404
    finally:
        other.close()
    with httpx.Client(base_url=base_url) as anon:
        assert anon.get(photo_url, follow_redirects=False).status_code == 303
    assert f'src="{photo_url}"' in clin.get(f"/clinic/patients/{ada}").text  # first/latest comparison


def test_diary_feedback_in_swedish(pat: httpx.Client, clinic: Any) -> None:
    ada = clinic.patients[0]
    pat.cookies.set("repigment_lang", "sv")
    url = f"/patients/{ada}/applications"
    first = pat.post(url, data={"csrf_token": _csrf(pat), "hand_units": "2", "when": "2026-02-10T08:00"})
    assert first.status_code == 303
    r = pat.post(url, data={"csrf_token": _csrf(pat), "hand_units": "2", "when": "2026-02-10T14:00"})
    assert r.status_code == 303
    page = pat.get(r.headers["location"]).text
    assert "För tidigt efter din förra applicering" in page
    assert "minst 8 timmar krävs" in page  # the label engine's own Swedish text
    assert 'data-rule="EU-4.2-interval"' in page


def test_a_blocked_diary_entry_flags_the_patient_for_the_clinician(
    pat: httpx.Client, clin: httpx.Client, clinic: Any
) -> None:
    ada = clinic.patients[0]
    row = clin.get("/clinic").text.split(f'data-patient="{ada}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-flag="blocking"' not in row
    zone = ZoneInfo("Europe/Stockholm")
    for hours_ago in (8, 2):  # 6 h apart: the second breaks the 8-hour rule (SmPC 4.2)
        when = (dt.datetime.now(zone) - dt.timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")
        assert (
            pat.post(
                f"/patients/{ada}/applications",
                data={"csrf_token": _csrf(pat), "hand_units": "2", "when": when},
            ).status_code
            == 303
        )
    row = clin.get("/clinic").text.split(f'data-patient="{ada}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-flag="blocking"' in row
    page = clin.get(f"/clinic/patients/{ada}").text
    diary = page.split('id="diary-title"', 1)[1].split("</section>", 1)[0]
    assert "2 applications logged in the last 14 days." in diary
    assert "at least 8 h are required" in diary
    entry = diary.split('data-application="', 1)[1].split('"', 1)[0]
    ack = f"/clinic/patients/{ada}/applications/{entry}/acknowledge"
    r = clin.post(ack, data={"csrf_token": _csrf(clin), "reason": ""})
    assert r.status_code == 422 and "Give the reason" in r.text
    r = clin.post(ack, data={"csrf_token": _csrf(clin), "reason": "Told the patient to wait 8 hours."})
    assert r.status_code == 303
    row = clin.get("/clinic").text.split(f'data-patient="{ada}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-flag="blocking"' not in row
    assert "Told the patient to wait 8 hours." in clin.get(f"/clinic/patients/{ada}").text


def test_clinic_calculator_scores_a_drawing_with_the_core(clin: httpx.Client) -> None:
    from repigment.web.bodymap import AREA_NAMES, raster, rle

    # The whole front of the trunk (13 % BSA at every age) painted at 50 %: T-VASI 6.5, T-BSA 13, no face.
    trunk = AREA_NAMES.index("trunk_front")
    cells = [50 if a == trunk else 0 for a in raster("front")]
    drawing = json.dumps({"front": rle(cells)})
    r = clin.post(
        "/clinic/tools/bodymap", data={"csrf_token": _csrf(clin), "age_years": "34", "drawing": drawing}
    )
    assert r.status_code == 200
    expected = {"f_vasi": 0.0, "t_vasi": 6.5, "f_bsa_percent": 0.0, "t_bsa_percent": 13.0}
    for key, value in expected.items():
        shown = r.text.split(f'data-score="{key}">', 1)[1].split("<", 1)[0]
        assert float(shown) == pytest.approx(value, abs=0.005)
    r = clin.post(
        "/clinic/tools/bodymap", data={"csrf_token": _csrf(clin), "age_years": "abc", "drawing": drawing}
    )
    assert r.status_code == 422
    assert "Enter the age" in _field_error(r.text, "age_years")


def test_an_empty_map_is_saved_only_as_no_depigmentation_and_a_second_visit_in_a_week_is_flagged(
    clin: httpx.Client, clinic: Any
) -> None:
    """Issue 14: an empty map was saved as if assessed; two visits in one week were not noticed."""
    url = f"/clinic/patients/{clinic.patients[0]}/visits/new"
    data = {"csrf_token": _csrf(clin), "visited_on": dt.date.today().isoformat(), "drawing": ""}
    r = clin.post(url, data=data)
    assert r.status_code == 422
    assert "tick “Assessed: no depigmentation”" in _field_error(r.text, "drawing")
    assert 'name="week"' not in clin.get(url).text  # the week is computed, never typed
    r = clin.post(url, data=data | {"no_depigmentation": "1"})
    assert r.status_code == 303, r.text[:400]
    first = clin.get(r.headers["location"]).text
    assert 'id="visit-no-depigmentation"' in first and 'id="visit-same-week"' not in first
    r = clin.post(url, data=data | {"no_depigmentation": "1"})
    assert r.status_code == 303
    second = clin.get(r.headers["location"]).text
    assert 'id="visit-same-week"' in second and "the analyses keep the last one" in second


def test_week52_panel_names_the_assessment_and_compares_it_with_the_scores(
    clin: httpx.Client, clinic: Any
) -> None:
    """Issue 14: the decision names the latest assessment at or after week 52 and shows the typed
    repigmentation beside the scores', signed (Bo: 15 % typed at week 52; F-VASI 0.45 → 0.375 is +16.7 %,
    T-VASI 0.45 + 0.9 → 0.375 + 0.675 is +22.2 %: they agree)."""
    page = clin.get(f"/clinic/patients/{clinic.patients[1]}").text
    panel = page.split('id="decision-title"', 1)[1].split("</section>", 1)[0]
    assert 'id="decision-assessment"' in panel and "(week 52)" in panel
    assert "F-VASI +16.7 %, T-VASI +22.2 %" in panel and "repig-disagrees" not in panel, panel
    assert "% from baseline" in page and "-16.7 % from baseline" in page  # the change, signed
    from repigment.body import age_on

    bo = age_on(dt.date(1970, 6, 7), dt.date.today())[0]
    assert f"(age {bo})" in page  # completed years


def test_dose_calculator_flags_quantities_outside_the_label(clin: httpx.Client, clinic: Any) -> None:
    """Issue 14: the clinic's dose calculator gave "300 g per month, 3 tubes" without a word."""
    url = f"/clinic/patients/{clinic.patients[0]}"
    page = clin.get(url, params={"bsa_percent": "25", "applications_per_day": "2"}).text
    box = page.split('id="dose-findings"', 1)[1].split("</div>", 1)[0]
    assert "EU-4.2-max-bsa" in box and "EU-4.2-quantity" in box and "at most 10% may be treated" in box
    once = clin.get(url, params={"bsa_percent": "2", "applications_per_day": "1", "lang": "sv"}).text
    box = once.split('id="dose-findings"', 1)[1].split("</div>", 1)[0]
    assert "EU-4.2-twice-daily" in box and "doseringen är 2 per dag" in box
    ok = clin.get(url, params={"bsa_percent": "2", "applications_per_day": "2"}).text
    assert "Within the label: area, applications a day and cream a month." in ok


def test_a_drawing_that_claims_more_cells_than_the_view_is_refused_at_once(
    clin: httpx.Client, clinic: Any
) -> None:
    """Regression: a 100-byte drawing with a run of 5e7 cells took 0.8 s and 780 MB; one of 1e13 was a
    500 (MemoryError). Both are now a form error, on the calculator and on the visit form alike (the
    decoder's own bound before allocating is measured in tests/web/test_bodymap_model.py)."""
    for run in (50_000_000, 10_000_000_000_000, 10**5000):
        drawing = json.dumps({"front": [0, run]}) if run < 10**100 else '{"front": [0, ' + "9" * 5000 + "]}"
        r = clin.post(
            "/clinic/tools/bodymap", data={"csrf_token": _csrf(clin), "age_years": "34", "drawing": drawing}
        )
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
        assert "The drawing could not be read" in _field_error(r.text, "drawing")
        r = clin.post(
            f"/clinic/patients/{clinic.patients[0]}/visits/new",
            data={"csrf_token": _csrf(clin), "visited_on": "2026-11-30", "drawing": drawing},
        )
        assert r.status_code == 422 and "The drawing could not be read" in _field_error(r.text, "drawing")


def test_a_temporary_password_leads_to_the_change_form_and_nowhere_else(
    base_url: str, clinic: Any, api_server: Any
) -> None:
    import datetime as dt

    from sqlalchemy import select

    from repigment.services import accounts, security
    from repigment.store import Actor, User

    temporary = "handed over at the desk"
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.write(Actor("test-setup")) as db:
            u = db.scalars(select(User).where(User.username == clinic.clinician)).one()
            now = dt.datetime.now(dt.UTC)
            accounts.set_password(db, u, security.hash_password(temporary), now, temporary=True)
            db.commit()
    finally:
        s.dispose()
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as c:
        r = _login(c, {"username": clinic.clinician, "password": temporary, "next": "/clinic"})
        assert r.status_code == 303 and r.headers["location"] == "/password"
        r = c.get("/clinic")
        assert r.status_code == 303 and r.headers["location"] == "/password"
        form = c.get("/password")
        assert form.status_code == 200 and "set by an administrator" in form.text
        fields = {"csrf_token": _csrf(c), "current_password": temporary}
        r = c.post(
            "/password", data={**fields, "new_password": "qwerty123456", "new_password_again": "qwerty123456"}
        )
        assert r.status_code == 422 and "not a common password" in _field_error(r.text, "new_password")
        r = c.post(
            "/password", data={**fields, "new_password": "my own passphrase", "new_password_again": "other"}
        )
        assert (
            r.status_code == 422
            and _field_error(r.text, "new_password_again") == "The two new passwords differ."
        )
        wrong = {**fields, "current_password": "not it at all"}
        r = c.post(
            "/password",
            data={**wrong, "new_password": "my own passphrase", "new_password_again": "my own passphrase"},
        )
        assert (
            r.status_code == 422
            and _field_error(r.text, "current_password") == "The current password is wrong."
        )
        r = c.post(
            "/password",
            data={**fields, "new_password": "my own passphrase", "new_password_again": "my own passphrase"},
        )
        assert r.status_code == 200 and "Your password has been changed" in r.text
        assert c.get("/clinic").status_code == 200
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as c:
        r = _login(c, {"username": clinic.clinician, "password": "my own passphrase", "next": "/clinic"})
        assert r.status_code == 303 and r.headers["location"] == "/clinic"
