"""Publish the public marts to a separate DuckDB file that BI tools read.

DuckDB allows one writer per database file, and any open connection to the file, even a
read-only one, stops a writer from opening it. BI tools therefore never read the warehouse
that dbt writes. After a green build the public marts are copied into a new DuckDB file next
to the published one, which then replaces it atomically with ``os.replace``:

- a reader never sees a half-built mart: the new file is complete (checkpointed, no WAL,
  fsynced) before it takes the published name;
- a reader that already has the published file open keeps reading the version it opened
  (Linux keeps the replaced inode alive while it is open), a new connection gets the new one;
- the publisher never opens the published file, so readers never block it, and it holds the
  warehouse only read-only and only while copying, so dbt can write it straight after.

A process that keeps a connection to the published path open gets that same, old version
from every further ``duckdb.connect(path)`` (DuckDB caches the database instance per path);
a fresh in-memory connection that ATTACHes the path gets the new one. ``read_publication``
reads that way.

Signals: until the swap, an exception from a signal handler (KeyboardInterrupt on SIGINT,
the job's own stop on SIGTERM) aborts the publish like any failure: the new files are
removed and the previous publication stays. From just before the swap of the DuckDB file
until the Parquet link has followed it (and the caller's ``after_swap`` has run), SIGHUP,
SIGINT and SIGTERM are held and handled afterwards (:func:`signals_held`), so a signal
never leaves one copy new and the other old. SIGKILL cannot be held: a publish killed before
the swap leaves temporary files, which the next publish removes, and the previous
publication.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import os
import re
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import duckdb

from segment_warehouse.pipeline.public_models import (
    PublishError,
    pii_columns,
    public_models,
    quote_identifier,
    quote_literal,
)

__all__ = [
    "Publication",
    "PublishError",
    "export_audiences",
    "pii_columns",
    "public_models",
    "publish",
    "quote_identifier",
    "quote_literal",
    "read_publication",
    "remove_stale_files",
]

DEFAULT_STORAGE_VERSION = "v1.0.0"
"""Storage format written by default: readable by every DuckDB from 1.0 on."""

METADATA_TABLES = ("publication", "published_tables")
"""Tables that every published file holds besides the marts; no mart may take these names."""

PAUSE_BEFORE_SWAP_ENV = "SEGMENT_WAREHOUSE_TEST_PAUSE_BEFORE_SWAP"
"""For tests only: seconds :func:`publish` waits after writing the new files, just before
swapping them in, so that a test can signal or kill a publish at that moment. Never set it
in production."""

HELD_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)
"""Signals that :func:`signals_held` holds back while a swap is committed."""

_TARGET_ALIAS = "publication_target"
_PUBLISHED_ALIAS = "published"
_TEMP_TOKEN_BYTES = 8


@dataclasses.dataclass(frozen=True)
class Publication:
    """What a published file holds: which run, as of which day, when, and its tables."""

    path: Path
    run_id: str
    as_of_date: datetime.date
    published_at: datetime.datetime
    """When the file was written, timezone-aware in UTC."""
    row_counts: dict[str, int]
    """Published table name -> number of rows, sorted by name."""


# ---- publishing ---------------------------------------------------------------------------


def publish(
    source_db: Path,
    relations: Mapping[str, str],
    published_path: Path,
    *,
    run_id: str,
    as_of_date: datetime.date | str,
    storage_version: str | None = DEFAULT_STORAGE_VERSION,
    parquet_dir: Path | None = None,
    audience_dir: Path | None = None,
    after_swap: Callable[[Publication], None] | None = None,
    keep_previous: bool = True,
) -> Publication:
    """Copy relations of the warehouse into a new file and swap it in as the published file.

    Two publishers of the same path are serialised by an exclusive lock on the sibling file
    ``<name>.lock``. Temporary files of publishes that were killed are removed first. On any
    failure the temporary file is removed and the previous published file stays as it was.

    With ``parquet_dir`` every published table (the metadata tables included) is also
    written as ``<table>.parquet`` into a new directory ``.<dir name>.<token>`` beside it,
    and ``parquet_dir``, a symbolic link, is then swapped to it atomically, right after the
    DuckDB file. The directory it pointed to before stays (as ``.<dir name>.previous``) for
    readers that resolved the link earlier; older ones are removed.

    With ``audience_dir`` each audience of the published ``audience_registry`` is exported
    from the published ``audience_members`` as ``<audience>.csv`` and ``<audience>.parquet``
    (:func:`export_audiences`), into a new directory swapped in the same way, right after
    the Parquet copies.

    Args:
        source_db: The warehouse DuckDB file; attached read-only and detached before the swap.
        relations: Published table name -> relation to copy, as returned by
            :func:`public_models`. Relations are SQL and resolve inside the warehouse.
        published_path: The file BI tools read.
        run_id: Identifier of the dbt run whose results are published.
        as_of_date: The day the data describes (a date or an ISO ``YYYY-MM-DD`` string).
        storage_version: DuckDB storage format of the published file, e.g. ``"v1.0.0"`` so
            that DuckDB 1.x clients can read it; None writes this DuckDB's default format.
        parquet_dir: Where to publish Parquet copies as well (a symbolic link that this
            function manages); None publishes the DuckDB file only.
        audience_dir: Where to export the audiences (a symbolic link that this function
            manages); None exports none.
        after_swap: Called with the new Publication once both copies are swapped in, while
            signals are still held (:func:`signals_held`), e.g. to record the run as
            published: a signal cannot fall between the swap and that record.
        keep_previous: False removes the previous Parquet and audience versions right after the swap
            instead of keeping it for readers (the job passes False when the build applied
            a new erasure: no copy of the erased person may survive the run).

    Returns:
        The Publication now in place, as :func:`read_publication` will read it.

    Raises:
        PublishError: Nothing to publish, a table name is reserved, the warehouse or a
            relation does not exist, ``parquet_dir`` is a real directory or file rather than
            a link, or DuckDB failed while writing the new files.

    """
    published_path = Path(published_path)
    parquet_dir = None if parquet_dir is None else Path(parquet_dir)
    audience_dir = None if audience_dir is None else Path(audience_dir)
    for link in (parquet_dir, audience_dir):
        if link is not None and link.exists() and not link.is_symlink():
            raise PublishError(
                f"{link} exists and is not a symbolic link: publishing manages that path as "
                "a link to the latest version of its directory; move it away or choose "
                "another path"
            )
    source_db = Path(source_db)
    tables = _checked_tables(relations)
    as_of = _as_date(as_of_date)
    if not source_db.is_file():
        raise PublishError(f"warehouse {source_db} does not exist")
    published_path.parent.mkdir(parents=True, exist_ok=True)

    with _exclusive_lock(published_path):
        _remove_stale_files(published_path)
        for link in (parquet_dir, audience_dir):
            if link is not None:
                _remove_stale_parquet(link)
        temp_path = _new_temp_path(published_path)
        version_dir = None if parquet_dir is None else _new_parquet_version(parquet_dir)
        audience_version = None if audience_dir is None else _new_parquet_version(audience_dir)
        with ExitStack() as swap:
            try:
                publication = _write_new_file(
                    source_db,
                    tables,
                    temp_path,
                    run_id=run_id,
                    as_of_date=as_of,
                    storage_version=storage_version,
                )
                if version_dir is not None:
                    _export_parquet(temp_path, [*tables, *METADATA_TABLES], version_dir)
                if audience_version is not None:
                    export_audiences(temp_path, audience_version)
                _fsync(temp_path)
                _pause_before_swap()
                # from here until both copies are swapped, a signal waits
                swap.enter_context(signals_held())
                os.replace(temp_path, published_path)
            except BaseException:
                _remove_temp_files(temp_path)
                for directory in (version_dir, audience_version):
                    if directory is not None:
                        shutil.rmtree(directory, ignore_errors=True)
                raise
            _fsync(published_path.parent)
            if parquet_dir is not None and version_dir is not None:
                _swap_parquet_link(parquet_dir, version_dir)
                if not keep_previous:
                    _drop_previous_parquet(parquet_dir)
            if audience_dir is not None and audience_version is not None:
                _swap_parquet_link(audience_dir, audience_version)
                if not keep_previous:
                    _drop_previous_parquet(audience_dir)
            publication = dataclasses.replace(publication, path=published_path)
            if after_swap is not None:
                after_swap(publication)
    return publication


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGHUP, SIGINT and SIGTERM back while the block runs; deliver them after it.

    A held signal is handled, by the handler it would have met, when the block ends, so the
    block is never cut in half by it. In the main thread the handlers are swapped for one
    that notes the signal (a signal that another thread of the process receives, e.g. one of
    DuckDB's, would otherwise still run the handler here) and the signals are blocked too;
    in another thread they are blocked in that thread only. Blocks nest.
    """
    deferred: list[int] = []

    def defer(signum: int, _frame: FrameType | None) -> None:
        deferred.append(signum)

    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    previous_handlers: dict[int, Any] = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for signum in HELD_SIGNALS:
                if signal.getsignal(signum) is not None:  # None: set outside Python; left alone
                    previous_handlers[signum] = signal.signal(signum, defer)
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    except BaseException:
        _release_signals(previous_mask, previous_handlers)
        raise
    try:
        yield
    finally:
        _release_signals(previous_mask, previous_handlers)
        for signum in deferred:
            signal.raise_signal(signum)


