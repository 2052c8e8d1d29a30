"""Running the history's tasks on a Dask distributed cluster (``pip install 'repigment[cluster]'``).

Dask distributed is plain Python (pip-installable, no JVM): the scheduler and workers run the same
installed repigment, so each task is the same NumPy/SciPy code as on one machine and returns the same
bits on the same kind of CPU. Tasks read FAERS files by path: on a real cluster the extract must be
visible at the same path on every worker (a shared file system).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from repigment.signals.errors import SignalsError
from repigment.signals.history import ScoreJob


class DaskRunner:
    """Submits tasks to the scheduler at ``address`` (tcp://host:8786) or to a ``distributed.Client``."""

    def __init__(self, address: str | Any, *, timeout: float = 30.0) -> None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - depends on the environment
            raise SignalsError(
                "cluster", "Dask distributed is not installed: pip install 'repigment[cluster]'"
            ) from None
        if isinstance(address, str):
            try:
                self.client = Client(address, timeout=timeout)  # type: ignore[no-untyped-call]
            except OSError as ex:
                raise SignalsError("cluster", f"cannot reach the Dask scheduler at {address}: {ex}") from None
            self._own = True
        else:
            self.client, self._own = address, False
        workers = len(self.client.scheduler_info().get("workers", {}))
        if workers == 0:
            self.client.wait_for_workers(1, timeout=timeout)
            workers = len(self.client.scheduler_info().get("workers", {}))
        self.workers = workers
        self.ahead = max(2, 2 * workers)  # quarters read and scored ahead of the sequential counting step

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        # A quarter's counts go to the cluster as data (scattered), not inside the task description.
        sent = [self.client.scatter(a, direct=True) if isinstance(a, ScoreJob) else a for a in args]  # type: ignore[no-untyped-call]
        return self.client.submit(fn, *sent, pure=False)

    def close(self) -> None:
        if self._own:
            self.client.close()  # type: ignore[no-untyped-call]
