"""The store side of interoperability: a patient's record and an adverse-event case out of a clinic,
and a FHIR record into one. Writes go through the same input models and use cases as every other door
(``repigment.services``: the scoring of visits, the label check of patients and diary entries).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from repigment.body import age_on
from repigment.config import get_settings
from repigment.interop.record import (
    AdverseEventData,
    ApplicationData,
    AssessmentData,
    PatchData,
    PatientData,
    PatientRecord,
    PrescriptionData,
    RegionData,
    VnsData,
)
from repigment.safety import (
    Causality,
    IcsrCase,
    IcsrPatient,
    Null,
    PrimarySource,
    Reaction,
    Sender,
    hl7_ts,
    ruxolitinib_cream,
)
from repigment.safety.model import SeriousnessCriterion
from repigment.services import adverse_events, patients, prescriptions, schemas
from repigment.services.checks import ClinicalInputError
from repigment.services.diary import write_entry
from repigment.services.errors import InputError, ServiceError
from repigment.services.rows import input_error
from repigment.services.visits import build_visit
from repigment.store import AdverseEvent, Application, Clinic, Prescription, User, Visit
from repigment.store import Patient as PatientRow

_IDS: Final = uuid.UUID("0f6f7a44-51a3-4c1e-9a8e-5d2b7c1e3a90")
# Store outcome → ICH code list 11; store seriousness criterion → case model criterion.
ICH_OUTCOME: Final = {
    "unknown": "0",
    "recovered": "1",
    "recovering": "2",
    "not_recovered": "3",
    "recovered_with_sequelae": "4",
    "fatal": "5",
}
CRITERION: Final[dict[str, SeriousnessCriterion]] = {
    "death": "death",
    "life_threatening": "life_threatening",
    "hospitalisation": "hospitalisation",
    "disability": "disabling",
    "congenital_anomaly": "congenital_anomaly",
    "other_medically_important": "other_medically_important",
}
# Who reported the event (store reporter_role) → C.2.r.4 qualification (ICH code list 6).
QUALIFICATION: Final = {"clinician": "1", "patient": "5", "safety_officer": "3"}
CAUSALITY_TEXT: Final = {
    "related": "Related",
    "possibly_related": "Possibly related",
    "unlikely_related": "Unlikely related",
    "not_related": "Not related",
}
DEFAULT_RECEIVER: Final = "EVHUMAN"  # EudraVigilance (human), the EU receiver of E2B(R3) ICSRs
DEFAULT_SENDER_TYPE: Final = "3"  # ICH code list 7: health professional (a clinic)


class InteropError(ValueError):
    """Input that cannot be exported or imported; ``where`` names the item and field."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


# ------------------------------------------------------------------------------------------------ FHIR out


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def record_of(db: Session, p: PatientRow) -> PatientRecord:
    """Everything the store holds on one patient, as a plain record.

    A visit's VNS answer becomes a ``VnsData`` with the visit's id (the QuestionnaireResponse id then
    pairs with the visit's Observations), dated on the visit.
    """
    rxs = db.scalars(select(Prescription).where(Prescription.patient_id == p.id).order_by(Prescription.id))
    apps = db.scalars(
        select(Application)
        .where(Application.patient_id == p.id)
        .order_by(Application.applied_at, Application.id)
    )
    visits = list(
        db.scalars(select(Visit).where(Visit.patient_id == p.id).order_by(Visit.visited_on, Visit.id))
    )
    aes = db.scalars(select(AdverseEvent).where(AdverseEvent.patient_id == p.id).order_by(AdverseEvent.id))
    return PatientRecord(
        patient=PatientData(
            id=str(p.id),
            given_name=p.given_name,
            family_name=p.family_name,
            birth_date=p.birth_date,
            sex=p.sex,
            timezone=p.timezone,
            external_ref=p.external_ref,
            diagnosis=p.diagnosis,
            facial_involvement=p.facial_involvement,
        ),
        prescriptions=tuple(
            PrescriptionData(
                id=str(r.id),
                prescribed_on=r.prescribed_on,
                grams=r.grams,
                dispensed_on=r.dispensed_on,
                opened_on=r.opened_on,
                instructions=r.instructions,
            )
            for r in rxs
        ),
        applications=tuple(
            ApplicationData(
                id=a.id,
                applied_at=_aware(a.applied_at),
                hand_units=a.hand_units,
                sites=tuple(a.sites),
                grams=a.grams,
                note=a.note,
            )
            for a in apps
        ),
        assessments=tuple(_assessment(v) for v in visits),
        adverse_events=tuple(
            AdverseEventData(
                id=str(e.id),
                term=e.term,
                onset_on=e.onset_on,
                serious=e.serious,
                seriousness_criteria=tuple(e.seriousness_criteria),
                outcome=e.outcome,
                causality=e.causality,
                description=e.description,
            )
            for e in aes
        ),
        vns=tuple(
            VnsData(id=str(v.id), answered_on=v.visited_on, score=v.vns) for v in visits if v.vns is not None
        ),
    )


