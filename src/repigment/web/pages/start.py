"""The start pages of the analyst and the safety officer: what each can do today, and the API explorer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from repigment.web import access
from repigment.web.access import ReadDb
from repigment.web.pages.common import API_DOCS, page

router = APIRouter(include_in_schema=False)


@router.get("/analyst")
async def analyst_start(request: Request, db: ReadDb) -> Response:
    user = await access.page_user(request, db, ("analyst",))
    return page(request, db, user, "analyst/start.html", api_docs=API_DOCS)


@router.get("/safety")
async def safety_start(request: Request, db: ReadDb) -> Response:
    user = await access.page_user(request, db, ("safety_officer",))
    return page(request, db, user, "safety/start.html", api_docs=API_DOCS)
