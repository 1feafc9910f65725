"""FOCUS files as they arrive: what format they are in (from their bytes, never
their names), whether they are FOCUS, which version, which columns and types.

Pure: no Django. Every problem is reported at once, each naming its file.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

from . import focus
from .measures import quote_ident, sql_string

# Columns the portal derives (x_ names a provider's custom column may not take).
INTERNAL = {
    "x_Taggable",
    "x_Allocated",
    "x_Rows",
    "x_PeriodStart",
    "x_PeriodEnd",
    "x_BadCostRows",
    "x_TeamId",
    "x_RulePosition",
    "x_Row",
    "x_HasRequiredTags",
    "x_BillingPeriods",
    "x_InvoiceTotal",
    "x_CommitmentDiscountSpendEligibility",
}
NUMERIC_TYPES = (
    "DECIMAL",
    "DOUBLE",
    "FLOAT",
    "REAL",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "SMALLINT",
    "TINYINT",
    "UBIGINT",
    "UINTEGER",
)
TIME_TYPES = ("TIMESTAMP", "DATE", "VARCHAR")
TAG_TYPES = ("VARCHAR", "JSON", "MAP", "STRUCT")
SAMPLE_ROWS = 20000
CUSTOM_MAX_DISTINCT = 2000
# Messages (every one names the file or the column).
EMPTY_FILE_MSG = "{name}: the file is empty."
NO_ROWS_MSG = "{name}: the file has a header but no rows."
NOT_FOCUS_MSG = (
    "{name}: not a FOCUS export: the required column{s} {columns} {are} missing."
)
UNKNOWN_VERSION_MSG = (
    "{name}: FOCUS version {version} is not supported; the portal reads FOCUS "
    "1.0 to 1.3."
)
MIXED_VERSIONS_MSG = (
    "The files are in different FOCUS versions ({versions}): upload the files of "
    "one version together."
)
ZIP_MSG = "{name}: a zip archive; unpack it and upload the CSV or Parquet files in it."
BINARY_MSG = "{name}: neither CSV (UTF-8 text) nor Parquet."
TRUNCATED_GZIP_MSG = (
    "{name}: the gzip file is truncated or damaged ({detail}). Upload it again."
)
BAD_PARQUET_MSG = "{name}: not a readable Parquet file ({detail})."
BAD_CSV_MSG = "{name}: the CSV cannot be read ({detail})."
PARQUET_TYPE_MSG = "{name}: column {column} is {type}; FOCUS needs {expected}."


class FocusInputError(Exception):
    """Files that cannot be used; ``messages`` lists every problem found."""

    def __init__(self, messages: Iterable[str]):
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


@dataclass(frozen=True)
class SourceFile:
    """A file on disk (``path``) and what people call it (``name``)."""

    path: str
    name: str


@dataclass
class FileInfo:
    """What ``inspect_files`` found out about one file."""

    source: SourceFile
    format: str  # "csv", "csv.gz" or "parquet"
    size: int
    columns: list[str]
    types: dict[str, str]
    version: str
    estimated_rows: int
    custom: list[str] = field(default_factory=list)


def sniff_format(path: str) -> str:
    """ "parquet", "csv.gz", "csv", "zip" or "binary", from the file's first bytes
    (never from its name)."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "csv.gz"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if b"\x00" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 4:
            return "binary"
    return "csv"


def _csv_source(info_or_path, fmt: str) -> str:
    path = info_or_path if isinstance(info_or_path, str) else info_or_path.source.path
    compression = "gzip" if fmt == "csv.gz" else "none"
    return (
        f"read_csv({sql_string(path)}, header = true, all_varchar = true, "
        f"compression = {sql_string(compression)})"
    )


def _parquet_source(path: str) -> str:
    return f"read_parquet({sql_string(path)})"


def _estimate_csv_rows(path: str, fmt: str, size: int) -> int:
    """Rows in a CSV from its size and the length of its first lines."""
    opener = gzip.open if fmt == "csv.gz" else open
    try:
        with opener(path, "rb") as handle:
            sample = handle.read(1 << 20)
    except (OSError, EOFError):
        return 0
    lines = sample.count(b"\n")
    if not lines:
        return 1 if sample.strip() else 0
    if fmt == "csv.gz":
        with open(path, "rb") as handle:
            handle.seek(max(0, size - 4))
            tail = handle.read(4)
        # ISIZE: the uncompressed size modulo 2**32, exact below 4 GiB.
        total = int.from_bytes(tail, "little") if size < 2**32 else size * 8
        total = max(total, len(sample))
    else:
        total = size
    return max(0, round(total / (len(sample) / lines)) - 1)


def duckdb_detail(error: Exception) -> str:
    text = (
        str(error).strip().splitlines()[0]
        if str(error).strip()
        else type(error).__name__
    )
    for prefix in ("IO Error: ", "Invalid Input Error: ", "Conversion Error: "):
        text = text.removeprefix(prefix)
    return text[:200]


