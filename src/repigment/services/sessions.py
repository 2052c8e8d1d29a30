"""A database session for one request, whatever the door: a read session, or a write session behind this
process's writer gate (SQLite: ``repigment.store.writer_lock.WriteGate``; one writer at a time in this
process, an asyncio lock, so waiting writers hold no worker thread, and across the processes serving the
same file, a lock file). A write session is committed by the use case or rolled back when it closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session

from repigment.store import Store
from repigment.store.writer_lock import WriteGate


@asynccontextmanager
async def request_session(store: Store, gate: WriteGate | None, *, write: bool) -> AsyncIterator[Session]:
    if not write:
        session = store.new_session(write=False)
        try:
            yield session
        finally:
            session.close()
        return
    if gate is not None:
        await gate.acquire()
    try:
        session = store.new_session(write=True)
        try:
            yield session
        finally:
            session.close()  # committed by the use case, or rolled back here
    finally:
        if gate is not None:
            gate.release()
