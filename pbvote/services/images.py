"""Project images: JPEG or PNG only, checked by decoding, at most 5 MB, re-encoded so no
metadata (camera, GPS) survives, and saved under a random name in the instance folder."""
from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path

from flask import current_app

from pbvote.i18n_hook import _
from pbvote.services.errors import DomainError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
#: refuse decompression bombs long before Pillow's own (warning-only) limit
MAX_IMAGE_PIXELS = 40_000_000
FORMATS = {"JPEG": ".jpg", "PNG": ".png"}
FOLDER = Path("uploads") / "projects"
NAME_PATTERN = re.compile(r"^[0-9a-f]{32}\.(?:jpg|png)$")


class ImageRefused(DomainError):
    def __init__(self, message: str, status: int = 422):
        super().__init__(message, status)


def image_folder() -> Path:
    folder = Path(current_app.instance_path) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_image(stream) -> str:
    """Check and re-encode an uploaded image; returns the stored file name."""
    from PIL import Image, UnidentifiedImageError

    data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(_("The image is larger than 5 MB; make it smaller and upload it again."),
                           413)
    if not data:
        raise ImageRefused(_("The uploaded file is empty."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            if kind not in FORMATS:
                raise ImageRefused(_("Only JPEG and PNG images are accepted."), 415)
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageRefused(_("The image has too many pixels; use one under 40 megapixels."))
            probe.load()  # decode everything: a truncated or forged file fails here
            image = probe.copy()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise ImageRefused(_("The file is not a readable JPEG or PNG image."), 415) from None
    # Keep only what the pixels need; EXIF, ICC, text chunks and the like are dropped.
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    out = io.BytesIO()
    if kind == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=88, optimize=True)  # no exif= → metadata dropped
    else:
        image.save(out, "PNG", optimize=True)  # only pixel data and mode are written
    name = secrets.token_hex(16) + FORMATS[kind]
    with os.fdopen(os.open(image_folder() / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644),
                   "wb") as target:
        target.write(out.getvalue())
    return name


def remove_image(name: str | None) -> None:
    if name and NAME_PATTERN.match(name):
        (image_folder() / name).unlink(missing_ok=True)
