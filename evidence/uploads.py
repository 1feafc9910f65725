"""Uploads sent in chunks: started with a declared size (refused over the limit
before a byte is sent), appended at the offset the server has, resumable.

Files are stored under ``EVIDENCE_ROOT`` by upload id; the name a browser gave is
kept for display only.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from assessment.models import Organization

from . import storage
from .models import Upload

NAME_MAX = 255
UPLOAD_TOO_LARGE_MSG = "The file is {size}; the limit is {limit}."
UPLOAD_EMPTY_MSG = "The file is empty."
UPLOAD_NAME_MSG = "Give the file's name."
CHUNK_OFFSET_MSG = "The server has {received} bytes of this file; send from there."
CHUNK_TOO_LARGE_MSG = "Send at most {limit} bytes per chunk."
CHUNK_PAST_END_MSG = "The chunk goes past the end of the file ({size} bytes)."
CHUNK_SHORT_MSG = "The chunk ended early: {written} of {length} bytes arrived."
UPLOAD_NOT_RECEIVING_MSG = "This upload is {status}; start a new one."


def size_text(size: int) -> str:
    """12_345_678 -> '12.3 MB' (decimal units, as disks and browsers count)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{size:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return str(size)


def display_name(name: str) -> str:
    """A file name as shown to people: its last path part, printable, shortened."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:NAME_MAX]


def upload_start(*, organization: Organization, user, name: str, size) -> Upload:
    """Start a chunked upload of ``size`` bytes; refused over the size limit
    before a single byte is sent."""
    errors: dict[str, list[str]] = {}
    shown = display_name(name)
    if not shown:
        errors["name"] = [UPLOAD_NAME_MSG]
    try:
        size = int(size)
    except (TypeError, ValueError):
        size = -1
    limit = settings.EVIDENCE_UPLOAD_MAX_BYTES
    if size <= 0:
        errors["size"] = [UPLOAD_EMPTY_MSG]
    elif size > limit:
        errors["size"] = [
            UPLOAD_TOO_LARGE_MSG.format(size=size_text(size), limit=size_text(limit))
        ]
    if errors:
        raise ValidationError(errors)
    upload = Upload.objects.create(
        organization=organization, created_by=user, name=shown, size=size
    )
    storage.upload_path(upload).parent.mkdir(parents=True, exist_ok=True)
    return upload


def upload_append(*, upload: Upload, offset: int, stream, length: int) -> Upload:
    """Append one chunk at ``offset``, which must be what the server has; a chunk
    that arrives only in part is dropped, so the client sends it again."""
    limit = settings.EVIDENCE_CHUNK_BYTES
    if length > limit:
        raise ValidationError({"chunk": [CHUNK_TOO_LARGE_MSG.format(limit=limit)]})
    with transaction.atomic():
        locked = Upload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != Upload.Status.RECEIVING:
            raise ValidationError(
                {
                    "upload": [
                        UPLOAD_NOT_RECEIVING_MSG.format(
                            status=locked.get_status_display().lower()
                        )
                    ]
                }
            )
        if offset != locked.received:
            raise ValidationError(
                {"offset": [CHUNK_OFFSET_MSG.format(received=locked.received)]}
            )
        if offset + length > locked.size:
            raise ValidationError(
                {"chunk": [CHUNK_PAST_END_MSG.format(size=locked.size)]}
            )
        written = storage.append(storage.upload_path(locked), offset, stream, length)
        if written != length:
            raise ValidationError(
                {"chunk": [CHUNK_SHORT_MSG.format(written=written, length=length)]}
            )
        locked.received = offset + written
        if locked.received == locked.size:
            locked.status = Upload.Status.COMPLETE
        locked.save(update_fields=["received", "status", "updated_at"])
    return locked


def upload_abort(*, upload: Upload) -> None:
    """Stop an upload and delete what arrived."""
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.ABORTED)
    storage.remove(storage.upload_path(upload))
