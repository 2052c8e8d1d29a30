"""The README's command-line examples run from a clone as written and print what the README shows.

Each ``$ …`` line of the README's command blocks runs in a scratch folder that sees the repository's
``examples/`` and ``data/``; the lines printed under it (up to the next command, "…" elided) must appear in
what it prints, text lines verbatim and JSON values key by key. The commands run in the README's order in
one folder, as a reader would type them (a later one reads what an earlier one wrote).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Documented exit codes: 1 for a blocking label finding, 2 for bad input, else 0.
EXIT = {"repigment check": 1, "echo ": 2}
JSON_SCALAR = re.compile(r'"([A-Za-z][\w-]*)": (true|false|null|-?\d+(?:\.\d+)?(?:e-?\d+)?|"[^"]*")')


def _examples() -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    in_block = False
    shown: list[str] | None = None  # the output lines of the block's latest command
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_block, shown = not in_block, None
            continue
        if not in_block:
            continue
        if line.startswith("$ "):
            shown = []
            out.append((line[2:].split("  #")[0].strip(), shown))
        elif shown is not None and line.strip() and line.strip() != "…":
            shown.append(line)
    return [(cmd, shown) for cmd, shown in out if not cmd.startswith("cat ")]


def _scalars(value: Any, into: set[tuple[str, str]]) -> set[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(v, dict | list):
                into.add((k, json.dumps(v)))
            _scalars(v, into)
    elif isinstance(value, list):
        for v in value:
            _scalars(v, into)
    return into


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("readme")
    for name in ("examples", "data"):
        (d / name).symlink_to(ROOT / name)
    return d


def test_the_readme_has_its_examples() -> None:
    commands = [cmd for cmd, _ in _examples()]
    assert len(commands) >= 9
    assert any(c.startswith("repigment signals data/caers.csv") for c in commands)


@pytest.mark.parametrize("command,shown", _examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_readme_example(command: str, shown: list[str], scratch: Path) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(
        command, shell=True, cwd=scratch, env=env, capture_output=True, text=True, timeout=300
    )
    expected = next((code for prefix, code in EXIT.items() if command.startswith(prefix)), 0)
    assert done.returncode == expected, done.stderr
    printed = done.stdout + done.stderr
    if command.startswith("repigment score examples") or command.startswith("repigment compare"):
        actual = _scalars(json.loads(done.stdout), set())
        shown_pairs = {(k, json.dumps(json.loads(v))) for k, v in JSON_SCALAR.findall("\n".join(shown))}
        assert shown_pairs and shown_pairs <= actual, sorted(shown_pairs - actual)
    elif command.startswith("repigment check"):
        findings = json.loads(done.stdout)["findings"]
        for k, v in JSON_SCALAR.findall("\n".join(shown)):
            assert any(json.dumps(f.get(k)) == v for f in findings) or k in ("ruleset", "verdict"), (k, v)
        assert json.loads(done.stdout)["verdict"] == "block"
    else:
        lines = [line.strip() for line in printed.splitlines()]
        for line in shown:
            assert " ".join(line.split()) in {" ".join(p.split()) for p in lines}, line