def _assessment(v: Visit) -> AssessmentData:
    scores: dict[str, Any] = v.scores
    return AssessmentData(
        id=str(v.id),
        assessed_on=v.visited_on,
        f_vasi=v.f_vasi,
        t_vasi=v.t_vasi,
        f_bsa_percent=v.f_bsa_percent,
        t_bsa_percent=v.t_bsa_percent,
        regions={
            r: RegionData(hand_units=float(x["hand_units"]), vasi=float(x["vasi"]))
            for r, x in scores["regions"].items()
        },
        face_includes_eyelids=bool(v.variant.get("face_includes_eyelids", False)),
        t_vasi_includes_head_neck=bool(v.variant.get("t_vasi_includes_head_neck", True)),
        age_years=v.age_years,
        body_model=v.body_model,
        hand_unit_convention=str(scores["hand_unit_convention"]),
        week=v.week,
        patches=tuple(
            PatchData(str(x["region"]), float(x["hand_units"]), int(x["depigmentation_percent"]))
            for x in v.patches
        ),
    )


# ------------------------------------------------------------------------------------------------ FHIR in


def _pair_vns(record: PatientRecord) -> tuple[dict[str, VnsData], list[VnsData]]:
    """VNS answers by the assessment they belong to: the same id (as exported), else the only
    assessment on the answer's date that has no answer yet; the rest cannot be stored (a visit holds one)."""
    ids = {a.id for a in record.assessments}
    out: dict[str, VnsData] = {}
    left: list[VnsData] = []
    for v in record.vns:
        if v.id in ids and v.id not in out:
            out[v.id] = v
        else:
            left.append(v)
    unpaired: list[VnsData] = []
    for v in left:
        same_day = [a.id for a in record.assessments if a.assessed_on == v.answered_on and a.id not in out]
        if len(same_day) == 1:
            out[same_day[0]] = v
        else:
            unpaired.append(v)
    return out, unpaired


@dataclass(frozen=True, slots=True)
class ImportedRecord:
    patient_id: int
    counts: dict[str, int]
    not_stored: tuple[str, ...]  # parts of the record the store has no place for


def _schema_error(where: str, e: ValidationError) -> InteropError:
    first = e.errors()[0]
    loc = ".".join(str(x) for x in first["loc"])
    return InteropError(f"{where}.{loc}" if loc else where, str(first["msg"]))


def _service_error(where: str, e: ServiceError) -> InteropError:
    """A use case's refusal, named as the import names the item (``assessment a1.visited_on``)."""
    if isinstance(e, InputError):
        return InteropError(f"{where}.{e.field if e.where == 'body' else e.path}", e.reason)
    return InteropError(where, e.message)


