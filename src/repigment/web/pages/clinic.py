"""Clinician pages: patient list with what needs attention, patient record, visit with body map,
week-24/52 decisions, adverse events, and the scoring calculator."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import anyio
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from repigment.course import place_visit
from repigment.dosing import DosingError, dose_plan
from repigment.label import evaluate_dose
from repigment.scoring import ScoringError
from repigment.services import access_log, adverse_events, checks, overrides, records, visits
from repigment.services import course as course_service
from repigment.services.errors import InputError, ServiceError
from repigment.services.schemas import AdverseEventIn, OverrideIn, VisitIn
from repigment.store import Application, Patient, Visit
from repigment.web import access, bodymap, bodymap_page, charts, i18n
from repigment.web.access import Db
from repigment.web.i18n import N_
from repigment.web.labels import AE_TERMS
from repigment.web.pages import photos
from repigment.web.pages.common import (
    CLINIC_ROLES,
    context,
    lang,
    page,
    parse_id,
    run,
    see_other,
    service_errors,
    validation_errors,
)
from repigment.web.render import translator
from repigment.web.tools import (
    calculator_page,
    calculator_query,
    score_calculator_form,
    variant_from_form,
)

router = APIRouter(include_in_schema=False)

OUTCOMES: Final = {
    "unknown": N_("Unknown"),
    "recovered": N_("Recovered"),
    "recovering": N_("Recovering"),
    "not_recovered": N_("Not recovered"),
    "recovered_with_sequelae": N_("Recovered with sequelae"),
    "fatal": N_("Fatal"),
}
CAUSALITIES: Final = {
    "not_assessed": N_("Not yet assessed"),
    "related": N_("Related"),
    "possibly_related": N_("Possibly related"),
    "unlikely_related": N_("Unlikely related"),
    "not_related": N_("Not related"),
}
SERIOUSNESS: Final = {
    "death": N_("Results in death"),
    "life_threatening": N_("Life-threatening"),
    "hospitalisation": N_("Requires or prolongs hospitalisation"),
    "disability": N_("Persistent or significant disability"),
    "congenital_anomaly": N_("Congenital anomaly"),
    "other_medically_important": N_("Other medically important condition"),
}
DIARY_DAYS: Final = 14  # the patient page lists the flagged diary entries of the last two weeks
STATUSES: Final = {
    "active": N_("active"),
    "paused": N_("paused"),
    "stopped": N_("stopped"),
    "completed": N_("completed"),
}
FLAGS: Final = {
    "review_due": N_("Week-24 review due"),
    "decision_due": N_("Week-52 decision due"),
    "blocking": N_("Blocking finding"),
    "new_event": N_("New adverse event"),
}


async def clinician(request: Request, db: Any) -> Any:
    return await access.page_user(request, db, CLINIC_ROLES)


# -- patient list ----------------------------------------------------------------------------------
@router.get("/clinic")
async def patient_list(request: Request, db: Db) -> Response:
    user = await clinician(request, db)
    today = dt.date.today()
    rows = records.clinic_overview(db, user, today=today)
    return page(
        request,
        db,
        user,
        "clinic/patients.html",
        rows=rows,
        flag_labels=FLAGS,
        today=today,
        statuses=STATUSES,
    )


# -- patient page ----------------------------------------------------------------------------------
def _dose(request: Request, rec: records.Record) -> dict[str, Any]:
    """The dose calculator's inputs (from the query or the record) and the repigment.dosing result."""
    _ = translator(request)
    q = request.query_params
    p = rec.patient
    latest = rec.latest
    course = rec.course
    plan_hu = sum(float(a.get("hand_units", 0)) for a in (course.plan.get("areas", []) if course else []))
    default_bsa = plan_hu or (latest.t_bsa_percent if latest else 0)
    rx = rec.prescriptions[-1] if rec.prescriptions else None
    form = {
        "bsa_percent": q.get("bsa_percent", i18n.input_number(round(default_bsa, 2), lang(request))),
        "applications_per_day": q.get(
            "applications_per_day", str((course.plan.get("applications_per_day") if course else None) or 2)
        ),
        "dispensed_grams": q.get("dispensed_grams", i18n.input_number(rx.grams, lang(request)) if rx else ""),
        "start": q.get(
            "start",
            (rx.opened_on or rx.dispensed_on or rx.prescribed_on).isoformat()
            if rx
            else rec.today.isoformat(),
        ),
    }
    errors: dict[str, str] = {}
    result = None
    if p.sex not in ("female", "male"):
        errors["form"] = _(
            "The fingertip-unit amounts are given for women and men; "
            "record the patient's sex to use the calculator."
        )
        return {"form": form, "errors": errors, "result": None, "findings": []}
    try:
        bsa = Decimal(form["bsa_percent"].replace(",", "."))
    except ArithmeticError:
        errors["bsa_percent"] = _(
            "Enter the treated area as a percentage of the body surface, for example 4.5."
        )
    try:
        per_day = int(form["applications_per_day"])
    except ValueError:
        errors["applications_per_day"] = _("Enter a whole number of applications per day.")
    dispensed: Decimal | None = None
    if form["dispensed_grams"].strip():
        try:
            dispensed = Decimal(form["dispensed_grams"].replace(",", "."))
        except ArithmeticError:
            errors["dispensed_grams"] = _("Enter the grams dispensed, for example 100.")
    try:
        start = dt.date.fromisoformat(form["start"])
    except ValueError:
        errors["start"] = _("Enter a date.")
    findings: list[dict[str, Any]] = []
    if not errors:
        try:
            result = dose_plan(bsa, p.sex, per_day, dispensed, start if dispensed is not None else None)
        except DosingError as e:
            errors[e.field if e.field in form else "form"] = e.reason
        else:
            checked = evaluate_dose(
                result.bsa_percent,
                result.sex,
                result.applications_per_day,
                result.grams_per_application,
                rec.today,
                ruleset=course.ruleset if course else checks.DEFAULT_RULESET,
                lang=lang(request),
            )
            findings = [f.as_json() for f in checked.findings]
    return {"form": form, "errors": errors, "result": result, "findings": findings}


