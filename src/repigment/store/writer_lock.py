"""SQLite's single writer across the processes serving one database file (``repigment serve --workers N``)."""

import contextlib
import fcntl
import os

import anyio

from repigment.store.db import Store


class WriteGate:
    """SQLite's single writer, arranged before SQLite's own lock is tried: an asyncio lock for the
    writers of this process and an exclusive ``flock`` on ``<database>.writer-lock`` for those of every
    process serving the file (``repigment serve --workers N``). Waiting on the lock file happens in a
    worker thread, so the event loop goes on; the kernel wakes the next writer the moment it is free,
    where SQLite's own busy handler would poll with sleeps."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = anyio.Lock()
        self.fd: int | None = None  # the lock file, opened by the first writer

    async def acquire(self) -> None:
        await self.lock.acquire()
        if self.fd is None:
            try:
                self.fd = os.open(f"{self.store.sqlite_path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
            except BaseException:
                self.lock.release()
                raise
        fd = self.fd
        held = {"file": False}

        def take() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held["file"] = True

        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held["file"] = True
            except BlockingIOError:
                await anyio.to_thread.run_sync(take)
        except BaseException:
            if held["file"]:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self.lock.release()
            raise

    def release(self) -> None:
        assert self.fd is not None  # held since ``acquire``
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.lock.release()

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