def import_record(db: Session, clinic_id: int, record: PatientRecord, user_id: int | None) -> ImportedRecord:
    """Create the record as a new patient of the clinic (new ids); nothing is kept unless all of it is valid.

    Validation is every door's: the input models, the patient's label facts, visit scoring and the label
    check of diary entries (``repigment.services``). The caller commits.
    """
    p = record.patient
    try:
        body = schemas.PatientIn(
            given_name=p.given_name,
            family_name=p.family_name,
            birth_date=p.birth_date,
            sex=p.sex,
            timezone=p.timezone,
            external_ref=p.external_ref,
            diagnosis=p.diagnosis,
            facial_involvement=p.facial_involvement,
        )
        patient = patients.new_patient(clinic_id, body)
    except ValidationError as e:
        raise _schema_error("patient", e) from e
    except ServiceError as e:
        raise _service_error("patient", e) from e
    db.add(patient)
    db.flush()
    for rx in record.prescriptions:
        try:
            rx_in = schemas.PrescriptionIn(
                prescribed_on=rx.prescribed_on,
                grams=rx.grams,
                dispensed_on=rx.dispensed_on,
                opened_on=rx.opened_on,
                instructions=rx.instructions,
            )
            db.add(prescriptions.new_prescription(db, patient, rx_in, user_id))
        except ValidationError as e:
            raise _schema_error(f"prescription {rx.id}", e) from e
        except ServiceError as e:
            raise _service_error(f"prescription {rx.id}", e) from e
    vns_of, vns_left = _pair_vns(record)
    for a in record.assessments:
        if not a.patches:
            raise InteropError(
                f"assessment {a.id}", "has no patches to score (repigment stores the scored patches)"
            )
        try:
            visit_in = schemas.VisitIn.model_validate(
                {
                    "visited_on": a.assessed_on,
                    "patches": [
                        {
                            "region": x.region,
                            "hand_units": x.hand_units,
                            "depigmentation_percent": x.depigmentation_percent,
                        }
                        for x in a.patches
                    ],
                    "variant": {
                        "face_includes_eyelids": a.face_includes_eyelids,
                        "t_vasi_includes_head_neck": a.t_vasi_includes_head_neck,
                    },
                    "vns": vns_of[a.id].score if a.id in vns_of else None,
                }
            )
            visit = build_visit(db, patient, visit_in, user_id)
        except ValidationError as e:
            raise _schema_error(f"assessment {a.id}", e) from e
        except ServiceError as e:
            raise _service_error(f"assessment {a.id}", e) from e
        for name, mine, theirs in (
            ("F-VASI", visit.f_vasi, a.f_vasi),
            ("T-VASI", visit.t_vasi, a.t_vasi),
            ("F-BSA", visit.f_bsa_percent, a.f_bsa_percent),
            ("T-BSA", visit.t_bsa_percent, a.t_bsa_percent),
        ):
            if abs(mine - theirs) > 1e-9 * max(1.0, abs(theirs)):
                raise InteropError(
                    f"assessment {a.id}", f"{name} {theirs} does not match its patches (scored {mine})"
                )
        db.add(visit)
        db.flush()
    for app in sorted(record.applications, key=lambda x: x.applied_at):
        try:
            app_in = schemas.ApplicationIn(
                id=str(uuid.uuid4()),
                at=app.applied_at,
                hand_units=app.hand_units,
                grams=app.grams,
                sites=list(app.sites),
                note=app.note,
            )
            write_entry(db.connection(), db.info["actor"], patient, app_in, user_id)
        except ValidationError as e:
            raise _schema_error(f"application {app.id}", e) from e
        except ClinicalInputError as e:
            raise _service_error(f"application {app.id}", input_error(e)) from e
    for ae in record.adverse_events:
        try:
            ae_in = schemas.AdverseEventIn.model_validate(
                {
                    "term": ae.term,
                    "onset_on": ae.onset_on,
                    "serious": ae.serious,
                    "seriousness_criteria": list(ae.seriousness_criteria),
                    "outcome": ae.outcome,
                    "causality": ae.causality,
                    "description": ae.description,
                }
            )
            db.add(adverse_events.new_adverse_event(db, patient, ae_in, user_id, "clinician"))
        except ValidationError as e:
            raise _schema_error(f"adverse event {ae.id}", e) from e
        except ServiceError as e:
            raise _service_error(f"adverse event {ae.id}", e) from e
    not_stored = []
    if vns_left:
        not_stored.append(
            f"{len(vns_left)} VNS answer(s) without a visit of the same id or date: "
            + ", ".join(v.id for v in vns_left)
        )
    weeks = [a.id for a in record.assessments if a.week is not None]
    if weeks:
        # the week of treatment is computed from a course start (repigment.course.place_visit), and a
        # record brings no course: a week stated in the record cannot be checked, so it is not kept
        not_stored.append(
            f"{len(weeks)} assessment week(s) (computed from a course start; the record brings no course): "
            + ", ".join(weeks)
        )
    not_stored += [
        f"adverse event {ae.id}: MedDRA code {ae.meddra_code}"
        for ae in record.adverse_events
        if ae.meddra_code
    ]
    db.flush()
    return ImportedRecord(
        patient_id=patient.id,
        counts={
            "prescriptions": len(record.prescriptions),
            "assessments": len(record.assessments),
            "applications": len(record.applications),
            "adverse_events": len(record.adverse_events),
            "vns": len(vns_of),
        },
        not_stored=tuple(not_stored),
    )


# ------------------------------------------------------------------------------------------------ ICSR


@dataclass(frozen=True, slots=True)
class IcsrOptions:
    """What the store does not hold but an ICSR needs: given by the caller or the environment."""

    country: str | None = None  # C.2.r.3 / C.3.4.5, ISO 3166-1 alpha-2 (default: $REPIGMENT_ICSR_COUNTRY)
    meddra_version: str | None = None  # E.i.2.1a
    meddra_code: str | None = None  # E.i.2.1b
    receiver: str = DEFAULT_RECEIVER  # N.1.4 / N.2.r.3
    sender_type: str = DEFAULT_SENDER_TYPE  # C.3.1
    language: str = "eng"  # E.i.1.1b, ISO 639-2 language of the reported term (E.i.1.1a)

    def resolved_country(self) -> str | None:
        return self.country or get_settings().icsr_country


