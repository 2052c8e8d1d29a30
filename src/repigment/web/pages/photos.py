"""Standardised photos of a visit: upload (JPEG/PNG only, size-limited, metadata stripped), storage
outside the database with a SHA-256 checksum, and serving only to those who may read the record.

Files live under ``<data dir>/photos/<patient id>/<sha256>.<jpg|png>`` with a JSON sidecar holding the
visit, the kind of view, who uploaded it and when. The stored bytes are a re-encoding of the pixels
only: EXIF (GPS position, camera, time), XMP, ICC and text chunks are dropped; the EXIF orientation is
applied first so the picture stays upright.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any, Final

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from PIL import Image, ImageOps, UnidentifiedImageError

from repigment.config import get_settings
from repigment.services import access_log, uploads
from repigment.store import Visit
from repigment.web import access
from repigment.web.access import Db
from repigment.web.i18n import N_
from repigment.web.pages.common import parse_id

router = APIRouter(include_in_schema=False)


# A photo may be up to 10 MiB (REPIGMENT_PHOTO_MAX_BYTES); the upload route's request body may be larger
# than the app's 1 MiB (``repigment.services.uploads.photo_request_bytes``: the composition module,
# ``repigment.app``, asks ``repigment.web.large_bodies`` which routes may).
def max_bytes() -> int:
    return uploads.photo_max_bytes()


UPLOAD_PATH: Final = re.compile(r"/clinic/patients/[^/]+/visits/[^/]+/photos")


def body_limits() -> tuple[tuple[str, re.Pattern[str], int], ...]:
    return (("POST", UPLOAD_PATH, uploads.photo_request_bytes()),)


# Pixels per photo (REPIGMENT_PHOTO_MAX_PIXELS): 24 million is a 6000 x 4000 camera. Decoding one takes
# at most two copies of 4 bytes a pixel (about 200 MB), in a worker thread, DECODERS at a time per process.
def max_pixels() -> int:
    return get_settings().photo_max_pixels


DECODERS: Final = 2
decoders = anyio.CapacityLimiter(DECODERS)  # photo decodings at a time in this process
FORMATS: Final = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png")}
KINDS: Final = {
    "face_front": N_("Face, front"),
    "face_left": N_("Face, left side"),
    "face_right": N_("Face, right side"),
    "hands": N_("Hands"),
    "other": N_("Other treated area"),
}
_SHA: Final = re.compile(r"^[0-9a-f]{64}$")


class PhotoError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def root() -> Path:
    return get_settings().photos


def clean_image(raw: bytes) -> tuple[bytes, str, int, int]:
    """Re-encode an upload as pixels only; (bytes, format, width, height). Raises PhotoError (a msgid).

    The size in pixels is read from the header and bounded (``max_pixels()``) before anything is decoded:
    a 4 KB PNG can claim 6000 x 6000 pixels. Decoding then holds at most two copies of the pixels."""
    if len(raw) > max_bytes():
        raise PhotoError(N_("The photo is too large."))
    if not raw:
        raise PhotoError(N_("Choose a photo to upload."))
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            if probe.width * probe.height > max_pixels():
                raise PhotoError(N_("The photo has too many pixels."))
            probe.verify()
        if fmt not in FORMATS:
            raise PhotoError(N_("Only JPEG and PNG photos can be uploaded."))
        with Image.open(io.BytesIO(raw)) as img:
            if img.width * img.height > max_pixels():
                raise PhotoError(N_("The photo has too many pixels."))
            upright = ImageOps.exif_transpose(img) or img
            mode = "RGB" if fmt == "JPEG" else ("RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB")
            size = upright.size
            data = upright.convert(mode).tobytes()  # the converted copy is dropped at once
            del upright
            clean = Image.frombytes(mode, size, data)  # no info, no EXIF, no ICC
            del data
            out = io.BytesIO()
            if fmt == "JPEG":
                clean.save(out, format="JPEG", quality=90, optimize=True)
            else:
                clean.save(out, format="PNG", optimize=True)
            return out.getvalue(), fmt, clean.width, clean.height
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise PhotoError(N_("The file is not a readable JPEG or PNG image.")) from e


def save_photo(patient_id: int, visit: Visit, kind: str, raw: bytes, user_id: int) -> dict[str, Any]:
    data, fmt, width, height = clean_image(raw)
    sha = hashlib.sha256(data).hexdigest()
    ext, ctype = FORMATS[fmt]
    folder = root() / str(patient_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sha}.{ext}"
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    with tmp.open("rb+") as f:
        os.fsync(f.fileno())
    tmp.replace(target)
    meta = {
        "sha256": sha,
        "file": target.name,
        "content_type": ctype,
        "bytes": len(data),
        "width": width,
        "height": height,
        "kind": kind,
        "visit_id": visit.id,
        "visited_on": visit.visited_on.isoformat(),
        "uploaded_by": user_id,
        "uploaded_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    (folder / f"{sha}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def list_photos(patient_id: int, visit_id: int | None = None) -> list[dict[str, Any]]:
    folder = root() / str(patient_id)
    if not folder.is_dir():
        return []
    out = []
    for meta_file in folder.glob("*.json"):
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if visit_id is None or meta.get("visit_id") == visit_id:
            meta["url"] = f"/photos/{patient_id}/{meta['sha256']}"
            out.append(meta)
    out.sort(key=lambda m: (m.get("visited_on", ""), m.get("uploaded_at", "")))
    return out


def compare_pair(patient: Any) -> list[dict[str, Any]]:
    """For each kind of view: the earliest and the latest photo, to show side by side."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for m in list_photos(patient.id):
        by_kind.setdefault(m["kind"], []).append(m)
    return [
        {"kind": k, "first": v[0], "last": v[-1]}
        for k, v in sorted(by_kind.items(), key=lambda kv: list(KINDS).index(kv[0]) if kv[0] in KINDS else 99)
    ]


@router.get("/photos/{patient_id}/{sha}")
async def serve(request: Request, db: Db, patient_id: str, sha: str) -> Response:
    user = await access.page_user(request, db, ("clinician", "patient"))
    patient = access.page_patient(db, user, parse_id(patient_id))
    if not _SHA.match(sha):
        raise access.PageError(404, "photo")
    folder = root() / str(patient.id)
    meta_file = folder / f"{sha}.json"
    if not meta_file.is_file():
        raise access.PageError(404, "photo")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    data = (folder / meta["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:  # damaged on disk: never serve a changed clinical photo
        raise access.PageError(404, "photo")
    if not access_log.is_own(user, patient.id):
        ev = access_log.event(
            user,
            access.channel(request),
            "photo_view",
            table_name="photo",
            row_id=sha,
            patient_id=patient.id,
            extra={"visit_id": meta.get("visit_id")},
        )
        await access.record(request, ev)
    return Response(
        data,
        media_type=meta["content_type"],
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
