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

from repigment.api.app import MAX_BODY_BYTES
from repigment.web.pages.photos import BODY_LIMITS, MAX_BYTES

pytestmark = on_sqlite


def _noise_jpeg(width: int, height: int) -> bytes:
    """Random pixels barely compress: a realistic camera-sized JPEG."""
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=100)
    return out.getvalue()


def test_large_photo_uploads_and_over_limit_is_refused_next_to_the_field(base_url: str, clinic: Any) -> None:
    assert MAX_BYTES == 10 << 20 and MAX_BODY_BYTES == 1 << 20
    clin = _client(base_url, clinic.clinician, clinic.password)
    try:
        ada = clinic.patients[0]
        visit_id = int(
            re.findall(rf"/clinic/patients/{ada}/visits/(\d+)", clin.get(f"/clinic/patients/{ada}").text)[0]
        )
        url = f"/clinic/patients/{ada}/visits/{visit_id}/photos"
        page = clin.get(f"/clinic/patients/{ada}/visits/{visit_id}").text
        assert f'data-max-bytes="{MAX_BYTES}"' in page  # the page's own check uses the same limit
        big = _noise_jpeg(2000, 1500)
        assert 5_000_000 < len(big) < MAX_BYTES
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
        over = big + b"\0" * (MAX_BYTES + 1 - len(big))
        r = clin.post(
            url,
            data={"csrf_token": _csrf(clin), "kind": "hands"},
            files={"photo": ("over.jpg", over, "image/jpeg")},
        )
        assert r.status_code == 422 and _field_error(r.text, "photo") == "The photo is too large."
        # Far over (beyond the route's body limit): refused before it is read.
        (_, _, route_limit) = BODY_LIMITS[0]
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