def _release_signals(mask: set[signal.Signals], handlers: Mapping[int, Any]) -> None:
    # unblocked first: a signal pending in the kernel meets the deferring handler
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def _pause_before_swap() -> None:
    """Wait ``$SEGMENT_WAREHOUSE_TEST_PAUSE_BEFORE_SWAP`` seconds (tests only; unset: none)."""
    seconds = os.environ.get(PAUSE_BEFORE_SWAP_ENV)
    if seconds:
        time.sleep(float(seconds))


def _checked_tables(relations: Mapping[str, str]) -> dict[str, str]:
    if not relations:
        raise PublishError("nothing to publish: no relations given")
    reserved = sorted(name for name in relations if name.lower() in METADATA_TABLES)
    if reserved:
        raise PublishError(f"table names {reserved} are reserved for the publication metadata")
    return dict(sorted(relations.items()))


def _as_date(value: datetime.date | str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise PublishError(f"as_of_date {value!r} is not an ISO date (YYYY-MM-DD)") from error


def _write_new_file(
    source_db: Path,
    tables: Mapping[str, str],
    temp_path: Path,
    *,
    run_id: str,
    as_of_date: datetime.date,
    storage_version: str | None,
) -> Publication:
    """Write the marts and the metadata into temp_path; return what it holds."""
    # an in-memory connection with both files ATTACHed: duckdb.connect(file) could hand back
    # a cached instance of a file this process already has open
    connection = duckdb.connect()
    try:
        _attach_target(connection, temp_path, storage_version)
        _attach_source(connection, source_db)
        _check_relations_exist(connection, tables, source_db)
        row_counts = {
            name: _copy_relation(connection, name, relation, source_db)
            for name, relation in tables.items()
        }
        published_at = datetime.datetime.now(datetime.UTC)
        _write_metadata(connection, run_id, as_of_date, published_at, row_counts)
        connection.execute(f"checkpoint {_TARGET_ALIAS}")
        connection.execute("use memory")
        connection.execute(f"detach {_TARGET_ALIAS}")
    except duckdb.Error as error:
        raise PublishError(f"publishing {source_db} to {temp_path} failed: {error}") from error
    finally:
        # closing also detaches the warehouse, so dbt can write it straight after
        connection.close()
    wal_path = _wal_path(temp_path)
    if wal_path.exists():
        raise PublishError(f"{wal_path} remains after the checkpoint: the file is incomplete")
    return Publication(temp_path, run_id, as_of_date, published_at, row_counts)


def _attach_target(
    connection: duckdb.DuckDBPyConnection, temp_path: Path, storage_version: str | None
) -> None:
    options = ""
    if storage_version is not None:
        options = f" (storage_version {quote_literal(storage_version)})"
    try:
        connection.execute(f"attach {quote_literal(str(temp_path))} as {_TARGET_ALIAS}{options}")
    except duckdb.Error as error:
        raise PublishError(
            f"cannot create {temp_path} with storage version {storage_version!r}: {error}"
        ) from error


def _attach_source(connection: duckdb.DuckDBPyConnection, source_db: Path) -> None:
    # attached under its file stem, the database name dbt-duckdb gives it, so a relation may
    # also be written with the database part (like the manifest's relation_name); USE lets
    # relations omit it
    alias = quote_identifier(source_db.stem)
    try:
        connection.execute(f"attach {quote_literal(str(source_db))} as {alias} (read_only)")
        connection.execute(f"use {alias}")
    except duckdb.Error as error:
        raise PublishError(f"cannot open warehouse {source_db} read-only: {error}") from error


def _check_relations_exist(
    connection: duckdb.DuckDBPyConnection, tables: Mapping[str, str], source_db: Path
) -> None:
    """Fail before copying anything when any relation cannot be read."""
    problems = []
    for name, relation in tables.items():
        try:
            connection.execute(f"select * from {relation} limit 0").fetchall()
        except duckdb.CatalogException as error:
            problems.append(f"{name}: relation {relation} does not exist ({_first_line(error)})")
        except (duckdb.BinderException, duckdb.ParserException) as error:
            problems.append(f"{name}: relation {relation} cannot be read ({_first_line(error)})")
    if problems:
        raise PublishError(f"cannot publish from {source_db}: " + "; ".join(problems))


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0]


