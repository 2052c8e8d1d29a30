"""``Prepared`` (the diary's hot-path statements on the DBAPI connection) against SQLAlchemy's own
execution of the same statements: the same rows with the same Python types, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import bindparam, exc, insert, select, text

from repigment.services import auth, checks, diary
from repigment.store import Actor, Application, Clinic, Course, Patient, Prescription, Store, verify
from repigment.store import prepared as prepared_module
from repigment.store.audit import _HEAD_FOR_UPDATE
from repigment.store.db import StoreError
from repigment.store.prepared import Prepared

T0 = dt.datetime(2026, 3, 28, 21, 30, tzinfo=dt.UTC)  # a DST change in Europe/Stockholm follows


def _seed(store: Store) -> dict[str, Any]:
    with store.write(Actor("test")) as s:
        c = Clinic(name="Prepared clinic")
        s.add(c)
        s.flush()
        p = Patient(
            clinic_id=c.id,
            given_name="Ada",
            family_name="Ek",
            birth_date=dt.date(2010, 2, 28),
            sex="female",
            timezone="Europe/Stockholm",
            pregnant=False,
        )
        s.add(p)
        s.flush()
        course = Course(
            patient_id=p.id,
            ruleset="opzelura-eu-2023",
            started_on=dt.date(2026, 1, 5),
            plan={"areas": []},
            verdict="ok",
            findings=[],
        )
        s.add(course)
        s.add(
            Prescription(
                patient_id=p.id,
                prescribed_on=dt.date(2026, 1, 5),
                grams=100.0,
                dispensed_on=dt.date(2026, 1, 6),
            )
        )
        s.add(Prescription(patient_id=p.id, prescribed_on=dt.date(2026, 2, 5), grams=100.0))
        for i in range(12):
            s.add(
                Application(
                    id=str(uuid.UUID(int=i + 1)),
                    patient_id=p.id,
                    course_id=None if i % 3 else None,
                    applied_at=T0 + dt.timedelta(hours=11 * i, microseconds=7 * i),
                    hand_units=1.5 + i / 4,
                    grams=None if i % 4 == 0 else 0.25 * i,
                    sites=[] if i % 5 == 0 else ["face", "hands"][: 1 + i % 2],
                    note=None if i % 2 else "é ✓ 'quoted' \"x\"",
                    verdict="ok" if i % 3 else "warn",
                    flagged=bool(i % 3 == 0),
                    findings=[] if i % 3 else [{"rule": "x", "details": {"n": i, "f": 0.1}}],
                )
            )
        s.commit()
        return {"pid": p.id, "cid": course.id}


def _typed(rows: list[Any]) -> list[list[tuple[type, Any]]]:
    return [[(type(v), v) for v in row] for row in rows]


@pytest.mark.parametrize(
    ("stmt", "params"),
    [
        (checks._HISTORY.stmt, {"since": T0 - dt.timedelta(days=1), "until": T0 + dt.timedelta(days=3)}),
        (
            checks._HISTORY_IDS.stmt,
            {"since": T0 + dt.timedelta(hours=20), "until": T0 + dt.timedelta(days=9)},
        ),
        (checks._HISTORY_COUNT.stmt, {"since": T0, "until": T0 + dt.timedelta(days=2)}),
        (checks._LATEST_COURSE.stmt, {"on": dt.date(2026, 4, 1)}),
        (checks._DISPENSED.stmt, {"on": dt.date(2026, 4, 1), "since": dt.date(2025, 10, 1)}),
        (diary._BY_ID.stmt, {"id": str(uuid.UUID(int=4))}),
        (select(Patient.__table__).where(Patient.__table__.c.id == bindparam("pid")), {}),
        (_HEAD_FOR_UPDATE.stmt, {}),
    ],
    ids=["history", "history-ids", "count", "course", "dispensed", "entry", "patient", "audit-head"],
)
def test_rows_and_types_match_sqlalchemy(store: Store, stmt: Any, params: dict[str, Any]) -> None:
    ids = _seed(store)
    params = {**params, "pid": ids["pid"]} if "pid" in str(stmt) else params
    prepared = Prepared(stmt)
    with store.engine.connect() as conn, conn.begin():
        expected = [tuple(r) for r in conn.execute(stmt, params)]
        got = prepared.all(conn, params)
        again = prepared.all(conn, params)  # from its caches
    assert expected, "the case must select something"
    assert _typed(got) == _typed(expected) == _typed(again)
    with store.engine.connect() as conn:
        assert prepared.scalars(conn, params) == [r[0] for r in expected]
        assert prepared.first(conn, params) == expected[0]


def test_token_lookup_matches(store: Store) -> None:
    from repigment.services import security
    from repigment.store import ApiToken, User

    ids = _seed(store)
    with store.write(Actor("test")) as s:
        patient = s.get(Patient, ids["pid"])
        assert patient is not None
        pw = security.hash_password("password-1")
        u = User(clinic_id=patient.clinic_id, username="u1", password_hash=pw, role="clinician")
        s.add(u)
        s.flush()
        s.add(ApiToken(user_id=u.id, token_hash=security.token_digest("tok"), kind="bearer", expires_at=T0))
        s.commit()
    params = {"digest": security.token_digest("tok")}
    with store.engine.connect() as conn:
        expected = [tuple(r) for r in conn.execute(auth._TOKEN_LOOKUP.stmt, params)]
        assert len(expected) == 1 and _typed(auth._TOKEN_LOOKUP.all(conn, params)) == _typed(expected)


def test_inserts_read_back_as_sqlalchemy_inserts(store: Store) -> None:
    """A row inserted by ``Prepared.run`` reads back exactly as the same values inserted by SQLAlchemy."""
    ids = _seed(store)
    values = {
        "patient_id": ids["pid"],
        "course_id": ids["cid"],
        "applied_at": dt.datetime(2026, 5, 1, 9, 15, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "hand_units": 2.75,
        "grams": None,
        "sites": ["face", "eyelids"],
        "note": "a 'note' ✓",
        "verdict": "warn",
        "flagged": True,
        "findings": [{"rule": "eu-interval", "details": {"hours": "7.5"}}],
        "recorded_by": None,
        "created_at": dt.datetime(2026, 5, 1, 7, 16, tzinfo=dt.UTC),
    }
    table = Application.__table__
    with store.write_engine.connect() as conn, conn.begin():
        assert Prepared(insert(table)).run(conn, {"id": "prepared", **values}) == 1
        conn.execute(insert(table), {"id": "sqlalchemy", **values})
        rows = {
            r.id: tuple(r)[1:]
            for r in conn.execute(select(table).where(table.c.id.in_(["prepared", "sqlalchemy"])))
        }
        conn.rollback()
    assert _typed([rows["prepared"]]) == _typed([rows["sqlalchemy"]])


def test_diary_writes_keep_the_audit_chain(store: Store) -> None:
    """Entries written in one batch, with a retry and a conflicting reuse of an id, and the trail verifies."""
    from repigment.services.schemas import ApplicationIn

    ids = _seed(store)
    with store.engine.connect() as conn:
        patient = Prepared(select(Patient.__table__).where(Patient.__table__.c.id == bindparam("pid"))).one(
            conn, {"pid": ids["pid"]}
        )
    writer = diary.DiaryWriter(store, None)
    body = {"at": "2026-04-02T08:00:00+02:00", "hand_units": 2.0, "grams": 0.5, "sites": ["face"]}
    first = ApplicationIn.model_validate({"id": str(uuid.uuid4()), **body})
    retry = ApplicationIn.model_validate({**first.model_dump(mode="json")})
    conflict = ApplicationIn.model_validate({**first.model_dump(mode="json"), "hand_units": 3.0})
    later = ApplicationIn.model_validate({"id": str(uuid.uuid4()), **body, "at": "2026-04-02T09:00:00+02:00"})
    actor = Actor("test")
    with store.engine.connect() as conn, conn.begin():
        checks = [diary.precheck(conn, patient, b) for b in (first, later)]
    out = writer._write_batch(
        [
            diary.Job(patient, first, None, actor, checks[0]),
            diary.Job(patient, retry, None, actor),
            diary.Job(patient, conflict, None, actor),
            diary.Job(patient, later, None, actor, checks[1]),  # checked before ``first`` existed
        ]
    )
    writer.close()
    assert isinstance(out[0], diary.Stored) and out[0].created
    assert isinstance(out[1], diary.Stored) and not out[1].created and out[1].row["id"] == first.id
    assert isinstance(out[2], diary.EntryConflict)
    assert isinstance(out[3], diary.Stored) and out[3].created
    # ``later`` is 1 h after ``first``: its stale precheck did not see it, the batch checked it again
    assert out[3].row["verdict"] != "ok"
    assert any("interval" in f["rule"] for f in out[3].row["findings"])
    with store.engine.connect() as conn:
        assert verify(conn).ok


# -- the start-up self-check of the SQLAlchemy internals Prepared reads ----------------------------
@pytest.fixture
def unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: no dialect checked yet."""
    monkeypatch.setattr(prepared_module, "_CHECKED", set())


