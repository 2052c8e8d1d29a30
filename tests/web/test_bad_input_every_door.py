"""One rule per input, whatever the door: the same bad input sent through the REST API, the web form and the
FHIR import (``repigment fhir import``) is refused by each, naming the same field, because each door
validates through the same input model and use case (``repigment.services``).

The field is named as each door names it: ``body.at`` in the API, the form's ``when`` next to which the page
shows its error, ``application a1.at`` in the import. A door that cannot carry an input is left out of its
case: no page registers a patient, and a form has neither nesting nor fields of its own choosing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner
from webharness import on_sqlite

from repigment.cli import build_app
from repigment.interop.fhir import export_bundle
from repigment.interop.record import AdverseEventData, ApplicationData, PatientData, PatientRecord
from repigment.store import Clinic, Store

pytestmark = on_sqlite

STOCKHOLM = ZoneInfo("Europe/Stockholm")
RANGE = "must be between 1900-01-01 and 2100-12-31"
PAGE_RANGE = "Enter a date between 1900-01-01 and 2100-12-31."
FUTURE = "must not be in the future"
DEEP = 10_000  # nesting of the deep JSON: beyond the parser's recursion limit


def _now() -> dt.datetime:
    return dt.datetime.now(STOCKHOLM).replace(second=0, microsecond=0)


TOMORROW = _now() + dt.timedelta(days=1)
YEAR_1 = dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=14)))
YEAR_9999 = dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-12)))


@dataclass
class Case:
    """A bad input; how each door that can carry it sends it; the field and the reason every door gives."""

    name: str
    field: str  # the input model's field
    reason: str  # the input model's reason (the API and the import say it in these words)
    api: tuple[str, dict[str, Any] | str]  # path under /api/v1/patients/{id} ("" for /patients), body
    form: tuple[str, dict[str, str], str, str] | None = None  # path, fields, form field, page message
    record: PatientRecord | None = None  # the FHIR import's record (None: a raw file below)
    raw_file: str | None = None
    import_error: str = ""  # the import's name of the field (then ": " and the reason), or its whole error


def _record(**kw: Any) -> PatientRecord:
    patient = PatientData(
        id="1", given_name="Ida", family_name="Doors", birth_date=dt.date(1990, 1, 1), sex="female"
    )
    return PatientRecord(**{"patient": patient, **kw})


def _entry(at: dt.datetime | str, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "at": at if isinstance(at, str) else at.isoformat(),
        "hand_units": 2,
        **extra,
    }


def _diary_form(when: str) -> dict[str, str]:
    return {"when": when, "hand_units": "2", "id": str(uuid.uuid4())}


def _side_effect_form(onset: str) -> dict[str, str]:
    return {"term": "other", "term_other": "Stinging", "onset_on": onset, "causality": "not_assessed"}


def _application(at: dt.datetime) -> PatientRecord:
    return _record(applications=(ApplicationData(id="a1", applied_at=at, hand_units=2),))


def _adverse_event(onset: dt.date) -> PatientRecord:
    return _record(adverse_events=(AdverseEventData(id="e1", term="Itch", onset_on=onset, serious=False),))


def _unknown_element_bundle() -> dict[str, Any]:
    bundle = export_bundle(_application(_now() - dt.timedelta(days=1)), timestamp=_now())
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "MedicationAdministration":
            entry["resource"]["colour"] = "red"
    return bundle


TOMORROW_DAY = (dt.date.today() + dt.timedelta(days=1)).isoformat()
CASES = [
    Case(
        "a diary entry tomorrow",
        "at",
        FUTURE,
        api=("/applications", _entry(TOMORROW)),
        form=(
            "/applications",
            _diary_form(TOMORROW.strftime("%Y-%m-%dT%H:%M")),
            "when",
            "The time is in the future.",
        ),
        record=_application(TOMORROW),
        import_error="application a1.at",
    ),
    Case(
        "a diary entry ten minutes ahead (beyond the clock's 5 minutes)",
        "at",
        FUTURE,
        api=("/applications", _entry(_now() + dt.timedelta(minutes=10))),
        form=(
            "/applications",
            _diary_form((_now() + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")),
            "when",
            "The time is in the future.",
        ),
        record=_application(_now() + dt.timedelta(minutes=10)),
        import_error="application a1.at",
    ),
    Case(
        "a diary entry in year 1, east of UTC",
        "at",
        RANGE,
        api=("/applications", _entry("0001-01-01T00:00:00+14:00")),
        form=("/applications", _diary_form("0001-01-01T00:00+14:00"), "when", PAGE_RANGE),
        record=_application(YEAR_1),
        import_error="application a1.at",
    ),
    Case(
        "a diary entry in year 9999, west of UTC",
        "at",
        RANGE,
        api=("/applications", _entry("9999-12-31T23:30:00-12:00")),
        form=("/applications", _diary_form("9999-12-31T23:30-12:00"), "when", PAGE_RANGE),
        record=_application(YEAR_9999),
        import_error="application a1.at",
    ),
    Case(
        "a side effect starting tomorrow",
        "onset_on",
        FUTURE,
        api=("/adverse-events", {"term": "Stinging", "onset_on": TOMORROW_DAY}),
        form=("/side-effect", _side_effect_form(TOMORROW_DAY), "onset_on", "The date is in the future."),
        record=_adverse_event(dt.date.today() + dt.timedelta(days=1)),
        import_error="adverse event e1.onset_on",
    ),
    Case(
        "a side effect in year 1",
        "onset_on",
        RANGE,
        api=("/adverse-events", {"term": "Stinging", "onset_on": "0001-01-01"}),
        form=("/side-effect", _side_effect_form("0001-01-01"), "onset_on", PAGE_RANGE),
        record=_adverse_event(dt.date(1, 1, 1)),
        import_error="adverse event e1.onset_on",
    ),
    Case(
        "a birth date tomorrow",
        "birth_date",
        FUTURE,
        api=("", {"given_name": "Ida", "family_name": "Doors", "birth_date": TOMORROW_DAY, "sex": "female"}),
        record=_record(
            patient=PatientData(
                id="1",
                given_name="Ida",
                family_name="Doors",
                birth_date=dt.date.today() + dt.timedelta(days=1),
                sex="female",
            )
        ),
        import_error="patient.birth_date",
    ),
    Case(
        "an unknown field",
        "colour",
        "unknown field",
        api=("/applications", _entry(_now() - dt.timedelta(hours=1), colour="red")),
        raw_file=json.dumps(_unknown_element_bundle()),
        import_error="(MedicationAdministration).colour: Extra inputs are not permitted",
    ),
    Case(
        "JSON nested too deeply",
        "",
        "could not be read",
        api=("/applications", '{"id": "' + str(uuid.uuid4()) + '", "at": ' + "[" * DEEP + "]" * DEEP + "}"),
        raw_file='{"resourceType": "Bundle", "entry": ' + "[" * DEEP + "]" * DEEP + "}",
        import_error="could not be read: JSON nested too deeply",
    ),
]


@pytest.fixture()
def api(base_url: str, clinic: Any) -> Iterator[httpx.Client]:
    c = httpx.Client(base_url=base_url, timeout=30)
    r = c.post("/api/v1/auth/token", json={"username": clinic.clinician, "password": clinic.password})
    assert r.status_code == 200, r.text
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    yield c
    c.close()


@pytest.fixture()
def form(base_url: str, clinic: Any) -> Iterator[httpx.Client]:
    """The patient's pages, logged in through the log-in form."""
    c = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
    html = c.get("/login").text
    token = html.split('name="login_csrf" value="', 1)[1].split('"', 1)[0]
    r = c.post(
        "/login",
        data={"username": clinic.patient_user, "password": clinic.password, "next": "/", "login_csrf": token},
    )
    assert r.status_code == 303, r.text
    yield c
    c.close()


