"""``repigment serve``: the API and web pages over HTTP (uvicorn).

With ``--workers N`` every worker process listens on its own socket bound with ``SO_REUSEPORT``, so the
kernel spreads new connections evenly over the workers. With one shared socket (uvicorn's own
multi-process mode) whichever worker accepts first takes every connection waiting, and a few
keep-alive clients can all end up on one worker while the others idle.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import Annotated, Any

import typer

from repigment.cli._io import fail
from repigment.config import ConfigError, Settings, get_settings

APP: str = "repigment.app:app_factory"


def settings() -> Settings:
    """The settings, checked: a bad ``REPIGMENT_*`` value stops the start with its name (exit 2)."""
    try:
        return get_settings()
    except ConfigError as e:
        fail(str(e))


def trusted_proxies() -> list[str]:
    """The reverse proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed: addresses or
    networks, comma-separated, in ``REPIGMENT_TRUSTED_PROXIES`` (none by default). The client address
    they give is the one log-ins are throttled by; the scheme decides Secure cookies and HSTS."""
    return settings().proxies


def _config(host: str, port: int, access_log: bool) -> Any:
    import uvicorn

    proxies = trusted_proxies()
    return uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        access_log=access_log,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,  # no "server: uvicorn" banner
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        log_level=settings().log_level,
    )


def _listen(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, access_log: bool) -> None:
    """One worker process: its own listening socket on the shared port, one uvicorn server."""
    import uvicorn

    uvicorn.Server(_config(host, port, access_log)).run(sockets=[_listen(host, port)])


def _supervise(host: str, port: int, workers: int, access_log: bool) -> None:
    """Start the workers, replace one that dies, and stop them all on SIGINT or SIGTERM."""
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> Any:
        p = ctx.Process(target=_worker, args=(host, port, access_log), daemon=False)
        p.start()
        return p

    def stop(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    procs = [start() for _ in range(workers)]
    try:
        while not stopping:
            for i, p in enumerate(procs):
                if not p.is_alive():
                    print(f"worker {p.pid} exited with {p.exitcode}; starting another", file=sys.stderr)
                    procs[i] = start()
            time.sleep(0.2)
    finally:
        for p in procs:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()


def run_server(host: str, port: int, workers: int = 1, access_log: bool = True) -> None:
    """Check the settings, migrate the database once, then serve."""
    from repigment.services.cohort import PseudonymKeyError, pseudonym_key
    from repigment.store import Store, StoreError

    settings()  # a bad setting stops the start, with its message
    try:
        pseudonym_key(demo=settings().demo)
    except PseudonymKeyError as e:
        fail(f"not starting: {e}")
    try:
        Store().dispose()
    except StoreError as e:
        fail(str(e))
    if workers > 1:
        _supervise(host, port, workers, access_log)
        return
    import uvicorn

    uvicorn.Server(_config(host, port, access_log)).run()


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
        workers: Annotated[
            int, typer.Option(min=1, max=64, help="Worker processes (one per core uses the machine)")
        ] = 1,
        access_log: Annotated[bool, typer.Option(help="Log every request")] = True,
    ) -> None:
        """Serve the REST API (/api/v1, docs at /api/docs) and the web pages; migrates the database first."""
        run_server(host, port, workers, access_log)
