"""The clinical record as SQLAlchemy 2 models: one clinic is one tenant.

Every table except the audit trail and the authentication bookkeeping is audited (see ``audit.py``):
each create/update/delete writes an entry with who, when, the old and the new values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES: Final = ("admin", "clinician", "patient", "analyst", "safety_officer")
SEXES: Final = ("female", "male", "other", "unknown")
COURSE_STATUSES: Final = ("active", "paused", "stopped", "completed")
VERDICTS: Final = ("ok", "info", "warn", "block")
AE_OUTCOMES: Final = (
    "recovered",
    "recovering",
    "not_recovered",
    "recovered_with_sequelae",
    "fatal",
    "unknown",
)
AE_CAUSALITIES: Final = ("related", "possibly_related", "unlikely_related", "not_related", "not_assessed")
# ICH E2A seriousness criteria.
SERIOUSNESS_CRITERIA: Final = (
    "death",
    "life_threatening",
    "hospitalisation",
    "disability",
    "congenital_anomaly",
    "other_medically_important",
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored as naive UTC, so SQLite and PostgreSQL round-trip identically."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times are stored timezone-aware")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Clinic(Base):
    __tablename__ = "clinic"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Settings (the administrator's): an IANA time zone and the language of the pages when none is chosen.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    default_language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")


class User(Base):
    """An account. Usernames are unique whatever their case (``uq_app_user_username_lower``)."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="ck_app_user_role"),
        Index("uq_app_user_username_lower", func.lower(text("username")), unique=True),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A temporary password set by an administrator: only changing it is allowed until it is changed.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    sessions_revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class ApiToken(Base):
    """A bearer token or a web session: only the SHA-256 of the random token is stored."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("kind IN ('bearer', 'session')", name="ck_api_token_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class LoginThrottle(Base):
    """Failed log-ins per throttle key, for exponential lock-out: one row per (username, client address)
    and one per client address (``repigment.services.security.throttle_keys``)."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (CheckConstraint(_in("sex", SEXES), name="ck_patient_sex"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), unique=True, default=None)
    external_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    diagnosis: Mapped[str] = mapped_column(String(40), default="non-segmental")
    facial_involvement: Mapped[bool] = mapped_column(Boolean, default=True)
    pregnant: Mapped[bool] = mapped_column(Boolean, default=False)
    breastfeeding: Mapped[bool] = mapped_column(Boolean, default=False)
    childbearing_potential: Mapped[bool] = mapped_column(Boolean, default=False)
    hypersensitivity: Mapped[bool] = mapped_column(Boolean, default=False)
    end_stage_renal_disease: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Course(Base):
    """A treatment course: its ruleset, the plan (areas, sites) and the label check of that plan."""

    __tablename__ = "course"
    __table_args__ = (CheckConstraint(_in("status", COURSE_STATUSES), name="ck_course_status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    ruleset: Mapped[str] = mapped_column(String(60))
    started_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    stopped_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    stop_reason: Mapped[str | None] = mapped_column(Text, default=None)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    verdict: Mapped[str] = mapped_column(String(8))
    findings: Mapped[list[Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Prescription(Base):
    """A prescription and its dispensing: grams dispensed, when, and when the tube was first opened."""

    __tablename__ = "prescription"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), default=None)
    prescribed_on: Mapped[dt.date] = mapped_column(Date)
    grams: Mapped[float] = mapped_column(Float)
    dispensed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    opened_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    instructions: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Visit(Base):
    """A visit with its assessment: the patches as entered and the scores computed from them."""

    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), default=None)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    week: Mapped[int | None] = mapped_column(Integer, default=None)
    patches: Mapped[list[Any]] = mapped_column(JSON)
    variant: Mapped[dict[str, Any]] = mapped_column(JSON)
    age_years: Mapped[float] = mapped_column(Float)
    f_vasi: Mapped[float] = mapped_column(Float)
    t_vasi: Mapped[float] = mapped_column(Float)
    f_bsa_percent: Mapped[float] = mapped_column(Float)
    t_bsa_percent: Mapped[float] = mapped_column(Float)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    repigmentation_percent: Mapped[float | None] = mapped_column(Float, default=None)
    # Patient-reported at the visit (repigment.scoring.patient_reported): VNS 1–5; VitiQoL items 1–15
    # (0–6 each) and the separate severity item 16. Null when not asked.
    vns: Mapped[int | None] = mapped_column(Integer, default=None)
    vitiqol_items: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    vitiqol_item16: Mapped[int | None] = mapped_column(Integer, default=None)
    ruleset: Mapped[str | None] = mapped_column(String(60), default=None)
    body_model: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Application(Base):
    """One diary entry; ``id`` is the client's UUID so that a retried write never duplicates."""

    __tablename__ = "application"
    __table_args__ = (Index("ix_application_patient_applied", "patient_id", "applied_at", "id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))  # see __table_args__
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), default=None)
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    hand_units: Mapped[float] = mapped_column(Float)
    grams: Mapped[float | None] = mapped_column(Float, default=None)
    sites: Mapped[list[Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    verdict: Mapped[str] = mapped_column(String(8))
    flagged: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[list[Any]] = mapped_column(JSON)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdverseEvent(Base):
    __tablename__ = "adverse_event"
    __table_args__ = (
        CheckConstraint(_in("outcome", AE_OUTCOMES), name="ck_adverse_event_outcome"),
        CheckConstraint(_in("causality", AE_CAUSALITIES), name="ck_adverse_event_causality"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), default=None)
    term: Mapped[str] = mapped_column(String(200))
    onset_on: Mapped[dt.date] = mapped_column(Date)
    serious: Mapped[bool] = mapped_column(Boolean)
    seriousness_criteria: Mapped[list[Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(30), default="unknown")
    causality: Mapped[str] = mapped_column(String(20), default="not_assessed")
    description: Mapped[str | None] = mapped_column(Text, default=None)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    reporter_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Override(Base):
    """A clinician's documented decision to proceed despite a label finding."""

    __tablename__ = "override"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), default=None)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"), default=None)
    rule: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# What the audit trail records: changes to audited rows, and access events (who read or exported which
# record, log-ins and log-outs, photo events, password changes; repigment.store.audit.record_access_event).
CHANGE_ACTIONS: Final = ("create", "update", "delete")
ACCESS_ACTIONS: Final = (
    "read",  # a page view or API read of an identifiable record
    "export",  # FHIR, ICSR, a data download
    "login",
    "login_failed",
    "logout",
    "photo_upload",
    "photo_view",
    "password_change",
    "password_reset",
)
AUDIT_ACTIONS: Final = CHANGE_ACTIONS + ACCESS_ACTIONS


class AuditEntry(Base):
    """Append-only (triggers refuse UPDATE and DELETE); ``hash`` chains each entry to the previous."""

    __tablename__ = "audit_entry"
    __table_args__ = (CheckConstraint(_in("action", AUDIT_ACTIONS), name="ck_audit_entry_action"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))
    table_name: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[str] = mapped_column(String(64))
    old: Mapped[str | None] = mapped_column(Text, default=None)
    new: Mapped[str | None] = mapped_column(Text, default=None)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The latest sequence number and hash, so that cutting entries off the end is detected too."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


AUDITED_TABLES: Final = (
    "clinic",
    "app_user",
    "api_token",
    "patient",
    "course",
    "prescription",
    "visit",
    "application",
    "adverse_event",
    "override",
)
# Secrets never copied into the audit trail: a SHA-256 digest of the stored value stands in for each, so
# that swapping one user's password hash for another's, or a token's digest, is still detected by
# ``verify`` (a digest of an argon2 hash or of a token's digest gives neither back).
SECRET_COLUMNS: Final = {"app_user": frozenset({"password_hash"}), "api_token": frozenset({"token_hash"})}

__all__ = [
    "AE_CAUSALITIES",
    "ACCESS_ACTIONS",
    "AE_OUTCOMES",
    "AUDITED_TABLES",
    "AUDIT_ACTIONS",
    "CHANGE_ACTIONS",
    "COURSE_STATUSES",
    "SECRET_COLUMNS",
    "ROLES",
    "SERIOUSNESS_CRITERIA",
    "SEXES",
    "AdverseEvent",
    "ApiToken",
    "Application",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Clinic",
    "Course",
    "LoginThrottle",
    "Override",
    "Patient",
    "Prescription",
    "UTCDateTime",
    "UniqueConstraint",
    "User",
    "Visit",
    "utcnow",
]
