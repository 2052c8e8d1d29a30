"""``repigment users``: accounts and their life cycle (create, list, deactivate, reactivate, reset or set a
password, revoke sessions), with passwords from standard input or a prompt. Every change is audited
under the actor ``cli:<login name>``; the steps are ``repigment.services.accounts``, as in the API."""

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
    from sqlalchemy import func, select

    from repigment.services import security
    from repigment.store import ROLES as STORE_ROLES
    from repigment.store import Clinic, Patient, User

    assert tuple(STORE_ROLES) == ROLES
    if role not in ROLES:
        raise ValueError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    if not _USERNAME.match(username):
        raise ValueError("--username may contain only letters, digits and _ . @ - (at most 100)")
    from repigment.services.schemas import has_visible

    if not has_visible(clinic) or len(clinic) > 200:
        raise ValueError("--clinic must be a name of 1 to 200 characters, some of them visible")
    if display_name is not None and (not has_visible(display_name) or len(display_name) > 200):
        raise ValueError("--display-name must be 1 to 200 characters, some of them visible")
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
        if s.scalars(select(User.id).where(func.lower(User.username) == username.lower())).first():
            raise ValueError(f"--username {username!r} is taken (usernames are compared ignoring case)")
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


def _account(s: Any, username: str) -> Any:
    from sqlalchemy import func, select

    from repigment.store import User

    u = s.scalars(select(User).where(func.lower(User.username) == username.lower())).first()
    if u is None:
        raise ValueError(f"no account {username!r}")
    return u


def _summary(s: Any, u: Any) -> dict[str, Any]:
    from repigment.store import Clinic

    clinic = s.get(Clinic, u.clinic_id)
    return {
        "id": u.id,
        "username": u.username,
        "role": u.role,
        "clinic": clinic.name if clinic else None,
        "active": u.active,
        "must_change_password": u.must_change_password,
    }


def change_account(
    store: Store, username: str, action: str, password: str | None = None, role: str | None = None
) -> dict[str, Any]:
    """One life-cycle step on an account: ``deactivate``, ``reactivate``, ``reset-password`` (a random
    temporary password, returned once), ``set-password`` (``password``, checked against the policy),
    ``revoke-sessions`` or ``set-role`` (``role``). ValueError with a message for bad input."""
    import datetime as dt

    from repigment.services import accounts, security
    from repigment.services.errors import InputError

    if action == "set-role" and role not in ROLES:
        raise ValueError(f"role: must be one of {', '.join(ROLES)}")
    now = dt.datetime.now(dt.UTC)
    digest = temporary = None
    if action == "reset-password":
        temporary = security.temporary_password()
        digest = security.hash_password(temporary)
    elif action == "set-password":
        assert password is not None
        security.check_new_password(password, username)
        digest = security.hash_password(password)
    with store.write(cli_actor()) as s:
        u = _account(s, username)
        out: dict[str, Any] = {}
        if action == "deactivate":
            out["revoked_sessions"] = accounts.deactivate(s, u, now)
        elif action == "reactivate":
            accounts.reactivate(u)
        elif action == "revoke-sessions":
            out["revoked_sessions"] = accounts.revoke_tokens(s, u, now)
        elif action == "set-role":
            assert role is not None
            try:
                accounts.set_role(u, role)
            except InputError as e:
                raise ValueError(f"role: {e.reason}") from e
        else:
            assert digest is not None
            out["revoked_sessions"] = accounts.set_password(
                s, u, digest, now, temporary=temporary is not None
            )
            if temporary is not None:
                out["temporary_password"] = temporary
        s.commit()
        return _summary(s, u) | out


def list_accounts(store: Store, clinic: str | None) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from repigment.store import Clinic, User

    with store.read() as s:
        q = select(User).order_by(User.id)
        if clinic is not None:
            q = q.join(Clinic, Clinic.id == User.clinic_id).where(Clinic.name == clinic)
        return [_summary(s, u) for u in s.scalars(q).all()]


def _change(username: str, action: str, password: str | None = None, role: str | None = None) -> None:
    from repigment.store import Store, StoreError

    try:
        print_json(change_account(Store(), username, action, password, role))
    except (ValueError, StoreError) as e:
        fail(str(e))


@users_app.command("list")
def list_(clinic: Annotated[str | None, typer.Option(help="Only this clinic's accounts")] = None) -> None:
    """The accounts: id, username, role, clinic, active, whether a temporary password awaits changing."""
    from repigment.store import Store, StoreError

    try:
        print_json(list_accounts(Store(), clinic))
    except StoreError as e:
        fail(str(e))


Username = Annotated[str, typer.Argument(help="The account's log-in name (any case)")]


@users_app.command("deactivate")
def deactivate(username: Username) -> None:
    """The account can no longer log in; its sessions and tokens stop working at once."""
    _change(username, "deactivate")


@users_app.command("reactivate")
def reactivate(username: Username) -> None:
    """The account may log in again."""
    _change(username, "reactivate")


@users_app.command("reset-password")
def reset_password(username: Username) -> None:
    """Print a random temporary password (once); it must be changed at the first log-in. Revokes every
    session and token of the account."""
    _change(username, "reset-password")


@users_app.command("set-password")
def set_password(username: Username) -> None:
    """Set a password read from standard input (first line) or prompted for (at least 12 characters, not
    a common password). Revokes every session and token of the account."""
    _change(username, "set-password", _read_password())


@users_app.command("revoke-sessions")
def revoke_sessions(username: Username) -> None:
    """Revoke every session and token of the account."""
    _change(username, "revoke-sessions")


@users_app.command("set-role")
def set_role(
    username: Username,
    role: Annotated[str, typer.Argument(help="admin, clinician, analyst or safety_officer")],
) -> None:
    """Give the account another role (a patient account keeps its role; no other account becomes one)."""
    _change(username, "set-role", role=role)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
