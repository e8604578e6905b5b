"""What every DuckDB session dbt opens on this project gets (profiles/profiles.yml, plugins).

Two things, both needed before any model runs:

1. The libraries the Python models use are imported once, in the thread that starts
   dbt, before dbt starts its worker threads. Two Python models that import scikit-learn
   at the same moment in two threads can otherwise see a partially initialised module
   (``ImportError: cannot import name 'clone' from partially initialized module``).
2. The SQL function ``segment_warehouse_prepare_csv(path, options, cache_dir)``, which the
   raw-source loader (macros/raw/load_raw_sources.sql) calls once per CSV file: it reads
   the header line with the configured delimiter, quote and encoding, so DuckDB's reader
   can be given the file's dialect instead of guessing it, and it rewrites a file whose
   lines end in a mix of CRLF and LF (rows appended by another tool) to LF endings in
   ``cache_dir``, because DuckDB's strict CSV reader accepts one line ending per file.
   Parsing the rows, and rejecting the malformed ones, stays with DuckDB's reader.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import importlib
import json
import os
from pathlib import Path
from typing import IO, Any

from dbt.adapters.duckdb.plugins import BasePlugin

PRELOADED_MODULES = (
    "numpy",
    "pandas",
    "scipy.optimize",
    "scipy.special",
    "scipy.stats",
    "sklearn.base",
    "sklearn.cluster",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.preprocessing",
    "segment_warehouse.modelling.churn",
    "segment_warehouse.modelling.churn_champion",
    "segment_warehouse.modelling.clustering",
    "segment_warehouse.modelling.clv",
    "segment_warehouse.modelling.identity_matching",
    "segment_warehouse.modelling.threads",
)
"""Imported before dbt's threads start: every module a Python model imports (a test checks)."""

HEADER_LIMIT_BYTES = 1 << 20
"""A header line longer than this is refused: it is not a header."""

CHUNK_BYTES = 1 << 24
ENCODINGS = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "utf-16": "utf-16"}
"""Encodings DuckDB's CSV reader handles itself, with the codec that decodes the header."""


class CsvPreparationError(ValueError):
    """A CSV file cannot be read at all: the message names the file and the problem."""


def open_raw(path: Path) -> IO[bytes]:
    """Open a raw file for reading bytes, decompressing a ``.gz`` file."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def preload_libraries() -> None:
    """Import the Python models' libraries in the calling thread."""
    for module in PRELOADED_MODULES:
        importlib.import_module(module)


