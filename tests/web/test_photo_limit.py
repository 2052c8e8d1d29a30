"""Photo uploads above the app-wide 1 MiB body limit: the upload route alone accepts up to the photo limit
(10 MiB), a photo over it gets the error next to the field, and every other route keeps 1 MiB."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import numpy as np
from PIL import Image
from test_pages_http import _client, _csrf, _field_error
from webharness import on_sqlite

from repigment.app import MAX_BODY_BYTES
from repigment.web.pages.photos import body_limits, max_bytes

pytestmark = on_sqlite


def _noise_jpeg(width: int, height: int) -> bytes:
    """Random pixels barely compress: a realistic camera-sized JPEG."""
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=100)
    return out.getvalue()


def test_large_photo_uploads_and_over_limit_is_refused_next_to_the_field(base_url: str, clinic: Any) -> None:
    assert max_bytes() == 10 << 20 and MAX_BODY_BYTES == 1 << 20
    clin = _client(base_url, clinic.clinician, clinic.password)
    try:
        ada = clinic.patients[0]
        visit_id = int(
            re.findall(rf"/clinic/patients/{ada}/visits/(\d+)", clin.get(f"/clinic/patients/{ada}").text)[0]
        )
        url = f"/clinic/patients/{ada}/visits/{visit_id}/photos"
        page = clin.get(f"/clinic/patients/{ada}/visits/{visit_id}").text
        assert f'data-max-bytes="{max_bytes()}"' in page  # the page's own check uses the same limit
        big = _noise_jpeg(2000, 1500)
        assert 5_000_000 < len(big) < max_bytes()
        r = clin.post(
            url,
            data={"csrf_token": _csrf(clin), "kind": "hands"},
            files={"photo": ("big.jpg", big, "image/jpeg")},
        )
        assert r.status_code == 303, r.text[:500]
        page = clin.get(f"/clinic/patients/{ada}/visits/{visit_id}").text
        sizes = re.findall(r'width="(\d+)" height="(\d+)"', page)
        assert ("2000", "1500") in sizes  # stored (re-encoded) and shown
        # Just over the photo limit: read, refused, the form shown again with the reason by the field.
        over = big + b"\0" * (max_bytes() + 1 - len(big))
        r = clin.post(
            url,
            data={"csrf_token": _csrf(clin), "kind": "hands"},
            files={"photo": ("over.jpg", over, "image/jpeg")},
        )
        assert r.status_code == 422 and _field_error(r.text, "photo") == "The photo is too large."
        # Far over (beyond the route's body limit): refused before it is read.
        (_, _, route_limit) = body_limits()[0]
        huge = b"\xff" * (route_limit + 1)
        r = clin.post(
            url,
            data={"csrf_token": _csrf(clin), "kind": "hands"},
            files={"photo": ("huge.jpg", huge, "image/jpeg")},
        )
        assert r.status_code == 413 and "request body over" in r.json()["detail"]
        # Every other route keeps the 1 MiB limit.
        two_mib = b"x" * (2 << 20)
        r = clin.post(
            f"/clinic/patients/{ada}/visits", data={"csrf_token": _csrf(clin), "notes": two_mib.decode()}
        )
        assert r.status_code == 413
        with httpx.Client(base_url=base_url) as anon:
            r = anon.post("/api/v1/auth/token", content=two_mib, headers={"content-type": "application/json"})
            assert r.status_code == 413 and r.json()["detail"] == f"request body over {MAX_BODY_BYTES} bytes"
    finally:
        clin.close()


def _flat_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height)).save(out, format="PNG")
    return out.getvalue()


def test_a_tiny_file_claiming_many_pixels_is_refused_before_decoding(base_url: str, clinic: Any) -> None:
    """Regression: a 4 KB PNG of 6000 x 6000 pixels was decoded on the event loop (+460 MB, 1.75 s during
    which every other request waited). Its size is read from the header and refused; an allowed photo is
    decoded in a worker thread, so the server answers others meanwhile."""
    import threading
    import time

    from repigment.web.pages.photos import max_pixels

    bomb = _flat_png(6000, 6000)
    assert len(bomb) < 100_000 and max_pixels() < 6000 * 6000
    clin = _client(base_url, clinic.clinician, clinic.password)
    try:
        ada = clinic.patients[0]
        visit_id = int(
            re.findall(rf"/clinic/patients/{ada}/visits/(\d+)", clin.get(f"/clinic/patients/{ada}").text)[0]
        )
        url = f"/clinic/patients/{ada}/visits/{visit_id}/photos"
        r = clin.post(
            url,
            data={"csrf_token": _csrf(clin), "kind": "hands"},
            files={"photo": ("b.png", bomb, "image/png")},
        )
        assert r.status_code == 422 and _field_error(r.text, "photo") == "The photo has too many pixels."

        allowed = _flat_png(4800, 4800)  # 23 million pixels: decoded and re-encoded, which takes a while
        done: dict[str, Any] = {}

        def upload() -> None:
            done["status"] = clin.post(
                url,
                data={"csrf_token": _csrf(clin), "kind": "other"},
                files={"photo": ("a.png", allowed, "image/png")},
            ).status_code
            done["at"] = time.monotonic()

        waits = []
        t = threading.Thread(target=upload)
        t0 = time.monotonic()
        t.start()
        with httpx.Client(base_url=base_url, timeout=30) as other:
            while t.is_alive():
                asked = time.monotonic()
                assert other.get("/api/v1/health").status_code == 200
                waits.append(time.monotonic() - asked)
                time.sleep(0.02)
        t.join()
        assert done["status"] == 303
        took = done["at"] - t0
        assert len(waits) >= 3 and max(waits) < max(0.25, took / 3), (took, max(waits))
    finally:
        clin.close()


def test_an_upload_is_not_parsed_for_a_stale_session(base_url: str, clinic: Any) -> None:
    """Regression: the multipart body was parsed (for the CSRF field) before the session cookie was
    checked, so anyone could make the server read and spool 21 MB with a made-up cookie."""
    ada = clinic.patients[0]
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as anon:
        anon.cookies.set("repigment_session", "made-up")
        r = anon.post(
            f"/clinic/patients/{ada}/visits/1/photos",
            content=b"--x\r\nnot a multipart body",
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
