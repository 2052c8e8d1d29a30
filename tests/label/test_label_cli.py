"""The real ``repigment`` executable against the Python API: same findings, exit codes 0/1/2."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from label_requests import ISSUE_EXAMPLE

from repigment.label import evaluate

EXE = Path(sys.executable).parent / "repigment"

BLOCKING = copy.deepcopy(ISSUE_EXAMPLE)
BLOCKING["applications"] = [
    {"at": "2026-03-28T23:01:00+01:00", "hand_units": 5},
    {"at": "2026-03-29T08:00:00+02:00", "hand_units": 10.1, "sites": ["lips"]},
]
BLOCKING["plan"] = {"areas": [{"region": "trunk", "hand_units": 10.5}], "schedule": ["08:00", "20:00"]}
BLOCKING["dispensed"] = [{"on": "2026-05-01", "grams": 100, "opened_on": "2026-05-02"}]


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_cli_file_equals_api(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(ISSUE_EXAMPLE), encoding="utf-8")
    proc = run(["check", str(path)])
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    assert printed == evaluate(ISSUE_EXAMPLE).as_json()
    assert set(printed) == {"ruleset", "verdict", "findings"} and printed["verdict"] == "warn"


def test_cli_stdin_swedish_block_equals_api() -> None:
    proc = run(["check", "-", "--lang", "sv"], json.dumps(BLOCKING))
    assert proc.returncode == 1, proc.stderr
    printed = json.loads(proc.stdout)
    assert printed == evaluate(BLOCKING, "sv").as_json()
    rules = {f["rule"] for f in printed["findings"]}
    assert rules >= {
        "EU-4.2-interval",
        "EU-4.2-max-bsa",
        "EU-4.4-sites",
        "EU-6.4-storage",
        "EU-PIL-missed-dose",
    }


@pytest.mark.parametrize(
    ("stdin", "args", "needle"),
    [
        (json.dumps({**ISSUE_EXAMPLE, "on": "2026-02-30"}), [], "on: "),
        (json.dumps(ISSUE_EXAMPLE), ["--lang", "de"], "--lang"),
    ],
)
def test_cli_bad_input_exits_2_naming_the_field(stdin: str, args: list[str], needle: str) -> None:
    proc = run(["check", "-", *args], stdin)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