def _copy_relation(
    connection: duckdb.DuckDBPyConnection, name: str, relation: str, source_db: Path
) -> int:
    table = f"{_TARGET_ALIAS}.main.{quote_identifier(name)}"
    try:
        connection.execute(f"create table {table} as select * from {relation}")
        (row_count,) = connection.execute(f"select count(*) from {table}").fetchone()
    except duckdb.Error as error:
        raise PublishError(
            f"copying {relation} from {source_db} into table {name} failed: {error}"
        ) from error
    return int(row_count)


def _write_metadata(
    connection: duckdb.DuckDBPyConnection,
    run_id: str,
    as_of_date: datetime.date,
    published_at: datetime.datetime,
    row_counts: Mapping[str, int],
) -> None:
    target = f"{_TARGET_ALIAS}.main"
    connection.execute(
        f"create table {target}.publication ("
        " run_id varchar not null, as_of_date date not null, published_at timestamp not null)"
    )
    # TIMESTAMP holds UTC wall time: a naive value, so the session time zone plays no part
    connection.execute(
        f"insert into {target}.publication values (?, ?, ?)",
        [run_id, as_of_date, published_at.replace(tzinfo=None)],
    )
    connection.execute(
        f"create table {target}.published_tables ("
        " table_name varchar not null primary key, row_count bigint not null)"
    )
    connection.executemany(
        f"insert into {target}.published_tables values (?, ?)",
        [[name, count] for name, count in row_counts.items()],
    )


