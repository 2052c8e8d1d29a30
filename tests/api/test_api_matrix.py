"""The authorisation matrix: every route of the app × every role × own/other clinic × own/other patient.

Routes come from the app's route table (``route_table``), so a new route without an entry in ``EXPECTED``
fails ``test_every_route_has_an_expectation``. Expected outcomes are written out here, independently of
the code under test: anonymous → 401; a role not allowed → 403 (whatever the target); an allowed role
→ success on its own clinic's records, 404 on another clinic's (and, for the patient role, on another
patient's), never revealing whether the record exists.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from repigment.app import create_app, route_table
from repigment.store import ROLES

PUBLIC = "public"
ANY_USER = "any-user"
READ = frozenset({"clinician", "patient", "analyst"})
CLINICIAN = frozenset({"clinician"})
DIARY = frozenset({"clinician", "patient"})
AE_READ = frozenset({"clinician", "patient", "analyst", "safety_officer"})
P = "/api/v1/patients/{patient_id}"

# (method, path) -> who may call it. Patient-scoped paths add tenancy and ownership on top.
EXPECTED: dict[tuple[str, str], Any] = {
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/api/v1/health"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/session"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): ANY_USER,
    ("GET", "/api/v1/me"): ANY_USER,
    ("POST", "/api/v1/auth/password"): ANY_USER,
    ("POST", "/api/v1/auth/revoke-others"): ANY_USER,
    ("GET", "/api/v1/users"): frozenset({"admin"}),
    ("POST", "/api/v1/users"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{user_id}/deactivate"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{user_id}/reactivate"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{user_id}/password-reset"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{user_id}/revoke-sessions"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{user_id}/role"): frozenset({"admin"}),
    ("GET", "/api/v1/clinic/settings"): frozenset({"admin"}),
    ("PUT", "/api/v1/clinic/settings"): frozenset({"admin"}),
    ("GET", "/api/v1/patients"): READ,
    ("POST", "/api/v1/patients"): CLINICIAN,
    ("GET", P): READ,
    ("PATCH", P): CLINICIAN,
    ("GET", P + "/courses"): READ,
    ("POST", P + "/courses"): CLINICIAN,
    ("GET", P + "/courses/{course_id}"): READ,
    ("PATCH", P + "/courses/{course_id}"): CLINICIAN,
    ("POST", P + "/courses/{course_id}/decision"): CLINICIAN,
    ("GET", P + "/prescriptions"): READ,
    ("POST", P + "/prescriptions"): CLINICIAN,
    ("GET", P + "/prescriptions/{prescription_id}"): READ,
    ("PATCH", P + "/prescriptions/{prescription_id}"): CLINICIAN,
    ("GET", P + "/visits"): READ,
    ("POST", P + "/visits"): CLINICIAN,
    ("GET", P + "/visits/{visit_id}"): READ,
    ("GET", P + "/applications"): READ,
    ("POST", P + "/applications"): DIARY,
    ("GET", P + "/applications/{application_id}"): READ,
    ("GET", P + "/adverse-events"): AE_READ,
    ("POST", P + "/adverse-events"): DIARY,
    ("GET", P + "/adverse-events/{event_id}"): AE_READ,
    ("PATCH", P + "/adverse-events/{event_id}"): CLINICIAN,
    ("GET", P + "/overrides"): READ,
    ("POST", P + "/overrides"): CLINICIAN,
    # read models: course state with flags and findings, timeline, progress (as the record)
    ("GET", P + "/state"): READ,
    ("GET", P + "/timeline"): READ,
    ("GET", P + "/progress"): READ,
    ("GET", "/api/v1/adverse-events"): frozenset({"clinician", "analyst", "safety_officer"}),
    # interop (FHIR export, ICSR): the same record rules
    ("GET", P + "/fhir"): READ,
    ("GET", "/api/v1/adverse-events/{ae_id}/icsr"): frozenset({"clinician", "safety_officer"}),
    # outcomes analytics over the caller's own clinic (de-identified)
    ("GET", "/api/v1/analytics/endpoints"): frozenset({"analyst"}),
}
# Success for these is "not an access refusal": an incomplete case may be 422 by design.
OK_STATUSES: dict[tuple[str, str], set[int]] = {
    ("GET", "/api/v1/adverse-events/{ae_id}/icsr"): {200, 422},
    # the body's current password is wrong on purpose (the callers' own must not change): 403 from the
    # route once the caller is authenticated, never 401
    ("POST", "/api/v1/auth/password"): {403},
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    # the matrix clinic has baseline visits only: under non-responder imputation that is a valid analysis
    ("GET", "/api/v1/analytics/endpoints"): {"endpoint": "F-VASI75", "week": "24", "missing": "nri"},
    ("GET", "/api/v1/adverse-events/{ae_id}/icsr"): {
        "meddra_code": "10000496",
        "meddra_version": "27.0",
        "country": "SE",
    },
}
ITEM_PARAMS = {
    "course_id": "course",
    "prescription_id": "prescription",
    "visit_id": "visit",
    "application_id": "application",
    "event_id": "ae",
    "ae_id": "ae",
    "user_id": "user",  # a spare account of the target's clinic (A1 and A2: two of clinic A)
}


def _body(method: str, path: str) -> dict[str, Any] | None:
    u = uuid.uuid4()
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/auth/token"): {},  # filled with credentials below
        ("POST", "/api/v1/auth/session"): {},
        ("POST", "/api/v1/users"): {
            "username": f"u-{u.hex[:12]}",
            "password": "long enough pw",
            "role": "analyst",
        },
        ("POST", "/api/v1/patients"): {
            "given_name": "New",
            "family_name": "Patient",
            "birth_date": "1990-01-01",
            "sex": "female",
        },
        ("POST", "/api/v1/users/{user_id}/role"): {"role": "analyst"},
        ("PUT", "/api/v1/clinic/settings"): {"timezone": "Europe/Stockholm", "default_language": "sv"},
        ("PATCH", P): {"external_ref": f"R-{u.hex[:6]}"},
        ("POST", P + "/courses"): {
            "started_on": "2026-01-05",
            "plan": {"areas": [{"region": "face", "hand_units": 1}]},
        },
        ("PATCH", P + "/courses/{course_id}"): {"status": "active"},
        ("POST", P + "/courses/{course_id}/decision"): {"milestone": "week-24", "choice": "continue"},
        ("POST", P + "/prescriptions"): {"prescribed_on": "2026-01-05", "grams": 100},
        ("PATCH", P + "/prescriptions/{prescription_id}"): {"instructions": "twice daily"},
        ("POST", P + "/visits"): {
            "visited_on": "2026-01-05",
            "patches": [{"region": "face", "hand_units": 1, "depigmentation_percent": 50}],
        },
        ("POST", P + "/applications"): {"id": str(u), "at": "2026-02-01T08:00:00+01:00", "hand_units": 2},
        ("POST", P + "/adverse-events"): {"term": "Application site pruritus", "onset_on": "2026-01-20"},
        ("PATCH", P + "/adverse-events/{event_id}"): {"outcome": "recovering"},
        ("POST", P + "/overrides"): {"rule": "EU-4.2-interval", "reason": "checked with the patient"},
        ("POST", "/api/v1/auth/password"): {
            "current_password": "not the password",
            "new_password": "a brand new passphrase",
        },
    }
    if method in ("POST", "PATCH", "PUT"):
        return bodies.get((method, path), {})
    return None


@dataclass
class World:
    clinics: dict[str, Any]  # "A", "B" -> Seeded
    tokens: dict[str, dict[str, str]]  # role of clinic A -> headers
    items: dict[str, dict[str, Any]]  # "A1", "A2", "B1" -> {"patient": id, "course": id, ...}


def _make_items(http: httpx.Client, headers: dict[str, str], patient_id: int) -> dict[str, Any]:
    base = f"/api/v1/patients/{patient_id}"

    def post(path: str, body: dict[str, Any]) -> Any:
        r = http.post(base + path, json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    course = post(
        "/courses", {"started_on": "2026-01-05", "plan": {"areas": [{"region": "face", "hand_units": 1}]}}
    )
    return {
        "patient": patient_id,
        "course": course,
        "prescription": post(
            "/prescriptions", {"prescribed_on": "2026-01-05", "grams": 100, "course_id": course}
        ),
        "visit": post(
            "/visits",
            {
                "visited_on": "2026-01-05",
                "patches": [{"region": "face", "hand_units": 1, "depigmentation_percent": 90}],
            },
        ),
        "application": post(
            "/applications", {"id": str(uuid.uuid4()), "at": "2026-01-06T08:00:00+01:00", "hand_units": 1}
        ),
        "ae": post("/adverse-events", {"term": "Application site acne", "onset_on": "2026-01-10"}),
    }


def _spare_account(store: Any, clinic_id: int) -> int:
    from repigment.store import Actor, User

    with store.write(Actor("test-setup")) as s:
        u = User(
            clinic_id=clinic_id, username=f"spare-{uuid.uuid4().hex[:10]}", password_hash="-", role="analyst"
        )
        s.add(u)
        s.commit()
        return u.id


@pytest.fixture(scope="module")
def world(api_server: Any, harness: Any) -> World:
    from repigment.store import Store

    seed_clinic = harness.seed_clinic
    store = Store(api_server.db_url, migrate=False)
    a, b = seed_clinic(store, "matrix-a"), seed_clinic(store, "matrix-b")
    spare = {"A1": _spare_account(store, a.clinic_id), "A2": _spare_account(store, a.clinic_id)}
    spare["B1"] = _spare_account(store, b.clinic_id)
    store.dispose()
    with httpx.Client(base_url=api_server.base_url, timeout=30) as http:
        tokens = {role: a.login(http, role) for role in ROLES}
        b_clinician = b.login(http, "clinician")
        items = {
            "A1": _make_items(http, tokens["clinician"], a.patients[0]),
            "A2": _make_items(http, tokens["clinician"], a.patients[1]),
            "B1": _make_items(http, b_clinician, b.patients[0]),
        }
    for key, uid in spare.items():
        items[key]["user"] = uid
    return World({"A": a, "B": b}, tokens, items)


def test_every_route_has_an_expectation() -> None:
    app = create_app(store=_NoStore(), web=True)  # type: ignore[arg-type]
    api_routes = [(m, p) for m, p in route_table(app) if p.startswith("/api/")]
    missing = [f"{m} {p}" for m, p in api_routes if (m, p) not in EXPECTED]
    assert not missing, f"routes without an authorisation expectation (add them to EXPECTED): {missing}"
    assert len(api_routes) >= 30


class _NoStore:
    """Enough of a store for building the app's route table without a database."""

    is_sqlite = True


