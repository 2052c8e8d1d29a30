"""Accounts of the caller's clinic (admin only; the use cases are ``repigment.services.accounts``), and the
health check."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Depends, Path, Response

from repigment.api.deps import Db, Principal, require_role
from repigment.services import accounts
from repigment.services.schemas import (
    ClinicSettingsIn,
    ClinicSettingsOut,
    HealthOut,
    PasswordResetOut,
    RevokedOut,
    RoleIn,
    UserIn,
    UserOut,
)

router = APIRouter()
T = TypeVar("T")
Admin = Annotated[Principal, Depends(require_role("admin"))]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in"},
    403: {"description": "Admins only"},
}


async def _run(fn: Callable[..., T], *args: Any) -> T:
    """A use case in a worker thread: hashing a password and the commit's fsync stay off the event loop."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args))


@router.get("/health", response_model=HealthOut, tags=["service"])
async def health() -> HealthOut:
    """Liveness: answers without touching the database (the load-test baseline)."""
    return HealthOut(status="ok")


@router.get("/users", response_model=list[UserOut], responses=ERRORS, tags=["accounts"])
async def list_users(db: Db, user: Admin) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in accounts.list_users(db, user)]


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    responses={**ERRORS, 409: {"description": "Username taken"}, 422: {"description": "Invalid"}},
    tags=["accounts"],
)
async def create_user(body: UserIn, db: Db, user: Admin, response: Response) -> UserOut:
    """Create an account in the admin's clinic; a patient account is linked to its patient record."""
    u = await _run(accounts.create_user, db, user, body)
    response.headers["Location"] = f"/api/v1/users/{u.id}"
    return UserOut.model_validate(u)


UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Account id")]
USER_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"description": "No such account in this clinic"},
}


@router.post(
    "/users/{user_id}/deactivate",
    response_model=UserOut,
    responses={**USER_ERRORS, 409: {"description": "Own account"}},
    tags=["accounts"],
)
async def deactivate_user(user_id: UserId, db: Db, admin: Admin) -> UserOut:
    """The account can no longer log in, and its tokens and sessions stop working at once."""
    return UserOut.model_validate(await _run(accounts.deactivate_user, db, admin, user_id))


@router.post(
    "/users/{user_id}/role",
    response_model=UserOut,
    responses={**USER_ERRORS, 409: {"description": "Own account"}, 422: {"description": "Invalid"}},
    tags=["accounts"],
)
async def change_role(user_id: UserId, body: RoleIn, db: Db, admin: Admin) -> UserOut:
    """Another role for the account (a patient account keeps its role; no other becomes one)."""
    return UserOut.model_validate(await _run(accounts.change_role, db, admin, user_id, body.role))


@router.post("/users/{user_id}/reactivate", response_model=UserOut, responses=USER_ERRORS, tags=["accounts"])
async def reactivate_user(user_id: UserId, db: Db, admin: Admin) -> UserOut:
    """The account may log in again (with its password as it was; reset it if in doubt)."""
    return UserOut.model_validate(await _run(accounts.reactivate_user, db, admin, user_id))


@router.post(
    "/users/{user_id}/password-reset",
    response_model=PasswordResetOut,
    responses={**USER_ERRORS, 409: {"description": "Own account"}},
    tags=["accounts"],
)
async def reset_password(user_id: UserId, db: Db, admin: Admin) -> PasswordResetOut:
    """A random temporary password, returned once: until the owner changes it (POST /auth/password) the
    account may do nothing else. Every session and token of the account is revoked."""
    done = await _run(accounts.reset_password, db, admin, user_id)
    return PasswordResetOut(
        user=UserOut.model_validate(done.user),
        temporary_password=done.temporary_password,
        revoked_sessions=done.revoked_sessions,
    )


@router.post(
    "/users/{user_id}/revoke-sessions", response_model=RevokedOut, responses=USER_ERRORS, tags=["accounts"]
)
async def revoke_sessions(user_id: UserId, db: Db, admin: Admin) -> RevokedOut:
    """Revoke every session and token of the account (for the admin's own: every one but this)."""
    return RevokedOut(revoked_sessions=await _run(accounts.revoke_sessions, db, admin, user_id))


@router.get("/clinic/settings", response_model=ClinicSettingsOut, responses=ERRORS, tags=["accounts"])
async def clinic_settings(db: Db, admin: Admin) -> ClinicSettingsOut:
    """The admin's own clinic: its time zone and default language."""
    return ClinicSettingsOut.model_validate(accounts.clinic_settings(db, admin))


@router.put(
    "/clinic/settings",
    response_model=ClinicSettingsOut,
    responses={**ERRORS, 422: {"description": "Invalid"}},
    tags=["accounts"],
)
async def update_clinic_settings(body: ClinicSettingsIn, db: Db, admin: Admin) -> ClinicSettingsOut:
    """Set the clinic's time zone (an IANA name) and default language (``en`` or ``sv``)."""
    return ClinicSettingsOut.model_validate(await _run(accounts.update_clinic_settings, db, admin, body))
