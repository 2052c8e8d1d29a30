"""Backups are consistent online copies; restore brings that state back, audit trail included."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from repigment.store import Actor, Application, Clinic, Patient, Store, StoreError, verify
from repigment.store.backup import backup, restore


def _patient(store: Store) -> int:
    with store.write(Actor("t")) as s:
        c = Clinic(name="B")
        s.add(c)
        s.flush()
        p = Patient(
            clinic_id=c.id, given_name="G", family_name="F", birth_date=dt.date(1990, 1, 1), sex="male"
        )
        s.add(p)
        s.commit()
        return p.id


def _write(store: Store, pid: int, n: int, start: int) -> None:
    for i in range(start, start + n):
        with store.write(Actor("t")) as s:
            s.add(
                Application(
                    id=f"00000000-0000-4000-8000-{i:012d}",
                    patient_id=pid,
                    applied_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=12 * i),
                    hand_units=2.0,
                    sites=[],
                    verdict="ok",
                    flagged=False,
                    findings=[],
                )
            )
            s.commit()


def _count(store: Store) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(Application)) or 0)


def test_backup_during_writes_then_restore(store: Store, tmp_path: Path) -> None:
    pid = _patient(store)
    _write(store, pid, 20, 0)
    writer = threading.Thread(target=_write, args=(store, pid, 40, 20))
    writer.start()
    dest = tmp_path / "backup.bin"
    backup(store, dest)  # while the writer is running
    writer.join()
    assert _count(store) == 60
    restore(store, dest)
    n = _count(store)
    assert 20 <= n <= 60  # a consistent snapshot from some moment during the writes
    with store.engine.connect() as conn:
        rep = verify(conn)
    assert rep.ok, rep.problems  # the trail and the rows come from the same instant
    assert rep.rows_checked == n + 2
    _write(store, pid, 1, 100)  # and the restored database takes new writes
    assert _count(store) == n + 1


def test_restore_refuses_what_is_not_a_backup(store: Store, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello, not a database")
    with pytest.raises(StoreError, match="not a"):
        restore(store, junk)
    with pytest.raises(StoreError, match="does not exist"):
        restore(store, tmp_path / "missing.bin")


def test_cli_backup_and_restore(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from repigment.cli import app

    _patient(store)
    monkeypatch.setenv("REPIGMENT_DATABASE_URL", store.url)

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, list(args))

    dest = tmp_path / "b.bak"
    r = run("db", "backup", str(dest))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["bytes"] == dest.stat().st_size > 0
    r = run("db", "restore", str(dest))
    assert r.exit_code == 2 and "--yes" in r.stderr
    r = run("db", "restore", str(dest), "--yes")
    assert r.exit_code == 0, r.output
    r = run("db", "restore", str(tmp_path / "nope"), "--yes")
    assert r.exit_code == 2 and "does not exist" in r.stderr
    r = run("db", "upgrade")
    assert r.exit_code == 0 and json.loads(r.stdout)["to"] == "0006"
