"""The audit trail: who/when/what/old/new for every change, append-only, and tamper detection."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from repigment.store import Actor, AuditEntry, Clinic, MissingActorError, Patient, Store, verify
from repigment.store.audit import GENESIS, entry_hash


def _seed(store: Store) -> int:
    with store.write(Actor("dr-a", user_id=None)) as s:
        c = Clinic(name="Clinic A")
        s.add(c)
        s.flush()
        p = Patient(
            clinic_id=c.id, given_name="Eva", family_name="Ek", birth_date=dt.date(1980, 5, 6), sex="female"
        )
        s.add(p)
        s.commit()
        pid = p.id
    with store.write(Actor("dr-b", user_id=None)) as s:
        p2 = s.get(Patient, pid)
        assert p2 is not None
        p2.given_name = "Eva-Lena"
        s.commit()
    return pid


def _entries(store: Store) -> list[AuditEntry]:
    with store.read() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_every_change_is_recorded_with_who_when_old_new(store: Store) -> None:
    before = dt.datetime.now(dt.UTC)
    pid = _seed(store)
    with store.write(Actor("dr-c")) as s:
        s.delete(s.get(Patient, pid))
        s.commit()
    e = _entries(store)
    assert [(x.action, x.table_name, x.actor) for x in e] == [
        ("create", "clinic", "dr-a"),
        ("create", "patient", "dr-a"),
        ("update", "patient", "dr-b"),
        ("delete", "patient", "dr-c"),
    ]
    update = e[2]
    assert json.loads(update.old or "")["given_name"] == "Eva"
    assert json.loads(update.new or "")["given_name"] == "Eva-Lena"
    assert json.loads(e[3].old or "")["given_name"] == "Eva-Lena" and e[3].new is None
    assert dt.datetime.fromisoformat(e[0].at) >= before
    # The chain: each hash covers the previous one.
    prev = GENESIS
    for x in e:
        assert x.prev_hash == prev
        fields = {
            k: getattr(x, k) for k in ("seq", "at", "user_id", "actor", "action", "table_name", "row_id")
        }
        assert entry_hash(prev, fields | {"old": x.old, "new": x.new}) == x.hash
        prev = x.hash
    with store.engine.connect() as conn:
        rep = verify(conn)
    assert rep.ok, rep.problems
    assert rep.entries == 4


def test_a_write_without_an_actor_is_refused(store: Store) -> None:
    with store.write(None) as s:
        s.add(Clinic(name="nobody's"))
        with pytest.raises(MissingActorError):
            s.commit()


def test_the_trail_refuses_update_and_delete(store: Store) -> None:
    _seed(store)
    for sql in ("UPDATE audit_entry SET actor = 'mallory'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"), store.write_engine.begin() as conn:
            conn.execute(text(sql))
    assert len(_entries(store)) == 3


def _drop_guard(store: Store) -> None:
    """What someone with full database rights could do first."""
    with store.write_engine.begin() as conn:
        if store.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_entry_no_update"))
            conn.execute(text("DROP TRIGGER audit_entry_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))


def _problems(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return verify(conn).problems


def test_verify_catches_a_clinical_row_edited_in_the_database(store: Store) -> None:
    pid = _seed(store)
    assert _problems(store) == []
    with store.write_engine.begin() as conn:
        conn.execute(text("UPDATE patient SET pregnant = true WHERE id = :id"), {"id": pid})
    assert _problems(store) == [f"patient {pid}: row differs from its last audited value (edited directly)"]


def test_verify_catches_rows_inserted_or_deleted_behind_the_application(store: Store) -> None:
    pid = _seed(store)
    with store.write_engine.begin() as conn:
        conn.execute(text("INSERT INTO clinic (name, created_at) VALUES ('ghost', CURRENT_TIMESTAMP)"))
        conn.execute(text("DELETE FROM patient WHERE id = :id"), {"id": pid})
    problems = _problems(store)
    assert any("clinic 2: row has no audit entry" in p for p in problems)
    assert f"patient {pid}: row is gone but the trail never recorded its deletion" in problems


def test_verify_catches_an_edited_entry(store: Store) -> None:
    _seed(store)
    _drop_guard(store)
    with store.write_engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 2"))
    assert "entry 2: content does not match its hash (edited)" in _problems(store)


def test_verify_catches_a_deleted_entry_and_a_cut_tail(store: Store) -> None:
    _seed(store)
    _drop_guard(store)
    with store.write_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    problems = _problems(store)
    assert "entries 2..2 are missing (deleted)" in problems
    assert "entry 3: does not follow the previous entry (chain broken)" in problems


def test_verify_catches_a_cut_tail(store: Store) -> None:
    _seed(store)
    _drop_guard(store)
    with store.write_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
    problems = _problems(store)
    assert any(p.startswith("audit head says 3 entries") for p in problems)


def test_cli_audit_verify_exit_codes(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from repigment.cli import app

    pid = _seed(store)
    monkeypatch.setenv("REPIGMENT_DATABASE_URL", store.url)
    ok = CliRunner().invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["ok"] is True
    with store.write_engine.begin() as conn:
        conn.execute(text("UPDATE patient SET family_name = 'X' WHERE id = :id"), {"id": pid})
    bad = CliRunner().invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False and "edited directly" in report["problems"][0]
