"""Pages that need no record: language choice and the body-map scoring calculator."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from repigment.scoring import ScoringError
from repigment.web import bodymap as bm
from repigment.web import bodymap_page, i18n
from repigment.web.render import render, request_locale, secure, translator

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no protocol-relative URL) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/lang/{code}", include_in_schema=False)
def choose_language(code: str, request: Request, next: str | None = None) -> Response:
    resp = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LOCALES:
        resp.set_cookie(i18n.LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return secure(resp)


def parse_age(raw: Any, gettext: Any) -> tuple[float | None, str | None]:
    try:
        age = float(str(raw).replace(",", "."))
    except (TypeError, ValueError):
        return None, gettext("Enter the age in whole years, for example 34.")
    if not (0 <= age <= 130) or age != age:
        return None, gettext("The age must be between 0 and 130 years.")
    return (int(age) if age.is_integer() else age), None


def variant_from_form(form: Any) -> dict[str, bool]:
    return {
        "face_includes_eyelids": form.get("face_includes_eyelids") == "1",
        "t_vasi_includes_head_neck": form.get("t_vasi_includes_head_neck") == "1",
    }


def calculator_page(request: Request, **extra: Any) -> Response:
    gettext = translator(request)
    form = extra.pop("form", None) or {
        "age_years": 34,
        "face_includes_eyelids": False,
        "t_vasi_includes_head_neck": True,
    }
    age = extra.pop("age", 34)
    variant = {k: bool(form[k]) for k in ("face_includes_eyelids", "t_vasi_includes_head_neck")}
    drawing = extra.pop("drawing", None)
    ctx = bodymap_page.context(age, variant, drawing, gettext, request_locale(request))
    base: dict[str, Any] = {"bm": ctx, "form": form, "errors": {}, "result": None, "action": request.url.path}
    base.update(extra)
    return render(request, "calculator.html", status_code=422 if base["errors"] else 200, **base)


def calculator_query(params: Any, gettext: Any) -> dict[str, Any]:
    """The calculator's starting form: age from ``?age=`` when valid, else an adult of 34."""
    form: dict[str, Any] = {
        "age_years": 34,
        "face_includes_eyelids": False,
        "t_vasi_includes_head_neck": True,
    }
    age: float = 34
    if "age" in params:
        parsed, err = parse_age(params["age"], gettext)
        if err is None and parsed is not None:
            age = form["age_years"] = parsed
    return {"form": form, "age": age}


def score_calculator_form(form_data: Any, gettext: Any) -> dict[str, Any]:
    """Read the calculator's form, score the drawing with the core, and return the page's context."""
    variant = variant_from_form(form_data)
    form: dict[str, Any] = {"age_years": form_data.get("age_years", ""), **variant}
    errors: dict[str, str] = {}
    age, age_error = parse_age(form_data.get("age_years"), gettext)
    if age_error:
        errors["age_years"] = age_error
    drawing = None
    try:
        drawing = bm.parse_drawing(form_data.get("drawing", ""))
    except bm.DrawingError as e:
        errors["drawing"] = gettext("The drawing could not be read: %(reason)s") % {"reason": e.reason}
    result = None
    if not errors and drawing is not None and age is not None:
        try:
            result = bodymap_page.score(drawing, age, variant)
        except ScoringError as e:
            errors["drawing"] = f"{e.field}: {e.reason}"
    return {
        "form": form,
        "age": age if age is not None else 34,
        "drawing": drawing,
        "errors": errors,
        "result": result,
    }


def register_calculator(router: APIRouter, path: str, dependencies: list[Any] | None = None) -> None:
    """The scoring calculator at ``path``, behind the given dependencies (the clinician check)."""

    @router.get(path, include_in_schema=False, dependencies=dependencies or [])
    def calculator(request: Request) -> Response:
        return calculator_page(request, **calculator_query(request.query_params, translator(request)))

    @router.post(path, include_in_schema=False, dependencies=dependencies or [])
    async def calculator_post(request: Request) -> Response:
        return calculator_page(request, **score_calculator_form(await request.form(), translator(request)))
