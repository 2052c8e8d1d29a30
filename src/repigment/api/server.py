"""The app factory uvicorn imports (``repigment serve``); settings come from the environment."""

from __future__ import annotations

import os

from fastapi import FastAPI

from repigment.api.app import create_app


def app_factory() -> FastAPI:
    return create_app(demo=os.environ.get("REPIGMENT_DEMO") == "1")