def _initials(p: PatientRow) -> str:
    return "".join(part[0].upper() for part in (p.given_name, p.family_name) if part)


def _age_years(born: dt.date, on: dt.date) -> int:
    return age_on(born, on)[0]


def case_of(db: Session, ae: AdverseEvent, options: IcsrOptions, now: dt.datetime) -> IcsrCase:
    """The ICSR case for one stored adverse event (suspect drug: ruxolitinib 15 mg/g cream)."""
    patient = db.get(PatientRow, ae.patient_id)
    if patient is None:  # pragma: no cover - foreign key
        raise InteropError(f"adverse event {ae.id}", "has no patient")
    clinic = db.get(Clinic, patient.clinic_id)
    reporter = db.get(User, ae.reporter_id) if ae.reporter_id is not None else None
    country = options.resolved_country()
    first_rx = db.scalars(
        select(Prescription.prescribed_on)
        .where(Prescription.patient_id == patient.id)
        .order_by(Prescription.prescribed_on)
    ).first()
    reaction_id = str(uuid.uuid5(_IDS, f"reaction/{ae.id}"))
    drug = ruxolitinib_cream(
        drug_id=str(uuid.uuid5(_IDS, f"drug/{ae.id}")),
        start=hl7_ts(first_rx) if first_rx is not None else None,
    )
    sex = {"male": "1", "female": "2"}.get(patient.sex)
    outcome_words = ae.outcome.replace("_", " ")
    age = _age_years(patient.birth_date, ae.onset_on)
    narrative = (
        f"{ae.term}, onset {ae.onset_on.isoformat()}, in a patient aged {age} "
        f"treated with ruxolitinib 15 mg/g cream for {patient.diagnosis} vitiligo. "
        f"{'Serious' if ae.serious else 'Not serious'}"
        + (
            f" ({', '.join(c.replace('_', ' ') for c in ae.seriousness_criteria)})"
            if ae.seriousness_criteria
            else ""
        )
        + f". Outcome: {outcome_words}. Causality assessed by the reporter: {ae.causality.replace('_', ' ')}."
        + (f" {ae.description}" if ae.description else "")
    )
    report_id = f"{country or 'XX'}-REPIGMENT-C{patient.clinic_id}-AE{ae.id}"
    return IcsrCase(
        report_id=report_id,
        worldwide_case_id=report_id,
        created=hl7_ts(now),
        report_type="1",
        first_received=hl7_ts(_aware(ae.created_at).date()),
        most_recent=hl7_ts(_aware(ae.updated_at).date()),
        sender=Sender(
            sender_type=options.sender_type,
            organisation=clinic.name if clinic is not None else None,
            country=country,
        ),
        patient=IcsrPatient(
            initials=_initials(patient) or Null("UNK"),
            sex=sex if sex is not None else Null("UNK"),
            birth_date=hl7_ts(patient.birth_date),
            age_value=str(_age_years(patient.birth_date, ae.onset_on)),
            age_unit="a",
        ),
        primary_sources=(
            PrimarySource(
                qualification=QUALIFICATION.get(ae.reporter_role, Null("UNK")),
                country=country,
                organisation=clinic.name if clinic is not None and ae.reporter_role != "patient" else None,
                family_name=reporter.display_name
                if reporter is not None and ae.reporter_role != "patient"
                else None,
                primary_for_regulatory_purposes=True,
            ),
        ),
        reactions=(
            Reaction(
                id=reaction_id,
                meddra_version=options.meddra_version,
                meddra_code=options.meddra_code,
                reported_term=ae.term,
                reported_language=options.language,
                start=hl7_ts(ae.onset_on),
                seriousness=frozenset(CRITERION[c] for c in ae.seriousness_criteria if c in CRITERION),
                outcome=ICH_OUTCOME.get(ae.outcome, "0"),
                country=country,
            ),
        ),
        drugs=(drug,),
        causality=(
            ()
            if ae.causality not in CAUSALITY_TEXT
            else (
                Causality(
                    drug_id=drug.id,
                    reaction_id=reaction_id,
                    source="Primary source reporter",
                    method="Global introspection",
                    result=CAUSALITY_TEXT[ae.causality],
                ),
            )
        ),
        narrative=narrative,
        first_sender="2",
    )


def sender_id(clinic_id: int) -> str:
    """N.1.3 / N.2.r.2: the sending clinic."""
    return f"REPIGMENT-C{clinic_id}"
