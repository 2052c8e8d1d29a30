"""``repigment users create``: accounts, with the password from standard input or a prompt."""

from __future__ import annotations

import getpass
import re
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from repigment.cli._io import fail, print_json

if TYPE_CHECKING:
    from repigment.store import Actor, Store

ROLES = ("admin", "clinician", "patient", "analyst", "safety_officer")  # checked against the store below

users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")


def cli_actor() -> Actor:
    from repigment.store import Actor

    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "unknown"
    return Actor(name=f"cli:{who}")


def _read_password() -> str:
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def create_user(
    store: Store,
    *,
    clinic: str,
    role: str,
    username: str,
    password: str,
    display_name: str | None = None,
    patient_id: int | None = None,
) -> dict[str, Any]:
    """Create the account (and the clinic if new); raises ValueError with a message for bad input."""
    from sqlalchemy import select

    from repigment.api import security
    from repigment.store import ROLES as STORE_ROLES
    from repigment.store import Clinic, Patient, User

    assert tuple(STORE_ROLES) == ROLES
    if role not in ROLES:
        raise ValueError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    if not _USERNAME.match(username):
        raise ValueError("--username may contain only letters, digits and _ . @ - (at most 100)")
    if not clinic.strip() or len(clinic) > 200:
        raise ValueError("--clinic must be a name of 1 to 200 characters")
    if role == "patient" and patient_id is None:
        raise ValueError("--patient-id is required for the patient role (the record the account reads)")
    if role != "patient" and patient_id is not None:
        raise ValueError("--patient-id is only for the patient role")
    security.check_new_password(password, username)
    password_hash = security.hash_password(password)
    with store.write(cli_actor()) as s:
        c = s.scalars(select(Clinic).where(Clinic.name == clinic)).first()
        created_clinic = c is None
        if c is None:
            c = Clinic(name=clinic)
            s.add(c)
            s.flush()
        if s.scalars(select(User.id).where(User.username == username)).first() is not None:
            raise ValueError(f"username {username!r} is taken")
        patient = None
        if patient_id is not None:
            patient = s.get(Patient, patient_id)
            if patient is None or patient.clinic_id != c.id:
                raise ValueError(f"no patient {patient_id} in clinic {clinic!r}")
            if patient.user_id is not None:
                raise ValueError(f"patient {patient_id} already has an account")
        u = User(
            clinic_id=c.id,
            username=username,
            password_hash=password_hash,
            role=role,
            display_name=display_name,
        )
        s.add(u)
        s.flush()
        if patient is not None:
            patient.user_id = u.id
        s.commit()
        return {
            "id": u.id,
            "username": username,
            "role": role,
            "clinic": clinic,
            "clinic_created": created_clinic,
        }


@users_app.command("create")
def create(
    clinic: Annotated[str, typer.Option(help="Clinic (tenant) name; created if new")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    username: Annotated[str, typer.Option(help="Log-in name")],
    display_name: Annotated[str | None, typer.Option(help="Name shown in the app")] = None,
    patient_id: Annotated[
        int | None, typer.Option(help="For --role patient: the patient record's id")
    ] = None,
) -> None:
    """Create an account. The password is read from standard input (first line) or prompted for."""
    from repigment.store import Store, StoreError

    password = _read_password()
    try:
        store = Store()
        print_json(
            create_user(
                store,
                clinic=clinic,
                role=role,
                username=username,
                password=password,
                display_name=display_name,
                patient_id=patient_id,
            )
        )
    except (ValueError, StoreError) as e:
        fail(str(e))


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
