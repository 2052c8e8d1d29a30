"""Accounts of the caller's clinic (admin only), and the health check."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from repigment.api import security
from repigment.api.deps import Db, Principal, require_role
from repigment.api.schemas import HealthOut, UserIn, UserOut
from repigment.store import Patient, User

router = APIRouter()
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
    if db.scalars(select(User.id).where(User.username == body.username)).first() is not None:
        raise HTTPException(409, f"username {body.username!r} is taken")
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
        raise HTTPException(409, f"username {body.username!r} is taken") from e
    response.headers["Location"] = f"/api/v1/users/{u.id}"
    return UserOut.model_validate(u)