def _inspect_one(con, source: SourceFile, errors: list[str]) -> FileInfo | None:
    name, path = source.name, source.path
    size = os.path.getsize(path)
    if size == 0:
        errors.append(EMPTY_FILE_MSG.format(name=name))
        return None
    fmt = sniff_format(path)
    if fmt == "zip":
        errors.append(ZIP_MSG.format(name=name))
        return None
    if fmt == "binary":
        errors.append(BINARY_MSG.format(name=name))
        return None
    relation = _parquet_source(path) if fmt == "parquet" else _csv_source(path, fmt)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        has_rows = con.execute(f"SELECT 1 FROM {relation} LIMIT 1").fetchall()
    except duckdb.Error as error:
        detail = duckdb_detail(error)
        if fmt == "parquet":
            errors.append(BAD_PARQUET_MSG.format(name=name, detail=detail))
        elif "gzip" in detail.lower() or fmt == "csv.gz":
            errors.append(TRUNCATED_GZIP_MSG.format(name=name, detail=detail))
        else:
            errors.append(BAD_CSV_MSG.format(name=name, detail=detail))
        return None
    columns = [row[0] for row in described]
    types = {row[0]: str(row[1]).upper() for row in described}
    missing = focus.missing_columns(columns)
    if missing:
        errors.append(
            NOT_FOCUS_MSG.format(
                name=name,
                s="s" if len(missing) > 1 else "",
                columns=", ".join(missing),
                are="are" if len(missing) > 1 else "is",
            )
        )
        return None
    if not has_rows:
        errors.append(NO_ROWS_MSG.format(name=name))
        return None
    if fmt == "parquet":
        problems = _parquet_type_problems(name, types)
        if problems:
            errors.extend(problems)
            return None
    declared = None
    version_column = next((c for c in focus.VERSION_COLUMNS if c in types), None)
    if version_column:
        rows = con.execute(
            f"SELECT DISTINCT CAST({quote_ident(version_column)} AS VARCHAR) "
            f"FROM (SELECT * FROM {relation} LIMIT {SAMPLE_ROWS}) "
            f"WHERE {quote_ident(version_column)} IS NOT NULL"
        ).fetchall()
        declared = {focus.normalise_version(row[0]) for row in rows} or None
    version = focus.detect_version(columns, declared)
    if version not in focus.SUPPORTED_VERSIONS:
        errors.append(UNKNOWN_VERSION_MSG.format(name=name, version=repr(version)))
        return None
    if fmt == "parquet":
        estimated = con.execute(
            f"SELECT sum(num_rows) FROM parquet_file_metadata({sql_string(path)})"
        ).fetchone()[0]
    else:
        estimated = _estimate_csv_rows(path, fmt, size)
    return FileInfo(
        source=source,
        format=fmt,
        size=size,
        columns=columns,
        types=types,
        version=version,
        estimated_rows=int(estimated or 0),
        custom=_custom_dimensions(con, relation, columns, types, fmt),
    )


def _parquet_type_problems(name: str, types: dict[str, str]) -> list[str]:
    problems = []
    checks: list[tuple[str, tuple[str, ...], str]] = [
        (c, NUMERIC_TYPES, "a number (DECIMAL or DOUBLE)") for c in focus.COST_COLUMNS
    ]
    checks += [(c, TIME_TYPES, "a timestamp") for c in focus.TIME_COLUMNS]
    checks.append(("Tags", TAG_TYPES, "a JSON object (text, JSON or MAP)"))
    for column, allowed, expected in checks:
        kind = types.get(column)
        if kind is not None and not kind.startswith(allowed):
            problems.append(
                PARQUET_TYPE_MSG.format(
                    name=name, column=column, type=kind, expected=expected
                )
            )
    return problems


def _custom_dimensions(con, relation, columns, types, fmt) -> list[str]:
    """x_ columns that hold few distinct text values (in a sample): the ones a
    team mapping can use. Numeric ones (x_TotalSavings) are left out."""
    candidates = [
        c
        for c in columns
        if focus.CUSTOM_COLUMN.match(c)
        and c not in INTERNAL
        and (fmt != "parquet" or types[c].startswith(("VARCHAR", "BOOLEAN")))
    ]
    if not candidates:
        return []
    checks = ", ".join(
        f"approx_count_distinct({quote_ident(c)}), "
        f"count(*) FILTER (WHERE {quote_ident(c)} IS NOT NULL "
        f"AND TRY_CAST({quote_ident(c)} AS DOUBLE) IS NULL)"
        for c in candidates
    )
    row = con.execute(
        f"SELECT {checks} FROM (SELECT * FROM {relation} LIMIT {SAMPLE_ROWS})"
    ).fetchone()
    chosen = []
    for i, column in enumerate(candidates):
        distinct, texts = row[2 * i], row[2 * i + 1]
        if texts and distinct <= CUSTOM_MAX_DISTINCT:
            chosen.append(column)
    return chosen[: focus.MAX_CUSTOM_DIMENSIONS]


def inspect_files(con, files: list[SourceFile]) -> list[FileInfo]:
    """Check every file: format, FOCUS columns and version, types, rows.

    Raises ``FocusInputError`` with every problem of every file; the files of one
    ingestion must also share one FOCUS version.
    """
    errors: list[str] = []
    infos = [info for f in files if (info := _inspect_one(con, f, errors))]
    if errors:
        raise FocusInputError(errors)
    versions = sorted({info.version for info in infos})
    if len(versions) > 1:
        raise FocusInputError(
            [
                MIXED_VERSIONS_MSG.format(
                    versions=", ".join(
                        f"{info.source.name} is {info.version}" for info in infos
                    )
                )
            ]
        )
    return infos


def relation_of(info: FileInfo) -> str:
    """The DuckDB table function that reads ``info``'s file."""
    if info.format == "parquet":
        return _parquet_source(info.source.path)
    return _csv_source(info, info.format)
