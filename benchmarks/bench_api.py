"""Load test of ``repigment serve`` over loopback: diary writes and record reads, SQLite and PostgreSQL.

A real server process (one uvicorn worker, access log off) on a fresh database with 50 patients; the
load generator is ``wrk`` (C, 2 threads, ``CONNECTIONS`` keep-alive connections, a Lua script making a
unique UUID per diary entry), so its own CPU does not starve the server. When ``wrk`` is missing it is
installed from Debian (``apt-get install wrk``, as root or through ``sudo -n``); failing that, a light
asyncio HTTP/1.1 client in this process is used and the report says so. Each phase runs ``SECONDS``
after a warm-up. Phases: the baseline ``GET /api/v1/health`` (no database, no
authentication), diary writes (``POST …/applications``: token check, label check against the recent
diary, insert, audit entry, commit), and record reads (``GET /patients/{id}`` and a 50-entry diary
page, alternating). Throughput is reported as a ratio to the baseline measured in the same run.
PostgreSQL runs in a throwaway cluster (``scripts/pg-cluster.sh``, fsync on) when its programs are
installed. ``REPIGMENT_BENCH_QUICK=1``: short phases (a smoke test).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("REPIGMENT_BENCH_QUICK") == "1"
SECONDS = 3.0 if QUICK else 15.0
WARMUP = 1.0 if QUICK else 3.0
CONNECTIONS = 16
PATIENTS = 50
WORKERS = max(2, os.cpu_count() or 2)  # `repigment serve --workers`: one process per core
# ``REPIGMENT_BENCH_ONLY=sqlite,pg``: only these configurations (sqlite: SQLite with WORKERS workers,
# sqlite1: one worker, normal: synchronous=NORMAL, pg: PostgreSQL); ``REPIGMENT_BENCH_PHASES=health,write``:
# only these phases (health, write, read). Both default to all (what ``make bench`` runs).
ONLY: Final = frozenset(os.environ.get("REPIGMENT_BENCH_ONLY", "sqlite,sqlite1,normal,pg").split(","))
PHASES: Final = frozenset(os.environ.get("REPIGMENT_BENCH_PHASES", "health,write,read").split(","))


@dataclass
class Phase:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    p50_ms: float | None = None  # as wrk measured them (its own latency histogram)
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        if q == 0.5 and self.p50_ms is not None:
            return self.p50_ms
        if q == 0.99 and self.p99_ms is not None:
            return self.p99_ms
        xs = sorted(self.latencies)
        return 1000 * xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def _response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _load(port: int, make: Callable[[], bytes], ok: set[int], seconds: float, warmup: float) -> Phase:
    latencies: list[float] = []
    counts = {"n": 0, "errors": 0}
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    async def conn() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            t = time.perf_counter()
            if t >= stop_at:
                break
            writer.write(make())
            status = await _response(reader)
            done = time.perf_counter()
            if t >= measure_from:
                latencies.append(done - t)
                counts["n"] += 1
                counts["errors"] += status not in ok
        writer.close()

    await asyncio.gather(*(conn() for _ in range(CONNECTIONS)))
    return Phase("", counts["n"], counts["errors"], seconds, latencies)


# wrk: each thread owns a disjoint share of the patients (so no two connections write one patient's diary
# at the same instant), each patient gets an entry every 12 h of diary time, UUIDs are unique per run,
# thread and request; answers other than the expected status are counted and reported as errors.
_WRK_LUA: Final = r"""
local counter, threads, run, base_s = 0, 1, "0", 0  -- tid: a global, set by setup()
local pids, token, mode, expect = {}, "", "health", 200
local all_threads, next_tid = {}, 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(all_threads, thread)
end
function init(args)
  mode, token, run, base_s = args[1], args[2], args[3], tonumber(args[4])
  threads = tonumber(args[5])
  for p in string.gmatch(args[6], "%d+") do table.insert(pids, tonumber(p)) end
  expect = (mode == "write") and 201 or 200
  bad = 0
