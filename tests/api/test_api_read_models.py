"""The read models over REST: ``GET /patients/{id}/state``, ``/timeline`` and ``/progress``.

Values are worked out here from the seeded dates (week of treatment = completed weeks since the start),
and compared with what the clinician's patient page shows for the same record; tenancy and roles as for
the record itself; analysts get study days, never dates or free text; each read is in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from repigment.store import AuditEntry, Store

TODAY = dt.date.today()
START = TODAY - dt.timedelta(weeks=26, days=3)  # week 26 today: the week-24 review is past
V0, V12, V24 = START, START + dt.timedelta(weeks=12), START + dt.timedelta(weeks=24, days=2)
ONSET = START + dt.timedelta(days=40)
REASON = "Agreed with Dr Wendeborg to continue"
TERM = "Burning under the Xylophone plaster"


def _seed(http: httpx.Client, doc: dict[str, str], patient_id: int) -> dict[str, Any]:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = http.post(f"/api/v1/patients/{patient_id}{path}", json=body, headers=doc)
        assert r.status_code in (200, 201), r.text
        out: dict[str, Any] = r.json()
        return out

    course = post(
        "/courses",
        {
            "ruleset": "opzelura-eu-2023",
            "started_on": START.isoformat(),
            "plan": {
                "areas": [{"region": "face", "hand_units": 1}],
                "sites": ["face"],
                "applications_per_day": 2,
            },
        },
    )
    visits = [
        post(
            "/visits",
            {
                "course_id": course["id"],
                "visited_on": on.isoformat(),
                "patches": [{"region": "face", "hand_units": 1, "depigmentation_percent": depig}],
                **({"repigmentation_percent": rep} if rep is not None else {}),
                **({"vns": vns} if vns is not None else {}),
            },
        )
        for on, depig, rep, vns in ((V0, 100, None, None), (V12, 75, 25, 3), (V24, 50, 50, 4))
    ]
    ae = post("/adverse-events", {"course_id": course["id"], "term": TERM, "onset_on": ONSET.isoformat()})
    post("/overrides", {"rule": "decision:week-24:continue", "reason": REASON, "course_id": course["id"]})
    return {"course": course, "visits": visits, "ae": ae}


def _get(http: httpx.Client, path: str, auth: dict[str, str]) -> httpx.Response:
    return http.get(f"/api/v1/patients{path}", headers=auth)


def test_state_timeline_and_progress_by_hand(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    pid = c.patients[0]
    doc = c.login(http, "clinician")
    seeded = _seed(http, doc, pid)
    v0, v12, v24 = (v["id"] for v in seeded["visits"])

    r = _get(http, f"/{pid}/state", doc)
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["deidentified"] is False and state["course_id"] == seeded["course"]["id"]
    s = state["state"]
    assert (s["week"], s["on"], s["started_on"]) == (26, TODAY.isoformat(), START.isoformat())
    # the week-24 review read the visit of week 24 (50 %); the week-52 decision is ahead
    assert s["review"] == {
        "name": "week-24 review",
        "week": 24,
        "status": "done",
        "on": (START + dt.timedelta(weeks=24)).isoformat(),
        "day": None,
        "assessment_on": V24.isoformat(),
        "assessment_day": None,
        "repigmentation_percent": 50.0,
    }
    assert (s["decision"]["status"], s["decision"]["on"]) == (
        "upcoming",
        (START + dt.timedelta(weeks=52)).isoformat(),
    )
    assert s["week52_decision"] is None and s["discontinue_below_percent"] == 25.0
    # the adverse event was reported today and is not assessed: new; the week-24 decision is recorded
    assert state["flags"] == [{"kind": "new_event", "severity": "warn"}]
    assert all({"rule", "severity", "message"} <= set(f) for f in state["findings"])

    r = _get(http, f"/{pid}/timeline", doc)
    assert r.status_code == 200, r.text
    events = r.json()["events"]
    assert [(e["kind"], e["on"]) for e in events] == [
        ("course_start", START.isoformat()),
        ("visit", V0.isoformat()),
        ("adverse_event", ONSET.isoformat()),
        ("visit", V12.isoformat()),
        ("milestone", (START + dt.timedelta(weeks=24)).isoformat()),
        ("visit", V24.isoformat()),
        ("decision", TODAY.isoformat()),
        ("milestone", (START + dt.timedelta(weeks=52)).isoformat()),
    ]
    assert [e["week"] for e in events if e["kind"] == "visit"] == [0, 12, 24]
    assert [e["visit_id"] for e in events if e["kind"] == "visit"] == [v0, v12, v24]
    (decision,) = [e for e in events if e["kind"] == "decision"]
    assert (decision["rule"], decision["reason"]) == ("decision:week-24:continue", REASON)
    (ae,) = [e for e in events if e["kind"] == "adverse_event"]
    assert (ae["adverse_event_id"], ae["term"], ae["serious"]) == (seeded["ae"]["id"], TERM, False)

    r = _get(http, f"/{pid}/progress", doc)
    assert r.status_code == 200, r.text
    prog = r.json()
    assert [(p["visit_id"], p["week"], p["vns"], p["vns_success"]) for p in prog["points"]] == [
        (v0, 0, None, None),
        (v12, 12, 3, False),
        (v24, 24, 4, True),
    ]
    # F-VASI = hand units × depigmentation: 1 × 1.00 at baseline, 1 × 0.50 now: −50 %
    assert [p["f_vasi"] for p in prog["points"]] == [1.0, 0.75, 0.5]
    assert (prog["baseline_visit_id"], prog["latest_visit_id"]) == (v0, v24)
    assert prog["change_percent"]["f_vasi"] == -50.0 and prog["mixed_variants"] is False


def _page(http: httpx.Client, c: Any, path: str) -> str:
    r = http.post("/api/v1/auth/session", json={"username": c.users["clinician"], "password": c.password})
    assert r.status_code == 200, r.text
    try:
        page = http.get(path)
        assert page.status_code == 200, page.text
        return page.text
    finally:
        http.cookies.clear()


def test_the_page_shows_the_same_values(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    pid = c.patients[0]
    doc = c.login(http, "clinician")
    _seed(http, doc, pid)
    state = _get(http, f"/{pid}/state", doc).json()
    events = _get(http, f"/{pid}/timeline", doc).json()["events"]
    html = _page(http, c, f"/clinic/patients/{pid}")
    flags_shown = re.findall(r'data-flag="([a-z_]+)"', html.split('id="findings-title"')[0])
    assert flags_shown == [f["kind"] for f in state["flags"]] == ["new_event"]
    timeline = html.split('id="timeline-title"', 1)[1].split("</ol>", 1)[0]
    assert re.findall(r'<time datetime="([0-9-]+)"', timeline) == [e["on"] for e in events]
    for f in state["findings"]:  # each finding of the course, with its source and rule
        assert f"({f['source']}, {f['rule']})" in html
    # the patient list shows the same flags for the patient
    listing = _page(http, c, "/clinic")
    row = listing.split(f"/clinic/patients/{pid}", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'data-flag="([a-z_]+)"', row) == ["new_event"]


def test_tenancy_roles_and_ownership(http: httpx.Client, clinic_factory: Any) -> None:
    a, b = clinic_factory(), clinic_factory()
    doc_a = a.login(http, "clinician")
    _seed(http, doc_a, a.patients[0])
    for path in ("state", "timeline", "progress"):
        own, other = f"/{a.patients[0]}/{path}", f"/{a.patients[1]}/{path}"
        assert _get(http, own, doc_a).status_code == 200
        assert _get(http, own, b.login(http, "clinician")).status_code == 404  # another clinic
        assert _get(http, own, a.login(http, "patient")).status_code == 200  # the patient's own
        assert _get(http, other, a.login(http, "patient")).status_code == 404  # another patient
        assert _get(http, f"/2147483000/{path}", doc_a).status_code == 404
        for role in ("safety_officer", "admin"):
            r = _get(http, own, a.login(http, role))
            assert r.status_code == 403 and r.json()["detail"] == f"the {role} role may not do this"
        assert http.get(f"/api/v1/patients{own}").status_code == 401


def test_analysts_get_study_days_and_no_free_text(http: httpx.Client, clinic_factory: Any) -> None:
    c = clinic_factory()
    pid = c.patients[0]
    _seed(http, c.login(http, "clinician"), pid)
    analyst = c.login(http, "analyst")
    bodies = {p: _get(http, f"/{pid}/{p}", analyst) for p in ("state", "timeline", "progress")}
    assert all(r.status_code == 200 for r in bodies.values())
    text = "\n".join(r.text for r in bodies.values())
    assert re.search(r"\d{4}-\d{2}-\d{2}", text) is None
    assert REASON not in text and TERM not in text
    state = bodies["state"].json()
    assert state["deidentified"] is True
    s = state["state"]
    assert (s["on"], s["day"], s["start_day"], s["week"]) == (None, (TODAY - START).days, 0, 26)
    assert (s["review"]["day"], s["review"]["assessment_day"]) == (168, (V24 - START).days)
    assert all(set(f) == {"rule", "severity", "source"} for f in state["findings"])
    events = bodies["timeline"].json()["events"]
    assert [e["day"] for e in events if e["kind"] == "visit"] == [0, 84, 170]
    assert all(e["on"] is None and e["reason"] is None and e["term"] is None for e in events)
    points = bodies["progress"].json()["points"]
    assert [(p["day"], p["week"]) for p in points] == [(0, 0), (84, 12), (170, 24)]


def test_reads_are_in_the_audit_trail(http: httpx.Client, clinic_factory: Any, api_server: Any) -> None:
    c = clinic_factory()
    pid = c.patients[0]
    doc, patient = c.login(http, "clinician"), c.login(http, "patient")
    store = Store(api_server.db_url, migrate=False)
    try:
        with store.read() as s:
            start = s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
        for path in ("state", "timeline", "progress"):
            assert _get(http, f"/{pid}/{path}", doc).status_code == 200
            assert _get(http, f"/{pid}/{path}", patient).status_code == 200  # own reads: not recorded
        with store.read() as s:
            rows = s.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > start, AuditEntry.action == "read", AuditEntry.row_id == str(pid))
                .order_by(AuditEntry.seq)
            ).all()
            got = [
                (e.actor, json.loads(e.new or "{}").get("path")) for e in rows if e.table_name == "patient"
            ]
    finally:
        store.dispose()
    assert got == [
        (c.users["clinician"], f"/api/v1/patients/{pid}/{p}") for p in ("state", "timeline", "progress")
    ]


def test_the_last_application_is_the_latest_entry_however_old(
    http: httpx.Client, clinic_factory: Any
) -> None:
    """The state's last application (and the contraception date after it) is the diary's latest entry, not
    the latest of the two weeks the attention flags look at."""
    c = clinic_factory()
    pid = c.patients[0]
    doc = c.login(http, "clinician")
    seeded = _seed(http, doc, pid)
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=20)
    body = {"id": str(uuid.uuid4()), "at": at.isoformat(), "hand_units": 1, "sites": ["face"]}
    r = http.post(
        f"/api/v1/patients/{pid}/applications",
        json={**body, "course_id": seeded["course"]["id"]},
        headers=doc,
    )
    assert r.status_code in (200, 201), r.text
    s = _get(http, f"/{pid}/state", doc).json()["state"]
    assert s["last_application_on"] == at.date().isoformat()
    assert s["contraception_until"] is not None and s["contraception_until"] > s["last_application_on"]