@dataclass(frozen=True)
class Case:
    method: str
    template: str
    caller: str  # a role of clinic A, or "anonymous"
    # "A1" own patient, "A2" other patient of the clinic, "B1" other clinic, "A1/B1" item mismatch, "-"
    target: str

    def __str__(self) -> str:
        return f"{self.caller} {self.method} {self.template} [{self.target}]"


def _cases(routes: list[tuple[str, str]]) -> list[Case]:
    out = []
    for (method, path), caller in itertools.product(routes, ["anonymous", *ROLES]):
        params = [p for p in ("patient_id", *ITEM_PARAMS) if "{" + p + "}" in path]
        if not params:
            targets = ["-"]
        elif params == ["patient_id"] or "patient_id" not in params:
            targets = ["A1", "A2", "B1"]
        else:
            targets = ["A1", "A2", "B1", "A1/B1"]
        out += [Case(method, path, caller, t) for t in targets]
    return out


def _expected(case: Case) -> str:
    """'ok', or the status code as text."""
    rule = EXPECTED[(case.method, case.template)]
    if rule == PUBLIC:
        return "ok"
    if case.caller == "anonymous":
        return "401"
    if rule == ANY_USER:
        return "ok"
    if case.caller not in rule:
        return "403"
    if case.target in ("B1", "A1/B1"):
        return "404"
    patient_scoped = "{patient_id}" in case.template
    if case.target == "A2" and case.caller == "patient" and patient_scoped:
        return "404"
    return "ok"