def test_store_opens_when_the_internals_are_as_expected(db_url: str, unchecked: None) -> None:
    store = Store(db_url, migrate=False)
    store.dispose()
    assert store.engine.dialect.name in prepared_module._CHECKED


def test_store_refuses_sqlalchemy_without_the_bind_processors(
    db_url: str, unchecked: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.sql.compiler import SQLCompiler

    monkeypatch.delattr(SQLCompiler, "_bind_processors")
    with pytest.raises(StoreError, match=r"SQLAlchemy .* differs: AttributeError: .*_bind_processors"):
        Store(db_url, migrate=False)


def test_store_refuses_sqlalchemy_whose_result_processing_changed(
    db_url: str, unchecked: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.types import TypeEngine

    def changed(self: Any, dialect: Any, coltype: Any) -> Any:
        return lambda value: ("changed", value)

    monkeypatch.setattr(TypeEngine, "_cached_result_processor", changed)
    with pytest.raises(StoreError, match="result values"):
        Store(db_url, migrate=False)


def test_store_refuses_sqlalchemy_whose_parameters_changed(
    db_url: str, unchecked: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.sql.compiler import SQLCompiler

    real = SQLCompiler.construct_params

    def dropped(self: Any, *args: Any, **kwargs: Any) -> Any:
        return {k: None for k in real(self, *args, **kwargs)}

    monkeypatch.setattr(SQLCompiler, "construct_params", dropped)
    with pytest.raises(StoreError, match="bind values"):
        Store(db_url, migrate=False)


def test_database_errors_are_sqlalchemy_errors(store: Store) -> None:
    """As ``Connection.execute`` raises them, so that the API's handler answers 503 for a failing
    database on the diary path too (a raw DBAPI error would be a 500)."""
    missing = Prepared(select(Patient.__table__).where(Patient.__table__.c.id == bindparam("id")))
    with store.engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE gone (id integer)")
        conn.commit()
        gone = Prepared(text("SELECT id FROM gone WHERE id = :id"))
        conn.exec_driver_sql("DROP TABLE gone")
        conn.commit()
        for call in (gone.all, gone.run):
            with pytest.raises(exc.DBAPIError) as raised, conn.begin():  # noqa: PT012
                call(conn, {"id": 1})
            assert isinstance(raised.value.orig, conn.dialect.loaded_dbapi.Error)
        conn.begin()
        assert missing.all(conn, {"id": -1}) == []  # the connection is still usable


def test_a_lost_connection_is_an_operational_error(store: Store, postgres_url: str) -> None:
    if store.is_sqlite:
        pytest.skip("PostgreSQL: a server-side disconnect")
    query = Prepared(select(Patient.__table__).where(Patient.__table__.c.id == bindparam("id")))
    with store.engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        conn.commit()
        with store.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
            other.commit()
        with pytest.raises(exc.OperationalError) as raised:
            query.all(conn, {"id": 1})
        assert raised.value.connection_invalidated and conn.invalidated
