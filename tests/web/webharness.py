"""Browser-test plumbing: a live uvicorn server in a thread, headless chromium, axe-core, screenshots."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Record-page tests ask for this: the shared server (tests/conftest.py), on SQLite only.
on_sqlite = pytest.mark.parametrize("api_server", ["sqlite"], indirect=True)
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` over real HTTP on a free local port for the duration of the block."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def axe_violations(
    page: Any, impacts: tuple[str, ...] = ("minor", "moderate", "serious", "critical")
) -> list[str]:
    """Run the vendored axe-core (served by the app itself) on the page; violations as readable lines."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/assets/vendor/axe.min.js")
    result = page.evaluate(
        """async () => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
            const options = {resultTypes: ['violations'], runOnly: {type: 'tag', values: tags}};
            const r = await axe.run(document, options);
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in result if v["impact"] in impacts
    ]


def assert_accessible(page: Any) -> None:
    found = axe_violations(page)
    assert not found, f"axe-core on {page.url}:\n" + "\n".join(found)


def screenshot(page: Any, name: str) -> Path:
    """Save a small (palette PNG) screenshot of the viewport into docs/screenshots/."""
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    raw = page.screenshot(full_page=False)
    img = Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    out = SCREENSHOTS / f"{name}.png"
    img.save(out, format="PNG", optimize=True)
    return out


def login(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def paint(page: Any, view: str, strokes: list[list[tuple[float, float]]]) -> None:
    """Drag the mouse along each stroke; points are fractions of the view's box."""
    page.click(f'[data-show-view="{view}"]')
    target = page.locator(f'.bm-view[data-view="{view}"]')
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    for stroke in strokes:
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4)
        page.mouse.up()