end
local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S+00:00", t)
end
function request()
  counter = counter + 1
  if mode == "health" then
    return wrk.format("GET", "/api/v1/health")
  end
  local headers = {["Authorization"] = "Bearer " .. token}
  local mine = math.floor((#pids - tid - 1) / threads) + 1   -- patients of this thread
  local k = (counter - 1) % mine
  local pid = pids[tid + 1 + k * threads]
  if mode == "read" then
    local path = "/api/v1/patients/" .. pid
    if counter % 2 == 0 then path = path .. "/applications?limit=50" end
    return wrk.format("GET", path, headers)
  end
  headers["Content-Type"] = "application/json"
  local at = base_s + 43200 * math.floor((counter - 1) / mine)
  local id = string.format("%08x-%04x-4000-8000-%012x", tonumber(run), tid, counter)
  local body = '{"id":"' .. id .. '","at":"' .. iso(at) .. '","hand_units":3.5,"grams":0.9,"sites":["face"]}'
  return wrk.format("POST", "/api/v1/patients/" .. pid .. "/applications", headers, body)
end
function response(status, headers, body)
  if status ~= expect then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(all_threads) do b = b + (t:get("bad") or 0) end
  io.write(string.format(
    '\nRESULT {"requests": %d, "us": %d, "p50": %d, "p99": %d, "bad": %d, "socket": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), b,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""
WRK_THREADS: Final = 2
GENERATOR: dict[str, str] = {"name": "wrk"}


def find_wrk() -> str | None:
    """``wrk`` on PATH, else installed from Debian (root, or ``sudo -n``); None when that is impossible."""
    found = shutil.which("wrk")
    if found or not shutil.which("apt-get"):
        return found
    prefix: list[str] = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else [])
    if os.geteuid() != 0 and not prefix:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"]):
        subprocess.run(prefix + cmd, capture_output=True, env=env, timeout=600)
        if cmd[1] == "update":
            subprocess.run(prefix + ["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, env=env)
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


def _wrk_phase(
    wrk: str, script: Path, port: int, mode: str, token: str, pids: list[int], run: int, base: dt.datetime
) -> Phase:
    args = [mode, token, str(run), str(int(base.timestamp())), str(WRK_THREADS), ",".join(map(str, pids))]
    url = f"http://127.0.0.1:{port}"
    common = [wrk, "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "--timeout", "10s", "-s", str(script)]
    subprocess.run(  # warm-up: same script, its own UUIDs and an earlier stretch of diary time
        [
            *common,
            "-d",
            f"{WARMUP:g}s",
            url,
            "--",
            *args[:2],
            str(run + 1),
            str(int(base.timestamp()) - 10**8),
            *args[4:],
        ],
        capture_output=True,
        check=True,
    )
    out = subprocess.run(
        [*common, "-d", f"{SECONDS:g}s", "--latency", url, "--", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT ") :])
    return Phase(
        "", r["requests"], r["bad"] + r["socket"], r["us"] / 1e6, [], r["p50"] / 1000, r["p99"] / 1000
    )


def _request(method: str, path: str, token: str, body: dict[str, Any] | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n"
    if body is not None:
        head += f"content-type: application/json\r\ncontent-length: {len(data)}\r\n"
    return head.encode() + b"\r\n" + data


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str) -> tuple[list[int], str, str]:
    from repigment.services.security import hash_password
    from repigment.store import Actor, Clinic, Patient, Store, User

    store = Store(url)
    pw = "benchmark password"
    with store.write(Actor("bench")) as s:
        c = Clinic(name="Bench clinic")
        s.add(c)
        s.flush()
        s.add(User(clinic_id=c.id, username="bench-doc", password_hash=hash_password(pw), role="clinician"))
        pids = []
        for i in range(PATIENTS):
            p = Patient(
                clinic_id=c.id,
                given_name=f"P{i}",
                family_name="Bench",
                birth_date=dt.date(1980, 1, 1) + dt.timedelta(days=97 * i),
                sex="female" if i % 2 else "male",
                timezone="Europe/Stockholm",
            )
            s.add(p)
            s.flush()
            pids.append(p.id)
        s.commit()
    store.dispose()
    return pids, "bench-doc", pw


def _serve(
    url: str, log: Path, env_extra: dict[str, str], workers: int
) -> tuple[subprocess.Popen[bytes], int]:
    """Start the server and return once every worker process has started (each logs its start-up;
    the first to answer /health may be alone for seconds while the others import)."""
    port = _free_port()
    exe = str(Path(sys.executable).with_name("repigment"))
    env = {**os.environ, "REPIGMENT_DATABASE_URL": url, "REPIGMENT_LOG_LEVEL": "info", **env_extra}
    env.setdefault("REPIGMENT_PSEUDONYM_KEY", "bench-" + secrets.token_hex(32))
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [exe, "serve", "--port", str(port), "--no-access-log", "--workers", str(workers)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if log.read_text(errors="replace").count("Application startup complete") >= workers:
            return proc, port
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


def run_backend(
    url: str, workdir: Path, env_extra: dict[str, str] | None = None, workers: int = 1
) -> dict[str, Phase]:
    import httpx

    pids, user, pw = _seed(url)
    proc, port = _serve(url, workdir / "server.log", env_extra or {}, workers)
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", json={"username": user, "password": pw})
        token = r.json()["access_token"]
        health = b"GET /api/v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
        seq = {"i": 0}
        t0 = dt.datetime(2026, 1, 1, 7, 30, tzinfo=dt.UTC)

        def write() -> bytes:
            i = seq["i"] = seq["i"] + 1
            pid = pids[i % PATIENTS]
            at = t0 + dt.timedelta(hours=12 * (i // PATIENTS))  # each patient twice a day
            body = {
                "id": str(uuid.uuid4()),
                "at": at.isoformat(),
                "hand_units": 3.5,
                "grams": 0.9,
                "sites": ["face"],
            }
            return _request("POST", f"/api/v1/patients/{pid}/applications", token, body)

        def read() -> bytes:
            i = seq["i"] = seq["i"] + 1
            pid = pids[i % PATIENTS]
            path = f"/api/v1/patients/{pid}" if i % 2 else f"/api/v1/patients/{pid}/applications?limit=50"
            return _request("GET", path, token)

        phases = {}
        wrk = find_wrk()
        script = workdir / "bench.lua"
        script.write_text(_WRK_LUA)
        for run, (name, mode, make, ok) in enumerate(
            (
                ("health (baseline)", "health", lambda: health, {200}),
                ("diary writes", "write", write, {201}),
                ("record reads", "read", read, {200}),
            )
        ):
            if mode not in PHASES:
                continue
            GENERATOR["name"] = (
                "wrk, 2 threads" if wrk is not None else "asyncio client in Python, wrk missing"
            )
            if wrk is not None:
                phase = _wrk_phase(wrk, script, port, mode, token, pids, 2 * run, t0)
            else:
                phase = asyncio.run(_load(port, make, ok, SECONDS, WARMUP))
            phase.name = name
            phases[name] = phase
        return phases
    finally:
        proc.terminate()
        proc.wait(30)


def _pg_cluster(workdir: Path) -> tuple[str, Path] | None:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        return None
    cluster = Path(tempfile.mkdtemp(prefix="repigment-bench-pg-"))
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts/pg-cluster.sh"), "start", str(cluster)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    return proc.stdout.strip(), cluster


def main() -> str:
    work = Path(tempfile.mkdtemp(prefix="repigment-bench-api-"))
    results: dict[str, dict[str, Phase]] = {}
    w = f"{WORKERS} workers"
    try:
        if "sqlite" in ONLY:
            results[f"SQLite, {w}"] = run_backend(
                f"sqlite:///{work / 'bench.sqlite3'}", work, workers=WORKERS
            )
        if "sqlite1" in ONLY:
            results["SQLite, 1 worker"] = run_backend(
                f"sqlite:///{work / 'bench-1.sqlite3'}", work, workers=1
            )
        if "normal" in ONLY:
            results[f"SQLite, synchronous=NORMAL, {w}"] = run_backend(
                f"sqlite:///{work / 'bench-normal.sqlite3'}",
                work,
                {"REPIGMENT_SQLITE_SYNCHRONOUS": "NORMAL"},
                workers=WORKERS,
            )
        pg = _pg_cluster(work) if "pg" in ONLY else None
        if pg is not None:
            try:
                results[f"PostgreSQL, {w}"] = run_backend(pg[0], work, workers=WORKERS)
            finally:
                subprocess.run(
                    ["bash", str(ROOT / "scripts/pg-cluster.sh"), "stop", str(pg[1])], capture_output=True
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _report(results)


def _report(results: dict[str, dict[str, Phase]]) -> str:
    lines = [
        "## API load test (`benchmarks/bench_api.py`)",
        "",
        f"`repigment serve --workers N` (access log off) on a fresh database with {PATIENTS} patients, "
        f"driven over loopback by {CONNECTIONS} keep-alive connections for {SECONDS:g} s per phase after a "
        f"{WARMUP:g} s warm-up; the load generator ({GENERATOR['name']}) runs on the same machine "
        f"({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}). "
        "Diary writes are durable when acknowledged (SQLite WAL with `synchronous=FULL`; PostgreSQL with "
        "fsync on), each with a label check against the patient's recent diary (up to 35 days, about 70 "
        "entries once the run is under way) and a hash-chained audit entry. Diary writes are checked "
        "in the process that received them, then written in batches, one transaction per batch and, "
        "before any of them is answered, one flush of the WAL (SQLite FULL: an fsync of the WAL file; "
        "PostgreSQL: a synchronous commit after the batch's own); the processes take turns at writing "
        "(docs/api.md). "
        "Baseline: `GET /api/v1/health` on the same server in the same run. "
        "`synchronous=NORMAL` (WAL) skips the fsync per commit: an acknowledged write still survives a "
        "killed server, not a power cut. "
        f"Load average when the run ended: {os.getloadavg()[0]:.1f} (the machine is shared; compare rows "
        "within this table only).",
        "",
        "| database | phase | requests/s | × baseline | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for db, phases in results.items():
        baseline = phases.get("health (baseline)")
        for p in phases.values():
            ratio = f"{p.rate / baseline.rate:.2f}" if baseline is not None else "–"
            lines.append(
                f"| {db} | {p.name} | {p.rate:,.0f} | {ratio} | {p.pct(0.5):.1f} "
                f"| {p.pct(0.99):.1f} | {p.errors} |"
            )
    lines.append("")
    for name, phases in results.items():
        if name == "SQLite, 1 worker" or "diary writes" not in phases:
            continue
        w = phases["diary writes"]
        met = w.rate >= 1000 and w.pct(0.99) <= 50
        lines.append(
            f"Target (≥ 1,000 diary writes/s with p99 ≤ 50 ms, 2 workers), {name}: "
            f"{'met' if met else 'not met'} — {w.rate:,.0f} writes/s, p99 {w.pct(0.99):.1f} ms."
        )
    if "pg" in ONLY and not any(n.startswith("PostgreSQL") for n in results):
        lines.append("PostgreSQL: not measured (server programs not installed).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