# ---- Parquet copies -----------------------------------------------------------------------


def _new_parquet_version(parquet_dir: Path) -> Path:
    parquet_dir.parent.mkdir(parents=True, exist_ok=True)
    version_dir = parquet_dir.with_name(
        f".{parquet_dir.name}.{secrets.token_hex(_TEMP_TOKEN_BYTES)}"
    )
    version_dir.mkdir()
    return version_dir


def _export_parquet(database: Path, tables: Sequence[str], version_dir: Path) -> None:
    """Write each table of the new file as ``<table>.parquet`` and fsync the directory."""
    connection = duckdb.connect()
    try:
        connection.execute(
            f"attach {quote_literal(str(database))} as {_PUBLISHED_ALIAS} (read_only)"
        )
        for table in tables:
            target = quote_literal(str(version_dir / f"{table}.parquet"))
            connection.execute(
                f"copy {_PUBLISHED_ALIAS}.main.{quote_identifier(table)} to {target} "
                "(format parquet, compression zstd)"
            )
    except duckdb.Error as error:
        raise PublishError(f"writing Parquet copies into {version_dir} failed: {error}") from error
    finally:
        connection.close()
    for path in version_dir.iterdir():
        _fsync(path)
    _fsync(version_dir)


AUDIENCE_KEY_COLUMNS = {
    "email": ("email",),
    "sms": ("phone_e164",),
    "push": (),
    "paid_ads": ("email_sha256", "phone_sha256"),
}
"""Columns besides customer_id that an audience's export carries, by channel, when the
published ``audience_members`` has them (the clear email and phone only with --include-pii)."""

