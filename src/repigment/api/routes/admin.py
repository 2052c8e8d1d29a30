"""Accounts of the caller's clinic (admin only), and the health check."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

import anyio
from fastapi import APIRouter, Depends, HTTPException, Path, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repigment.api.deps import Db, Principal, not_found, require_role
from repigment.services import accounts, security
from repigment.services.schemas import HealthOut, PasswordResetOut, RevokedOut, UserIn, UserOut
from repigment.store import Patient, User

router = APIRouter()
# Usernames are unique across clinics: the answer says no more than that (not whose it is).
USERNAME_TAKEN: Final = (
    "body.username: is not available (usernames are compared ignoring case): choose another"
)
Admin = Annotated[Principal, Depends(require_role("admin"))]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in"},
    403: {"description": "Admins only"},
}


@router.get("/health", response_model=HealthOut, tags=["service"])
async def health() -> HealthOut:
    """Liveness: answers without touching the database (the load-test baseline)."""
    return HealthOut(status="ok")


@router.get("/users", response_model=list[UserOut], responses=ERRORS, tags=["accounts"])
async def list_users(db: Db, user: Admin) -> list[UserOut]:
    rows = db.scalars(select(User).where(User.clinic_id == user.clinic_id).order_by(User.id)).all()
    return [UserOut.model_validate(u) for u in rows]


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    responses={**ERRORS, 409: {"description": "Username taken"}, 422: {"description": "Invalid"}},
    tags=["accounts"],
)
async def create_user(body: UserIn, db: Db, user: Admin, response: Response) -> UserOut:
    """Create an account in the admin's clinic; a patient account is linked to its patient record."""
    patient = None
    if body.role == "patient":
        if body.patient_id is None:
            raise HTTPException(422, "body.patient_id: is required for the patient role")
        patient = db.get(Patient, body.patient_id)
        if patient is None or patient.clinic_id != user.clinic_id:
            raise HTTPException(422, f"body.patient_id: no patient {body.patient_id} in this clinic")
        if patient.user_id is not None:
            raise HTTPException(409, "this patient already has an account")
    elif body.patient_id is not None:
        raise HTTPException(
            422, "body.patient_id: only accounts with the patient role are linked to a patient"
        )
    if username_taken(db, body.username):
        raise HTTPException(409, USERNAME_TAKEN)
    u = User(
        clinic_id=user.clinic_id,
        username=body.username,
        password_hash=await anyio.to_thread.run_sync(security.hash_password, body.password),
        role=body.role,
        display_name=body.display_name,
    )
    db.add(u)
    try:
        db.flush()
        if patient is not None:
            patient.user_id = u.id
        await anyio.to_thread.run_sync(db.commit)
    except IntegrityError as e:
        db.rollback()
        raise HTTPException(409, USERNAME_TAKEN) from e
    response.headers["Location"] = f"/api/v1/users/{u.id}"
    return UserOut.model_validate(u)


def username_taken(db: Session, username: str) -> bool:
    return (
        db.scalars(select(User.id).where(func.lower(User.username) == username.lower())).first() is not None
    )


UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Account id")]
USER_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"description": "No such account in this clinic"},
}


def _account(db: Session, admin: Principal, user_id: int) -> User:
    """An account of the admin's own clinic; 404 for any other (nothing said about other clinics)."""
    u = db.get(User, user_id)
    if u is None or u.clinic_id != admin.clinic_id:
        raise not_found("account")
    return u


def _not_self(admin: Principal, u: User, what: str) -> None:
    if u.id == admin.user_id:
        raise HTTPException(409, f"you cannot {what} your own account: another administrator must")


@router.post(
    "/users/{user_id}/deactivate",
    response_model=UserOut,
    responses={**USER_ERRORS, 409: {"description": "Own account"}},
    tags=["accounts"],
)
async def deactivate_user(user_id: UserId, db: Db, admin: Admin) -> UserOut:
    """The account can no longer log in, and its tokens and sessions stop working at once."""
    u = _account(db, admin, user_id)
    _not_self(admin, u, "deactivate")
    accounts.deactivate(db, u, dt.datetime.now(dt.UTC))
    await anyio.to_thread.run_sync(db.commit)
    return UserOut.model_validate(u)


@router.post("/users/{user_id}/reactivate", response_model=UserOut, responses=USER_ERRORS, tags=["accounts"])
async def reactivate_user(user_id: UserId, db: Db, admin: Admin) -> UserOut:
    """The account may log in again (with its password as it was; reset it if in doubt)."""
    u = _account(db, admin, user_id)
    accounts.reactivate(u)
    await anyio.to_thread.run_sync(db.commit)
    return UserOut.model_validate(u)


@router.post(
    "/users/{user_id}/password-reset",
    response_model=PasswordResetOut,
    responses={**USER_ERRORS, 409: {"description": "Own account"}},
    tags=["accounts"],
)
async def reset_password(user_id: UserId, db: Db, admin: Admin) -> PasswordResetOut:
    """A random temporary password, returned once: until the owner changes it (POST /auth/password) the
    account may do nothing else. Every session and token of the account is revoked."""
    u = _account(db, admin, user_id)
    _not_self(admin, u, "reset the password of")  # their own: POST /auth/password
    temporary = security.temporary_password()
    digest = await anyio.to_thread.run_sync(security.hash_password, temporary)
    revoked = accounts.set_password(db, u, digest, dt.datetime.now(dt.UTC), temporary=True)
    await anyio.to_thread.run_sync(db.commit)
    return PasswordResetOut(
        user=UserOut.model_validate(u), temporary_password=temporary, revoked_sessions=revoked
    )


@router.post(
    "/users/{user_id}/revoke-sessions", response_model=RevokedOut, responses=USER_ERRORS, tags=["accounts"]
)
async def revoke_sessions(user_id: UserId, db: Db, admin: Admin) -> RevokedOut:
    """Revoke every session and token of the account (for the admin's own: every one but this)."""
    u = _account(db, admin, user_id)
    keep = admin.token_id if u.id == admin.user_id else None
    revoked = accounts.revoke_tokens(db, u, dt.datetime.now(dt.UTC), keep)
    await anyio.to_thread.run_sync(db.commit)
    return RevokedOut(revoked_sessions=revoked)
