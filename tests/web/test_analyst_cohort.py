"""The analyst's cohort page (``/analyst/cohort``): the API's numbers, own clinic only, analysts only."""

from __future__ import annotations

import io
import math
import re
from typing import Any

import httpx
import pandas as pd
import pytest

from cohort_seed import course_visits
from repigment.services.analytics import WEEKS

A = "/api/v1/analytics/endpoints"
PAGE = "/analyst/cohort"


@pytest.fixture()
def clinics(http: httpx.Client, clinic_factory: Any) -> tuple[Any, Any]:
    """Clinic A: Ada (female) 100 → 25 at week 24 (VNS 5), 100 → 50 at week 12; Bo (male) 100 → 90 at
    week 24 (VNS 2). Clinic B: one patient 100 → 10 (VNS 4), who must never be counted for A."""
    a, b = clinic_factory(), clinic_factory()
    doc_a, doc_b = a.login(http, "clinician"), b.login(http, "clinician")
    course_visits(
        http,
        doc_a,
        a.patients[0],
        [("2026-01-05", 100, None), ("2026-03-30", 50, None), ("2026-06-22", 25, 5)],
    )
    course_visits(http, doc_a, a.patients[1], [("2026-01-05", 100, None), ("2026-06-22", 90, 2)])
    course_visits(http, doc_b, b.patients[0], [("2026-01-05", 100, None), ("2026-06-22", 10, 4)])
    return a, b


def _csv(http: httpx.Client, headers: dict[str, str], params: dict[str, str]) -> pd.DataFrame:
    r = http.get(PAGE + ".csv", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return pd.read_csv(io.StringIO(r.text), keep_default_na=False, na_values=[""])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"missing": "nri"},
        {"sex": "female"},
        {"age_group": "18-64", "started_from": "2026-01-01", "started_to": "2026-01-31"},
        {"missing": "mi"},
    ],
)
def test_page_numbers_equal_the_api(
    http: httpx.Client, clinics: tuple[Any, Any], params: dict[str, str]
) -> None:
    a, _ = clinics
    analyst = a.login(http, "analyst")
    page = http.get(PAGE, params=params, headers=analyst)
    assert page.status_code == 200, page.text
    rows = _csv(http, analyst, params)
    assert set(rows["endpoint"]) == {"F-VASI50", "F-VASI75", "F-VASI90", "T-VASI50", "T-VASI75", "VNS4-5"}
    assert sorted(set(rows["week"])) == list(WEEKS)
    compared = 0
    for row in rows.itertuples():
        api = http.get(A, params={"endpoint": row.endpoint, "week": row.week, **params}, headers=analyst)
        if api.status_code == 422:  # the page keeps the core's reason in the note
            assert math.isnan(row.n) and row.note == api.json()["errors"][0]["message"]
            continue
        assert api.status_code == 200, api.text
        arm = api.json()["arms"]["ruxolitinib"]
        assert (row.n, row.responders, row.rate) == (arm["n"], arm["responders"], arm["rate"])
        assert (row.wilson_low, row.wilson_high) == tuple(arm["wilson_ci"])
        assert (row.exact_low, row.exact_high) == tuple(arm["exact_ci"])
        compared += 1
    assert compared >= 5
    # The Parquet download is the same table.
    pq = http.get(PAGE + ".parquet", params=params, headers=analyst)
    assert pq.status_code == 200
    frame = pd.read_parquet(io.BytesIO(pq.content))
    assert frame["rate"].tolist() == pytest.approx(rows["rate"].tolist(), nan_ok=True, rel=0, abs=0)


def test_page_shows_the_hand_counted_rates(http: httpx.Client, clinics: tuple[Any, Any]) -> None:
    """F-VASI75 at week 24: Ada 100 → 25 (75 % better, a responder), Bo 100 → 90: 1/2 = 50.0 %;
    Wilson 95 % for 1/2 is 9.5–90.5 %, Clopper–Pearson 1.3–98.7 %. F-VASI50 at week 12: Ada only, 1/1."""
    a, _ = clinics
    analyst = a.login(http, "analyst")
    html = http.get(PAGE, params={"endpoint": "F-VASI50"}, headers=analyst).text
    row = re.search(r'<tr data-endpoint="F-VASI75">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = [
        re.sub(r"[ \t\n]+", " ", c).strip()
        for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1), re.S)
    ]
    assert cells[:5] == ["F-VASI75", "1/2", "50.0 %", "9.5 %–90.5 %", "1.3 %–98.7 %"]
    assert "TRuE-V1 29.8" in cells[5] and "TRuE-V2 30.9" in cells[5]
    assert "Patients: 2, analysed (with a week-0 visit): 2." in html  # clinic B's patient is not counted
    # Filters narrow the patients before anything is counted: Bo is male, both courses start in January.
    for params, patients in (
        ({"sex": "female"}, 1),
        ({"sex": "male", "age_group": "18-64"}, 1),
        ({"age_group": "<18"}, 0),
        ({"started_from": "2026-01-06"}, 0),
        ({"started_from": "2026-01-05", "started_to": "2026-01-05"}, 2),
    ):
        text = http.get(PAGE, params=params, headers=analyst).text
        assert f"Patients: {patients}, analysed (with a week-0 visit): {patients}." in text, params
    assert "<svg" in html and 'role="img"' in html and "<desc" in html
    assert "Ada" not in html and "Bo " not in html
    # Swedish: the same numbers with a decimal comma.
    sv = http.get(PAGE, headers={**analyst, "Accept-Language": "sv"}).text
    assert "50,0\u00a0%" in sv and "Kohort" in sv


def test_other_clinic_is_never_counted(http: httpx.Client, clinics: tuple[Any, Any]) -> None:
    a, b = clinics
    rows_a = _csv(http, a.login(http, "analyst"), {})
    rows_b = _csv(http, b.login(http, "analyst"), {})
    w24 = lambda rows, ep: rows[(rows["endpoint"] == ep) & (rows["week"] == 24)].iloc[0]  # noqa: E731
    assert (w24(rows_a, "VNS4-5").responders, w24(rows_a, "VNS4-5").n) == (1, 2)
    assert (w24(rows_b, "VNS4-5").responders, w24(rows_b, "VNS4-5").n) == (1, 1)
    assert (w24(rows_b, "F-VASI90").responders, w24(rows_b, "F-VASI90").n) == (1, 1)


def test_roles_and_bad_filters(http: httpx.Client, clinics: tuple[Any, Any]) -> None:
    a, _ = clinics
    for role in ("clinician", "patient"):
        for path in (PAGE, PAGE + ".csv", PAGE + ".parquet"):
            r = http.get(path, headers=a.login(http, role))
            assert r.status_code == 403 and r.headers["content-type"].startswith("text/html"), (role, path)
            assert "Your account may not open this page." in r.text
    anon = http.get(PAGE, follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")
    analyst = a.login(http, "analyst")
    for params, field in (
        ({"sex": "x"}, "sex"),
        ({"age_group": "40-50"}, "age_group"),
        ({"started_from": "2026-13-01"}, "started_from"),
        ({"started_from": "2026-03-01", "started_to": "2026-02-01"}, "started_to"),
        ({"missing": "lovely"}, "missing"),
        ({"endpoint": "F-VASI60"}, "endpoint"),
    ):
        r = http.get(PAGE, params=params, headers=analyst)
        assert r.status_code == 422, (params, r.text)
        assert f'id="err-{field}"' in r.text and f'aria-describedby="err-{field}"' in r.text
        assert r.text.count('class="field-error"') == 1
        assert http.get(PAGE + ".csv", params=params, headers=analyst).status_code == 422
