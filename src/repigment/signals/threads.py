"""BLAS threads around the MGPS fit.

The fit's L-BFGS-B works on five parameters, so its BLAS calls are tiny; with the BLAS library's own
thread pool (one thread per core) each call wakes worker threads that then spin, and on a busy machine
they take the cores from the process itself (a fit on 16,000 points: 4.5 s with two BLAS threads, 1.9 s
with one, same estimate). The fit's likelihood sums run in NumPy's own order, not in BLAS, so the
number of BLAS threads does not change its bits (a Dask worker runs BLAS on one thread as well).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the enclosed code with one BLAS thread, then restore the previous limits."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
