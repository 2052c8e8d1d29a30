"""Shared fixtures: fresh migrated databases on SQLite and PostgreSQL, a real server, HTTP clients.

- ``postgres_url``: the throwaway cluster of ``scripts/run-tests.sh`` (``REPIGMENT_TEST_POSTGRES_URL``);
  when pytest runs on its own the fixture starts one with ``scripts/pg-cluster.sh`` if PostgreSQL's
  server programs are installed, and skips the PostgreSQL variants otherwise (under ``make test``,
  ``REPIGMENT_TEST_REQUIRE_POSTGRES=1`` turns that skip into a failure).
- ``db_url`` / ``store``: a fresh, migrated database per test, once on SQLite and once on PostgreSQL
  (copied from a migrated template, so each costs milliseconds).
- ``api_server``: one ``repigment serve`` subprocess per backend for the session, on a free loopback
  port; ``start_server(db_url)`` starts others (the durability test kills one). ``http`` is an
  ``httpx.Client`` on ``api_server``. ``clinic_factory`` seeds a clinic with one user per role and two
  patients (the first linked to the patient account) directly through the store.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
REPIGMENT = str(Path(sys.executable).with_name("repigment"))
BACKENDS = ("sqlite", "postgresql")
PASSWORD = "correct horse battery"
# A deployment's pseudonym key (the app refuses to start without one outside demo mode); set here so
# that in-process apps and ``repigment serve`` subprocesses inherit it.
os.environ.setdefault("REPIGMENT_PSEUDONYM_KEY", "test-pseudonym-key-" + uuid.uuid4().hex)


# -- PostgreSQL ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REPIGMENT_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    required = os.environ.get("REPIGMENT_TEST_REQUIRE_POSTGRES") == "1"
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        if required:
            pytest.fail("PostgreSQL is required (REPIGMENT_TEST_REQUIRE_POSTGRES=1) but not installed")
        pytest.skip("PostgreSQL server programs are not installed (scripts/ensure-test-deps.sh)")
    cluster = Path(tempfile.mkdtemp(prefix="repigment-pg-"))
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts/pg-cluster.sh"), "start", str(cluster)],
        capture_output=True,
        text=True,
        env={**os.environ, "PG_FSYNC": "off"},
    )
    if proc.returncode != 0:
        pytest.fail(f"could not start a PostgreSQL cluster: {proc.stderr}")
    try:
        yield proc.stdout.strip()
    finally:
        subprocess.run(
            ["bash", str(ROOT / "scripts/pg-cluster.sh"), "stop", str(cluster)], capture_output=True
        )


def _pg_admin(url: str) -> Any:
    import psycopg

    from repigment.store.db import libpq_url

    return psycopg.connect(libpq_url(url), autocommit=True)


def _with_db(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


_counter = itertools.count()


@dataclass
class Templates:
    """A migrated database per backend that each test's fresh database is copied from."""

    root: Path
    postgres_url: str | None = None
    sqlite_path: Path | None = None
    pg_template: str | None = None
    made: list[str] = field(default_factory=list)

    def sqlite(self) -> str:
        from repigment.store import Store

        if self.sqlite_path is None:
            path = self.root / "template.sqlite3"
            Store(f"sqlite:///{path}").dispose()
            self.sqlite_path = path
        dest = self.root / f"db{next(_counter)}.sqlite3"
        shutil.copyfile(self.sqlite_path, dest)
        return f"sqlite:///{dest}"

    def postgresql(self) -> str:
        from repigment.store import Store

        assert self.postgres_url is not None
        if self.pg_template is None:
            name = f"repigment_template_{os.getpid()}"
            with _pg_admin(self.postgres_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            Store(_with_db(self.postgres_url, name)).dispose()
            self.pg_template = name
        name = f"repigment_test_{os.getpid()}_{next(_counter)}"
        with _pg_admin(self.postgres_url) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_template}"')
        self.made.append(name)
        return _with_db(self.postgres_url, name)

    def drop(self, url: str) -> None:
        if url.startswith("postgresql") and self.postgres_url:
            from sqlalchemy.engine import make_url

            name = make_url(url).database
            with _pg_admin(self.postgres_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(root=tmp_path_factory.mktemp("databases"))


def fresh_db_url(request: pytest.FixtureRequest, templates: Templates, backend: str) -> str:
    """A fresh migrated database on ``backend`` (dropped at the end of the requesting fixture's scope)."""
    if backend == "sqlite":
        return templates.sqlite()
    templates.postgres_url = request.getfixturevalue("postgres_url")
    url = templates.postgresql()
    request.addfinalizer(lambda: templates.drop(url))
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, _templates: Templates) -> str:
    """A fresh, migrated database URL: each test using it runs on SQLite and on PostgreSQL."""
    return fresh_db_url(request, _templates, request.param)


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    from repigment.store import Store

    s = Store(db_url, migrate=False)
    yield s
    s.dispose()


