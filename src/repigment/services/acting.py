"""Who is acting: the authenticated caller every use case receives, whatever the door."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from repigment.store import Actor, Patient


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: user, role, clinic, and how they authenticated."""

    user_id: int
    username: str
    role: str
    clinic_id: int
    token_id: int
    via_cookie: bool
    patient_id: int | None = None
    must_change_password: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(name=self.username, user_id=self.user_id)


@dataclass(frozen=True, slots=True)
class PatientContext:
    """A patient the acting user may see (tenancy and ownership already checked), with the session."""

    user: Principal
    patient: Patient
    db: Session
