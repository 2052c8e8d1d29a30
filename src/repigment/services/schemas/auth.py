"""Request and response bodies: Log-in, sessions and accounts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

from repigment.services import security
from repigment.services.schemas.common import Id, In, Name, Out, Role, Short, _clean_text


class LoginIn(In):
    username: Short
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_clean_text)]


class TokenOut(Out):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime
    password_change_required: bool = Field(
        False, description="A temporary password: only POST /auth/password is allowed until it is changed"
    )


class SessionOut(Out):
    csrf_token: str
    expires_at: dt.datetime
    password_change_required: bool = False


class MeOut(Out):
    id: int
    username: str
    role: Role
    clinic_id: int
    clinic: str
    display_name: str | None
    patient_id: int | None


Username = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")]
NewPassword = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1000),
    AfterValidator(_clean_text),
    Field(description="At least 12 characters, not a common password and not the username"),
]


def _new_password(v: str, username: str | None) -> str:
    problem = security.password_problem(v, username)
    if problem is not None:
        raise ValueError(problem)
    return v


class UserIn(In):
    username: Username
    password: NewPassword
    role: Role
    display_name: Name | None = None
    patient_id: Id | None = Field(
        None, description="For the patient role: the patient record this account reads"
    )

    @field_validator("password")
    @classmethod
    def _policy(cls, v: str, info: ValidationInfo) -> str:
        return _new_password(v, info.data.get("username"))


class RoleIn(In):
    role: Role


class UserOut(Out):
    id: int
    username: str
    role: Role
    clinic_id: int
    display_name: str | None
    active: bool
    must_change_password: bool


class PasswordResetOut(Out):
    user: UserOut
    temporary_password: str = Field(
        description="Hand it to the account's owner; it must be changed at the first log-in"
    )
    revoked_sessions: int


class RevokedOut(Out):
    revoked_sessions: int


class PasswordChangeIn(In):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    new_password: NewPassword
