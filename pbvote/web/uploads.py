"""Image uploads that are too large come back to their form, with what was typed kept and
the error on the image field, instead of a bare "413 too large" page.

A body over the request limit is refused before any field is read, so everything typed
would be lost. The forms that take an image therefore accept a larger body
(IMAGE_FORM_REQUEST_MAX_BYTES, enough for any camera's photo), and keep only the first bytes
of each file (one more than images.MAX_IMAGE_BYTES, so the image check still sees that it is
too large): the rest is counted and dropped, never stored in memory or on disk.
"""
from __future__ import annotations

import io
import tempfile

from flask import Request, request
from flask_login import current_user

from pbvote.services import images

#: the set-up's project forms and the residents' idea forms
IMAGE_FORM_ENDPOINTS = frozenset({"staff_setup.new_project", "staff_setup.edit_project",
                                  "my_ideas.new", "my_ideas.edit"})
IMAGE_FORM_REQUEST_MAX_BYTES = 64 * 1024 * 1024


class CappedFile(io.RawIOBase):
    """A file part's container that keeps its first `keep` bytes and drops the rest."""

    def __init__(self, keep: int):
        super().__init__()
        self.keep = keep
        self.size = 0
        self._kept = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        room = self.keep - self.size
        if room > 0:
            self._kept.write(bytes(data[:room]))
        self.size += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._kept.read(size)

    def readinto(self, buffer) -> int:
        data = self._kept.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._kept.seek(offset, whence)

    def tell(self) -> int:
        return self._kept.tell()

    def close(self) -> None:
        self._kept.close()
        super().close()


class PbvoteRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        if self.endpoint in IMAGE_FORM_ENDPOINTS:
            return CappedFile(images.MAX_IMAGE_BYTES + 1)
        return super()._get_file_stream(total_content_length, content_type, filename,
                                        content_length)


def install(app) -> None:
    app.request_class = PbvoteRequest

    @app.url_value_preprocessor
    def _image_form_limit(endpoint, values):
        # before CSRFProtect's before_request hook reads the body; only for signed-in people,
        # so an anonymous body is held to the general limit
        if endpoint in IMAGE_FORM_ENDPOINTS and current_user.is_authenticated:
            request.max_content_length = IMAGE_FORM_REQUEST_MAX_BYTES
