"""Shared fixtures for signal-detection tests: the caers extract and an R runner."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from repigment.signals import Theta

CAERS = Path(__file__).resolve().parents[2] / "data" / "caers.csv"

# openEBGM's test-suite prior and the fitted prior of its vignette (docs/reference/pharmacovigilance.md).
TEST_THETA = (3.25280367, 0.39983376, 2.02490400, 1.90726819, 0.06536416)
VIGNETTE_THETA = (3.25596685, 0.39998994, 2.02376139, 1.90614108, 0.06530755)


@pytest.fixture(scope="session")
def caers() -> Path:
    assert CAERS.exists(), f"{CAERS} is missing: it is part of the repository (data/README.md)"
    return CAERS


def _run_r(script: str, stdin: str = "") -> str:
    r = subprocess.run(["Rscript", "-e", script], input=stdin, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="session")
def run_r() -> Callable[..., str]:
    """Run an R script (stdin optional) and return its output; skips where R is absent."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed")
    return _run_r


@pytest.fixture(scope="session")
def test_theta() -> Theta:
    return Theta(*TEST_THETA)


@pytest.fixture(scope="session")
def vignette_theta() -> Theta:
    return Theta(*VIGNETTE_THETA)
