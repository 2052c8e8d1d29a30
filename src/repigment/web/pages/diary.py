"""Patient pages: the diary (log an application in two taps, with the label's verdict at once), own
progress, reporting a side effect, and downloading one's own data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from repigment.body import VASI_REGIONS
from repigment.services import adverse_events, applications, records
from repigment.services.acting import PatientContext
from repigment.services.errors import ServiceError
from repigment.services.schemas import (
    AdverseEventIn,
    AdverseEventOut,
    ApplicationIn,
    CourseOut,
    PatientOut,
    PrescriptionOut,
    VisitOut,
)
from repigment.store import AdverseEvent, Application, Course, Prescription, Visit
from repigment.web import access, i18n
from repigment.web.access import Db, ReadDb
from repigment.web.i18n import N_
from repigment.web.labels import REGIONS
from repigment.web.pages.clinic import _charts, ae_form_context, ae_from_form
from repigment.web.pages.common import (
    PATIENT_ROLES,
    lang,
    page,
    parse_id,
    run,
    see_other,
    service_errors,
    validation_errors,
)
from repigment.web.render import secure, translator

router = APIRouter(include_in_schema=False)

HISTORY_DAYS: Final = 30  # the diary page lists this much history; the download has everything

# A plain headline for each kind of label rule a diary entry can break (the rule's own message follows).
HEADLINES: Final = {
    "interval": N_("Too soon after your last application"),
    "frequency": N_("Too many applications in one day"),
    "max-bsa": N_("Too large an area"),
    "quantity": N_("Too much cream this month"),
    "sites": N_("Not for this part of the body"),
    "storage": N_("Check your tube of cream"),
}


def headline(rule: str) -> str | None:
    for suffix, text in HEADLINES.items():
        if rule.endswith("-" + suffix):
            return text
    return None


async def own_record(request: Request, db: Any, patient_id: str) -> PatientContext:
    user = await access.page_user(request, db, PATIENT_ROLES)
    return PatientContext(user=user, patient=access.page_patient(db, user, parse_id(patient_id)), db=db)


def _defaults(rec: records.Record, lang_code: str) -> dict[str, Any]:
    """The usual areas and amount: the last entry's, else the course plan's (numbers as typed in
    the page's language)."""
    last = rec.applications[0] if rec.applications else None
    if last is not None:
        return {
            "hand_units": i18n.input_number(last.hand_units, lang_code),
            "sites": list(last.sites),
            "grams": "" if last.grams is None else i18n.input_number(last.grams, lang_code),
        }
    course = rec.course
    areas = course.plan.get("areas", []) if course else []
    hu = sum(float(a.get("hand_units", 0)) for a in areas)
    return {
        "hand_units": i18n.input_number(hu, lang_code) if hu else "1",
        "sites": [a["region"] for a in areas if "region" in a],
        "grams": "",
    }


def feedback(app: Application) -> list[dict[str, Any]]:
    """The findings stored with an entry (the API's verdict); the page words each in its language
    from the rule id and values stored with it (the ``finding`` filter)."""
    return [dict(f) | {"headline": headline(str(f.get("rule", "")))} for f in app.findings]


def _diary(request: Request, db: Any, ctx: PatientContext, status_code: int = 200, **extra: Any) -> Response:
    rec = records.load(db, ctx.patient, diary_days=HISTORY_DAYS)
    zone = ZoneInfo(ctx.patient.timezone)
    logged = None
    logged_id = request.query_params.get("logged")
    if logged_id:
        app = db.get(Application, logged_id)
        if app is not None and app.patient_id == ctx.patient.id:
            logged = {"app": app, "findings": feedback(app)}
    form = extra.pop("form", None) or {**_defaults(rec, lang(request)), "when": "", "id": str(uuid.uuid4())}
    return page(
        request,
        db,
        ctx.user,
        "patient/diary.html",
        status_code=status_code,
        p=ctx.patient,
        rec=rec,
        zone=ctx.patient.timezone,
        logged=logged,
        form=form,
        errors=extra.pop("errors", {}),
        regions=[(r, REGIONS[r]) for r in VASI_REGIONS],
        local=lambda t: t.astimezone(zone),
        history_days=HISTORY_DAYS,
        headline=headline,
        **extra,
    )


@router.get("/patients/{patient_id}")
async def diary(request: Request, db: Db, patient_id: str) -> Response:
    ctx = await own_record(request, db, patient_id)
    return _diary(request, db, ctx)


@router.post("/patients/{patient_id}/applications")
async def log_application(request: Request, db: ReadDb, patient_id: str) -> Response:
    """The entry is written in the diary's batches (``repigment.services.diary``); this page only reads."""
    ctx = await own_record(request, db, patient_id)
    _ = translator(request)
    raw = await request.form()
    form: dict[str, Any] = {
        "id": str(raw.get("id", "")) or str(uuid.uuid4()),
        "when": str(raw.get("when", "")).strip(),
        "hand_units": str(raw.get("hand_units", "")).strip(),
        "grams": str(raw.get("grams", "")).strip(),
        "sites": [str(s) for s in raw.getlist("sites")],
    }
    errors: dict[str, str] = {}
    zone = ZoneInfo(ctx.patient.timezone)
    if form["when"]:
        try:
            at = dt.datetime.fromisoformat(form["when"])
            at = at.replace(tzinfo=zone) if at.tzinfo is None else at  # range, future: ApplicationIn
        except ValueError:
            errors["when"] = _("Enter the date and time you applied the cream.")
            at = dt.datetime.now(dt.UTC)
    else:
        at = dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {"id": form["id"], "at": at, "sites": form["sites"]}
    try:
        body["hand_units"] = float(form["hand_units"].replace(",", "."))
    except ValueError:
        errors["hand_units"] = _("Enter the area in hand sizes, for example 2.5.")
    if form["grams"]:
        try:
            body["grams"] = float(form["grams"].replace(",", "."))
        except ValueError:
            errors["grams"] = _("Enter the amount in grams, for example 1.5.")
    if not errors:
        try:
            stored = await applications.log_application(
                request.app.state.diary_reader,
                request.app.state.diary_writer,
                ctx.user,
                ctx.patient,
                ApplicationIn.model_validate(body),
            )
        except ValidationError as e:
            errors.update(validation_errors(e, request, {"at": "when", "id": "form"}))
        except ServiceError as e:
            errors.update(service_errors(e, {"at": "when", "id": "form", "course_id": "form"}))
        else:
            return see_other(f"/patients/{ctx.patient.id}?logged={stored.row['id']}#feedback")
    return _diary(request, db, ctx, status_code=422, form=form, errors=errors)


@router.get("/patients/{patient_id}/progress")
async def progress(request: Request, db: Db, patient_id: str) -> Response:
    user = await access.page_user(request, db, PATIENT_ROLES)
    rec = await access.page_read(
        request, records.patient_record, db, user, parse_id(patient_id), roles=PATIENT_ROLES
    )
    prog = records.progress(rec)
    return page(
        request,
        db,
        user,
        "patient/progress.html",
        p=rec.patient,
        progress=prog,
        charts=_charts(prog),
        state=records.course_state(rec),
    )


@router.get("/patients/{patient_id}/side-effect")
async def side_effect_form(request: Request, db: Db, patient_id: str) -> Response:
    ctx = await own_record(request, db, patient_id)
    return page(
        request,
        db,
        ctx.user,
        "patient/side_effect.html",
        p=ctx.patient,
        ae=ae_form_context(),
        sent=request.query_params.get("sent") == "1",
    )


@router.post("/patients/{patient_id}/side-effect")
async def side_effect_submit(request: Request, db: Db, patient_id: str) -> Response:
    ctx = await own_record(request, db, patient_id)
    _ = translator(request)
    raw = await request.form()
    form, body, errors = ae_from_form(raw, _, "patient")
    if body is not None:
        try:
            checked = AdverseEventIn.model_validate(body)
            await run(adverse_events.report_adverse_event, db, ctx.user, ctx.patient, checked)
        except ValidationError as e:
            errors.update(validation_errors(e, request, {"seriousness_criteria": "criteria"}))
        except ServiceError as e:
            errors.update(service_errors(e, {"seriousness_criteria": "criteria"}))
        else:
            return see_other(f"/patients/{ctx.patient.id}/side-effect?sent=1")
    return page(
        request,
        db,
        ctx.user,
        "patient/side_effect.html",
        status_code=422,
        p=ctx.patient,
        ae=ae_form_context(form, errors),
        sent=False,
    )


# -- own data --------------------------------------------------------------------------------------------
def export(db: Any, ctx: PatientContext) -> dict[str, Any]:
    pid = ctx.patient.id

    def rows(model: Any, order: Any) -> list[Any]:
        return list(db.scalars(select(model).where(model.patient_id == pid).order_by(order)))

    return {
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "patient": PatientOut.model_validate(ctx.patient).model_dump(mode="json"),
        "courses": [CourseOut.model_validate(c).model_dump(mode="json") for c in rows(Course, Course.id)],
        "prescriptions": [
            PrescriptionOut.model_validate(p).model_dump(mode="json")
            for p in rows(Prescription, Prescription.id)
        ],
        "visits": [VisitOut.model_validate(v).model_dump(mode="json") for v in rows(Visit, Visit.visited_on)],
        "applications": [
            applications.application_out(a).model_dump(mode="json")
            for a in rows(Application, Application.applied_at)
        ],
        "adverse_events": [
            AdverseEventOut.model_validate(e).model_dump(mode="json")
            for e in rows(AdverseEvent, AdverseEvent.id)
        ],
    }


@router.get("/patients/{patient_id}/export.json")
async def export_json(request: Request, db: Db, patient_id: str) -> Response:
    ctx = await own_record(request, db, patient_id)
    body = json.dumps(export(db, ctx), ensure_ascii=False, indent=1)
    await _record_download(request, ctx, "json")
    return secure(
        Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="repigment-patient-{ctx.patient.id}.json"'
            },
        )
    )


CSV_TABLES: Final = ("applications", "visits", "adverse_events")


@router.get("/patients/{patient_id}/export.csv")
async def export_csv(request: Request, db: Db, patient_id: str, table: str = "applications") -> Response:
    ctx = await own_record(request, db, patient_id)
    if table not in CSV_TABLES:
        raise access.PageError(404, "patient")
    data = export(db, ctx)[table]
    await _record_download(request, ctx, f"csv:{table}")
    buf = io.StringIO()
    columns: list[str] = list(data[0]) if data else []
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in data:
        writer.writerow([_cell(row[c]) for c in columns])
    return secure(
        Response(
            buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_export_name(ctx, table)}.csv"'},
        )
    )


async def _record_download(request: Request, ctx: PatientContext, fmt: str) -> None:
    await access.record_read(
        request,
        ctx.user,
        action="export",
        table_name="patient",
        row_id=ctx.patient.id,
        patient_id=ctx.patient.id,
        extra={"format": fmt},
    )


def _export_name(ctx: PatientContext, table: str) -> str:
    return f"repigment-patient-{ctx.patient.id}-{table}"


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False)
    text = str(v)
    # a spreadsheet would run text starting like a formula (CSV injection); numbers are left alone
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