@router.get("/clinic/patients/{patient_id}")
async def patient_page(request: Request, db: Db, patient_id: str) -> Response:
    user = await clinician(request, db)
    rec = await access.page_read(
        request,
        records.patient_record,
        db,
        user,
        parse_id(patient_id),
        roles=CLINIC_ROLES,
        diary_days=DIARY_DAYS,
    )
    return _patient_page(request, db, user, rec.patient, rec=rec)


def _patient_page(
    request: Request,
    db: Any,
    user: Any,
    patient: Patient,
    status_code: int = 200,
    rec: records.Record | None = None,
    **extra: Any,
) -> Response:
    """The patient page from the record's read models (``repigment.services.records``: the same course
    state, flags, findings, timeline and progress as ``GET /api/v1/patients/{id}/state`` and the rest)."""
    rec = rec or records.load(db, patient, diary_days=DIARY_DAYS)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=DIARY_DAYS)
    prog = records.progress(rec)
    charts_ctx = _charts(prog)
    sv = records.state_view(rec, lang(request))
    state, findings = sv.state, sv.findings
    decision_findings = [
        f for f in findings if f.get("rule", "").endswith(("week52", "week52-review", "duration"))
    ]
    decided_by = records.decision_visit(rec, state)
    ctx = {
        "p": patient,
        "rec": rec,
        "age": records.age_on(patient, rec.today),
        "state": state,
        "decision_visit": decided_by,
        "decision_check": records.repigmentation_check(rec, decided_by) if decided_by else None,
        "findings": findings,
        "decision_findings": decision_findings,
        "flags": sv.flags,
        "flag_labels": FLAGS,
        "timeline": records.timeline(rec),
        "progress": prog,
        "charts": charts_ctx,
        "dose": _dose(request, rec),
        "photos": photos.compare_pair(patient),
        "photo_kinds": photos.KINDS,
        "decision": extra.pop(
            "decision", {"form": {"choice": "", "reason": "", "milestone": ""}, "errors": {}}
        ),
        "outcomes": OUTCOMES,
        "causalities": CAUSALITIES,
        "diary_days": DIARY_DAYS,
        "acknowledged": {o.application_id: o.reason for o in rec.overrides if o.application_id},
        "ack": extra.pop("ack", {"id": None, "reason": "", "errors": {}}),
        "recent_count": sum(1 for a in rec.applications if a.applied_at >= recent),
        "local": lambda t: t.astimezone(ZoneInfo(patient.timezone)),
    }
    ctx.update(extra)
    return page(request, db, user, "clinic/patient.html", status_code=status_code, **ctx)


