"""Server-rendered web pages for clinicians and patients (adapter)."""

from __future__ import annotations

from typing import Any


def mount_web(app: Any) -> None:
    """Attach the web pages and static assets to the FastAPI app."""
