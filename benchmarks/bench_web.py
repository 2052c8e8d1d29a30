"""Web pages: brush stroke → updated totals in the browser, and server render times of the main pages.

Body map: headless chromium paints many strokes on the visit page; the page's script records, with
``performance.now()``, the time from each pointer event to the updated F-VASI/T-VASI/F-BSA/T-BSA text
(painting the cells, recomputing the totals, writing them). Reported as p50/p99 against the 16 ms frame
budget and against the totals recomputation alone, measured in the same page.

Server: each page is fetched repeatedly over real HTTP (uvicorn, SQLite, the demo clinic); the
baseline is a static asset fetched the same way in the same run.
"""

from __future__ import annotations

import os
import platform
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

QUICK = os.environ.get("REPIGMENT_BENCH_QUICK") == "1"
STROKES = 20 if QUICK else 200
MOVES_PER_STROKE = 10
REQUESTS = 10 if QUICK else 60
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


class _Server:
    def __init__(self, app: Any) -> None:
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _timed_gets(client: Any, path: str, n: int) -> list[float]:
    out = []
    client.get(path)  # warm caches (templates, the body-map grid)
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return out


def _login(client: Any, username: str, password: str) -> None:
    r = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _strokes(base: str, cookies: list[dict[str, Any]], path: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
        ctx.add_cookies(cookies)
        page = ctx.new_page()
        page.goto(base + path)
        view = page.locator('.bm-view[data-view="front"]')
        view.scroll_into_view_if_needed()
        box = view.bounding_box()
        assert box is not None
        levels = ["100", "75", "50", "25", "0"]
        import random

        rng = random.Random(7)
        for i in range(STROKES):
            page.check(f'input[name="bm-tool"][value="{levels[i % len(levels)]}"]')
            x, y = rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.9)
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
            page.mouse.down()
            for _ in range(MOVES_PER_STROKE):
                x = min(0.95, max(0.05, x + rng.uniform(-0.08, 0.08)))
                y = min(0.95, max(0.05, y + rng.uniform(-0.05, 0.05)))
                page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
            page.mouse.up()
        perf: list[float] = page.evaluate("window.repigmentBodymap.perf.slice()")
        totals_only: float = page.evaluate(
            """() => { const n = 2000, t0 = performance.now();
                       for (let i = 0; i < n; i++) window.repigmentBodymap.totals();
                       return (performance.now() - t0) / n; }"""
        )
        version = browser.version
        browser.close()
    return {"perf": perf, "totals_only": totals_only, "version": version}


def main() -> str:
    import httpx

    from repigment.app import create_app
    from repigment.services.demo import LOGINS, load_demo
    from repigment.store import Patient, Store, Visit

    tmp = Path(tempfile.mkdtemp(prefix="repigment-bench-web-"))
    os.environ.setdefault("REPIGMENT_PHOTO_DIR", str(tmp / "photos"))
    os.environ.setdefault("REPIGMENT_PSEUDONYM_KEY", "bench-" + secrets.token_hex(32))
    store = Store(f"sqlite:///{tmp / 'bench.sqlite3'}")
    load_demo(store)
    with store.read() as s:
        anna = s.query(Patient).filter(Patient.given_name == "Anna").one()
        visit = s.query(Visit).filter(Visit.patient_id == anna.id).order_by(Visit.visited_on.desc()).first()
        assert visit is not None
        anna_id, visit_id = anna.id, visit.id
    logins = {x.username: x.password for x in LOGINS}
    app = create_app(store)
    rows: list[tuple[str, list[float]]] = []
    with _Server(app) as base:
        with httpx.Client(base_url=base, timeout=30) as clin, httpx.Client(base_url=base, timeout=30) as pat:
            baseline = _timed_gets(clin, "/assets/css/app.css", REQUESTS)
            _login(clin, "demo-clinician", logins["demo-clinician"])
            _login(pat, "demo-anna", logins["demo-anna"])
            for label, client, path in (
                ("patient list (clinician)", clin, "/clinic"),
                ("patient record", clin, f"/clinic/patients/{anna_id}"),
                ("new visit with body map", clin, f"/clinic/patients/{anna_id}/visits/new"),
                ("saved visit", clin, f"/clinic/patients/{anna_id}/visits/{visit_id}"),
                ("patient diary", pat, f"/patients/{anna_id}"),
                ("patient progress", pat, f"/patients/{anna_id}/progress"),
            ):
                rows.append((label, _timed_gets(client, path, REQUESTS)))
            cookies = [
                {"name": k, "value": v, "domain": "127.0.0.1", "path": "/"} for k, v in clin.cookies.items()
            ]
        visit_new = f"/clinic/patients/{anna_id}/visits/new"
        stroke = _strokes(base, cookies, visit_new) if Path(CHROMIUM).exists() else None
    store.dispose()

    base_med = statistics.median(baseline)
    lines = [
        "## Web pages",
        "",
        "`python -m benchmarks web` (`REPIGMENT_BENCH_QUICK=1` for a smoke run). Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        + (f", chromium {stroke['version']} headless" if stroke else "")
        + ". Demo clinic on SQLite, uvicorn in-process, real HTTP.",
        "",
    ]
    if stroke:
        perf = stroke["perf"]
        p50, p99 = _pct(perf, 50), _pct(perf, 99)
        tot = stroke["totals_only"]
        lines += [
            "### Body map: brush stroke → updated totals (in the browser, `performance.now()`)",
            "",
            f"{len(perf):,} pointer events over {STROKES} strokes on the front view (medium brush), "
            "each: paint the cells under the brush segment, recompute F-VASI/T-VASI/F-BSA/T-BSA, "
            "write the text. Chromium coarsens `performance.now()` to 0.1 ms here.",
            "",
            "| measure | time | ratio to the 16 ms budget | ratio to totals recomputation alone |",
            "|---|---|---|---|",
            f"| totals recomputation alone (baseline) | {tot * 1000:.1f} µs | {tot / 16:.4f} | 1.0× |",
            f"| stroke → totals, p50 | {p50:.3f} ms | {p50 / 16:.3f} | {p50 / tot:.0f}× |",
            f"| stroke → totals, p99 | {p99:.3f} ms | {p99 / 16:.3f} | {p99 / tot:.0f}× |",
            f"| stroke → totals, max | {max(perf):.3f} ms | {max(perf) / 16:.3f} | {max(perf) / tot:.0f}× |",
            "",
        ]
    else:
        lines += ["(chromium not installed: the brush-stroke measurement was skipped)", ""]
    lines += [
        f"### Server render times ({REQUESTS} requests each, sequential)",
        "",
        "| page | median | p95 | ratio to static asset (median) |",
        "|---|---|---|---|",
        f"| static asset `/assets/css/app.css` (baseline) | {base_med:.2f} ms | {_pct(baseline, 95):.2f} ms "
        "| 1.0× |",
    ]
    for label, times in rows:
        med = statistics.median(times)
        lines.append(f"| {label} | {med:.2f} ms | {_pct(times, 95):.2f} ms | {med / base_med:.1f}× |")
    section = "\n".join(lines) + "\n"
    if not QUICK:
        out = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "web.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(section, encoding="utf-8")
    return section


if __name__ == "__main__":
    print(main())
