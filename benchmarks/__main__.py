"""``make bench``: run every ``benchmarks/bench_*.py`` and write the results to docs/benchmarks.md.

Each module's ``main()`` returns a Markdown section measured in this run; ``REPIGMENT_BENCH_QUICK=1``
runs the small sizes only (a smoke test, not numbers to record). ``python -m benchmarks NAME ...``
runs only the named benchmarks.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py"))
    quick = os.environ.get("REPIGMENT_BENCH_QUICK") == "1"
    sections: list[str] = []
    for name in names:
        print(f"== benchmark {name}", flush=True)
        t0 = time.perf_counter()
        section = importlib.import_module(f"benchmarks.bench_{name}").main()
        print(section, flush=True)
        print(f"== {name} done in {time.perf_counter() - t0:.1f} s", flush=True)
        sections.append(section)
    if quick:
        return 0
    header = (
        "# Benchmarks\n\nProduced by `make bench` on "
        f"{platform.node() or 'this machine'} ({os.cpu_count()} cores, Python {platform.python_version()}). "
        "Each section compares against a baseline measured in the same run.\n"
    )
    out = ROOT / "docs" / "benchmarks.md"
    if argv and out.exists():
        print(f"(partial run: sections printed above, {out} left as it was)")
    else:
        out.write_text(header + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
