"""The settings object: every REPIGMENT_* variable in one place, refused with its name when bad."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repigment.cli import build_app
from repigment.config import ConfigError, Settings, get_settings, markdown

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "repigment"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"REPIGMENT_{name.upper()}", raising=False)


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = get_settings()
    assert s.database_url is None and s.sqlite_synchronous == "FULL" and s.token_ttl_minutes == 480
    assert s.photo_max_bytes == 10 << 20 and s.photo_max_pixels == 24_000_000
    assert s.login_client_failures == 20
    assert s.data_dir == Path("~/.local/share/repigment").expanduser() and not s.data_dir.is_relative_to("~")
    monkeypatch.setenv("REPIGMENT_DATA_DIR", str(tmp_path))
    assert get_settings().photos == tmp_path / "photos"  # read again when a variable changes


def test_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPIGMENT_SQLITE_SYNCHRONOUS", "normal")
    monkeypatch.setenv("REPIGMENT_API_ONLY", "1")
    monkeypatch.setenv("REPIGMENT_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("REPIGMENT_ICSR_COUNTRY", "se")
    monkeypatch.setenv("REPIGMENT_PHOTO_DIR", "")  # empty is unset, as before
    s = get_settings()
    assert s.sqlite_synchronous == "NORMAL" and s.api_only is True and s.icsr_country == "SE"
    assert s.proxies == ["127.0.0.1", "10.0.0.0/8"] and s.photo_dir is None


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("REPIGMENT_PHOTO_MAX_BYTES", "ten", "valid integer"),
        ("REPIGMENT_PHOTO_MAX_PIXELS", "0", "greater than 0"),
        ("REPIGMENT_TOKEN_TTL_MINUTES", "-5", "greater than 0"),
        ("REPIGMENT_LOGIN_CLIENT_FAILURES", "-1", "greater than or equal to 0"),
        ("REPIGMENT_DATABASE_URL", "mysql://u:secret@db/x", "unsupported database URL scheme 'mysql'"),
        ("REPIGMENT_SQLITE_SYNCHRONOUS", "OFF", "'FULL', 'NORMAL' or 'EXTRA'"),
        ("REPIGMENT_LOG_LEVEL", "loud", "'info'"),
        ("REPIGMENT_API_ONLY", "maybe", "valid boolean"),
        ("REPIGMENT_DEMO", "2", "valid boolean"),
        ("REPIGMENT_TRUSTED_PROXIES", "127.0.0.1, proxy.example", "'proxy.example' is not an IP address"),
        ("REPIGMENT_ICSR_COUNTRY", "SWE", "not an ISO 3166-1 alpha-2 country code"),
        ("REPIGMENT_PSEUDONYM_KEY", "short-secret", "must be at least 32 characters (it has 12)"),
    ],
)
def test_bad_value_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as e:
        get_settings()
    assert str(e.value).startswith(f"{variable}: ") and says in str(e.value)
    assert "secret" not in str(e.value)  # a database URL's password, a key: never repeated


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_serve_and_demo_refuse_to_start(command: str, tmp_path: Path) -> None:
    env = {"REPIGMENT_PHOTO_MAX_BYTES": "ten", "REPIGMENT_DATA_DIR": str(tmp_path)}
    r = CliRunner().invoke(build_app(), [command, "--port", "1"], env=env)
    assert r.exit_code == 2, r.output
    assert "REPIGMENT_PHOTO_MAX_BYTES: Input should be a valid integer" in r.output
    assert not list(tmp_path.iterdir())  # nothing created: no database, no demo


def test_store_commands_name_the_bad_variable(tmp_path: Path) -> None:
    env = {"REPIGMENT_DATABASE_URL": "mysql://db/x"}
    r = CliRunner().invoke(build_app(), ["users", "list"], env=env)
    assert r.exit_code == 2 and "REPIGMENT_DATABASE_URL: unsupported database URL scheme" in r.output


def test_configuration_doc_is_up_to_date() -> None:
    """docs/configuration.md is generated: ``python -m repigment.config > docs/configuration.md``."""
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == markdown()
    for name, field in Settings.model_fields.items():
        assert f"`REPIGMENT_{name.upper()}`" in doc and field.description


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """Every ``"REPIGMENT_…"`` name used in code other than as the target of ``os.environ[...] = …``."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            allowed.add(id(node.slice))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("REPIGMENT_")
        and " " not in node.value
        and id(node) not in allowed
    ]


def test_no_module_but_config_reads_repigment_variables() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted(SRC.rglob("*.py"))
        if path != SRC / "config.py"
        and (found := _environment_reads(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}
    # The check itself finds the old ways of reading.
    old = (
        'import os\nX = os.environ.get("REPIGMENT_DEMO")\n'
        'ENV = "REPIGMENT_DATA_DIR"\nos.getenv("REPIGMENT_X", "1")'
    )
    assert [n for _, n in sorted(_environment_reads(ast.parse(old)))] == [
        "REPIGMENT_DEMO",
        "REPIGMENT_DATA_DIR",
        "REPIGMENT_X",
    ]
    assert _environment_reads(ast.parse('os.environ["REPIGMENT_DEMO"] = "1"')) == []
