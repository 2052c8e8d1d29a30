"""``repigment users create``: password from standard input, argon2-hashed; bad input exits 2."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from repigment.cli import app
from repigment.store import Clinic, Store, User


@pytest.fixture(autouse=True)
def _url(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPIGMENT_DATABASE_URL", store.url)


def _run(store: Store, *args: str, stdin: str = "s3cret-password\n") -> Any:
    return CliRunner().invoke(app, ["users", "create", *args], input=stdin)


def test_create_users(store: Store) -> None:
    r = _run(store, "--clinic", "North", "--role", "clinician", "--username", "dr.north")
    assert r.exit_code == 0, r.output
    with store.read() as s:
        u = s.scalars(select(User).where(User.username == "dr.north")).one()
        assert u.role == "clinician" and u.password_hash.startswith("$argon2id$")
        assert "s3cret" not in u.password_hash
        assert s.scalars(select(Clinic.name)).all() == ["North"]
    bad = [
        (("--clinic", "North", "--role", "root", "--username", "x"), "--role must be one of"),
        (("--clinic", "North", "--role", "analyst", "--username", "dr.north"), "is taken"),
        (("--clinic", "North", "--role", "analyst", "--username", "a b"), "--username may contain"),
        (("--clinic", "North", "--role", "patient", "--username", "p1"), "--patient-id is required"),
        (("--clinic", "North", "--role", "patient", "--username", "p1", "--patient-id", "7"), "no patient 7"),
    ]
    for args, message in bad:
        r = _run(store, *args)
        assert r.exit_code == 2 and message in r.stderr, (args, r.output)
    r = _run(store, "--clinic", "North", "--role", "analyst", "--username", "an", stdin="short\n")
    assert r.exit_code == 2 and "password must be at least 12 characters" in r.stderr
    for common in ("aaaaaaaaaaaa", "Password123456!", "1q2w3e4r5t6y"):
        r = _run(store, "--clinic", "North", "--role", "admin", "--username", "ad", stdin=common + "\n")
        assert r.exit_code == 2 and "password " in r.stderr, common
    r = _run(store, "--clinic", "North", "--role", "admin", "--username", "ad", stdin="ad\n")
    assert r.exit_code == 2


def _users(*args: str, stdin: str = "") -> Any:
    return CliRunner().invoke(app, ["users", *args], input=stdin)


def test_account_life_cycle_from_the_command_line(store: Store) -> None:
    """deactivate, reactivate, reset-password, set-password, revoke-sessions and list: each audited under
    the CLI's actor; an unknown account or a weak password exits 2."""
    import datetime as dt
    import json

    from repigment.services import security
    from repigment.store import Actor, ApiToken, AuditEntry, verify

    assert _run(store, "--clinic", "North", "--role", "clinician", "--username", "Dr.North").exit_code == 0
    with store.write(Actor("test-setup")) as s:  # tokens are audited rows
        uid = s.scalars(select(User.id)).one()
        now = dt.datetime.now(dt.UTC)
        for i in range(2):
            s.add(
                ApiToken(
                    user_id=uid, token_hash=f"{i}" * 64, kind="bearer", expires_at=now + dt.timedelta(hours=1)
                )
            )
        s.commit()

    def live_tokens() -> int:
        with store.read() as s:
            return len(s.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))).all())

    r = _users("deactivate", "dr.north")  # any case
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["active"] is False and json.loads(r.stdout)["revoked_sessions"] == 2
    assert live_tokens() == 0
    r = _users("reactivate", "DR.NORTH")
    assert r.exit_code == 0 and json.loads(r.stdout)["active"] is True
    r = _users("reset-password", "dr.north")
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["must_change_password"] is True and len(out["temporary_password"]) >= 12
    with store.read() as s:
        assert security.verify_password(s.get(User, uid).password_hash, out["temporary_password"])
    r = _users("set-password", "dr.north", stdin="password\n")
    assert r.exit_code == 2 and "password must be at least 12 characters" in r.stderr
    r = _users("set-password", "dr.north", stdin="iloveyou12345\n")
    assert r.exit_code == 2 and "too common" in r.stderr
    r = _users("set-password", "dr.north", stdin="a sound new passphrase\n")
    assert r.exit_code == 0 and json.loads(r.stdout)["must_change_password"] is False
    with store.read() as s:
        assert security.verify_password(s.get(User, uid).password_hash, "a sound new passphrase")
    assert _users("revoke-sessions", "dr.north").exit_code == 0
    r = _users("deactivate", "nobody")
    assert r.exit_code == 2 and "no account 'nobody'" in r.stderr
    r = _users("list", "--clinic", "North")
    assert r.exit_code == 0 and [u["username"] for u in json.loads(r.stdout)] == ["Dr.North"]
    with store.read() as s:
        actors = s.scalars(
            select(AuditEntry.actor).where(AuditEntry.table_name == "app_user", AuditEntry.action == "update")
        ).all()
    assert len(actors) == 5 and all(a.startswith("cli:") for a in actors)
    with store.engine.connect() as conn:
        assert verify(conn).ok


def test_the_demo_passwords_meet_the_policy() -> None:
    from repigment.services import demo, security

    assert [security.password_problem(x.password, x.username) for x in demo.LOGINS] == [None] * 6


def test_set_role_from_the_command_line(store: Store) -> None:
    """``repigment users set-role``: the rule of ``services.accounts.set_role`` (a patient account keeps its
    role), audited under the CLI's actor; a bad role exits 2 naming it."""
    from repigment.store import AuditEntry

    assert _run(store, "--clinic", "North", "--role", "analyst", "--username", "an.a").exit_code == 0
    r = _users("set-role", "AN.A", "safety_officer")
    assert r.exit_code == 0, r.output
    assert '"role": "safety_officer"' in r.stdout
    for args, message in (
        (("set-role", "an.a", "root"), "role: must be one of"),
        (("set-role", "an.a", "patient"), "role: a patient account"),
        (("set-role", "nobody", "analyst"), "no account"),
    ):
        r = _users(*args)
        assert r.exit_code == 2 and message in r.stderr, (args, r.output)
    with store.read() as s:
        u = s.scalars(select(User).where(User.username == "an.a")).one()
        assert u.role == "safety_officer"
        actors = s.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.table_name == "app_user",
                AuditEntry.row_id == str(u.id),
                AuditEntry.action == "update",
            )
        ).all()
        assert actors and all(a.startswith("cli:") for a in actors)
