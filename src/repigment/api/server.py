"""The app factory uvicorn imports (``repigment serve``); settings come from the environment."""

from __future__ import annotations

import gc
import sys
from typing import Final

from fastapi import FastAPI

from repigment.api.app import create_app
from repigment.config import get_settings

# How long a worker thread that has finished its part (an fsync, a lock-file wait) may wait for the
# interpreter lock while the event loop runs Python. At Python's default of 5 ms, every diary write
# waited that long for its group's fsync; 0.5 ms keeps the wait short at a negligible switching cost.
SWITCH_INTERVAL_S: Final = 0.0005


def app_factory() -> FastAPI:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = create_app(demo=get_settings().demo)
    # Everything loaded so far (the app, NumPy, SciPy, SQLAlchemy, ...) lives as long as the process:
    # kept out of the collector's full passes, which otherwise stalled every request for about 0.1 s.
    gc.collect()
    gc.freeze()
    return app