_AUDIENCE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def export_audiences(database: Path, export_dir: Path) -> dict[str, int]:
    """Write each audience of a published file as ``<audience>.csv`` and ``.parquet``.

    Every audience of ``audience_registry`` gets both files, an audience without members
    too (a header only), so a consumer never reads a stale file for it. Rows are the
    audience's ``audience_members``, sorted by customer_id; the columns are customer_id
    and the channel's contact keys (:data:`AUDIENCE_KEY_COLUMNS`) that the file holds.

    Args:
        database: A published DuckDB file (or one about to be published).
        export_dir: An existing directory to write into; it is fsynced.

    Returns:
        Audience name -> number of members exported; empty when the file has no audiences.

    Raises:
        PublishError: An audience name is not lower_snake_case, or DuckDB failed.

    """
    connection = duckdb.connect()
    exported: dict[str, int] = {}
    try:
        connection.execute(
            f"attach {quote_literal(str(database))} as {_PUBLISHED_ALIAS} (read_only)"
        )
        tables = {
            name
            for (name,) in connection.execute(
                "select table_name from duckdb_tables() where database_name = ?",
                [_PUBLISHED_ALIAS],
            ).fetchall()
        }
        if not {"audience_registry", "audience_members"} <= tables:
            return exported
        members = f"{_PUBLISHED_ALIAS}.main.audience_members"
        available = {
            name
            for (name,) in connection.execute(
                "select column_name from duckdb_columns() "
                "where database_name = ? and table_name = 'audience_members'",
                [_PUBLISHED_ALIAS],
            ).fetchall()
        }
        audiences = connection.execute(
            f"select audience, channel from {_PUBLISHED_ALIAS}.main.audience_registry "
            "order by audience"
        ).fetchall()
        for audience, channel in audiences:
            if not _AUDIENCE_NAME.fullmatch(audience or ""):
                raise PublishError(f"audience name {audience!r} is not lower_snake_case")
            keys = [c for c in AUDIENCE_KEY_COLUMNS.get(channel, ()) if c in available]
            columns = ", ".join(quote_identifier(c) for c in ["customer_id", *keys])
            query = (
                f"select {columns} from {members} "
                f"where audience = {quote_literal(audience)} order by customer_id"
            )
            for suffix, options in (
                ("parquet", "format parquet, compression zstd"),
                ("csv", "format csv, header true"),
            ):
                target = quote_literal(str(export_dir / f"{audience}.{suffix}"))
                connection.execute(f"copy ({query}) to {target} ({options})")
            (count,) = connection.execute(f"select count(*) from ({query})").fetchone()
            exported[audience] = int(count)
    except duckdb.Error as error:
        raise PublishError(f"exporting audiences into {export_dir} failed: {error}") from error
    finally:
        connection.close()
    for path in export_dir.iterdir():
        _fsync(path)
    _fsync(export_dir)
    return exported


def _swap_parquet_link(parquet_dir: Path, version_dir: Path) -> None:
    """Point ``parquet_dir`` at version_dir atomically; keep one previous version."""
    previous_link = _previous_link(parquet_dir)
    old_target = os.readlink(parquet_dir) if parquet_dir.is_symlink() else None
    _replace_link(parquet_dir, version_dir.name)
    if old_target is not None and old_target != version_dir.name:
        _replace_link(previous_link, old_target)
    _fsync(parquet_dir.parent)
    _remove_stale_parquet(parquet_dir)


def _drop_previous_parquet(parquet_dir: Path) -> None:
    """Remove the previous Parquet version and its link (the caller holds the lock)."""
    _previous_link(parquet_dir).unlink(missing_ok=True)
    _fsync(parquet_dir.parent)
    _remove_stale_parquet(parquet_dir)


def _replace_link(link: Path, target: str) -> None:
    temp_link = link.with_name(f".{link.name}.{secrets.token_hex(_TEMP_TOKEN_BYTES)}.link")
    os.symlink(target, temp_link)
    try:
        os.replace(temp_link, link)
    except BaseException:
        temp_link.unlink(missing_ok=True)
        raise


def _previous_link(parquet_dir: Path) -> Path:
    return parquet_dir.with_name(f".{parquet_dir.name}.previous")


def _remove_stale_parquet(parquet_dir: Path) -> list[Path]:
    """Remove Parquet versions that neither the link nor the previous link points to.

    The caller holds the publish lock, so no version being written is taken for a stale one.
    """
    if not parquet_dir.parent.is_dir():
        return []
    kept = {
        os.readlink(link)
        for link in (parquet_dir, _previous_link(parquet_dir))
        if link.is_symlink()
    }
    hex_digits = 2 * _TEMP_TOKEN_BYTES
    version = re.compile(rf"\.{re.escape(parquet_dir.name)}\.[0-9a-f]{{{hex_digits}}}(\.link)?")
    removed = []
    for candidate in sorted(parquet_dir.parent.iterdir()):
        if not version.fullmatch(candidate.name) or candidate.name in kept:
            continue
        if candidate.is_symlink() or candidate.is_file():
            candidate.unlink(missing_ok=True)
        else:
            shutil.rmtree(candidate, ignore_errors=True)
        removed.append(candidate)
    return removed


