"""One transaction per use case: everything it wrote is committed together, or nothing is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repigment.services.acting import Principal
from repigment.services.errors import Conflict

CONFLICT: Final = "conflicts with the stored record (a referenced item changed or is gone)"


@contextmanager
def one_transaction(db: Session, actor: Principal) -> Iterator[None]:
    """Commit what the block adds or changes, audited under ``actor``; on any failure roll it all back.

    A constraint the database enforces (a referenced row gone meanwhile) becomes ``Conflict``."""
    db.info.setdefault("actor", actor.actor)
    try:
        yield
        db.commit()
    except IntegrityError as e:
        db.rollback()
        raise Conflict(CONFLICT) from e
    except BaseException:
        db.rollback()
        raise
