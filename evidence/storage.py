"""Where evidence files live: under ``EVIDENCE_ROOT``, named by ids, never served.

Uploads are appended chunk by chunk at the offset the server has (resumable);
summaries (Parquet) sit beside them per ingestion. Folder sources may only point
inside ``EVIDENCE_IMPORT_ROOTS``.
"""

import hashlib
import os
import shutil
from pathlib import Path

from django.conf import settings

COPY_BUFFER = 256 * 1024
FOLDER_SUFFIXES = (".csv", ".csv.gz", ".gz", ".parquet")


def root() -> Path:
    return Path(settings.EVIDENCE_ROOT)


def upload_path(upload) -> Path:
    """The bytes of an upload: by organisation and upload id (a UUID)."""
    return (
        root() / "uploads" / str(int(upload.organization_id)) / f"{upload.id.hex}.part"
    )


def cube_dir(organization_id: int, ingestion_id: int) -> Path:
    return root() / "cubes" / str(int(organization_id)) / str(int(ingestion_id))


def temp_dir() -> Path:
    return root() / "tmp"


def relative(path: Path) -> str:
    return str(Path(path).resolve().relative_to(root().resolve()))


def absolute(relative_path: str) -> Path:
    """A stored relative path back to an absolute one, refusing anything outside."""
    base = root().resolve()
    path = (base / relative_path).resolve()
    if not path.is_relative_to(base):
        raise ValueError("outside the evidence root")
    return path


def append(path: Path, offset: int, stream, length: int) -> int:
    """Write ``length`` bytes of ``stream`` at ``offset`` (dropping anything after
    it, such as a half-written earlier attempt); returns the bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "r+b" if path.exists() else "wb"
    written = 0
    with open(path, mode) as handle:
        handle.seek(offset)
        handle.truncate(offset)
        while written < length:
            piece = stream.read(min(COPY_BUFFER, length - written))
            if not piece:
                break
            handle.write(piece)
            written += len(piece)
        handle.flush()
        os.fsync(handle.fileno())
    return written


def remove(path: Path) -> None:
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def import_roots() -> list[Path]:
    return [Path(p).resolve() for p in settings.EVIDENCE_IMPORT_ROOTS]


def folder_resolve(path: str) -> Path | None:
    """``path`` resolved, if it is a folder inside one of the import roots."""
    if not path or "\x00" in path:
        return None
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_dir():
        return None
    if not any(resolved.is_relative_to(base) for base in import_roots()):
        return None
    return resolved


def folder_files(folder: Path) -> list[Path]:
    """The export files of a folder (and its subfolders, as providers partition
    exports by period), sorted; links leading outside the folder are skipped."""
    files = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or not path.name.lower().endswith(FOLDER_SUFFIXES):
            continue
        if not path.resolve().is_relative_to(folder):
            continue
        files.append(path)
    return files


def folder_signature(files: list[Path]) -> str:
    """Changes whenever a file is added, removed, resized or rewritten."""
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