def _charts(prog: dict[str, Any]) -> dict[str, Any]:
    out = {}
    base = prog["baseline"]
    for key in ("f_vasi", "t_vasi"):
        pts = [(pt["week"], pt[key]) for pt in prog["points"]]
        out[key] = charts.series_chart(pts, getattr(base, key) if base else None)
    return out


# -- decisions ----------------------------------------------------------------------------------------
@router.post("/clinic/patients/{patient_id}/decision")
async def record_decision(request: Request, db: Db, patient_id: str) -> Response:
    user = await clinician(request, db)
    _ = translator(request)
    ctx = context(db, user, parse_id(patient_id))
    form = await request.form()
    choice = str(form.get("choice", ""))
    reason = str(form.get("reason", "")).strip()
    milestone = str(form.get("milestone", ""))
    values = {"choice": choice, "reason": reason, "milestone": milestone}
    errors: dict[str, str] = {}
    rec = records.load(ctx.db, ctx.patient)
    course = rec.course
    if course is None:
        errors["form"] = _("There is no treatment course to decide on.")
    if choice not in ("continue", "stop"):
        errors["choice"] = _("Choose whether to continue or stop the treatment.")
    if milestone not in ("week-24", "week-52"):
        errors["milestone"] = _("Choose the review this decision belongs to.")
    findings = records.course_findings(rec, "en") if course else []
    against = [
        f for f in findings if f.get("severity") in ("warn", "block") and "week52" in f.get("rule", "")
    ]
    overriding = choice == "continue" and against
    if (overriding or choice == "stop") and not reason:
        errors["reason"] = (
            _("Give the reason for continuing despite the finding.")
            if overriding
            else _("Give the reason for stopping.")
        )
    if not errors and course is not None:
        # One use case, one transaction: the course is stopped only if the decision is stored with it.
        try:
            await anyio.to_thread.run_sync(
                functools.partial(
                    course_service.record_decision,
                    ctx.db,
                    user,
                    patient_id=ctx.patient.id,
                    course_id=course.id,
                    milestone=milestone,
                    choice=choice,
                    reason=reason,
                    against=[str(f["rule"]) for f in against],
                )
            )
        except InputError as e:
            errors[e.field if e.field in values else "form"] = e.reason
        except ServiceError as e:
            errors["form"] = e.message
    if errors:
        return _patient_page(
            request, db, user, ctx.patient, status_code=422, decision={"form": values, "errors": errors}
        )
    return see_other(f"/clinic/patients/{ctx.patient.id}#decision")


@router.post("/clinic/patients/{patient_id}/applications/{application_id}/acknowledge")
async def acknowledge_entry(request: Request, db: Db, patient_id: str, application_id: str) -> Response:
    """Record that a clinician has seen a flagged diary entry: an override of its rules, with the reason."""
    user = await clinician(request, db)
    _ = translator(request)
    ctx = context(db, user, parse_id(patient_id))
    app = db.get(Application, application_id)
    if app is None or app.patient_id != ctx.patient.id:
        raise access.PageError(404, "patient")
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = _("Give the reason, for example what was agreed with the patient.")
    else:
        try:
            bodies = [
                OverrideIn(rule=rule, reason=reason, course_id=app.course_id, application_id=app.id)
                for rule in sorted({str(f.get("rule")) for f in app.findings}) or ["diary-entry"]
            ]
            await run(overrides.create_overrides, db, user, ctx.patient, bodies)  # all rules or none
        except ValidationError as e:
            errors.update(validation_errors(e, request))
        except ServiceError as e:
            errors.update(service_errors(e))
    if errors:
        ack = {"id": app.id, "reason": reason, "errors": errors}
        return _patient_page(request, db, user, ctx.patient, status_code=422, ack=ack)
    return see_other(f"/clinic/patients/{ctx.patient.id}#diary-title")


