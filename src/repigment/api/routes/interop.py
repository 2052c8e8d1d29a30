"""HTTP routes for record export (FHIR) and safety reports (ICSR), included by the API app under /api/v1.

- ``GET /patients/{patient_id}/fhir``: the record as a FHIR R4 Bundle, with the record's own access rules
  (clinicians and analysts of the clinic, a patient for their own record only; analysts get it
  de-identified, as they see the record).
- ``GET /adverse-events/{ae_id}/icsr``: the ICH E2B(R3) message for one adverse event, for the clinic's
  safety officers and clinicians. The store holds neither MedDRA codes nor a country, so the caller
  passes them (``meddra_code``, ``meddra_version``, ``country``; the country may come from
  ``$REPIGMENT_ICSR_COUNTRY``). An incomplete case gets 422 listing every missing element.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Final

import anyio
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from repigment.api import access_log
from repigment.api.deps import (
    Db,
    PatientContext,
    Principal,
    deidentify,
    not_found,
    patient_access,
    require_role,
)
from repigment.interop.fhir import FhirError, export_bundle
from repigment.safety import IcsrIncomplete, write_case
from repigment.services import deidentified as deid_out
from repigment.services.access import READ_RECORD
from repigment.services.interchange import (
    DEFAULT_RECEIVER,
    IcsrOptions,
    InteropError,
    case_of,
    record_of,
    sender_id,
)
from repigment.store import AdverseEvent, Patient

router = APIRouter()

FHIR_JSON: Final = "application/fhir+json"
HL7_XML: Final = "application/hl7-v3+xml"
ICSR_ROLES: Final = ("clinician", "safety_officer")
_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "Not logged in"},
    403: {"description": "This role may not do this"},
    404: {"description": "Not found (or not in the caller's clinic)"},
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_MEDDRA_CODE = re.compile(r"^\d{8}$")
_MEDDRA_VERSION = re.compile(r"^\d{1,2}\.\d$")

ReadRecord = Annotated[PatientContext, Depends(patient_access(*READ_RECORD))]


def _unprocessable(errors: list[dict[str, str]]) -> HTTPException:
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return HTTPException(422, {"message": message, "errors": errors})


@router.get(
    "/patients/{patient_id}/fhir",
    responses={**_ERRORS, 200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 Bundle (collection)"}},
    response_class=JSONResponse,
    tags=["interoperability"],
)
async def patient_fhir(request: Request, ctx: ReadRecord) -> Response:
    """The patient's record as a FHIR R4 Bundle: Patient, Condition, MedicationRequest,
    MedicationAdministration, Observation (F-VASI, T-VASI, F-BSA, T-BSA), AdverseEvent. Recorded in the
    audit trail as an export."""
    analyst = deidentify(ctx.user)

    def build() -> dict[str, Any]:
        record = record_of(ctx.db, ctx.patient)
        return export_bundle(
            record,
            deidentified=analyst,
            timestamp=dt.datetime.now(dt.UTC).replace(microsecond=0),
            day_zero=deid_out.view(ctx.db, ctx.patient).zero if analyst else None,
        )

    try:
        bundle = await anyio.to_thread.run_sync(build)
    except FhirError as e:
        raise _unprocessable([{"field": e.where, "message": e.reason}]) from e
    await access_log.record_read(
        request,
        ctx.user,
        action="export",
        table_name="patient",
        row_id=ctx.patient.id,
        patient_id=ctx.patient.id,
        extra={"format": "fhir"},
    )
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.get(
    "/adverse-events/{ae_id}/icsr",
    responses={
        **_ERRORS,
        200: {"content": {HL7_XML: {}}, "description": "An ICH E2B(R3) batch (MCCI_IN200100UV01)"},
        422: {"description": "The case misses elements an ICSR requires; ``errors`` lists each"},
    },
    response_class=Response,
    tags=["interoperability"],
)
async def adverse_event_icsr(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(require_role(*ICSR_ROLES))],
    ae_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="Adverse event id")],
    country: Annotated[
        str | None, Query(description="Reporter and sender country, ISO 3166-1 alpha-2")
    ] = None,
    meddra_code: Annotated[
        str | None, Query(description="MedDRA LLT code of the reaction (8 digits)")
    ] = None,
    meddra_version: Annotated[str | None, Query(description="MedDRA version, e.g. 27.0")] = None,
    receiver: Annotated[
        str, Query(min_length=1, max_length=60, description="Receiver id (N.1.4)")
    ] = DEFAULT_RECEIVER,
) -> Response:
    """The E2B(R3) ICSR of one adverse event, ruxolitinib 15 mg/g cream as the suspect drug."""
    ae = db.get(AdverseEvent, ae_id)
    patient = db.get(Patient, ae.patient_id) if ae is not None else None
    if ae is None or patient is None or patient.clinic_id != user.clinic_id:
        raise not_found("adverse event")
    errors = []
    if country is not None and not _COUNTRY.match(country):
        errors.append(
            {"field": "query.country", "message": f"must be an ISO 3166-1 alpha-2 code, got {country!r}"}
        )
    if meddra_code is not None and not _MEDDRA_CODE.match(meddra_code):
        errors.append({"field": "query.meddra_code", "message": f"must be 8 digits, got {meddra_code!r}"})
    if meddra_version is not None and not _MEDDRA_VERSION.match(meddra_version):
        errors.append(
            {"field": "query.meddra_version", "message": f"must look like 27.0, got {meddra_version!r}"}
        )
    if errors:
        raise _unprocessable(errors)
    options = IcsrOptions(
        country=country, meddra_code=meddra_code, meddra_version=meddra_version, receiver=receiver
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def build() -> tuple[Any, bytes | str]:
        case = case_of(db, ae, options, now)
        return case, write_case(case, sender=sender_id(patient.clinic_id), receiver=receiver, now=now)

    try:
        case, xml = await anyio.to_thread.run_sync(build)
    except IcsrIncomplete as e:
        raise _unprocessable([{"field": "icsr", "message": p} for p in e.problems]) from e
    except InteropError as e:
        raise _unprocessable([{"field": e.where, "message": e.reason}]) from e
    await access_log.record_read(
        request,
        user,
        action="export",
        table_name="adverse_event",
        row_id=ae_id,
        patient_id=patient.id,
        extra={"format": "icsr", "report_id": case.report_id},
    )
    return Response(
        xml,
        media_type=HL7_XML,
        headers={"Content-Disposition": f'attachment; filename="{case.report_id}.xml"'},
    )
