"""An account's life cycle, the one implementation behind the API's routes and ``repigment users``:
deactivate and reactivate, set a password (a temporary one that must be changed at the next log-in, or
the owner's own), and revoke sessions and tokens.

Every step changes the account's row, so the audit trail records who did it and when: ``active``,
``must_change_password``, ``password_changed_at`` and ``sessions_revoked_at`` (the hash itself only as
a digest there), each revoked token's ``revoked_at``, and a ``password_change`` or ``password_reset``
access event. Revoked tokens stop working at once: each request looks its token up (with the
account's ``active`` flag) in the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repigment.services import security
from repigment.services.acting import Principal
from repigment.services.errors import Conflict, Forbidden, InputError, NotFound
from repigment.services.schemas import ClinicSettingsIn, UserIn
from repigment.store import ApiToken, Clinic, Patient, User, record_access_event


def revoke_tokens(s: Session, user: User, now: dt.datetime, keep_token_id: int | None = None) -> int:
    """Revoke every live token and session of ``user`` except ``keep_token_id``; how many were live."""
    live = s.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
    ).all()
    n = 0
    for tok in live:
        if tok.id != keep_token_id:
            tok.revoked_at = now
            n += 1
    user.sessions_revoked_at = now
    return n


def deactivate(s: Session, user: User, now: dt.datetime) -> int:
    """The account can no longer log in and its tokens stop working; the number of tokens revoked."""
    revoked = revoke_tokens(s, user, now)  # first: its query would flush a change made before it
    user.active = False
    return revoked


def reactivate(user: User) -> None:
    user.active = True


def set_role(user: User, role: str) -> None:
    """Another role. A patient account stays one (it is tied to its patient record), and no other account
    becomes one: a patient account is created with its record."""
    if (user.role == "patient") != (role == "patient"):
        raise InputError("role", "a patient account is created with its patient record and keeps that role")
    user.role = role


def set_password(
    s: Session,
    user: User,
    password_hash: str,
    now: dt.datetime,
    *,
    temporary: bool,
    keep_token_id: int | None = None,
) -> int:
    """A new password: ``temporary`` (set by an administrator) must be changed at the next log-in. Every
    other session of the account is revoked (an attacker's too); the number revoked."""
    revoked = revoke_tokens(s, user, now, keep_token_id)  # first: one audit entry for the whole step
    user.password_hash = password_hash
    user.must_change_password = temporary
    user.password_changed_at = now
    actor = s.info.get("actor")
    if actor is not None:  # without one the flush refuses the change anyway
        record_access_event(
            s,
            actor,
            "password_reset" if temporary else "password_change",
            table_name="app_user",
            row_id=user.id,
            detail={"revoked_sessions": revoked},
        )
    return revoked


# -- the administrators' use cases (``/users``), each one transaction ------------------------------------
# Usernames are unique across clinics: the answer says no more than that (not whose it is).
USERNAME_TAKEN: Final = (
    "body.username: is not available (usernames are compared ignoring case): choose another"
)


def _admin(actor: Principal) -> None:
    if actor.role != "admin":
        raise Forbidden(f"the {actor.role} role may not do this")


def username_taken(db: Session, username: str) -> bool:
    return (
        db.scalars(select(User.id).where(func.lower(User.username) == username.lower())).first() is not None
    )


def _commit(db: Session) -> None:
    try:
        db.commit()
    except IntegrityError as e:
        db.rollback()
        raise Conflict(USERNAME_TAKEN) from e
    except BaseException:
        db.rollback()
        raise


def list_users(db: Session, actor: Principal) -> list[User]:
    """The accounts of the administrator's clinic."""
    _admin(actor)
    return list(db.scalars(select(User).where(User.clinic_id == actor.clinic_id).order_by(User.id)).all())


def create_user(db: Session, actor: Principal, body: UserIn) -> User:
    """An account in the administrator's clinic; a patient account is linked to its patient record."""
    _admin(actor)
    patient = None
    if body.role == "patient":
        if body.patient_id is None:
            raise InputError("patient_id", "is required for the patient role")
        patient = db.get(Patient, body.patient_id)
        if patient is None or patient.clinic_id != actor.clinic_id:
            raise InputError("patient_id", f"no patient {body.patient_id} in this clinic")
        if patient.user_id is not None:
            raise Conflict("this patient already has an account")
    elif body.patient_id is not None:
        raise InputError("patient_id", "only accounts with the patient role are linked to a patient")
    if username_taken(db, body.username):
        raise Conflict(USERNAME_TAKEN)
    u = User(
        clinic_id=actor.clinic_id,
        username=body.username,
        password_hash=security.hash_password(body.password),
        role=body.role,
        display_name=body.display_name,
    )
    db.add(u)
    try:
        db.flush()
        if patient is not None:
            patient.user_id = u.id
    except IntegrityError as e:
        db.rollback()
        raise Conflict(USERNAME_TAKEN) from e
    _commit(db)
    return u


def _account(db: Session, admin: Principal, user_id: int) -> User:
    """An account of the administrator's own clinic; NotFound for any other (nothing said about others)."""
    _admin(admin)
    u = db.get(User, user_id)
    if u is None or u.clinic_id != admin.clinic_id:
        raise NotFound("account")
    return u


def _not_self(admin: Principal, u: User, what: str) -> None:
    if u.id == admin.user_id:
        raise Conflict(f"you cannot {what} your own account: another administrator must")


def deactivate_user(db: Session, admin: Principal, user_id: int) -> User:
    """The account can no longer log in, and its tokens and sessions stop working at once."""
    u = _account(db, admin, user_id)
    _not_self(admin, u, "deactivate")
    deactivate(db, u, dt.datetime.now(dt.UTC))
    _commit(db)
    return u


def reactivate_user(db: Session, admin: Principal, user_id: int) -> User:
    u = _account(db, admin, user_id)
    reactivate(u)
    _commit(db)
    return u


@dataclass(frozen=True, slots=True)
class PasswordReset:
    user: User
    temporary_password: str
    revoked_sessions: int


def reset_password(db: Session, admin: Principal, user_id: int) -> PasswordReset:
    """A random temporary password, to hand over once; every session and token of the account is revoked."""
    u = _account(db, admin, user_id)
    _not_self(admin, u, "reset the password of")  # their own: change it (services.auth)
    temporary = security.temporary_password()
    revoked = set_password(db, u, security.hash_password(temporary), dt.datetime.now(dt.UTC), temporary=True)
    _commit(db)
    return PasswordReset(u, temporary, revoked)


def revoke_sessions(db: Session, admin: Principal, user_id: int) -> int:
    """Revoke every session and token of the account (for the administrator's own: every one but theirs)."""
    u = _account(db, admin, user_id)
    keep = admin.token_id if u.id == admin.user_id else None
    revoked = revoke_tokens(db, u, dt.datetime.now(dt.UTC), keep)
    _commit(db)
    return revoked


def change_role(db: Session, admin: Principal, user_id: int, role: str) -> User:
    """Another role for an account of the clinic (``set_role``), never the administrator's own."""
    u = _account(db, admin, user_id)
    _not_self(admin, u, "change the role of")  # no clinic left without its administrator by mistake
    set_role(u, role)
    _commit(db)
    return u


# -- the clinic's settings ---------------------------------------------------------------------------------
def clinic_settings(db: Session, admin: Principal) -> Clinic:
    """The administrator's own clinic, with its time zone and default language."""
    _admin(admin)
    clinic = db.get(Clinic, admin.clinic_id)
    if clinic is None:  # pragma: no cover - an account always has its clinic (foreign key)
        raise NotFound("clinic")
    return clinic


def update_clinic_settings(db: Session, admin: Principal, body: ClinicSettingsIn) -> Clinic:
    """Set the clinic's time zone and default language (audited with the clinic's row)."""
    clinic = clinic_settings(db, admin)
    clinic.timezone = body.timezone
    clinic.default_language = body.default_language
    _commit(db)
    return clinic