# -- visits -------------------------------------------------------------------------------------------
def _visit_form(
    request: Request,
    db: Any,
    user: Any,
    patient: Patient,
    form: dict[str, Any],
    errors: dict[str, str],
    drawing: Any = None,
    status_code: int = 200,
) -> Response:
    _ = translator(request)
    try:
        on = dt.date.fromisoformat(str(form.get("visited_on")))
    except ValueError:
        on = dt.date.today()
    age = records.age_on(patient, max(on, patient.birth_date))
    variant = {
        "face_includes_eyelids": bool(form.get("face_includes_eyelids")),
        "t_vasi_includes_head_neck": bool(form.get("t_vasi_includes_head_neck")),
    }
    bm = bodymap_page.context(age, variant, drawing, _, lang(request))
    rec = records.load(db, patient)
    return page(
        request,
        db,
        user,
        "clinic/visit_new.html",
        status_code=status_code,
        p=patient,
        bm=bm,
        form=form,
        errors=errors,
        age=age,
        course=rec.course,
    )


@router.get("/clinic/patients/{patient_id}/visits/new")
async def visit_new(request: Request, db: Db, patient_id: str) -> Response:
    user = await clinician(request, db)
    ctx = context(db, user, parse_id(patient_id))
    form = {
        "visited_on": dt.date.today().isoformat(),
        "no_depigmentation": False,
        "repigmentation_percent": "",
        "vns": "",
        "notes": "",
        "face_includes_eyelids": False,
        "t_vasi_includes_head_neck": True,
    }
    return _visit_form(request, db, user, ctx.patient, form, {})


@router.post("/clinic/patients/{patient_id}/visits/new")
async def visit_create(request: Request, db: Db, patient_id: str) -> Response:
    user = await clinician(request, db)
    _ = translator(request)
    ctx = context(db, user, parse_id(patient_id))
    raw = await request.form()
    variant = variant_from_form(raw)
    form: dict[str, Any] = {
        k: str(raw.get(k, "")) for k in ("visited_on", "repigmentation_percent", "vns", "notes")
    }
    form.update(variant)
    form["no_depigmentation"] = bool(raw.get("no_depigmentation"))
    errors: dict[str, str] = {}
    drawing = None
    try:
        drawing = bodymap.parse_drawing(raw.get("drawing", ""))
    except bodymap.DrawingError as e:
        errors["drawing"] = _("The drawing could not be read: %(reason)s") % {"reason": e.reason}
    try:
        visited_on = dt.date.fromisoformat(form["visited_on"])
    except ValueError:
        errors["visited_on"] = _("Enter the date of the visit.")
        visited_on = None
    body: dict[str, Any] = {
        "visited_on": form["visited_on"],
        "variant": variant,
        "notes": form["notes"] or None,
        "no_depigmentation": form["no_depigmentation"],
    }
    text = form["repigmentation_percent"].strip().replace(",", ".")
    if text:
        try:
            body["repigmentation_percent"] = float(text)
        except ValueError:
            errors["repigmentation_percent"] = _("Enter a percentage between 0 and 100.")
    if form["vns"].strip():
        try:
            body["vns"] = int(form["vns"])
        except ValueError:
            errors["vns"] = _("Choose an answer from 1 to 5.")
    rec = records.load(db, ctx.patient)
    if rec.course is not None and visited_on is not None and visited_on >= rec.course.started_on:
        body["course_id"] = rec.course.id
    if not errors and drawing is not None and visited_on is not None:
        age = records.age_on(ctx.patient, max(visited_on, ctx.patient.birth_date))
        try:
            assessment = bodymap_page.assessment_json(bodymap_page.assessment(drawing, age, variant))
            body["patches"] = assessment["patches"]
            checked = VisitIn.model_validate(body)
            if not body["patches"] and not form["no_depigmentation"]:
                errors["drawing"] = _(
                    "The map is empty. If the assessment found no depigmentation, tick "
                    "“Assessed: no depigmentation”."
                )
                return _visit_form(request, db, user, ctx.patient, form, errors, drawing, status_code=422)
            visit = await run(visits.create_visit, db, user, ctx.patient, checked)
        except ValidationError as e:
            errors.update(validation_errors(e, request, {"patches": "drawing", "variant": "drawing"}))
            if "vns" in errors:  # the core's reason is in English; the page speaks the user's language
                errors["vns"] = _("Choose an answer from 1 to 5.")
        except ServiceError as e:
            errors.update(service_errors(e, {"patches": "drawing", "variant": "drawing"}))
        except ScoringError as e:
            errors["drawing"] = f"{e.field}: {e.reason}"
        else:
            return see_other(f"/clinic/patients/{ctx.patient.id}/visits/{visit.id}?saved=1")
    return _visit_form(request, db, user, ctx.patient, form, errors, drawing, status_code=422)


