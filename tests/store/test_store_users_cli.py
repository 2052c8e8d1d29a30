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
