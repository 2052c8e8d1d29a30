"""The schema: migrations from the first table, the models match them, SQLite pragmas, constraints."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from repigment.store import Actor, Base, Clinic, Patient, Store


# SQLite cannot reflect the expression index on lower(username); it is checked by the username tests instead.
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrated_to_head_and_models_match(store: Store) -> None:
    assert store.current_revision() == store.head_revision() == "0006"
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    tables = set(inspect(store.engine).get_table_names())
    assert {"clinic", "app_user", "patient", "course", "prescription", "visit", "application"} <= tables
    assert {"adverse_event", "override", "audit_entry", "audit_head", "api_token", "login_throttle"} <= tables


def test_downgrade_to_nothing_and_back(store: Store) -> None:
    store.downgrade("base")
    assert store.current_revision() is None
    assert "patient" not in inspect(store.engine).get_table_names()
    store.upgrade()
    assert store.current_revision() == "0006"


def test_first_start_creates_the_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sub" / "dir" / "new.sqlite3"
    s = Store(f"sqlite:///{path}")
    assert path.exists() and s.current_revision() == "0006"
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    s.dispose()


def test_foreign_keys_and_checks_are_enforced(store: Store) -> None:
    with store.write(Actor("t")) as s:
        s.add(
            Patient(
                clinic_id=999, given_name="A", family_name="B", birth_date=dt.date(1990, 1, 1), sex="male"
            )
        )
        with pytest.raises(IntegrityError):
            s.commit()
    with store.write(Actor("t")) as s:
        s.add(Clinic(name="c"))
        s.flush()
        with pytest.raises(IntegrityError):
            s.execute(
                text(
                    "INSERT INTO app_user (clinic_id, username, password_hash, role, active, created_at) "
                    "VALUES (1, 'x', 'h', 'superuser', true, CURRENT_TIMESTAMP)"
                )
            )


def test_unknown_url_scheme_is_refused() -> None:
    from repigment.store import StoreError

    with pytest.raises(StoreError, match="unsupported database URL scheme 'mysql'"):
        Store("mysql://localhost/x")
    with pytest.raises(StoreError, match="in-memory"):
        Store("sqlite://")


def test_patient_reported_columns_migrate_down_and_up(store: Store) -> None:
    """0002 adds nullable VNS/VitiQoL columns to visits; going back to 0001 removes only them."""
    cols = {c["name"] for c in inspect(store.engine).get_columns("visit")}
    assert {"vns", "vitiqol_items", "vitiqol_item16"} <= cols
    store.downgrade("0001")
    cols = {c["name"] for c in inspect(store.engine).get_columns("visit")}
    assert not {"vns", "vitiqol_items", "vitiqol_item16"} & cols and "f_vasi" in cols
    store.upgrade()
    assert store.current_revision() == "0006"


def test_diary_index_migrates_down_and_up(store: Store) -> None:
    """0003 replaces the diary's index on patient by one on (patient, time); 0002 has the old one back."""

    def indexes() -> dict[str, list[str | None]]:
        return {
            i["name"]: i["column_names"]
            for i in inspect(store.engine).get_indexes("application")
            if i["name"]
        }

    assert indexes()["ix_application_patient_applied"] == ["patient_id", "applied_at", "id"]
    assert "ix_application_patient_id" not in indexes()
    store.downgrade("0002")
    assert indexes()["ix_application_patient_id"] == ["patient_id"]
    assert "ix_application_patient_applied" not in indexes()
    store.upgrade()
    assert store.current_revision() == "0006"
    assert indexes()["ix_application_patient_applied"] == ["patient_id", "applied_at", "id"]


def test_account_columns_migrate_with_the_audit_trail_intact(store: Store) -> None:
    """0004 adds account columns to existing users and records them in the audit trail, so that
    ``audit verify`` still finds every user row equal to its last audited value; usernames that differ
    only in case are refused by the database itself."""
    from repigment.store import User, audit, verify

    store.downgrade("0003")
    created = dt.datetime(2026, 11, 1, 8, 0)
    with store.write_engine.begin() as conn:  # an account as 0003 stored and audited it
        conn.execute(text("INSERT INTO clinic (id, name, created_at) VALUES (1, 'c', :t)"), {"t": created})
        conn.execute(
            text(
                "INSERT INTO app_user (id, clinic_id, username, password_hash, role, display_name, active, "
                "created_at) VALUES (1, 1, 'Dr.A', 'h', 'clinician', NULL, true, :t)"
            ),
            {"t": created},
        )
        at = created.replace(tzinfo=dt.UTC).isoformat()
        user = {"id": 1, "clinic_id": 1, "username": "Dr.A", "password_hash": audit.REDACTED}
        user |= {"role": "clinician", "display_name": None, "active": True, "created_at": at}
        audit.append(
            conn,
            Actor("t"),
            [
                ("create", "clinic", "1", None, {"id": 1, "name": "c", "created_at": at}),
                ("create", "app_user", "1", None, user),
            ],
        )
    store.upgrade()
    with store.engine.connect() as conn:
        report = verify(conn)
    assert report.ok, report.problems
    assert report.entries == 5  # 0004's entry for the account's new columns, 0005's for its password
    # digest, 0006's for the clinic's settings
    with store.write(Actor("t")) as s:
        s.add(User(clinic_id=1, username="dr.a", password_hash="h", role="analyst"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_clinic_settings_migrate_with_the_audit_trail_intact(store: Store) -> None:
    """0006 gives existing clinics a time zone and a default language (UTC, English), recorded in the audit
    trail on the way up and on the way down, so ``audit verify`` holds at both revisions."""
    from repigment.store import audit, verify

    store.downgrade("0005")
    with store.write_engine.begin() as conn:  # a clinic as 0005 stored and audited it
        created = dt.datetime(2026, 1, 1)
        conn.execute(text("INSERT INTO clinic (name, created_at) VALUES ('old', :t)"), {"t": created})
        row = conn.execute(text("SELECT id FROM clinic WHERE name = 'old'")).one()
        snap = {"id": row.id, "name": "old", "created_at": created.replace(tzinfo=dt.UTC).isoformat()}
        audit.append(conn, Actor("t"), [("create", "clinic", str(row.id), None, snap)])
    store.upgrade()
    with store.engine.connect() as conn:
        assert verify(conn).ok, verify(conn).problems
    with store.read() as s:
        c = s.get(Clinic, row.id)
        assert c is not None and (c.timezone, c.default_language) == ("UTC", "en")
    store.downgrade("0005")  # (verify reads the rows through the head's models: checked back at the head)
    with store.engine.connect() as conn:
        assert "timezone" not in {c["name"] for c in inspect(conn).get_columns("clinic")}
    store.upgrade()
    assert store.current_revision() == "0006"
    with store.engine.connect() as conn:
        assert verify(conn).ok, verify(conn).problems  # the entries down and up again replay to the row