# ---- reading what is published ------------------------------------------------------------


def read_publication(published_path: Path) -> Publication | None:
    """Read the metadata of the published file; None when nothing is published yet.

    Args:
        published_path: The file that :func:`publish` writes.

    Returns:
        The Publication (published_at in UTC, row counts sorted by table name), or None when
        the file does not exist.

    Raises:
        PublishError: The file exists but is not a publication DuckDB can read.

    """
    published_path = Path(published_path)
    if not published_path.exists():
        return None
    connection = duckdb.connect()
    try:
        connection.execute(
            f"attach {quote_literal(str(published_path))} as {_PUBLISHED_ALIAS} (read_only)"
        )
        runs = connection.execute(
            f"select run_id, as_of_date, published_at from {_PUBLISHED_ALIAS}.main.publication"
        ).fetchall()
        counts = connection.execute(
            f"select table_name, row_count from {_PUBLISHED_ALIAS}.main.published_tables"
            " order by table_name"
        ).fetchall()
    except duckdb.Error as error:
        raise PublishError(f"{published_path} is not a readable publication: {error}") from error
    finally:
        connection.close()
    if len(runs) != 1:
        raise PublishError(f"{published_path}: table publication has {len(runs)} rows, not 1")
    run_id, as_of_date, published_at = runs[0]
    return Publication(
        path=published_path,
        run_id=run_id,
        as_of_date=as_of_date,
        published_at=published_at.replace(tzinfo=datetime.UTC),
        row_counts={name: int(count) for name, count in counts},
    )


# ---- files: lock, temporary names, fsync --------------------------------------------------


def remove_stale_files(
    published_path: Path, parquet_dir: Path | None = None, audience_dir: Path | None = None
) -> list[Path]:
    """Delete temporary files left by a publish that was killed; return what was removed.

    Takes the publish lock first, so the file of a publish that is still running is never
    taken for a stale one.

    Args:
        published_path: The file that :func:`publish` writes.
        parquet_dir: The Parquet link that :func:`publish` manages, if any: Parquet versions
            that neither it nor the previous link points to are removed too.
        audience_dir: The audience export link that :func:`publish` manages, if any: the
            same for its versions.

    Returns:
        The removed files and directories, sorted.

    """
    published_path = Path(published_path)
    if not published_path.parent.is_dir():
        return []
    with _exclusive_lock(published_path):
        removed = _remove_stale_files(published_path)
        for link in (parquet_dir, audience_dir):
            if link is not None:
                removed += _remove_stale_parquet(Path(link))
        return sorted(removed)


@contextmanager
def _exclusive_lock(published_path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``<name>.lock`` next to the published file.

    The lock file is never deleted: removing it would let two publishers lock two different
    files. The kernel releases the lock when its holder dies, so a killed publish never
    leaves the path locked.
    """
    lock_path = published_path.with_name(published_path.name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _new_temp_path(published_path: Path) -> Path:
    token = secrets.token_hex(_TEMP_TOKEN_BYTES)
    return published_path.with_name(f".{published_path.name}.{token}.tmp")


def _temp_name_pattern(published_path: Path) -> re.Pattern[str]:
    hex_digits = 2 * _TEMP_TOKEN_BYTES
    return re.compile(rf"\.{re.escape(published_path.name)}\.[0-9a-f]{{{hex_digits}}}\.tmp(\.wal)?")


def _remove_stale_files(published_path: Path) -> list[Path]:
    """Remove temporary files of earlier publishes; the caller holds the lock."""
    pattern = _temp_name_pattern(published_path)
    removed = []
    for candidate in sorted(published_path.parent.iterdir()):
        if pattern.fullmatch(candidate.name) and candidate.is_file():
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _remove_temp_files(temp_path: Path) -> None:
    temp_path.unlink(missing_ok=True)
    _wal_path(temp_path).unlink(missing_ok=True)


def _wal_path(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".wal")


def _fsync(path: Path) -> None:
    """Flush a file's data, or a directory's entries, to disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
