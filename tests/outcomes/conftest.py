"""Shared helpers for the outcomes tests: running R (the statistics oracle) once per module."""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

RSCRIPT = shutil.which("Rscript") or ("/usr/bin/Rscript" if Path("/usr/bin/Rscript").exists() else None)

# R prints one line per result: a key, then numbers ("NA"/"NaN"/"Inf" allowed).
R_PRELUDE = """
out <- function(key, ...) cat(key, sprintf("%.17g", as.numeric(c(...))), "\\n")
"""


def run_r(script: str, timeout: float = 120) -> dict[str, list[float]]:
    if RSCRIPT is None:
        pytest.skip("Rscript not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(R_PRELUDE + script)
        path = fh.name
    try:
        proc = subprocess.run(
            [RSCRIPT, "--vanilla", path], capture_output=True, text=True, timeout=timeout, check=False
        )
    finally:
        Path(path).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise AssertionError(f"R failed:\n{proc.stderr[-3000:]}")
    results: dict[str, list[float]] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        results[parts[0]] = [float(v) if v not in ("NA",) else math.nan for v in parts[1:]]
    return results


def r_vec(values: object) -> str:
    arr = np.asarray(values).ravel()
    if arr.dtype.kind in "biuf":
        return "c(" + ",".join(repr(float(v)) for v in arr) + ")"
    return "c(" + ",".join('"' + str(v).replace('"', "") + '"' for v in arr) + ")"


def close(a: float | None, b: float, tol: float = 1e-6) -> bool:
    """Agreement to ``tol``, relative for large values and absolute near zero."""
    if a is None:
        return False
    if math.isinf(b) or math.isinf(a):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))
