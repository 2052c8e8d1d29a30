"""Credentials inside the chain: a swapped password hash, an inserted, edited or revived token are
reported by ``verify``; migration 0005 chains the credentials a database already holds."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select, text

from repigment.services import security
from repigment.store import (
    Actor,
    ApiToken,
    AuditEntry,
    Clinic,
    Store,
    User,
    audit,
    verify,
)

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _users(store: Store) -> tuple[int, int, int]:
    with store.write(Actor("admin-cli")) as s:
        clinic = Clinic(name="North")
        s.add(clinic)
        s.flush()
        a = User(
            clinic_id=clinic.id, username="a", password_hash=security.hash_password("a" * 12), role="admin"
        )
        b = User(
            clinic_id=clinic.id, username="b", password_hash=security.hash_password("b" * 12), role="analyst"
        )
        s.add_all([a, b])
        s.flush()
        tok = ApiToken(
            user_id=b.id, token_hash=security.token_digest("t"), kind="bearer", expires_at=NOW, created_at=NOW
        )
        s.add(tok)
        s.commit()
        return a.id, b.id, tok.id


def record_access_event(*args: Any, **kwargs: Any) -> None:
    from repigment.store import record_access_event as record

    record(*args, **kwargs)


def _problems(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return verify(conn).problems


def test_a_swapped_password_hash_is_reported(store: Store) -> None:
    a, b, _ = _users(store)
    assert _problems(store) == []
    with store.write_engine.begin() as conn:  # behind the application's back: a's password becomes b's
        conn.execute(
            text(
                "UPDATE app_user SET password_hash = "
                "(SELECT password_hash FROM app_user WHERE id = :b) WHERE id = :a"
            ),
            {"a": a, "b": b},
        )
    assert _problems(store) == [f"app_user {a}: row differs from its last audited value (edited directly)"]


def test_the_trail_keeps_a_digest_never_the_secret(store: Store) -> None:
    a, _, tok = _users(store)
    with store.read() as s:
        pw = s.get(User, a).password_hash  # type: ignore[union-attr]
        entries = s.scalars(select(AuditEntry)).all()
    text_of_trail = " ".join(f"{e.old} {e.new}" for e in entries)
    assert pw not in text_of_trail and security.token_digest("t") not in text_of_trail
    created = [json.loads(e.new or "") for e in entries if e.table_name == "app_user" and e.row_id == str(a)]

    assert created[0]["password_hash"] == audit.secret_digest(pw)


def test_an_inserted_or_edited_token_is_reported(store: Store) -> None:
    _, b, tok = _users(store)
    with store.write_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_token (user_id, token_hash, kind, created_at, expires_at) "
                "VALUES (:u, :h, 'bearer', :t, :t)"
            ),
            {
                "u": b,
                "h": security.token_digest("forged"),
                "t": NOW.replace(tzinfo=None) + dt.timedelta(days=9),
            },
        )
        conn.execute(
            text("UPDATE api_token SET expires_at = :t WHERE id = :id"),
            {"t": NOW.replace(tzinfo=None) + dt.timedelta(days=365), "id": tok},
        )
    problems = _problems(store)
    assert f"api_token {tok}: row differs from its last audited value (edited directly)" in problems
    assert any(p.endswith("row has no audit entry (inserted behind the application)") for p in problems)
    assert len(problems) == 2


def test_a_revocation_through_the_application_is_explained(store: Store) -> None:
    _, b, tok = _users(store)
    with store.write(Actor("b", b)) as s:
        row = s.get(ApiToken, tok)
        assert row is not None
        row.revoked_at = NOW
        record_access_event(
            s, Actor("b", b), "logout", table_name="app_user", row_id=b, detail={"token_id": tok}
        )
        s.commit()
    assert _problems(store) == []
    with store.write_engine.begin() as conn:  # revived behind the application's back
        conn.execute(text("UPDATE api_token SET revoked_at = NULL WHERE id = :id"), {"id": tok})
    assert _problems(store) == [f"api_token {tok}: row differs from its last audited value (edited directly)"]


def test_access_events_leave_the_chain_whole_and_unknown_ones_are_refused(store: Store) -> None:
    _users(store)
    with store.write(Actor("x", 1)) as s:
        record_access_event(s, Actor("x", 1), "read", table_name="patient", row_id=7, patient_id=7)
        s.commit()
    assert _problems(store) == []
    with pytest.raises(ValueError, match="unknown access event"), store.write(Actor("x", 1)) as s:
        record_access_event(s, Actor("x", 1), "peek", table_name="patient", row_id=7)


def _old_style_user(store: Store) -> tuple[int, int]:
    """A user and a token as revision 0004 left them: the password a bare marker, the token unaudited."""

    with store.write_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO clinic (name, created_at) VALUES ('Old', :t)"), {"t": NOW.replace(tzinfo=None)}
        )
        clinic = conn.execute(text("SELECT id FROM clinic WHERE name = 'Old'")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO app_user (clinic_id, username, password_hash, role, active, created_at) "
                "VALUES (:c, 'old', :h, 'clinician', true, :t)"
            ),
            {"c": clinic, "h": security.hash_password("o" * 12), "t": NOW.replace(tzinfo=None)},
        )
        user = conn.execute(text("SELECT id FROM app_user WHERE username = 'old'")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO api_token (user_id, token_hash, kind, created_at, expires_at) "
                "VALUES (:u, :h, 'session', :t, :t)"
            ),
            {"u": user, "h": security.token_digest("old"), "t": NOW.replace(tzinfo=None)},
        )
        token = conn.execute(text("SELECT id FROM api_token")).scalar_one()
        clinic_snapshot = {"id": clinic, "name": "Old", "created_at": NOW.isoformat()}  # 0004's columns
        user_row = conn.execute(select(audit._table("app_user"))).one()
        marker = dict(audit.row_snapshot("app_user", user_row), password_hash=audit.REDACTED)
        audit.append(
            conn,
            Actor("old code"),
            [
                ("create", "clinic", str(clinic), None, clinic_snapshot),
                ("create", "app_user", str(user), None, marker),
            ],
        )
    return user, token


def test_migration_0005_chains_existing_credentials_and_goes_back(store: Store) -> None:
    store.downgrade("0004")
    user, token = _old_style_user(store)
    store.upgrade()
    assert store.current_revision() == "0006"
    assert _problems(store) == []
    with store.read() as s:
        added = s.scalars(select(AuditEntry).where(AuditEntry.actor == "migration 0005")).all()
    assert [(e.action, e.table_name, e.row_id) for e in added] == [
        ("update", "app_user", str(user)),
        ("create", "api_token", str(token)),
    ]

    assert json.loads(added[0].old or "")["password_hash"] == audit.REDACTED
    assert json.loads(added[0].new or "")["password_hash"].startswith("sha256:")
    # Back to 0004 (no access events yet): the user's entry returns to the marker, the chain holds.
    store.downgrade("0004")
    with store.read() as s:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last is not None and json.loads(last.new or "")["password_hash"] == audit.REDACTED
    store.upgrade()
    assert _problems(store) == []
    # With access events in the trail, going back is refused rather than leaving them unreadable.
    with store.write(Actor("old", user)) as s:
        record_access_event(s, Actor("old", user), "login", table_name="app_user", row_id=user)
        s.commit()
    with pytest.raises(RuntimeError, match="holds 1 access events"):
        store.downgrade("0004")