@pytest.fixture()
def fhir_import(api_server: Any, clinic: Any, tmp_path: Path) -> Any:
    """``repigment fhir import FILE --clinic NAME`` into the server's database: (exit code, error text)."""
    s = Store(api_server.db_url, migrate=False)
    try:
        with s.read() as db:
            name = db.get(Clinic, clinic.clinic_id).name
    finally:
        s.dispose()

    def run(text: str) -> tuple[int, str]:
        path = tmp_path / f"{uuid.uuid4().hex}.json"
        path.write_text(text, encoding="utf-8")
        res = CliRunner().invoke(
            build_app(),
            ["fhir", "import", str(path), "--clinic", name],
            env={"REPIGMENT_DATABASE_URL": api_server.db_url},
        )
        return res.exit_code, res.stderr.removeprefix("error: ").removeprefix(f"{path}: ").strip()

    return run


def _page_error(html: str, name: str) -> str:
    marker = f'id="err-{name}"'
    assert marker in html, f"no error shown next to {name}"
    return html.split(marker, 1)[1].split(">", 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_same_bad_input_is_refused_alike_at_every_door(
    case: Case, api: httpx.Client, form: httpx.Client, fhir_import: Any, clinic: Any
) -> None:
    patient = clinic.patients[0]
    path, body = case.api
    url = f"/api/v1/patients{f'/{patient}' + path if path else ''}"
    if isinstance(body, str):
        r = api.post(url, content=body, headers={"Content-Type": "application/json"})
    else:
        r = api.post(url, json=body)
    assert r.status_code == 422, r.text
    first = r.json()["errors"][0]
    assert first["field"] == f"body.{case.field}".rstrip("."), r.text
    assert case.reason in first["message"], r.text

    if case.form is not None:
        form_path, fields, form_field, message = case.form
        r = form.post(
            f"/patients/{patient}{form_path}",
            data={**fields, "csrf_token": str(form.cookies.get("repigment_csrf"))},
        )
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), r.text
        assert _page_error(r.text, form_field) == message

    text = (
        json.dumps(export_bundle(case.record, timestamp=_now())) if case.record is not None else case.raw_file
    )
    assert text is not None
    code, error = fhir_import(text)
    assert code == 2, error
    if case.record is not None:  # a value of the record: the model's own reason
        assert error == f"{case.import_error}: {case.reason}"
    else:  # the file itself
        assert case.import_error in error, error


def test_one_clock_allowance_at_every_door(
    api: httpx.Client, form: httpx.Client, clinic: Any, fhir_import: Any
) -> None:
    """A time up to 5 minutes ahead of the server (a phone's clock running fast) is taken by every door."""
    patient = clinic.patients[0]
    soon = _now() + dt.timedelta(minutes=2)
    r = api.post(f"/api/v1/patients/{patient}/applications", json=_entry(soon))
    assert r.status_code == 201, r.text
    fields = _diary_form(soon.strftime("%Y-%m-%dT%H:%M"))
    r = form.post(
        f"/patients/{patient}/applications",
        data={**fields, "csrf_token": str(form.cookies.get("repigment_csrf"))},
    )
    assert r.status_code == 303, r.text
    code, error = fhir_import(json.dumps(export_bundle(_application(soon), timestamp=_now())))
    assert code == 0, error