@router.get("/clinic/patients/{patient_id}/visits/{visit_id}")
async def visit_page(request: Request, db: Db, patient_id: str, visit_id: str) -> Response:
    user = await clinician(request, db)
    _ = translator(request)
    ctx = context(db, user, parse_id(patient_id))
    visit = db.get(Visit, parse_id(visit_id, "visit"))
    if visit is None or visit.patient_id != ctx.patient.id:
        raise access.PageError(404, "visit")
    await access.record_read(request, user, table_name="visit", row_id=visit.id, patient_id=ctx.patient.id)
    return _visit_page(request, db, user, ctx.patient, visit)


def _visit_page(
    request: Request, db: Any, user: Any, patient: Patient, visit: Visit, status_code: int = 200, **extra: Any
) -> Response:
    _ = translator(request)
    drawing = bodymap.drawing_from_patches(visit.patches, visit.age_years)
    bm = bodymap_page.context(visit.age_years, visit.variant, drawing, _, lang(request), readonly=True)
    rec = records.load(db, patient)
    course = next((c for c in rec.courses if c.id == visit.course_id), None)
    same_week: tuple[dt.date, ...] = ()
    if course is not None:
        others = [v.visited_on for v in rec.course_visits(course) if v.id != visit.id]
        same_week = place_visit(
            visit.visited_on, course.started_on, follow_up=False, other_visits_on=others
        ).same_week
    ctx = {
        "p": patient,
        "visit": visit,
        "same_week": same_week,
        "repig_check": records.repigmentation_check(rec, visit),
        "no_depigmentation": not any(
            x.get("hand_units") and x.get("depigmentation_percent") for x in visit.patches
        ),
        "week": records.visit_week(course, visit),
        "bm": bm,
        "saved": request.query_params.get("saved") == "1",
        "photos": photos.list_photos(patient.id, visit.id),
        "photo_kinds": photos.KINDS,
        "upload": extra.pop("upload", {"errors": {}, "form": {"kind": ""}}),
        "max_photo_bytes": photos.max_bytes(),
        "max_photo_mb": photos.max_bytes() / 1_000_000,
    }
    ctx.update(extra)
    return page(request, db, user, "clinic/visit.html", status_code=status_code, **ctx)


@router.post("/clinic/patients/{patient_id}/visits/{visit_id}/photos")
async def photo_upload(request: Request, db: Db, patient_id: str, visit_id: str) -> Response:
    user = await clinician(request, db)
    _ = translator(request)
    patient = access.page_patient(db, user, parse_id(patient_id))
    visit = db.get(Visit, parse_id(visit_id, "visit"))
    if visit is None or visit.patient_id != patient.id:
        raise access.PageError(404, "visit")
    form = await request.form()
    kind = str(form.get("kind", ""))
    errors: dict[str, str] = {}
    if kind not in photos.KINDS:
        errors["kind"] = _("Choose which view the photo shows.")
    upload_file = form.get("photo")
    raw = b""
    if upload_file is None or isinstance(upload_file, str) or not getattr(upload_file, "filename", ""):
        errors["photo"] = _("Choose a photo to upload.")
    else:
        raw = await upload_file.read(photos.max_bytes() + 1)
    if not errors:
        try:  # decoded off the event loop, a bounded number at a time
            meta = await anyio.to_thread.run_sync(
                photos.save_photo, patient.id, visit, kind, raw, user.user_id, limiter=photos.decoders
            )
        except photos.PhotoError as e:
            errors["photo"] = _(e.reason)
        else:
            access_log.record_in(
                db,
                access_log.event(
                    user,
                    access.channel(request),
                    "photo_upload",
                    table_name="photo",
                    row_id=meta["sha256"],
                    patient_id=patient.id,
                    extra={"visit_id": visit.id, "kind": kind, "bytes": meta["bytes"]},
                ),
            )
            await anyio.to_thread.run_sync(db.commit)
    if errors:
        return _visit_page(
            request,
            db,
            user,
            patient,
            visit,
            status_code=422,
            upload={"errors": errors, "form": {"kind": kind}},
        )
    return see_other(f"/clinic/patients/{patient.id}/visits/{visit.id}#photos")


