"""What an analyst can read holds no birth date, no date of a visit (or of anything else), no time,
time zone or free text, and no fractional age: a clinic is seeded with known values, then every
response an analyst can get from the API, the FHIR export and the web pages is searched for them."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import httpx
import pytest

from repigment.app import create_app, route_table
from repigment.body import age_on

BORN = dt.date(1987, 9, 14)
TZ = "America/Sao_Paulo"  # UTC-3 all year: the local days below are certain
START = dt.date(2025, 3, 3)
VISITS = {0: START, 12: dt.date(2025, 5, 26), 24: dt.date(2025, 8, 18)}
DIARY = [dt.datetime(2025, 3, 6, 7, 13, tzinfo=dt.timezone(dt.timedelta(hours=-3)))]
DIARY += [dt.datetime(2025, 3, 7, 21, 41, tzinfo=dt.timezone(dt.timedelta(hours=-3)))]
ONSET = dt.date(2025, 4, 9)
STOPPED = dt.date(2025, 9, 1)
DISPENSED, OPENED = dt.date(2025, 3, 4), dt.date(2025, 3, 5)
FREE_TEXT = {
    "given": "Quirina",
    "family": "Zebedeusson",
    "ref": "MRN-QZ-9911",
    "topical": "Grandmother's herbal salve",
    "instructions": "Pea-sized on the left cheek only",
    "notes": "Mentions her sister Yolanda",
    "area": "scar behind the left ear",
    "diary": "Forgot after the night shift",
    "term": "Burning under the Xylophone plaster",
    "description": "Seen at Ystad emergency unit",
    "reason": "Discussed with Dr Wendeborg",
    "stop": "Moving to Quebec in September",
}


class _NoStore:
    is_sqlite = True


def _seed(http: httpx.Client, doc: dict[str, str]) -> dict[str, Any]:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = http.post(path, json=body, headers=doc)
        assert r.status_code in (200, 201), r.text
        out: dict[str, Any] = r.json()
        return out

    p = post(
        "/api/v1/patients",
        {
            "given_name": FREE_TEXT["given"],
            "family_name": FREE_TEXT["family"],
            "birth_date": BORN.isoformat(),
            "sex": "female",
            "external_ref": FREE_TEXT["ref"],
            "timezone": TZ,
        },
    )
    base = f"/api/v1/patients/{p['id']}"
    course = post(
        f"{base}/courses",
        {
            "ruleset": "opzelura-eu-2023",
            "started_on": START.isoformat(),
            "plan": {
                "areas": [{"region": "face", "hand_units": 1}],
                "sites": ["face"],
                "applications_per_day": 2,
                "concomitant_topicals": [FREE_TEXT["topical"]],
            },
        },
    )
    rx = post(
        f"{base}/prescriptions",
        {
            "course_id": course["id"],
            "prescribed_on": START.isoformat(),
            "grams": 100,
            "dispensed_on": DISPENSED.isoformat(),
            "opened_on": OPENED.isoformat(),
            "instructions": FREE_TEXT["instructions"],
        },
    )
    visits = [
        post(
            f"{base}/visits",
            {
                "course_id": course["id"],
                "visited_on": on.isoformat(),
                "week": week,
                "patches": [
                    {
                        "region": "face",
                        "hand_units": 1,
                        "depigmentation_percent": {0: 75, 12: 50, 24: 25}[week],
                    },
                    {
                        "region": "hands",
                        "hand_units": 0.5,
                        "depigmentation_percent": 50,
                        "area": FREE_TEXT["area"],
                    },
                ],
                "notes": FREE_TEXT["notes"],
                "vns": 4 if week else None,
            },
        )
        for week, on in VISITS.items()
    ]
    entries = [
        post(
            f"{base}/applications",
            {
                "id": str(uuid.uuid4()),
                "at": at.isoformat(),
                "hand_units": 1,
                "sites": ["face"],
                "course_id": course["id"],
                "note": FREE_TEXT["diary"],
            },
        )
        for at in DIARY
    ]
    ae = post(
        f"{base}/adverse-events",
        {
            "course_id": course["id"],
            "term": FREE_TEXT["term"],
            "onset_on": ONSET.isoformat(),
            "description": FREE_TEXT["description"],
        },
    )
    post(
        f"{base}/overrides",
        {"rule": "opzelura-eu-2023-interval", "reason": FREE_TEXT["reason"], "course_id": course["id"]},
    )
    r = http.patch(
        f"{base}/courses/{course['id']}",
        json={"status": "stopped", "stopped_on": STOPPED.isoformat(), "stop_reason": FREE_TEXT["stop"]},
        headers=doc,
    )
    assert r.status_code == 200, r.text
    return {
        "patient_id": p["id"],
        "course_id": course["id"],
        "prescription_id": rx["id"],
        "visit_id": visits[-1]["id"],
        "application_id": entries[0]["id"],
        "event_id": ae["id"],
        "ae_id": ae["id"],
        "sha": "0" * 64,
        "code": "sv",
        "user_id": 1,  # the administrators' account pages: refused to an analyst
    }


def _paths(ids: dict[str, Any]) -> list[str]:
    app = create_app(store=_NoStore(), web=True)  # type: ignore[arg-type]
    out = []
    for method, template in route_table(app):
        if method == "GET":
            out.append(re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), template))
    return out


def _numbers(obj: Any) -> Iterator[float]:
    if isinstance(obj, bool):
        return
    if isinstance(obj, int | float):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)


def _date_forms(d: dt.date) -> list[str]:
    return [d.isoformat(), d.strftime("%Y%m%d"), d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y")]


def test_nothing_an_analyst_reads_gives_back_a_date_a_time_or_free_text(
    http: httpx.Client, clinic_factory: Any
) -> None:
    c = clinic_factory()
    ids = _seed(http, c.login(http, "clinician"))
    analyst = c.login(http, "analyst")
    # The analyst's session for the pages (the client keeps its cookie; the API calls send the token).
    session = http.post("/api/v1/auth/session", json={"username": c.users["analyst"], "password": c.password})
    assert session.status_code == 200 and http.cookies
    bodies: dict[str, str] = {}
    for path in _paths(ids):
        r = http.get(path, headers=analyst if path.startswith("/api/") else {})
        assert r.status_code < 500, f"{path}: {r.status_code}"
        bodies[path] = r.text
    for endpoint in ("F-VASI75", "VNS4-5"):
        r = http.get(
            "/api/v1/analytics/endpoints", params={"endpoint": endpoint, "week": 24}, headers=analyst
        )
        assert r.status_code in (200, 422), r.text
        bodies[f"analytics {endpoint}"] = r.text
    pid = ids["patient_id"]
    # What the analyst never gets.
    everything = "\n".join(bodies.values())
    for label, text in FREE_TEXT.items():
        assert text not in everything, f"free text ({label}) reached the analyst"
    assert TZ not in everything
    days = [BORN, START, *VISITS.values(), ONSET, STOPPED, DISPENSED, OPENED, *(d.date() for d in DIARY)]
    for d in days:
        for form in _date_forms(d):
            assert form not in everything, f"{form} reached the analyst"
    for at in DIARY:
        # A clock time of the entry (local or UTC, with or without :00 seconds), but not the digits of
        # the export's own moment (at 10:07:13 UTC a "now" stamp holds "07:13" after a colon).
        for clock in (at.strftime("%H:%M"), at.astimezone(dt.UTC).strftime("%H:%M")):
            leak = re.search(rf"(?<![\d:]){clock}(?::00)?(?![\d:])", everything)
            assert leak is None, f"the diary time {clock} reached the analyst"
    # No date or time of any kind, except the moment of the export itself.
    today = {dt.datetime.now(dt.UTC).date() + dt.timedelta(days=k) for k in (-1, 0, 1)}
    for path, body in bodies.items():
        for found in re.findall(r"\b(\d{4})-(\d{2})-(\d{2})", body):
            day = dt.date(*map(int, found))
            assert day in today, f"{path}: a date {day} reached the analyst"
    # No fractional age (nor the birth year) in any number: an exact age and a day give the birth date.
    exact = [age_on(BORN, d)[1] for d in days + sorted(today)]
    for path, body in bodies.items():
        try:
            data = json.loads(body)
        except ValueError:
            continue
        for x in _numbers(data):
            assert x != BORN.year, f"{path}: the birth year reached the analyst"
            for a in exact:
                assert abs(Fraction(x) - a) > Fraction(1, 10**6) or a.denominator == 1, f"{path}: age {x}"

    # What the analyst does get: the clinical content, as days since the course start.
    fhir = json.loads(bodies[f"/api/v1/patients/{pid}/fhir"])
    assert fhir["resourceType"] == "Bundle" and len(fhir["entry"]) > 10
    visits = json.loads(bodies[f"/api/v1/patients/{pid}/visits"])
    assert [(v["day"], v["week"], v["age_years"]) for v in visits] == [
        (0, 0, 37),
        (84, 12, 37),
        (168, 24, 37),
    ]
    diary = json.loads(bodies[f"/api/v1/patients/{pid}/applications"])
    assert [e["day"] for e in diary] == [3, 4]  # local days: 6 and 7 March
    patient = json.loads(bodies[f"/api/v1/patients/{pid}"])
    assert (patient["age_years"], patient["age_group"]) == (37, "18-64")
    (course,) = json.loads(bodies[f"/api/v1/patients/{pid}/courses"])
    assert (course["start_day"], course["stopped_day"]) == (0, 182)
    (event,) = json.loads(bodies[f"/api/v1/patients/{pid}/adverse-events"])
    assert event["onset_day"] == 37


def test_analysts_cannot_ask_about_times(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    ids = _seed(http, c.login(http, "clinician"))
    base = f"/api/v1/patients/{ids['patient_id']}/applications"
    analyst = c.login(http, "analyst")
    for name in ("since", "until"):
        r = http.get(base, params={name: "2025-03-07T00:00:00Z"}, headers=analyst)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == f"query.{name}"
    doc = c.login(http, "clinician")  # the clinic itself still filters by time
    assert len(http.get(base, params={"since": "2025-03-07T00:00:00Z"}, headers=doc).json()) == 1


@pytest.mark.parametrize("role", ["clinician"])
def test_the_clinic_still_sees_the_record_in_full(http: httpx.Client, clinic_factory: Any, role: str) -> None:
    c = clinic_factory()
    ids = _seed(http, c.login(http, role))
    doc = c.login(http, role)
    visits = http.get(f"/api/v1/patients/{ids['patient_id']}/visits", headers=doc).json()
    assert [v["visited_on"] for v in visits] == [d.isoformat() for d in VISITS.values()]
    assert visits[0]["notes"] == FREE_TEXT["notes"] and isinstance(visits[0]["age_years"], float)
    (event,) = http.get(f"/api/v1/patients/{ids['patient_id']}/adverse-events", headers=doc).json()
    assert event["term"] == FREE_TEXT["term"] and event["onset_on"] == ONSET.isoformat()
