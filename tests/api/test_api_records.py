"""The record resources over HTTP: every write runs the core, and each role sees what it may."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from repigment.scoring import score_assessment
from repigment.store import AuditEntry, Store, verify


def _ids(items: list[dict[str, Any]]) -> list[int]:
    return [i["id"] for i in items]


def test_patients_tenancy_and_deidentification(http: httpx.Client, clinic_factory: Any) -> None:
    a, b = clinic_factory(), clinic_factory()
    doc = a.login(http, "clinician")
    r = http.post(
        "/api/v1/patients",
        json={
            "given_name": "Clara",
            "family_name": "Nord",
            "birth_date": "2001-03-04",
            "sex": "female",
            "external_ref": "MRN-77",
            "pregnant": True,
        },
        headers=doc,
    )
    assert r.status_code == 201, r.text
    new = r.json()
    assert r.headers["Location"] == f"/api/v1/patients/{new['id']}"
    assert new["given_name"] == "Clara" and new["pregnant"] is True and new["clinic_id"] == a.clinic_id
    listed = http.get("/api/v1/patients", headers=doc).json()
    assert set(_ids(listed)) == {*a.patients, new["id"]}  # only clinic A's
    assert not set(_ids(listed)) & set(b.patients)
    # PATCH changes only what is sent.
    r = http.patch(f"/api/v1/patients/{new['id']}", json={"family_name": "Nordin"}, headers=doc)
    assert r.json()["family_name"] == "Nordin" and r.json()["given_name"] == "Clara"
    r = http.patch(f"/api/v1/patients/{new['id']}", json={"sex": None}, headers=doc)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.sex"
    # The analyst reads de-identified records: no names, reference or exact birth date.
    analyst = a.login(http, "analyst")
    seen = http.get(f"/api/v1/patients/{new['id']}", headers=analyst).json()
    assert seen["deidentified"] is True and seen["age_group"] == "18-64" and "birth_year" not in seen
    assert not {"given_name", "family_name", "external_ref", "birth_date"} & set(seen)
    assert "Clara" not in http.get("/api/v1/patients", headers=analyst).text
    # The patient sees only their own record.
    me = a.login(http, "patient")
    assert _ids(http.get("/api/v1/patients", headers=me).json()) == [a.patients[0]]
    assert http.get(f"/api/v1/patients/{a.patients[1]}", headers=me).status_code == 404


def test_course_plan_is_checked_against_the_label(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    doc = c.login(http, "clinician")
    pid = c.patients[0]
    ok = http.post(
        f"/api/v1/patients/{pid}/courses",
        json={
            "started_on": "2026-01-05",
            "plan": {"areas": [{"region": "face", "hand_units": 1.2}], "prescriber_experienced": True},
        },
        headers=doc,
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["ruleset"] == "opzelura-eu-2023" and ok.json()["verdict"] in ("ok", "warn")
    big = http.post(
        f"/api/v1/patients/{pid}/courses",
        json={
            "started_on": "2026-01-05",
            "plan": {"areas": [{"region": "trunk", "hand_units": 9}, {"region": "face", "hand_units": 2}]},
        },
        headers=doc,
    ).json()
    assert big["verdict"] == "block"  # 11% BSA: over the 10% limit (SmPC 4.2) — stored, with the finding
    assert "EU-4.2-max-bsa" in [f["rule"] for f in big["findings"]]
    assert all(f["source"] and f["message"] for f in big["findings"])
    r = http.post(
        f"/api/v1/patients/{pid}/courses", json={"started_on": "2026-01-05", "ruleset": "nope"}, headers=doc
    )
    assert (
        r.status_code == 422 and r.json()["errors"][0]["field"] == "ruleset" and "unknown ruleset" in r.text
    )
    r = http.patch(f"/api/v1/patients/{pid}/courses/{big['id']}", json={"status": "stopped"}, headers=doc)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.stopped_on"
    r = http.patch(
        f"/api/v1/patients/{pid}/courses/{big['id']}",
        json={"status": "stopped", "stopped_on": "2026-01-06", "stop_reason": "plan exceeded the BSA limit"},
        headers=doc,
    )
    assert r.status_code == 200 and r.json()["status"] == "stopped"


def test_visit_is_scored(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    doc = c.login(http, "clinician")
    pid = c.patients[0]  # born 1985-02-03: an adult
    patches = [
        {"region": "face", "hand_units": 1.2, "depigmentation_percent": 50},
        {"region": "hands", "hand_units": 3, "depigmentation_percent": 25},
    ]
    r = http.post(
        f"/api/v1/patients/{pid}/visits", json={"visited_on": "2026-01-05", "patches": patches}, headers=doc
    )
    assert r.status_code == 201, r.text
    v = r.json()
    # By hand: F-VASI = 1.2 × 0.5 = 0.6; T-VASI = 0.6 + 3 × 0.25 = 1.35; F-BSA 1.2; T-BSA 4.2.
    assert (
        v["f_vasi"] == 0.6 and v["t_vasi"] == 1.35 and v["f_bsa_percent"] == 1.2 and v["t_bsa_percent"] == 4.2
    )
    core = score_assessment({"age_years": v["age_years"], "patches": patches})
    assert v["scores"] == core.as_json() and v["body_model"] == core.body_model
    assert v["variant"] == {"face_includes_eyelids": False, "t_vasi_includes_head_neck": True}
    bad = http.post(
        f"/api/v1/patients/{pid}/visits",
        json={
            "visited_on": "2026-01-05",
            "patches": [{"region": "face", "hand_units": 40, "depigmentation_percent": 50}],
        },
        headers=doc,
    )
    assert bad.status_code == 422
    assert (
        bad.json()["errors"][0]["field"] == "body.patches[0].hand_units"
        and "capacity" in bad.json()["detail"]
    )


def test_course_visits_with_repigmentation_are_checked_against_the_course(
    http: httpx.Client, clinic_factory: Any
) -> None:
    c = clinic_factory()
    doc = c.login(http, "clinician")
    pid = c.patients[0]
    course = http.post(
        f"/api/v1/patients/{pid}/courses",
        json={"started_on": "2026-01-05", "plan": {"areas": [{"region": "face", "hand_units": 1}]}},
        headers=doc,
    ).json()
    patches = [{"region": "face", "hand_units": 1, "depigmentation_percent": 50}]

    def visit(on: str) -> httpx.Response:
        body = {"visited_on": on, "patches": patches, "course_id": course["id"], "repigmentation_percent": 30}
        return http.post(f"/api/v1/patients/{pid}/visits", json=body, headers=doc)

    r = visit("2026-06-22")
    assert r.status_code == 201, r.text
    assert r.json()["course_id"] == course["id"] and r.json()["ruleset"] == course["ruleset"]
    r = visit("2026-01-04")  # the day before the course started
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.visited_on"
    assert "before the course started (2026-01-05)" in r.text


def test_diary_entries_are_checked_flagged_and_idempotent(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    c = clinic_factory()
    me = c.login(http, "patient")
    pid = c.patients[0]
    base = f"/api/v1/patients/{pid}/applications"
    first = {
        "id": str(uuid.uuid4()),
        "at": "2026-03-02T07:30:00+01:00",
        "hand_units": 3,
        "sites": ["face", "hands"],
    }
    r = http.post(base, json=first, headers=me)
    assert r.status_code == 201, r.text
    assert r.json()["flagged"] is False and r.json()["verdict"] == "ok"
    # Two hours later: breaks the 8-hour interval (SmPC 4.2) — stored and flagged, not refused.
    second = {"id": str(uuid.uuid4()), "at": "2026-03-02T09:30:00+01:00", "hand_units": 3}
    r = http.post(base, json=second, headers=me)
    assert r.status_code == 201
    flagged = r.json()
    assert flagged["flagged"] is True and flagged["verdict"] == "block"
    assert [f["rule"] for f in flagged["findings"]] == ["EU-4.2-interval"]
    # A retry with the same id returns the stored entry and adds nothing.
    again = http.post(base, json=second, headers=me)
    assert again.status_code == 200 and again.json() == flagged
    r = http.post(base, json={**second, "hand_units": 4}, headers=me)
    assert r.status_code == 409 and "already used" in r.json()["detail"]
    entries = http.get(base, headers=me).json()
    assert [e["id"] for e in entries] == [first["id"], second["id"]]
    assert [e["id"] for e in http.get(base, params={"flagged": "true"}, headers=me).json()] == [second["id"]]
    # The audit trail names who wrote it; the chain verifies.
    store = Store(api_server.db_url, migrate=False)
    with store.read() as s:
        e = s.scalars(select(AuditEntry).where(AuditEntry.row_id == second["id"])).one()
        assert (
            e.actor == c.users["patient"]
            and e.action == "create"
            and json.loads(e.new or "")["flagged"] is True
        )
    with store.engine.connect() as conn:
        assert verify(conn).ok
    store.dispose()


def test_adverse_events(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    me, doc = c.login(http, "patient"), c.login(http, "clinician")
    pid = c.patients[0]
    base = f"/api/v1/patients/{pid}/adverse-events"
    r = http.post(
        base, json={"term": "Itching", "onset_on": "2026-02-01", "description": "on my cheek"}, headers=me
    )
    assert r.status_code == 201 and r.json()["reporter_role"] == "patient"
    ae = r.json()
    r = http.post(base, json={"term": "Itch", "onset_on": "2026-02-01", "causality": "related"}, headers=me)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.causality"
    r = http.post(base, json={"term": "Rash", "onset_on": "2026-02-01", "serious": True}, headers=doc)
    assert r.status_code == 422 and "seriousness criterion" in r.json()["detail"]
    r = http.patch(
        f"{base}/{ae['id']}", json={"causality": "possibly_related", "outcome": "recovered"}, headers=doc
    )
    assert r.status_code == 200 and r.json()["causality"] == "possibly_related"
    serious = http.post(
        base,
        json={
            "term": "Angioedema",
            "onset_on": "2026-02-03",
            "serious": True,
            "seriousness_criteria": ["hospitalisation"],
        },
        headers=doc,
    ).json()
    safety = c.login(http, "safety_officer")
    listed = http.get("/api/v1/adverse-events", headers=safety).json()
    assert _ids(listed) == [serious["id"], ae["id"]]
    assert _ids(http.get("/api/v1/adverse-events", params={"serious": "true"}, headers=safety).json()) == [
        serious["id"]
    ]
    assert (
        http.get(f"/api/v1/patients/{pid}", headers=safety).status_code == 403
    )  # events only, not the record
    analyst = c.login(http, "analyst")
    seen = http.get(f"{base}/{ae['id']}", headers=analyst).json()
    assert seen["deidentified"] is True and not {"description", "term", "onset_on"} & set(seen)


def test_impossible_patient_facts_are_refused(http: httpx.Client, clinic_factory: Any) -> None:
    """Issue 14: sex male with pregnant or childbearing_potential true was accepted."""
    c = clinic_factory()
    doc = c.login(http, "clinician")
    person = {"given_name": "Olle", "family_name": "Ek", "birth_date": "1990-01-02", "sex": "male"}
    for flag in ("pregnant", "childbearing_potential"):
        r = http.post("/api/v1/patients", json=person | {flag: True}, headers=doc)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == f"body.{flag}", r.text
        assert "male" in r.json()["errors"][0]["message"]
    r = http.post(
        "/api/v1/patients", json=person | {"sex": "female", "childbearing_potential": True}, headers=doc
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = http.patch(
        f"/api/v1/patients/{pid}", json={"sex": "male"}, headers=doc
    )  # contradicts the stored flag
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.childbearing_potential"
    r = http.patch(
        f"/api/v1/patients/{pid}", json={"sex": "male", "childbearing_potential": False}, headers=doc
    )
    assert r.status_code == 200 and r.json()["sex"] == "male"