def _url(case: Case, world: World) -> str:
    path = case.template
    owner, item_owner = (
        (case.target.split("/") + [case.target])[:2] if "/" in case.target else (case.target,) * 2
    )
    if case.target == "-":
        return path
    path = path.replace("{patient_id}", str(world.items[owner]["patient"]))
    for param, key in ITEM_PARAMS.items():
        path = path.replace("{" + param + "}", str(world.items[item_owner][key]))
    return path


def _run(case: Case, world: World, http: httpx.Client) -> int:
    key = (case.method, case.template)
    headers = dict(world.tokens.get(case.caller, {}))
    body = _body(*key)
    if key in (("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/session")):
        a = world.clinics["A"]
        body = {"username": a.users["clinician"], "password": a.password}
    if key == ("POST", "/api/v1/auth/logout") and case.caller != "anonymous":
        headers = world.clinics["A"].login(http, case.caller)  # a fresh token: logging out revokes it
    r = http.request(case.method, _url(case, world), json=body, headers=headers, params=QUERIES.get(key))
    http.cookies.clear()
    return r.status_code


def test_authorisation_matrix(world: World, api_server: Any) -> None:
    app = create_app(store=_NoStore(), web=True)  # type: ignore[arg-type]
    routes = [(m, p) for m, p in route_table(app) if p.startswith("/api/") and (m, p) in EXPECTED]
    cases = _cases(routes)
    failures = []
    with httpx.Client(base_url=api_server.base_url, timeout=30) as http:
        for case in cases:
            status = _run(case, world, http)
            want = _expected(case)
            ok_set = OK_STATUSES.get((case.method, case.template), set(range(200, 300)))
            got = "ok" if status in ok_set else str(status)
            if got != want:
                failures.append(f"{case}: expected {want}, got {status}")
    assert not failures, f"{len(failures)} of {len(cases)} cases differ:\n" + "\n".join(failures[:60])
    assert len(cases) > 500
