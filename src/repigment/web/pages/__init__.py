"""The record pages: log-in, clinician pages, patient diary, photos.

Pages read and write through the use cases (``repigment.services``), as the API does, so a page and
an API call run the same validation, label checks, scoring and audit; ``repigment.web.access`` holds the
session and the pages' answers to refusals.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from repigment.web.access import PageError, PageRedirect
from repigment.web.render import render, secure, translator


async def _redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRedirect)
    return secure(RedirectResponse(exc.location, status_code=303))


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    _ = translator(request)
    titles = {
        403: _("Not allowed"),
        404: _("Not found"),
    }
    messages = {
        "role": _("Your account may not open this page."),
        "csrf": _("The form had expired. Go back, reload the page and try again."),
        "patient": _("There is no such patient, or it is not yours to see."),
        "visit": _("There is no such visit in this record."),
        "photo": _("There is no such photo, or it is not yours to see."),
        "account": _("There is no such account in this clinic."),
    }
    return render(
        request,
        "error.html",
        status_code=exc.status,
        title=titles.get(exc.status, _("Something went wrong")),
        message=messages.get(exc.message, exc.message),
    )


def mount(app: Any) -> None:
    from repigment.web.pages import admin, analyst, auth, clinic, diary, photos, start

    app.add_exception_handler(PageRedirect, _redirect)
    app.add_exception_handler(PageError, _page_error)
    for module in (auth, clinic, diary, photos, start, admin, analyst):
        app.include_router(module.router)
