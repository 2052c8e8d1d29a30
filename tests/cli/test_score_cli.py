"""The ``repigment score`` / ``compare`` contract, through the installed executable."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXE = shutil.which("repigment", path=str(Path(sys.executable).parent))


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert EXE, "the repigment console script is not installed in this environment"
    return subprocess.run([EXE, *args], input=stdin, capture_output=True, text=True, timeout=60)


def write(tmp_path: Path, name: str, data: Any) -> str:
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(p)


ISSUE_EXAMPLE = {
    "age_years": 34,
    "variant": {"face_includes_eyelids": False, "t_vasi_includes_head_neck": True},
    "patches": [
        {"region": "face", "hand_units": 0.5, "depigmentation_percent": 100},
        {"region": "hands", "hand_units": 1.5, "depigmentation_percent": 75},
    ],
}


def test_score_from_stdin_prints_full_precision_json() -> None:
    r = run("score", "-", stdin=json.dumps(ISSUE_EXAMPLE))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["f_vasi"], out["t_vasi"], out["f_bsa_percent"], out["t_bsa_percent"]) == (
        0.5,
        1.625,
        0.5,
        2.0,
    )
    assert out["regions"]["hands"] == {
        "hand_units": 1.5,
        "vasi": 1.125,
        "capacity_hand_units": 5.0,
        "counts_toward": "hands",
    }
    assert out["variant"] == ISSUE_EXAMPLE["variant"]


def test_score_full_precision_not_rounded(tmp_path: Path) -> None:
    data = {
        "age_years": 34,
        "patches": [{"region": "trunk", "hand_units": 1 / 3, "depigmentation_percent": 10}],
    }
    out = json.loads(run("score", write(tmp_path, "a.json", data)).stdout)
    assert out["t_vasi"] == float.fromhex("0x1.1111111111111p-5")  # 0.0333…, the float nearest 1/30 as stored


def test_compare_contract(tmp_path: Path) -> None:
    base = {
        "age_years": 30,
        "patches": [
            {"region": "face", "hand_units": 1.2, "depigmentation_percent": 100},
            {"region": "trunk", "hand_units": 4, "depigmentation_percent": 50},
        ],
    }
    cur = {
        "age_years": 30,
        "patches": [
            {"region": "face", "hand_units": 1.2, "depigmentation_percent": 25},
            {"region": "trunk", "hand_units": 4, "depigmentation_percent": 25},
        ],
    }
    r = run("compare", write(tmp_path, "b.json", base), write(tmp_path, "c.json", cur))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["f_vasi"]["responders"] == {
        "F-VASI25": True,
        "F-VASI50": True,
        "F-VASI75": True,
        "F-VASI90": False,
    }
    assert out["f_vasi"]["percent_change"] == -75.0
    # T-VASI 3.2 → 1.3: improvement 59.375%.
    assert out["t_vasi"]["baseline"] == 3.2 and out["t_vasi"]["current"] == 1.3
    assert out["t_vasi"]["responders"] == {"T-VASI50": True, "T-VASI75": False}


def test_compare_null_when_baseline_is_zero(tmp_path: Path) -> None:
    empty = write(tmp_path, "e.json", {"age_years": 30, "patches": []})
    out = json.loads(run("compare", empty, empty).stdout)
    assert out["f_vasi"]["percent_change"] is None
    assert out["f_vasi"]["responders"]["F-VASI75"] is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "not valid JSON"),
        (
            json.dumps(
                {
                    "age_years": 34,
                    "patches": [{"region": "face", "hand_units": 1, "depigmentation_percent": 60}],
                }
            ),
            "patches[0].depigmentation_percent",
        ),
        (json.dumps({"age_years": 200, "patches": []}), "age_years"),
    ],
)
def test_bad_input_exits_2_with_a_message(payload: str, message: str) -> None:
    r = run("score", "-", stdin=payload)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_missing_file_exits_2(tmp_path: Path) -> None:
    r = run("score", str(tmp_path / "nope.json"))
    assert r.returncode == 2 and "cannot read" in r.stderr


def test_score_refuses_a_whole_body_total_above_100(tmp_path: Path) -> None:
    # each region at 105% of its adult capacity: within every region's margin, 105 hand units in all
    from repigment.body import VASI_REGIONS, region_capacities

    caps = region_capacities(34)
    patches = [
        {"region": r, "hand_units": float(caps[r] * 105 / 100), "depigmentation_percent": 100}
        for r in VASI_REGIONS
    ]
    r = run("score", write(tmp_path, "over.json", {"age_years": 34, "patches": patches}))
    assert r.returncode == 2, r.stdout
    assert "hand_units: the patches total" in r.stderr and "more than the whole body" in r.stderr


EYELIDS_OUT = {
    "age_years": 30,
    "variant": {"face_includes_eyelids": False},
    "patches": [
        {"region": "face", "hand_units": 1.0, "depigmentation_percent": 100},
        {"region": "eyelids", "hand_units": 0.1, "depigmentation_percent": 100},
    ],
}
EYELIDS_IN = {**EYELIDS_OUT, "variant": {"face_includes_eyelids": True}}


def test_compare_refuses_two_variants_and_reports_the_variant(tmp_path: Path) -> None:
    # the same skin scored without and with eyelids in the face read as F-VASI +10% (issue 14)
    base, cur = write(tmp_path, "b.json", EYELIDS_OUT), write(tmp_path, "c.json", EYELIDS_IN)
    r = run("compare", base, cur)
    assert r.returncode == 2, r.stdout
    assert "variant: the baseline was scored with variant" in r.stderr
    # --rescore scores the current patches under the baseline's variant: no change at all
    r = run("compare", base, cur, "--rescore")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["f_vasi"]["percent_change"] == 0.0 and out["f_vasi"]["current"] == 1.0
    assert out["variant"] == {"face_includes_eyelids": False, "t_vasi_includes_head_neck": True}
    assert out["body_model"].startswith("lund-browder-1944/")
