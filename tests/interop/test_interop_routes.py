"""FHIR and ICSR export through a running server (SQLite and PostgreSQL), with the record's access rules,
and the CLI (export, import into another clinic, ICSR) against the same database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class
from lxml import etree
from sqlalchemy import select
from typer.testing import CliRunner

from repigment.cli import app as cli_app
from repigment.interop.fhir import SID_ASSESSMENT
from repigment.safety import check_message, parse_icsr
from repigment.store import AuditEntry, Store

# The shared fixtures (tests/conftest.py) give these: a seeded clinic and a running server.
Seeded = Any
Server = Any

import e2br3  # noqa: E402  (the independent reader, a locked test dependency)

VISITS = [
    (
        "2026-01-12",
        0,
        [
            {"region": "face", "hand_units": 1.2, "depigmentation_percent": 100},
            {"region": "hands", "hand_units": 2, "depigmentation_percent": 75},
        ],
    ),
    ("2026-06-29", 24, [{"region": "face", "hand_units": 1.2, "depigmentation_percent": 25}]),
]


def _fill(http: httpx.Client, clinic: Seeded, pid: int) -> dict[str, Any]:
    """A record made through the API: prescription, two visits, two diary entries, two adverse events."""
    h = clinic.login(http, "clinician")
    r = http.post(
        f"/api/v1/patients/{pid}/prescriptions",
        json={
            "prescribed_on": "2026-01-12",
            "grams": 100,
            "dispensed_on": "2026-01-13",
            "instructions": "Twice daily",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    for day, week, patches in VISITS:
        r = http.post(
            f"/api/v1/patients/{pid}/visits",
            # VNS at the follow-up visit only (it rates change since the start)
            json={"visited_on": day, "patches": patches, "vns": 4 if week else None},
            headers=h,
        )
        assert r.status_code == 201, r.text
    for at, sites in (
        ("2026-01-14T07:45:00+01:00", ["face", "hands"]),
        ("2026-01-14T19:30:00+01:00", ["face"]),
    ):
        body = {"id": str(uuid.uuid4()), "at": at, "hand_units": 3.2, "grams": 1.6, "sites": sites}
        r = http.post(f"/api/v1/patients/{pid}/applications", json=body, headers=h)
        assert r.status_code == 201, r.text
    aes = []
    for body in (
        {
            "term": "Application site acne",
            "onset_on": "2026-03-28",
            "outcome": "recovering",
            "causality": "possibly_related",
        },
        {
            "term": "Cellulitis",
            "onset_on": "2026-04-02",
            "serious": True,
            "seriousness_criteria": ["hospitalisation"],
            "outcome": "recovered",
            "causality": "unlikely_related",
            "description": "Admitted for two days.",
        },
    ):
        r = http.post(f"/api/v1/patients/{pid}/adverse-events", json=body, headers=h)
        assert r.status_code == 201, r.text
        aes.append(r.json()["id"])
    return {"adverse_events": aes}


def _normalised(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources with every id, reference, assessment identifier and timestamp taken out."""
    text = json.dumps([e["resource"] for e in bundle["entry"]])
    out = json.loads(text)
    for res in out:
        res.pop("id")
        res.get("subject", {}).pop("reference", None)
        for ident in res.get("identifier", []):
            if ident.get("system") == SID_ASSESSMENT:
                ident.pop("value")
    return out