# -- servers -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A ``repigment serve`` subprocess on a loopback port."""

    db_url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL to the server and its worker processes (its own process group)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    db_url: str, log_dir: Path, extra_env: dict[str, str] | None = None, *, workers: int = 1
) -> Server:
    port = free_port()
    log = log_dir / f"server-{port}.log"
    env = {
        **os.environ,
        "REPIGMENT_DATABASE_URL": db_url,
        "REPIGMENT_LOG_LEVEL": "warning",
        # Every test speaks from 127.0.0.1 to the session's shared servers: the per-address log-in limit
        # would add up their deliberate failures (tests/api/test_api_login_throttle.py checks it).
        "REPIGMENT_LOGIN_CLIENT_FAILURES": "1000",
        **(extra_env or {}),
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [REPIGMENT, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
            + ["--workers", str(workers)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so that ``kill`` reaches every worker
        )
    server = Server(db_url, port, proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"server did not answer within 60 s:\n{log.read_text()}")


@pytest.fixture(scope="session", params=BACKENDS)
def api_server(
    request: pytest.FixtureRequest, _templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A running server per backend, shared by the session (tests seed their own clinics)."""
    url = fresh_db_url(request, _templates, request.param)
    server = start_server(url, tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


@pytest.fixture
def http(api_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=30) as client:
        yield client


# -- seeding -------------------------------------------------------------------------------------
@dataclass
class Seeded:
    """A clinic with one account per role and two patients; ``patients[0]`` has the patient account."""

    clinic_id: int
    name: str
    users: dict[str, str]  # role -> username
    patients: list[int]
    password: str = PASSWORD

    def login(self, client: httpx.Client, role: str) -> dict[str, str]:
        r = client.post("/api/v1/auth/token", json={"username": self.users[role], "password": self.password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


_HASH: dict[str, str] = {}


def seed_clinic(store: Any, label: str = "clinic") -> Seeded:
    from repigment.services.security import hash_password
    from repigment.store import ROLES, Actor, Clinic, Patient, User

    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = hash_password(PASSWORD)
    tag = uuid.uuid4().hex[:8]
    with store.write(Actor("test-setup")) as s:
        clinic = Clinic(name=f"{label}-{tag}")
        s.add(clinic)
        s.flush()
        users = {}
        for role in ROLES:
            u = User(clinic_id=clinic.id, username=f"{role}-{tag}", password_hash=_HASH[PASSWORD], role=role)
            s.add(u)
            users[role] = u
        s.flush()
        patients = []
        for i, (given, sex, born) in enumerate(
            (("Ada", "female", "1985-02-03"), ("Bo", "male", "1970-06-07"))
        ):
            p = Patient(
                clinic_id=clinic.id,
                user_id=users["patient"].id if i == 0 else None,
                given_name=given,
                family_name=f"Test-{tag}",
                birth_date=dt.date.fromisoformat(born),
                sex=sex,
                timezone="Europe/Stockholm",
            )
            s.add(p)
            s.flush()
            patients.append(p.id)
        s.commit()
        return Seeded(clinic.id, clinic.name, {r: u.username for r, u in users.items()}, patients)


@pytest.fixture
def clinic_factory(api_server: Server) -> Iterator[Callable[[], Seeded]]:
    """Seed clinics into the running server's database."""
    from repigment.store import Store

    s = Store(api_server.db_url, migrate=False)
    yield lambda: seed_clinic(s)
    s.dispose()


@pytest.fixture(scope="session")
def harness() -> Any:
    """The helpers above for tests that need more than the fixtures (importing conftest is fragile)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        seed_clinic=seed_clinic, fresh_db_url=fresh_db_url, start_server=start_server, free_port=free_port
    )
