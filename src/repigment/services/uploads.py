"""How large a request may be where a file is uploaded (the app refuses other bodies over 1 MiB)."""

from __future__ import annotations

from typing import Final

from repigment.config import get_settings

FORM_ALLOWANCE: Final = 1 << 20  # the upload form's other fields and the multipart framing


def photo_max_bytes() -> int:
    """A photo may be up to ``REPIGMENT_PHOTO_MAX_BYTES`` (10 MiB by default)."""
    return get_settings().photo_max_bytes


def photo_request_bytes() -> int:
    """A photo upload's request body may be twice the photo limit plus 1 MiB for the form, so that a photo
    somewhat over the limit is still read and answered with the error next to the field (the page's
    script refuses larger files before they are sent)."""
    return 2 * photo_max_bytes() + FORM_ALLOWANCE