def read_header(path: Path, delimiter: str, quote: str, encoding: str) -> tuple[list[str], str]:
    """Return the column names in the first line of ``path`` and that line's ending.

    Raises:
        CsvPreparationError: the file is empty, its header is not in ``encoding`` or is
            longer than HEADER_LIMIT_BYTES, or it names a column twice or not at all.

    """
    with open_raw(path) as handle:
        head = handle.read(HEADER_LIMIT_BYTES)
    if not head.strip():
        raise CsvPreparationError(f"{path}: the file is empty (no header line)")
    newline = b"\n\x00" if encoding == "utf-16" and not head.startswith(b"\xfe\xff") else b"\n"
    end = head.find(newline)
    if end < 0 and len(head) == HEADER_LIMIT_BYTES:
        raise CsvPreparationError(
            f"{path}: no end of the header line in the first {HEADER_LIMIT_BYTES:,} bytes"
        )
    line = head if end < 0 else head[:end]
    try:
        text = line.decode(ENCODINGS[encoding])
    except UnicodeDecodeError as error:
        raise CsvPreparationError(
            f"{path}: the header line is not {encoding} ({error.reason} at byte {error.start}); "
            "set the table's encoding in var raw.read_options"
        ) from error
    line_ending = "\r\n" if text.endswith("\r") else "\n"
    text = text.rstrip("\r").lstrip(codecs.BOM_UTF8.decode())
    names = next(csv.reader([text], delimiter=delimiter, quotechar=quote or None))
    names = [name.strip() for name in names]
    if any(not name for name in names):
        raise CsvPreparationError(
            f"{path}: the header has an empty column name (columns: {', '.join(names)}); "
            f"is the delimiter {delimiter!r} right?"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CsvPreparationError(f"{path}: the header names {', '.join(repeated)} twice")
    return names, line_ending


def line_ending_kinds(path: Path) -> tuple[bool, bool]:
    """Tell whether ``path`` has CRLF line endings and whether it has bare LF ones.

    Reads until both are found; a chunk without a CR costs one byte search.
    """
    has_crlf = has_bare_lf = False
    previous_ended_in_cr = False
    with open_raw(path) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            starts_crlf = previous_ended_in_cr and chunk.startswith(b"\n")
            if b"\r" in chunk or starts_crlf:
                crlf = chunk.count(b"\r\n") + int(starts_crlf)
                has_crlf = has_crlf or crlf > 0
                has_bare_lf = has_bare_lf or chunk.count(b"\n") > crlf
            else:
                has_bare_lf = has_bare_lf or b"\n" in chunk
            if has_crlf and has_bare_lf:
                break
            previous_ended_in_cr = chunk.endswith(b"\r")
    return has_crlf, has_bare_lf


def normalise_line_endings(path: Path, cache_dir: Path) -> Path:
    """Write ``path`` with every CRLF turned into LF under ``cache_dir``; return the copy.

    A compressed file is copied uncompressed.

    The copy has as many lines as the original, so line numbers in messages still point
    at the original file. It is rewritten only when the original changed.
    """
    stat = path.stat()
    fingerprint = hashlib.md5(
        f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode(), usedforsecurity=False
    ).hexdigest()[:12]
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = path.name.removesuffix(".gz").removesuffix(".csv")
    target = cache_dir / f"{stem}.{fingerprint}.csv"
    if target.exists():
        return target
    for stale in cache_dir.glob(f"{stem}.*.csv"):
        stale.unlink()
    partial = target.with_suffix(".partial")
    with open_raw(path) as source, partial.open("wb") as copy:
        pending_cr = b""
        while chunk := source.read(CHUNK_BYTES):
            chunk = pending_cr + chunk
            pending_cr = b"\r" if chunk.endswith(b"\r") else b""
            if pending_cr:
                chunk = chunk[:-1]
            copy.write(chunk.replace(b"\r\n", b"\n"))
        copy.write(pending_cr)
    os.replace(partial, target)
    return target


def prepare_csv(path: str, options: str, cache_dir: str) -> str:
    """Describe how DuckDB should read one CSV file; JSON for the loader macro.

    Args:
        path: The raw file.
        options: JSON with the table's delimiter, quote and encoding.
        cache_dir: Where a copy with normalised line endings may be written.

    Returns:
        JSON with ``columns`` (the header's names), ``path`` (the file to read: the
        original, or the normalised copy), ``line_ending`` and ``normalised``; or with
        ``error`` when the file cannot be read at all.

    """
    settings: dict[str, Any] = json.loads(options)
    file_path = Path(path)
    encoding = settings.get("encoding") or "utf-8"
    try:
        if encoding not in ENCODINGS:
            raise CsvPreparationError(
                f"{file_path}: encoding {encoding!r} is not supported; use one of "
                + ", ".join(ENCODINGS)
            )
        columns, line_ending = read_header(
            file_path, settings.get("delimiter") or ",", settings.get("quote") or "", encoding
        )
        read_path, normalised = file_path, False
        if encoding != "utf-16":
            has_crlf, has_bare_lf = line_ending_kinds(file_path)
            if has_crlf and has_bare_lf:
                read_path, normalised = normalise_line_endings(file_path, Path(cache_dir)), True
                line_ending = "\n"
        described = {
            "columns": columns,
            "path": str(read_path),
            "line_ending": line_ending,
            "normalised": normalised,
        }
    except (CsvPreparationError, OSError) as error:
        described = {"error": str(error)}
    return json.dumps(described)


class Plugin(BasePlugin):
    """dbt-duckdb plugin: preloads the models' libraries and registers the CSV preparer."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Import the models' libraries: runs once per dbt invocation, before any thread."""
        preload_libraries()

    def configure_connection(self, conn: Any) -> None:
        """Register ``segment_warehouse_prepare_csv`` on each new DuckDB connection."""
        conn.create_function(
            "segment_warehouse_prepare_csv",
            prepare_csv,
            ["VARCHAR", "VARCHAR", "VARCHAR"],
            "VARCHAR",
            side_effects=True,
        )
