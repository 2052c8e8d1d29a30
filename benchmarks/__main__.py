"""``make bench``: run every ``benchmarks/bench_*.py`` and record the results.

Each module's ``main()`` returns a Markdown section measured in this run, compared against a baseline
measured in the same run. The section is saved to ``docs/benchmarks/<name>.md`` (written analysis that
must outlive a run goes in ``docs/benchmarks/<name>.notes.md``) and
``docs/benchmarks.md`` is rebuilt from all saved sections, so a partial run (``python -m benchmarks
NAME ...``) updates its own sections and keeps the others. ``REPIGMENT_BENCH_QUICK=1`` runs small
sizes as a smoke test and records nothing.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ROOT / "docs" / "benchmarks"
ORDER = ["scoring", "api", "web", "outcomes", "signals", "signals_history"]


def all_names() -> list[str]:
    found = {p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def rebuild_index() -> Path:
    parts = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python -m benchmarks [NAME ...]`) on the project's 2-core machine. "
        "Every section compares against a baseline measured in the same run; absolute times move with "
        "machine load, ratios less so. Each section is kept in `docs/benchmarks/<name>.md`, collected here.",
    ]
    for name in all_names():
        # <name>.md is rewritten by every run; <name>.notes.md holds written analysis a run keeps.
        for section in (SECTIONS / f"{name}.md", SECTIONS / f"{name}.notes.md"):
            if section.exists():
                parts += ["", section.read_text(encoding="utf-8").strip()]
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    names = argv or all_names()
    quick = os.environ.get("REPIGMENT_BENCH_QUICK") == "1"
    for name in names:
        print(f"== benchmark {name}", flush=True)
        t0 = time.perf_counter()
        section = importlib.import_module(f"benchmarks.bench_{name}").main()
        print(section, flush=True)
        print(f"== {name} done in {time.perf_counter() - t0:.1f} s", flush=True)
        if not quick:
            SECTIONS.mkdir(parents=True, exist_ok=True)
            (SECTIONS / f"{name}.md").write_text(section.strip() + "\n", encoding="utf-8")
    if not quick:
        print(f"wrote {rebuild_index()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
