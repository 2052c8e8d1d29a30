"""What the record's use cases share: an item of one patient, a page of a list, the core's refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from repigment.services.checks import ClinicalInputError
from repigment.services.errors import InputError, NotFound
from repigment.store import Base, Patient

M = TypeVar("M", bound=Base)
R = TypeVar("R")


def owned(db: Session, model: type[M], item_id: int | str, patient: Patient, what: str) -> M:
    """The item if it is ``patient``'s; ``NotFound`` (named ``what``) otherwise."""
    obj = db.get(model, item_id)
    if obj is None or getattr(obj, "patient_id", None) != patient.id:
        raise NotFound(what)
    return obj


def page(db: Session, stmt: Select[Any], limit: int, offset: int) -> list[Any]:
    return list(db.scalars(stmt.limit(limit).offset(offset)).all())


def input_error(e: ClinicalInputError) -> InputError:
    """The core's refusal (its field named as the API's body has it) as the use cases' ``InputError``."""
    if e.field.startswith("body."):
        return InputError(e.field.removeprefix("body."), e.reason)
    return InputError(e.field, e.reason, where=None)


def clinical(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """``fn`` (a check of ``repigment.services.checks``), its refusal an ``InputError``."""
    try:
        return fn(*args, **kwargs)
    except ClinicalInputError as e:
        raise input_error(e) from e
