"""The pseudonym key: set per deployment outside demo mode (start-up refuses otherwise), made at random
in demo mode. Patient ids are small integers, so a known key would let anyone rebuild the pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from repigment.app import create_app
from repigment.services.cohort import ENV_KEY, PseudonymKeyError, pseudonym, pseudonym_key

REPIGMENT = str(Path(sys.executable).with_name("repigment"))


class _NoStore:
    """Enough of a store to build the app without a database."""

    is_sqlite = True


def test_app_refuses_to_start_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)
    with pytest.raises(PseudonymKeyError, match=f"{ENV_KEY} is not set"):
        create_app(store=_NoStore(), web=False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("repigment-cohort-pseudonym-v1", "published key"),  # the old built-in default
        ("short-secret", "at least 32 characters"),
    ],
)
def test_public_or_short_keys_are_refused(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv(ENV_KEY, value)
    with pytest.raises(PseudonymKeyError, match=message):
        create_app(store=_NoStore(), web=False)  # type: ignore[arg-type]


def test_the_key_set_is_the_key_used(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "k" * 40
    monkeypatch.setenv(ENV_KEY, key)
    app = create_app(store=_NoStore(), web=False)  # type: ignore[arg-type]
    assert app.state.pseudonym_key == key.encode()
    expected = hmac.new(key.encode(), b"3:7", hashlib.sha256).hexdigest()[:16]
    assert pseudonym(3, 7, app.state.pseudonym_key) == expected
    public = hmac.new(b"repigment-cohort-pseudonym-v1", b"3:7", hashlib.sha256).hexdigest()[:16]
    assert expected != public


def test_demo_mode_makes_its_own_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.setenv("REPIGMENT_DATA_DIR", str(tmp_path))
    app = create_app(store=_NoStore(), web=False, demo=True)  # type: ignore[arg-type]
    key_file = tmp_path / "demo-pseudonym-key"
    assert app.state.pseudonym_key == key_file.read_bytes()
    assert len(app.state.pseudonym_key) == 64 and int(app.state.pseudonym_key, 16) >= 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = create_app(store=_NoStore(), web=False, demo=True)  # type: ignore[arg-type]
    assert again.state.pseudonym_key == app.state.pseudonym_key  # stable pseudonyms across restarts
    other = tmp_path / "other"
    monkeypatch.setenv("REPIGMENT_DATA_DIR", str(other))
    assert pseudonym_key(demo=True) != app.state.pseudonym_key  # each installation its own


def _serve_env(tmp_path: Path, **extra: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != ENV_KEY}
    env.update(
        REPIGMENT_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REPIGMENT_DATA_DIR=str(tmp_path),
        **extra,
    )
    return env


def test_serve_refuses_without_a_key(tmp_path: Path) -> None:
    proc = subprocess.run(
        [REPIGMENT, "serve", "--port", "1"],
        env=_serve_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"not starting: {ENV_KEY} is not set" in proc.stderr
    assert "secrets.token_hex(32)" in proc.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # refused before anything was opened


def test_trial_clinic_refuses_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from repigment.cli import app as cli_app

    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.delenv("REPIGMENT_DEMO", raising=False)
    r = CliRunner().invoke(cli_app, ["trial", "--clinic", "North"])
    assert r.exit_code == 2 and f"{ENV_KEY} is not set" in r.stderr
