"""``repigment serve``: the API and web pages over HTTP (uvicorn)."""

from __future__ import annotations

import importlib.util
import os
from typing import Annotated

import typer

from repigment.cli._io import fail


def run_server(host: str, port: int, workers: int = 1, access_log: bool = True) -> None:
    """Migrate the database once, then serve (several workers share it on PostgreSQL)."""
    from repigment.store import Store, StoreError

    try:
        Store().dispose()
    except StoreError as e:
        fail(str(e))
    import uvicorn

    uvicorn.run(
        "repigment.api.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        proxy_headers=True,
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        log_level=os.environ.get("REPIGMENT_LOG_LEVEL", "info"),
    )


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
        workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (PostgreSQL)")] = 1,
        access_log: Annotated[bool, typer.Option(help="Log every request")] = True,
    ) -> None:
        """Serve the REST API (/api/v1, docs at /api/docs) and the web pages; migrates the database first."""
        run_server(host, port, workers, access_log)
