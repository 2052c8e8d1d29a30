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

from repigment.api import access_log
from repigment.api.deps import Db
from repigment.config import get_settings
from repigment.store import Visit
from repigment.web import access
from repigment.web.i18n import N_
from repigment.web.pages.common import parse_id, see_other
from repigment.web.render import translator

router = APIRouter(include_in_schema=False)


# A photo may be up to 10 MiB (REPIGMENT_PHOTO_MAX_BYTES). The app refuses request bodies over 1 MiB
# (repigment.api.app.MAX_BODY_BYTES) except on the upload route, which is allowed body_limits(): twice the
# photo limit plus 1 MiB for the form, so that a photo somewhat over the limit is still read and answered
# with the error next to the field (the page's script refuses larger files before they are sent).
def max_bytes() -> int:
    return get_settings().photo_max_bytes


UPLOAD_PATH: Final = re.compile(r"/clinic/patients/[^/]+/visits/[^/]+/photos")


def body_limits() -> tuple[tuple[str, re.Pattern[str], int], ...]:
    return (("POST", UPLOAD_PATH, 2 * max_bytes() + (1 << 20)),)


# Pixels per photo (REPIGMENT_PHOTO_MAX_PIXELS): 24 million is a 6000 x 4000 camera. Decoding one takes
# at most two copies of 4 bytes a pixel (about 200 MB), in a worker thread, DECODERS at a time per process.
def max_pixels() -> int:
    return get_settings().photo_max_pixels


DECODERS: Final = 2
_decoders = anyio.CapacityLimiter(DECODERS)
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


@router.post("/clinic/patients/{patient_id}/visits/{visit_id}/photos")
async def upload(request: Request, db: Db, patient_id: str, visit_id: str) -> Response:
    from repigment.web.pages.clinic import _visit_page, clinician

    user = await clinician(request, db)
    _ = translator(request)
    patient = access.page_patient(db, user, parse_id(patient_id))
    visit = db.get(Visit, parse_id(visit_id, "visit"))
    if visit is None or visit.patient_id != patient.id:
        raise access.PageError(404, "visit")
    form = await request.form()
    kind = str(form.get("kind", ""))
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = _("Choose which view the photo shows.")
    upload_file = form.get("photo")
    raw = b""
    if upload_file is None or isinstance(upload_file, str) or not getattr(upload_file, "filename", ""):
        errors["photo"] = _("Choose a photo to upload.")
    else:
        raw = await upload_file.read(max_bytes() + 1)
    if not errors:
        try:  # decoded off the event loop, a bounded number at a time
            meta = await anyio.to_thread.run_sync(
                save_photo, patient.id, visit, kind, raw, user.user_id, limiter=_decoders
            )
        except PhotoError as e:
            errors["photo"] = _(e.reason)
        else:
            access_log.record_in(
                db,
                request,
                user,
                "photo_upload",
                table_name="photo",
                row_id=meta["sha256"],
                patient_id=patient.id,
                extra={"visit_id": visit.id, "kind": kind, "bytes": meta["bytes"]},
            )
            await anyio.to_thread.run_sync(db.commit)
    if errors:
        return _visit_page(
            request,
            db,
            user,
            patient,
            visit,
            status_code=422,
            upload={"errors": errors, "form": {"kind": kind}},
        )
    return see_other(f"/clinic/patients/{patient.id}/visits/{visit.id}#photos")


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
        await access_log.record(
            request,
            user.actor,
            "photo_view",
            table_name="photo",
            row_id=sha,
            patient_id=patient.id,
            extra={"role": user.role, "visit_id": meta.get("visit_id")},
        )
    return Response(
        data,
        media_type=meta["content_type"],
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