# -- adverse events -----------------------------------------------------------------------------------
def ae_form_context(
    form: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "form": form
        or {
            "term": "",
            "term_other": "",
            "onset_on": dt.date.today().isoformat(),
            "serious": False,
            "criteria": [],
            "outcome": "unknown",
            "causality": "not_assessed",
            "description": "",
        },
        "errors": errors or {},
        "terms": AE_TERMS,
        "outcomes": OUTCOMES,
        "causalities": CAUSALITIES,
        "seriousness": SERIOUSNESS,
    }


def ae_from_form(
    raw: Any, gettext: Any, role: str
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, str]]:
    """Form fields → (form values to show again, AdverseEventIn body or None, errors)."""
    term = str(raw.get("term", ""))
    other = str(raw.get("term_other", "")).strip()
    form = {
        "term": term,
        "term_other": other,
        "onset_on": str(raw.get("onset_on", "")),
        "serious": raw.get("serious") == "1",
        "criteria": [str(c) for c in raw.getlist("criteria")],
        "outcome": str(raw.get("outcome", "unknown")),
        "causality": str(raw.get("causality", "not_assessed")) if role == "clinician" else "not_assessed",
        "description": str(raw.get("description", "")).strip(),
    }
    errors: dict[str, str] = {}
    chosen = other if term == "other" else term
    if term == "other" and not other:
        errors["term_other"] = gettext("Describe the side effect in a few words.")
    elif not chosen:
        errors["term"] = gettext("Choose the side effect or describe it.")
    if form["serious"] and not form["criteria"]:
        errors["criteria"] = gettext("A serious event needs at least one seriousness criterion.")
    if not form["serious"] and form["criteria"]:
        errors["criteria"] = gettext(
            "Seriousness criteria apply only to a serious event: tick “Serious” or clear them."
        )
    try:
        dt.date.fromisoformat(form["onset_on"])
    except ValueError:
        errors["onset_on"] = gettext("Enter the date it started.")
    if errors:
        return form, None, errors
    body = {
        "term": chosen,
        "onset_on": form["onset_on"],
        "serious": form["serious"],
        "seriousness_criteria": form["criteria"],
        "outcome": form["outcome"],
        "causality": form["causality"],
        "description": form["description"] or None,
    }
    return form, body, errors


@router.get("/clinic/patients/{patient_id}/adverse-events/new")
async def ae_new(request: Request, db: Db, patient_id: str) -> Response:
    user = await clinician(request, db)
    ctx = context(db, user, parse_id(patient_id))
    return page(request, db, user, "clinic/adverse_event.html", p=ctx.patient, ae=ae_form_context())


@router.post("/clinic/patients/{patient_id}/adverse-events/new")
async def ae_create(request: Request, db: Db, patient_id: str) -> Response:
    user = await clinician(request, db)
    _ = translator(request)
    ctx = context(db, user, parse_id(patient_id))
    raw = await request.form()
    form, body, errors = ae_from_form(raw, _, user.role)
    if body is not None:
        rec = records.load(db, ctx.patient)
        if rec.course is not None:
            body["course_id"] = rec.course.id
        try:
            checked_ae = AdverseEventIn.model_validate(body)
            await run(adverse_events.report_adverse_event, db, user, ctx.patient, checked_ae)
        except ValidationError as e:
            errors.update(validation_errors(e, request, {"seriousness_criteria": "criteria"}))
        except ServiceError as e:
            errors.update(service_errors(e, {"seriousness_criteria": "criteria", "course_id": "form"}))
        else:
            return see_other(f"/clinic/patients/{ctx.patient.id}#adverse-events")
    return page(
        request,
        db,
        user,
        "clinic/adverse_event.html",
        status_code=422,
        p=ctx.patient,
        ae=ae_form_context(form, errors),
    )


# -- scoring calculator ---------------------------------------------------------------------------------
@router.get("/clinic/tools/bodymap")
async def calculator(request: Request, db: Db) -> Response:
    user = await clinician(request, db)
    context = calculator_query(request.query_params, translator(request))
    frame = access.base_context(request, db, user)
    from repigment.web.pages.common import nav

    return calculator_page(request, nav=nav(request, user), **context, **frame)


@router.post("/clinic/tools/bodymap")
async def calculator_post(request: Request, db: Db) -> Response:
    user = await clinician(request, db)
    context = score_calculator_form(await request.form(), translator(request))
    frame = access.base_context(request, db, user)
    from repigment.web.pages.common import nav

    return calculator_page(request, nav=nav(request, user), **context, **frame)
