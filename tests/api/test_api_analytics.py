"""``GET /api/v1/analytics/endpoints``: analysts of a clinic, their own clinic only, the CLI's JSON."""

from __future__ import annotations

import json
from typing import Any

import httpx

from cohort_seed import course_visits
from repigment.services.cohort import analyse_clinic, clinic_long_data, pseudonym_key
from repigment.store import Clinic, Store

A = "/api/v1/analytics/endpoints"


def test_analyst_reads_own_clinic_single_arm(
    http: httpx.Client, clinic_factory: Any, api_server: Any
) -> None:
    a, b = clinic_factory(), clinic_factory()
    doc_a, doc_b = a.login(http, "clinician"), b.login(http, "clinician")
    # Clinic A: week 24 VNS 5 and 2 → 1/2. Clinic B: one patient with VNS 4 → 1/1 (must not leak into A).
    course_visits(http, doc_a, a.patients[0], [("2026-01-05", 100, None), ("2026-06-22", 25, 5)])
    course_visits(http, doc_a, a.patients[1], [("2026-01-05", 100, None), ("2026-06-22", 90, 2)])
    course_visits(http, doc_b, b.patients[0], [("2026-01-05", 100, None), ("2026-06-22", 10, 4)])
    analyst = a.login(http, "analyst")
    r = http.get(A, params={"endpoint": "VNS4-5", "week": 24}, headers=analyst)
    assert r.status_code == 200, r.text
    res = r.json()
    arm = res["arms"]["ruxolitinib"]
    assert (arm["responders"], arm["n"]) == (1, 2) and res["single_arm"] is True
    assert res["clinic"]["clinic"] == a.name and res["clinic"]["patients_analysed"] == 2
    assert "Test" not in r.text and "given_name" not in r.text  # de-identified
    # The same JSON as the function behind `repigment trial --clinic NAME --json`.
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as db:
            clinic = db.get(Clinic, a.clinic_id)
            assert clinic is not None
            direct = analyse_clinic(clinic_long_data(db, clinic, pseudonym_key()), "VNS4-5", 24)
    finally:
        store.dispose()
    assert res == json.loads(json.dumps(direct))
    f75 = http.get(A, params={"endpoint": "F-VASI75", "week": 24}, headers=analyst).json()
    assert (f75["arms"]["ruxolitinib"]["responders"], f75["arms"]["ruxolitinib"]["n"]) == (1, 2)  # 1→0.25
    b_res = http.get(A, params={"endpoint": "VNS4-5", "week": 24}, headers=b.login(http, "analyst")).json()
    assert (b_res["arms"]["ruxolitinib"]["responders"], b_res["arms"]["ruxolitinib"]["n"]) == (1, 1)
    # Roles and bad options.
    assert http.get(A, headers=doc_a).status_code == 403
    assert http.get(A).status_code == 401
    for params, field in (
        ({"endpoint": "F-VASI60"}, "query.endpoint"),
        ({"week": 0}, "query.week"),
        ({"strata": "region"}, "query.strata"),
        ({"missing": "lovely"}, "query.missing"),
        ({"endpoint": "VNS4-5", "missing": "mi"}, "query.missing"),
        ({"week": 30, "window": 0}, "arm"),
        ({"sex": "x"}, "query.sex"),
        ({"age_group": "40-50"}, "query.age_group"),
        ({"started_from": "2026-02-30"}, "query.started_from"),
        ({"started_from": "2026-03-01", "started_to": "2026-02-01"}, "query.started_to"),
        ({"started_from": "2026-01-06"}, "clinic"),  # nobody's first course starts that late
    ):
        bad = http.get(A, params=params, headers=analyst)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.json()["errors"][0]["field"] == field, (params, bad.json())
    # Filters: Ada is female, Bo male; both are 18-64 at the start (2026-01-05).
    female = http.get(A, params={"endpoint": "VNS4-5", "sex": "female"}, headers=analyst).json()
    assert (female["arms"]["ruxolitinib"]["responders"], female["arms"]["ruxolitinib"]["n"]) == (1, 1)
    assert female["clinic"]["patients"] == 1
    male = http.get(A, params={"endpoint": "VNS4-5", "sex": "male", "age_group": "18-64"}, headers=analyst)
    assert (male.json()["arms"]["ruxolitinib"]["responders"], male.json()["arms"]["ruxolitinib"]["n"]) == (
        0,
        1,
    )
