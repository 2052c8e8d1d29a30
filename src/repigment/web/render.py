"""Jinja2 rendering with the request's language, and the security headers every page carries."""

from __future__ import annotations

import hashlib
import math
from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from repigment.web import i18n

HERE: Final = Path(__file__).resolve().parent
TEMPLATES: Final = HERE / "templates"
STATIC: Final = HERE / "static"
ASSET_PREFIX: Final = "/assets"

# Everything is served by this app: no third-party origin is ever contacted (closed clinic networks).
CSP: Final = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@cache
def _asset_version(path: str) -> str:
    f = STATIC / path
    return hashlib.sha256(f.read_bytes()).hexdigest()[:10] if f.is_file() else "0"


def asset(path: str) -> str:
    """URL of a static file, versioned by content so browsers never run a stale script."""
    return f"{ASSET_PREFIX}/{path}?v={_asset_version(path)}"


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["num"] = lambda v, digits=2: i18n.number(v, lang, digits)
    env.filters["pct"] = lambda v, digits=0: i18n.percent(v, lang, digits)
    env.globals["percent_sign"] = i18n.PERCENT[lang]  # after a unit label: "T-BSA %"
    # ages a person reads are completed years (as the label engine counts them), never rounded up
    env.filters["years"] = lambda v: i18n.number(math.floor(v), lang, 0)
    env.filters["asentered"] = lambda v: i18n.as_entered(v, lang)
    env.filters["signed"] = lambda v, digits=1: i18n.signed(v, lang, digits)
    env.filters["date"] = lambda v, fmt="medium": i18n.date(v, lang, fmt)
    env.filters["datetime"] = lambda v, fmt="short", tz=None: i18n.datetime(v, lang, fmt, tz)
    from repigment.label import message_in
    from repigment.web.labels import AE_TERMS, AUTO_REASONS, REGIONS, VNS, known_text

    gettext = i18n.translations(lang).gettext
    env.filters["regionlabel"] = lambda code: gettext(REGIONS[code]) if code in REGIONS else code
    env.filters["vnslabel"] = lambda score: gettext(VNS[score]) if score in VNS else str(score)
    env.filters["finding"] = lambda f: message_in(f, lang)  # a label finding's message, worded in lang
    every = [i18n.translations(code).gettext for code in i18n.LOCALES]

    def words(known: tuple[str, ...]) -> Any:
        """A stored text in the page's language when it is one of the app's own messages."""
        return lambda text: gettext(msgid) if (msgid := known_text(str(text), known, every)) else text

    env.filters["aeterm"] = words(AE_TERMS)  # a picked adverse-event term; free text as typed
    env.filters["autoreason"] = words(AUTO_REASONS)  # a reason the pages wrote; typed ones as typed
    env.globals["VNS_SCORES"] = tuple(VNS)
    env.globals["asset"] = asset
    env.globals["LOCALES"] = [(code, i18n.locale_name(code)) for code in i18n.LOCALES]
    return env


def request_locale(request: Request) -> str:
    return i18n.choose_locale(
        request.query_params.get("lang"),
        request.cookies.get(i18n.LOCALE_COOKIE),
        request.headers.get("accept-language"),
        getattr(request.state, "clinic_language", i18n.DEFAULT_LOCALE),  # set by access.page_user
    )


def translator(request: Request) -> Any:
    """gettext for messages built in Python (errors, findings) in the request's language."""
    return i18n.translations(request_locale(request)).gettext


R = TypeVar("R", bound=Response)


def secure(resp: R) -> R:
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = request_locale(request)
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    base: dict[str, Any] = {
        "lang": lang,
        "request": request,
        "path": path,
        "here": quote(request.url.path),
        "user": None,
        "csrf_token": "",
        "nav": [],
    }
    base.update(context)
    html = environment(lang).get_template(template).render(**base)
    resp = HTMLResponse(html, status_code=status_code)
    resp.headers["Content-Language"] = lang
    return secure(resp)
