"""The diary writer's batches (``repigment.services.diary.DiaryWriter``) on SQLite and PostgreSQL: an
entry is answered only after its batch committed and a ``Store.sync_wal`` begun after that commit
returned; on PostgreSQL the WAL is then flushed past the batch's commit; entries of one patient, or
with one id, in the same batch see each other."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select, text

from repigment.services import diary
from repigment.services.schemas import ApplicationIn
from repigment.store import Actor, Application, Patient, Store, verify

T0 = dt.datetime(2026, 3, 2, 7, tzinfo=dt.UTC)


def _job(store: Store, patient: Any, at: dt.datetime, entry_id: str | None = None, **extra: Any) -> diary.Job:
    body = ApplicationIn.model_validate(
        {"id": entry_id or str(uuid.uuid4()), "at": at.isoformat(), "hand_units": 2, **extra}
    )
    with store.engine.connect() as conn, conn.begin():
        check = diary.precheck(conn, patient, body)
    return diary.Job(patient, body, None, Actor("test"), check)


def _run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever earlier tests left running here
        return pool.submit(asyncio.run, coro).result()


def test_answered_only_after_a_sync_that_follows_the_commit(store: Store, harness: Any) -> None:
    clinic = harness.seed_clinic(store, "writer")
    with store.engine.connect() as conn:
        patients = [
            conn.execute(select(Patient.__table__).where(Patient.id == p)).one() for p in clinic.patients
        ]
    events: list[tuple[str, Any]] = []
    writer = diary.DiaryWriter(store, None)
    real_batch, real_sync = writer._write_batch, store.sync_wal

    def batch(jobs: list[diary.Job], **kw: Any) -> list[Any]:
        out = real_batch(jobs, **kw)
        lsn = None
        if not store.is_sqlite:
            with store.engine.connect() as conn:
                lsn = conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar()
        events.append(("commit", ({j.body.id for j in jobs}, lsn)))
        return out

    def sync() -> None:
        events.append(("sync", None))
        real_sync()
        flushed = None
        if not store.is_sqlite:
            with store.engine.connect() as conn:
                flushed = conn.execute(text("SELECT pg_current_wal_flush_lsn()")).scalar()
        events.append(("synced", flushed))

    writer._write_batch = batch  # type: ignore[method-assign]
    store.sync_wal = sync  # type: ignore[method-assign]

    async def many() -> list[Any]:
        jobs = [_job(store, patients[i % 2], T0 + dt.timedelta(hours=12 * i)) for i in range(12)]

        async def one(job: diary.Job) -> Any:
            stored = await writer.write(job)
            events.append(("answer", job.body.id))
            return stored

        try:
            return await asyncio.gather(*(one(j) for j in jobs))
        finally:
            writer.close()

    results = _run(many())
    assert all(r.created for r in results) and len(results) == 12
    assert store.deferred_sync or store.synchronous == "NORMAL"
    for i, (kind, value) in enumerate(events):
        if kind != "answer":
            continue
        (c,) = [k for k, (what, v) in enumerate(events) if what == "commit" and value in v[0]]
        syncs = [k for k in range(c + 1, i) if events[k][0] == "sync"]
        assert syncs, f"entry answered without a sync after its batch's commit: {events}"
        done = [k for k in range(syncs[0] + 1, i) if events[k][0] == "synced"]
        assert done, f"entry answered before the sync returned: {events}"
        if not store.is_sqlite:  # the flushed WAL reaches past the batch's commit
            lsn, flushed = events[c][1][1], events[done[0]][1]
            assert _lsn(flushed) >= _lsn(lsn)
    if not store.is_sqlite:
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"  # everything else


def _lsn(value: str) -> int:
    high, low = value.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def test_one_batch_with_one_patient_twice_and_one_id_twice(store: Store, harness: Any) -> None:
    """The later entry of a patient is checked against the earlier one of the same batch (here: 30 min
    apart, under the label's minimum interval, so it is flagged), and a repeated id is a retry."""
    clinic = harness.seed_clinic(store, "batch")
    with store.engine.connect() as conn:
        patient = conn.execute(select(Patient.__table__).where(Patient.id == clinic.patients[0])).one()
        other = conn.execute(select(Patient.__table__).where(Patient.id == clinic.patients[1])).one()
    same = str(uuid.uuid4())
    jobs = [
        _job(store, patient, T0),
        _job(store, other, T0),
        _job(store, patient, T0 + dt.timedelta(minutes=30)),  # prechecked without the first
        _job(store, other, T0 + dt.timedelta(hours=12), entry_id=same),
        _job(store, other, T0 + dt.timedelta(hours=12), entry_id=same),
    ]
    assert jobs[2].check is not None and jobs[2].check.verdict == "ok"  # alone it was fine
    writer = diary.DiaryWriter(store, None)
    try:
        outcomes = writer._write_batch(jobs)
    finally:
        writer.close()
    assert [type(o).__name__ for o in outcomes] == ["Stored"] * 5
    assert [o.created for o in outcomes] == [True, True, True, True, False]  # type: ignore[union-attr]
    assert outcomes[2].row["flagged"]  # type: ignore[union-attr]
    assert "EU-4.2-interval" in {f["rule"] for f in outcomes[2].row["findings"]}  # type: ignore[union-attr]
    with store.engine.connect() as conn:
        assert len(conn.execute(select(Application.id)).all()) == 4
        report = verify(conn)
        assert report.ok, report.problems
