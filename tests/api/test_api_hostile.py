"""Malformed, oversized and hostile input gets a 4xx naming the field and the reason; never a 5xx."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest


@pytest.fixture
def ctx(http: httpx.Client, clinic_factory: Any) -> tuple[dict[str, str], int]:
    c = clinic_factory()
    return c.login(http, "clinician"), c.patients[0]


PATIENT = {"given_name": "A", "family_name": "B", "birth_date": "1990-01-01", "sex": "male"}


def _raw(
    http: httpx.Client, method: str, url: str, text: str | bytes, headers: dict[str, str]
) -> httpx.Response:
    return http.request(method, url, content=text, headers={**headers, "content-type": "application/json"})


def test_injection_strings_are_data(http: httpx.Client, ctx: tuple[dict[str, str], int]) -> None:
    auth, _ = ctx
    sql = "Robert'); DROP TABLE patient;--"
    html = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    r = http.post("/api/v1/patients", json={**PATIENT, "given_name": sql, "family_name": html}, headers=auth)
    assert r.status_code == 201
    assert (
        r.headers["content-type"] == "application/json" and r.headers["x-content-type-options"] == "nosniff"
    )
    got = http.get(f"/api/v1/patients/{r.json()['id']}", headers=auth).json()
    assert got["given_name"] == sql and got["family_name"] == html  # stored and returned verbatim, as JSON
    assert http.get("/api/v1/patients", headers=auth).status_code == 200  # the table is still there
    r = http.get("/api/v1/patients", params={"limit": "1; DROP TABLE patient"}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({**PATIENT, "given_name": "a\x00b"}, "body.given_name", "NUL"),
        ({**PATIENT, "birth_date": "2026-02-30"}, "body.birth_date", "date"),
        ({**PATIENT, "birth_date": "1850-01-01"}, "body.birth_date", "between 1900-01-01"),
        ({**PATIENT, "birth_date": "2999-01-01"}, "body.birth_date", "between"),
        ({**PATIENT, "sex": "robot"}, "body.sex", "'female' or 'male'"),
        ({**PATIENT, "timezone": "../../etc/passwd"}, "body.timezone", "unknown time zone"),
        ({**PATIENT, "given_name": "x" * 201}, "body.given_name", "at most 200"),
        ({**PATIENT, "shoe_size": 43}, "body.shoe_size", "unknown field"),
        ({**PATIENT, "pregnant": "maybe"}, "body.pregnant", "boolean"),
        ({k: v for k, v in PATIENT.items() if k != "sex"}, "body.sex", "Field required"),
    ],
)
def test_bad_patient_fields(
    http: httpx.Client, ctx: tuple[dict[str, str], int], body: Any, field: str, words: str
) -> None:
    r = http.post("/api/v1/patients", json=body, headers=ctx[0])
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors[0]["field"] == field, errors
    assert words in errors[0]["message"] and words in r.json()["detail"]


def _entry(**kw: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "at": "2026-03-01T08:00:00+01:00", "hand_units": 2} | kw


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (_entry(hand_units=1e308), "body.hand_units", "less than or equal to 100"),
        (_entry(hand_units=-1), "body.hand_units", "greater than 0"),
        (_entry(hand_units="lots"), "body.hand_units", "number"),
        (_entry(grams=10**40), "body.grams", "less than or equal to 1000"),
        (_entry(at="2026-03-01T08:00:00"), "body.at", "timezone"),
        (_entry(at="9999-12-31T23:00:00+01:00"), "body.at", "between"),
        (_entry(at="yesterday"), "body.at", "datetime"),
        (_entry(id="1 OR 1=1"), "body.id", "UUID"),
        (_entry(sites=["eyes", "<b>"]), "body.sites[1]", "Input should be"),
        (_entry(course_id=2**40), "body.course_id", "less than or equal to"),
        (_entry(note="\ud800"), "body.note", "unicode"),
    ],
)
def test_bad_diary_fields(
    http: httpx.Client, ctx: tuple[dict[str, str], int], body: Any, field: str, words: str
) -> None:
    auth, pid = ctx
    text = json.dumps(body)  # json.dumps writes "\ud800" as an escape: a lone surrogate on the wire
    r = _raw(http, "POST", f"/api/v1/patients/{pid}/applications", text, auth)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field and words in r.json()["errors"][0]["message"], r.json()


def test_malformed_oversized_and_odd_requests(http: httpx.Client, ctx: tuple[dict[str, str], int]) -> None:
    auth, pid = ctx
    url = f"/api/v1/patients/{pid}/applications"
    r = _raw(http, "POST", url, '{"id": "x", "at": ', auth)
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = _raw(http, "POST", url, "[1, 2, 3]", auth)
    assert r.status_code == 422
    r = _raw(http, "POST", url, b"\xff\xfe not utf-8", auth)
    assert r.status_code == 422
    r = _raw(http, "POST", url, json.dumps({"note": "x" * (2 << 20)}), auth)
    assert r.status_code == 413 and "over" in r.json()["detail"]
    r = http.post(url, content=b"a=1", headers={**auth, "content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422
    r = http.get("/api/v1/patients/99999999999999999999999", headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path.patient_id"
    r = http.get("/api/v1/patients/-1", headers=auth)
    assert r.status_code == 422
    r = http.get(f"/api/v1/patients/{pid}/applications/" + "%27%20OR%201=1--", headers=auth)
    assert r.status_code == 404
    visits = [{"region": "face", "hand_units": 0.01, "depigmentation_percent": 10}] * 501
    r = http.post(
        f"/api/v1/patients/{pid}/visits", json={"visited_on": "2026-01-01", "patches": visits}, headers=auth
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.patches"
    r = http.post(
        f"/api/v1/patients/{pid}/visits",
        json={"visited_on": "2026-01-01", "patches": [[[[[]]]]]},
        headers=auth,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.patches[0]"


def test_times_at_the_ends_of_the_calendar_are_refused_not_overflowed(
    http: httpx.Client, clinic_factory: Any
) -> None:
    """Regression: year 1 east of UTC and year 9999 west of it overflowed while being converted to UTC
    (OverflowError, a 500) in a diary entry's ``at`` and the list's ``since`` and ``until``."""
    c = clinic_factory()
    auth, pid = c.login(http, "patient"), c.patients[0]
    for at in ("0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01T00:00:00Z"):
        body = {"id": str(uuid.uuid4()), "at": at, "hand_units": 1}
        r = http.post(f"/api/v1/patients/{pid}/applications", json=body, headers=auth)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.at", r.text
        for param in ("since", "until"):
            r = http.get(f"/api/v1/patients/{pid}/applications", params={param: at}, headers=auth)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == f"query.{param}", r.text


def test_json_nested_a_thousand_deep_is_a_422(http: httpx.Client, clinic_factory: Any) -> None:
    """Regression: on the diary route (its fast path parses the body itself) the decoder's RecursionError
    was a 500; other routes answer the same way."""
    c = clinic_factory()
    pid = c.patients[0]
    entry = '{"id": "%s", "at": "2026-11-30T08:00:00+01:00", "hand_units": 1, "sites": %s}'
    for role, path, text in (
        ("patient", f"/api/v1/patients/{pid}/applications", entry % (uuid.uuid4(), "[" * 1000 + "]" * 1000)),
        ("patient", f"/api/v1/patients/{pid}/applications", "[" * 100_000 + "]" * 100_000),
        ("clinician", f"/api/v1/patients/{pid}/courses", '{"a":' * 5000 + "1" + "}" * 5000),
    ):
        r = _raw(http, "POST", path, text, c.login(http, role))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body", r.text


def test_names_of_invisible_characters_only_are_refused(http: httpx.Client, clinic_factory: Any) -> None:
    """Regression: a name of zero-width or bidirectional control characters only was accepted (a patient
    listed with a blank name, or one that reverses the text after it)."""
    c = clinic_factory()
    auth = c.login(http, "clinician")
    for invisible in ("\u200b", "\u200b\u200c\u200d\ufeff", "\u202e\u2066\u2069", "\u200e \u200f", "\u3000"):
        r = http.post("/api/v1/patients", json={**PATIENT, "given_name": invisible}, headers=auth)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.given_name", r.text
        assert "visible character" in r.json()["detail"]
    r = http.post("/api/v1/patients", json={**PATIENT, "family_name": "\u202eAnna"}, headers=auth)
    assert r.status_code == 201  # a visible name with marks around it is the clinician's to judge
    body = {"username": f"n-{uuid.uuid4().hex[:8]}", "password": "a sound passphrase", "role": "analyst"}
    r = http.post(
        "/api/v1/users", json={**body, "display_name": "\u2060\u2061"}, headers=c.login(http, "admin")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.display_name"
