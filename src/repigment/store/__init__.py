"""The clinical record store (adapter): SQLAlchemy models, Alembic migrations, audit trail, backups.

Adapters use it through a :class:`Store`::

    store = Store()                      # REPIGMENT_DATABASE_URL or the embedded SQLite file; migrates
    with store.read() as s:              # a read-only transaction
        s.get(Patient, 1)
    with store.write(Actor("cli")) as s: # a write; every change is audited under this actor
        s.add(...); s.commit()
"""

from repigment.store.audit import Actor, MissingActorError, VerifyReport, record_access_event, verify
from repigment.store.db import AuditedSession, Store, StoreError, data_dir, database_url
from repigment.store.models import (
    AE_CAUSALITIES,
    AE_OUTCOMES,
    COURSE_STATUSES,
    ROLES,
    SERIOUSNESS_CRITERIA,
    SEXES,
    AdverseEvent,
    ApiToken,
    Application,
    AuditEntry,
    AuditHead,
    Base,
    Clinic,
    Course,
    LoginThrottle,
    Override,
    Patient,
    Prescription,
    User,
    Visit,
)

__all__ = [
    "AE_CAUSALITIES",
    "AE_OUTCOMES",
    "COURSE_STATUSES",
    "ROLES",
    "SERIOUSNESS_CRITERIA",
    "SEXES",
    "Actor",
    "AdverseEvent",
    "ApiToken",
    "Application",
    "AuditEntry",
    "AuditHead",
    "AuditedSession",
    "Base",
    "Clinic",
    "Course",
    "LoginThrottle",
    "MissingActorError",
    "Override",
    "Patient",
    "Prescription",
    "Store",
    "StoreError",
    "User",
    "VerifyReport",
    "Visit",
    "data_dir",
    "database_url",
    "record_access_event",
    "verify",
]