def test_fhir_export_and_access_rules(http: httpx.Client, clinic_factory: Callable[[], Seeded]) -> None:
    clinic, other = clinic_factory(), clinic_factory()
    own, someone_else = clinic.patients
    _fill(http, clinic, own)
    url = f"/api/v1/patients/{own}/fhir"

    r = http.get(url, headers=clinic.login(http, "clinician"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("MedicationRequest") == 1 and kinds.count("MedicationAdministration") == 2
    assert kinds.count("Observation") == 8 and kinds.count("AdverseEvent") == 2
    (patient,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert patient["name"][0]["given"] == ["Ada"] and patient["birthDate"] == "1985-02-03"
    f_vasi = [
        e["resource"]["valueQuantity"]["value"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "f-vasi"
    ]
    assert f_vasi == [pytest.approx(1.2), pytest.approx(0.3)]  # 1.2 HU × 100%, then × 25%

    # The patient reads their own Bundle, not another patient's.
    patient_h = clinic.login(http, "patient")
    assert http.get(url, headers=patient_h).status_code == 200
    assert http.get(f"/api/v1/patients/{someone_else}/fhir", headers=patient_h).status_code == 404
    # Analysts read it de-identified, as they read the record.
    r = http.get(url, headers=clinic.login(http, "analyst"))
    assert r.status_code == 200
    (anon,) = [e["resource"] for e in r.json()["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert "name" not in anon and "birthDate" not in anon and "1985-02-03" not in r.text
    assert "Admitted" not in r.text and "Twice daily" not in r.text
    # Roles that cannot read the record, other clinics, no login.
    for role in ("safety_officer", "admin"):
        assert http.get(url, headers=clinic.login(http, role)).status_code == 403
    assert http.get(url, headers=other.login(http, "clinician")).status_code == 404
    assert http.get(url, headers=other.login(http, "patient")).status_code == 404
    assert http.get(url).status_code == 401
    assert (
        http.get("/api/v1/patients/999999/fhir", headers=clinic.login(http, "clinician")).status_code == 404
    )


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def _cli(server: Server, *args: str) -> CliResult:
    """The ``repigment`` command, run in-process (the same Typer app) against the server's database."""
    result = CliRunner().invoke(
        cli_app, list(args), env={"REPIGMENT_DATABASE_URL": server.db_url, "REPIGMENT_ICSR_COUNTRY": None}
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


def test_export_import_export_round_trip(
    http: httpx.Client, api_server: Server, clinic_factory: Callable[[], Seeded], tmp_path: Any
) -> None:
    clinic, other = clinic_factory(), clinic_factory()
    pid = clinic.patients[0]
    _fill(http, clinic, pid)
    first = http.get(f"/api/v1/patients/{pid}/fhir", headers=clinic.login(http, "clinician")).json()

    # The CLI exports the same Bundle as the API.
    out = _cli(api_server, "fhir", "export", str(pid))
    assert out.returncode == 0, out.stderr
    assert _normalised(json.loads(out.stdout)) == _normalised(first)

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(first))
    done = _cli(api_server, "fhir", "import", str(path), "--clinic", other.name)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["imported"] == {
        "prescriptions": 1,
        "assessments": 2,
        "applications": 2,
        "adverse_events": 2,
        "vns": 1,
    }
    assert [
        e["resource"]["item"][0]["answer"][0]["valueCoding"]["code"]
        for e in first["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ] == ["4"]
    assert result["not_stored"] == [] and result["skipped_resources"] == []
    new_id = result["patient_id"]
    assert new_id not in clinic.patients

    second = http.get(f"/api/v1/patients/{new_id}/fhir", headers=other.login(http, "clinician")).json()
    assert _normalised(second) == _normalised(first)
    # and the copy belongs to the other clinic only
    assert (
        http.get(f"/api/v1/patients/{new_id}/fhir", headers=clinic.login(http, "clinician")).status_code
        == 404
    )


def test_cli_errors_exit_2(api_server: Server, tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    patient = {"resourceType": "Patient", "birthDate": "soon"}
    bad.write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]})
    )
    r = _cli(api_server, "fhir", "import", str(bad), "--clinic", "nowhere")
    assert r.returncode == 2 and "entry[0] (Patient).birthDate" in r.stderr and "Traceback" not in r.stderr
    r = _cli(api_server, "fhir", "export", "999999")
    assert r.returncode == 2 and "no patient 999999" in r.stderr
    r = _cli(api_server, "icsr", "export", "999999")
    assert r.returncode == 2 and "no adverse event 999999" in r.stderr
    r = _cli(api_server, "icsr", "parse", str(bad))
    assert r.returncode == 2 and "not well-formed XML" in r.stderr and "Traceback" not in r.stderr


def test_icsr_export_and_access_rules(
    http: httpx.Client, api_server: Server, clinic_factory: Callable[[], Seeded]
) -> None:
    clinic, other = clinic_factory(), clinic_factory()
    pid = clinic.patients[0]
    serious = _fill(http, clinic, pid)["adverse_events"][1]
    url = f"/api/v1/adverse-events/{serious}/icsr"
    officer = clinic.login(http, "safety_officer")

    # Without a country and a MedDRA code the case is incomplete: every missing element is listed.
    r = http.get(url, headers=officer)
    assert r.status_code == 422
    messages = [e["message"] for e in r.json()["errors"]]
    assert "message 1: C.2.r.3 Reporter's Country Code (primary source 1): missing" in messages
    assert "E.i.2.1a MedDRA Version for Reaction / Event (message 1, reaction 1): missing" in messages
    assert "E.i.2.1b Reaction / Event (MedDRA code) (message 1, reaction 1): missing" in messages

    params = {"country": "SE", "meddra_code": "10007882", "meddra_version": "27.0"}
    r = http.get(url, params=params, headers=officer)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/hl7-v3+xml")
    # Recorded in the audit trail: who exported which event of which patient.
    store = Store(api_server.db_url, migrate=False)
    with store.read() as s:
        last = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.seq.desc())
        ).first()
    store.dispose()
    assert last is not None and (last.actor, last.table_name, last.row_id) == (
        clinic.users["safety_officer"],
        "adverse_event",
        str(serious),
    )
    assert json.loads(last.new or "")["format"] == "icsr" and json.loads(last.new or "")["patient_id"] == pid
    assert check_message(etree.fromstring(r.content).getroottree()) == []
    case = parse_icsr(r.content).messages[0].case
    assert case.report_id == f"SE-REPIGMENT-C{clinic.clinic_id}-AE{serious}"
    (reaction,) = case.reactions
    assert (reaction.meddra_code, reaction.reported_term, reaction.outcome) == ("10007882", "Cellulitis", "1")
    assert reaction.seriousness == {"hospitalisation"}
    assert case.patient.initials == "AT" and case.patient.sex == "2"
    (drug,) = case.drugs
    assert drug.role == "1" and drug.dosages[0].route is not None and drug.dosages[0].route.code == "003"
    assert [c.result for c in case.causality] == ["Unlikely related"]
    icsr = e2br3.parse(r.content).icsrs[0]
    assert icsr.reactions[0].hospitalisation is True
    assert icsr.drugs[0].product_name == "Opzelura 15 mg/g cream"
    assert icsr.primary_sources[0].qualification.code == "1" and icsr.primary_sources[0].country.code == "SE"

    # Clinicians of the clinic may export it too; nobody else.
    assert http.get(url, params=params, headers=clinic.login(http, "clinician")).status_code == 200
    for role in ("patient", "analyst", "admin"):
        assert http.get(url, params=params, headers=clinic.login(http, role)).status_code == 403
    assert http.get(url, params=params, headers=other.login(http, "safety_officer")).status_code == 404
    assert http.get(url, params=params).status_code == 401
    assert http.get("/api/v1/adverse-events/999999/icsr", headers=officer).status_code == 404
    r = http.get(url, params={**params, "country": "Sweden"}, headers=officer)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.country"

    # The CLI writes the same case, and lists what is missing when it cannot.
    missing = _cli(api_server, "icsr", "export", str(serious))
    assert missing.returncode == 2 and "C.2.r.3 Reporter's Country Code" in missing.stderr
    done = _cli(
        api_server,
        "icsr",
        "export",
        str(serious),
        "--country",
        "SE",
        "--meddra-code",
        "10007882",
        "--meddra-version",
        "27.0",
    )
    assert done.returncode == 0, done.stderr
    cli_case = parse_icsr(done.stdout.encode()).messages[0].case
    assert cli_case.reactions == case.reactions and cli_case.drugs == case.drugs
    assert cli_case.patient == case.patient
