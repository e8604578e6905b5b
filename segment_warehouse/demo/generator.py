"""Generate realistic, deterministic raw demo data for the segment warehouse.

The generator writes every raw table of the data contract in
``models/staging/*/_*__sources.yml`` (exactly those columns, in that order, all values as
text) to ``<out>/raw/<table>.parquet`` or ``.csv``, and the ground truth the models never
read to ``<out>/ground_truth/``:

* ``customer_labels.parquet``: the planted persona of every customer account and the
  person behind it (duplicate identities share a ``person_id``).
* ``bad_rows.parquet``: every contract-breaking row planted on purpose, with its table,
  primary key and reason code. Each planted row has exactly one defect and clean parents.
* ``identity.parquet``: every source record (account, loyalty card seen at the till, web
  device) with the real person behind it, the duplicate planted on it and the look-alike
  trap it belongs to (see :mod:`segment_warehouse.demo.identity`).
* ``consents.parquet``: per customer account, channel and purpose with a consent event,
  the decision in force at the end date, failing closed: computed from the values drawn
  before defects were planted and from which rows were broken (an unreadable row of a
  known account revokes; see docs/privacy.md).

Customers are generated in fixed-size chunks (:data:`CHUNK_SIZE`), each from its own
random stream derived from ``(seed, chunk index, stream)``; everything inside a chunk is
vectorised numpy/pyarrow. Chunks are independent, so they can be built in parallel threads
and streamed to the output files in order: same arguments, same bytes, bounded memory.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segment_warehouse.demo.columns import _ids, _rng
from segment_warehouse.demo.customers import _CustomerTables
from segment_warehouse.demo.defects import _plant
from segment_warehouse.demo.feedback import _FeedbackTables
from segment_warehouse.demo.identity import _IdentityTables
from segment_warehouse.demo.orders import _OrderTables
from segment_warehouse.demo.personas import (
    _S_PLANT,
    BAD_ROW_SCHEMA,
    CHUNK_SIZE,
    CONSENT_TRUTH_SCHEMA,
    FORMATS,
    ID_SPACE,
    IDENTITY_SCHEMA,
    LABEL_SCHEMA,
    TABLE_COLUMNS,
    TABLES,
)
from segment_warehouse.demo.reference import (
    _Calendar,
    _Catalogue,
    _Geography,
    _read_country_aliases,
    _read_currency_rates,
)
from segment_warehouse.demo.store import _StoreTables
from segment_warehouse.demo.suppressions import _SuppressionTables
from segment_warehouse.demo.web import _WebTables

# ---------------------------------------------------------------------------------------
# Configuration and per-process context
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratorConfig:
    """Arguments of one generator run (everything the data depends on)."""

    customers: int = 100_000
    seed: int = 42
    bad_row_share: float = 0.01
    start_date: date = date(2023, 7, 1)
    end_date: date = date(2026, 6, 30)
    tables: tuple[str, ...] = TABLES

    def __post_init__(self) -> None:
        """Validate the arguments."""
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        if self.customers >= 10**8:
            raise ValueError("customers must be below 100,000,000")
        if not 0 <= self.bad_row_share <= 0.5:
            raise ValueError("bad_row_share must be between 0 and 0.5")
        if (self.end_date - self.start_date).days < 365:
            raise ValueError("end_date must be at least 365 days after start_date")
        unknown = set(self.tables) - set(TABLES)
        if unknown or not self.tables:
            raise ValueError(f"unknown or no tables: {sorted(unknown)}; choose from {TABLES}")

    @property
    def written(self) -> frozenset[str]:
        """The tables written to the output."""
        return frozenset(self.tables)


class _Context:
    """Reference data shared by all chunks of a run (built once per process)."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.geo = _Geography(_read_currency_rates(), _read_country_aliases())
        self.calendar = _Calendar(config.start_date, config.end_date)
        self.catalogue = _Catalogue(config.seed, self.geo)
        self.id_width = max(8, len(str(config.customers)))


@dataclass
class ChunkResult:
    """The output of one chunk: raw tables, labels and planted bad rows."""

    index: int
    tables: dict[str, pa.Table]
    labels: pa.Table
    bad_rows: list[pa.Table] = field(default_factory=list)
    identity: list[pa.Table] = field(default_factory=list)
    consents: list[pa.Table] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# One chunk of customers
# ---------------------------------------------------------------------------------------


class _Chunk(
    _CustomerTables,
    _OrderTables,
    _FeedbackTables,
    _StoreTables,
    _WebTables,
    _IdentityTables,
    _SuppressionTables,
):
    """Builds every table for the customers of one chunk; arrays are indexed by account."""

    def __init__(self, ctx: _Context, index: int) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.cal = ctx.calendar
        self.geo = ctx.geo
        self.index = index
        self.first_number = index * CHUNK_SIZE + 1
        self.n = min(CHUNK_SIZE, self.config.customers - index * CHUNK_SIZE)
        self.numbers = self.first_number + np.arange(self.n, dtype=np.int64)
        self.key_base = index * ID_SPACE + 1

    def rng(self, stream: int) -> np.random.Generator:
        return _rng(self.config.seed, self.index, stream)

    def keys(self, prefix: str, n: int) -> pa.Array:
        if n >= ID_SPACE:
            raise ValueError(f"too many {prefix} rows in one chunk")
        return _ids(prefix, self.key_base + np.arange(n), 10)

    # -- the whole chunk -----------------------------------------------------------------------

    def build(self) -> ChunkResult:
        written = self.config.written
        share = self.config.bad_row_share
        self.people()
        self.timeline()
        self.purchases()
        self.order_values()
        self.return_events()
        result = ChunkResult(self.index, {}, self.labels())

        def quarantined(parents: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
            """Rows with a quarantined parent; parents are (quarantined mask, index or -1)."""
            mask = np.zeros(parents[0][1].size, dtype=bool)
            for parent_mask, parent in parents:
                mask |= (parent >= 0) & parent_mask[np.maximum(parent, 0)]
            return mask

        def plant(name: str, table: pa.Table, blocked: np.ndarray) -> np.ndarray:
            """Plant defects on rows not blocked; return the rows that carry one."""
            rng = self.rng(_S_PLANT + TABLES.index(name))
            planted, touched, bad = _plant(name, table, rng, share, ~blocked, written)
            result.tables[name] = planted
            if bad.num_rows:
                result.bad_rows.append(bad)
            return touched

        # Defects go top-down, only on rows whose parents are clean. "Quarantined" masks
        # include the cascade (children of a broken parent), which the warehouse drops too.
        q_customer = np.zeros(self.n, dtype=bool)
        if "customers" in written:
            # Duplicate identities and traps stay clean so that they remain recognisable.
            identity_planted = (self.dup_kind > 0) | (self.trap > 0)
            q_customer = plant("customers", self.customers(), identity_planted)
            result.identity.append(self.shop_truth())
        by_customer = quarantined([(q_customer, self.o_account)])
        q_order = by_customer.copy()
        if "orders" in written:
            q_order |= plant("orders", self.orders(), by_customer)
        by_order = quarantined([(q_order, self.l_order)])
        q_line = by_order.copy()
        if "order_lines" in written:
            q_line |= plant("order_lines", self.order_lines(), by_order)
        if "returns" in written:
            blocked = quarantined([(q_order, self.r_order), (q_line, self.r_line)])
            plant("returns", self.returns(), blocked)
        if "store_transactions" in written:
            table, account = self.store_transactions()
            plant("store_transactions", table, quarantined([(q_customer, account)]))
            result.identity.append(self.card_truth)
        if "web_sessions" in written:
            table, account, order = self.web_sessions()
            blocked = quarantined([(q_customer, account), (q_order, order)])
            plant("web_sessions", table, blocked)
            result.identity.append(self.device_truth)
        if "consents" in written:
            table, account = self.consents()
            plant("consents", table, quarantined([(q_customer, account)]))
            result.consents.append(self.consent_truth(table, result.tables["consents"]))
        if "feedback" in written:
            table, account, order = self.feedback()
            blocked = quarantined([(q_customer, account), (q_order, order)])
            plant("feedback", table, blocked)
        if "suppressions" in written:
            table, account = self.suppressions()
            plant("suppressions", table, quarantined([(q_customer, account)]))
        return result


# ---------------------------------------------------------------------------------------
# Running chunks (in this process or in worker processes) and writing the output
# ---------------------------------------------------------------------------------------


def _chunk_results(ctx: _Context, threads: int) -> Iterator[ChunkResult]:
    """Build the chunks in order, up to ``threads`` at a time.

    numpy and pyarrow release the GIL on large arrays, so threads overlap well; results
    are yielded in chunk order and at most ``threads`` chunks are held in memory.
    """
    n_chunks = math.ceil(ctx.config.customers / CHUNK_SIZE)
    if threads <= 1 or n_chunks == 1:
        for index in range(n_chunks):
            yield _Chunk(ctx, index).build()
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="chunk") as pool:
        pending: deque[Future[ChunkResult]] = deque()
        for index in range(n_chunks):
            pending.append(pool.submit(lambda i: _Chunk(ctx, i).build(), index))
            if len(pending) >= threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _Writer:
    """Streams the chunks of one table to a Parquet or CSV file."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str) -> None:
        self.rows = 0
        self._file = None
        if fmt == "csv":
            # A plain header; values are quoted (strings) or empty (nulls) by pyarrow.
            self._file = path.open("wb")
            self._file.write((",".join(schema.names) + "\n").encode())
            options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
            self._writer: pq.ParquetWriter | pacsv.CSVWriter = pacsv.CSVWriter(
                self._file, schema, write_options=options
            )
        else:
            self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def write_all(self, tables: Sequence[pa.Table]) -> None:
        for table in tables:
            self.write(table)

    def close(self) -> None:
        self._writer.close()
        if self._file is not None:
            self._file.close()


def _raw_schema(name: str) -> pa.Schema:
    return pa.schema([(column, pa.string()) for column in TABLE_COLUMNS[name]])


def generate(
    out_dir: str | os.PathLike[str] = "data/demo",
    customers: int = 100_000,
    seed: int = 42,
    fmt: str = "parquet",
    bad_row_share: float = 0.01,
    start_date: date | str = date(2023, 7, 1),
    end_date: date | str = date(2026, 6, 30),
    tables: Sequence[str] | None = None,
    threads: int | None = None,
) -> dict[str, int]:
    """Generate the demo data set and return the number of rows written per raw table.

    Writes ``out_dir/raw/<table>.<fmt>`` for the chosen tables (all by default) and
    ``out_dir/ground_truth/{customer_labels,bad_rows,identity,consents}.parquet``, replacing
    existing files.
    The data depends only on the arguments, never on ``threads`` or the machine.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}")
    selected = set(TABLES if tables is None else tables)
    if selected - set(TABLES):
        raise ValueError(f"unknown tables: {sorted(selected - set(TABLES))}")
    config = GeneratorConfig(
        customers=customers,
        seed=seed,
        bad_row_share=bad_row_share,
        start_date=_as_date(start_date),
        end_date=_as_date(end_date),
        tables=tuple(t for t in TABLES if t in selected),
    )
    threads = threads if threads is not None else min(2, os.cpu_count() or 1)
    out = Path(out_dir)
    raw_dir, truth_dir = out / "raw", out / "ground_truth"
    raw_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    ctx = _Context(config)
    writers: dict[str, _Writer] = {}
    for name in config.tables:
        for other in FORMATS:  # a stale file in the other format would shadow this one
            (raw_dir / f"{name}.{other}").unlink(missing_ok=True)
        writers[name] = _Writer(raw_dir / f"{name}.{fmt}", _raw_schema(name), fmt)
    labels = _Writer(truth_dir / "customer_labels.parquet", LABEL_SCHEMA, "parquet")
    bad_rows = _Writer(truth_dir / "bad_rows.parquet", BAD_ROW_SCHEMA, "parquet")
    identity = _Writer(truth_dir / "identity.parquet", IDENTITY_SCHEMA, "parquet")
    consent_truth = _Writer(truth_dir / "consents.parquet", CONSENT_TRUTH_SCHEMA, "parquet")
    try:
        if "products" in writers:
            eligible = ctx.catalogue.unsold
            rng = _rng(seed, 2**31 - 1, _S_PLANT + TABLES.index("products"))
            products, _, bad = _plant(
                "products", ctx.catalogue.table, rng, bad_row_share, eligible, config.written
            )
            writers["products"].write(products)
            bad_rows.write(bad)
        # Each chunk is written in background threads (one task per file) while the next
        # chunk is built; waiting for the previous chunk's writes keeps every file in order.
        with ThreadPoolExecutor(max_workers=len(writers) + 2, thread_name_prefix="write") as io:
            previous: list[Future[None]] = []
            for result in _chunk_results(ctx, threads):
                for future in previous:
                    future.result()
                previous = [io.submit(writers[n].write, t) for n, t in result.tables.items()]
                previous.append(io.submit(labels.write, result.labels))
                previous.append(io.submit(bad_rows.write_all, result.bad_rows))
                previous.append(io.submit(identity.write_all, result.identity))
                previous.append(io.submit(consent_truth.write_all, result.consents))
            for future in previous:
                future.result()
    finally:
        for writer in (*writers.values(), labels, bad_rows, identity, consent_truth):
            writer.close()
    return {name: writer.rows for name, writer in writers.items()}


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _parse_args(argv: Sequence[str] | None, prog: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Generate deterministic, realistic raw demo data (shop, pos, web, crm sources) "
            "plus ground truth (customer personas, planted bad rows, the person behind "
            "every source record)."
        ),
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=100_000,
        help="customer accounts to generate (default: 100000)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--out",
        default="data/demo",
        help="output directory; raw/ and ground_truth/ go below it (default: data/demo)",
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="parquet",
        help="raw file format (default: parquet)",
    )
    parser.add_argument(
        "--bad-row-share",
        type=float,
        default=0.01,
        help="share of rows per table replaced or added as contract-breaking "
        "rows; 0 writes clean data (default: 0.01)",
    )
    parser.add_argument(
        "--start-date",
        type=date.fromisoformat,
        default=date(2023, 7, 1),
        help="first day of generated activity (default: 2023-07-01)",
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=date(2026, 6, 30),
        help="last day of generated activity, UTC (default: 2026-06-30)",
    )
    parser.add_argument(
        "--tables",
        nargs="+",
        metavar="TABLE",
        help="write only these raw tables (space or comma separated); "
        f"choices: {', '.join(TABLES)}",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="chunks built in parallel (default: up to 2); never changes the data",
    )
    args = parser.parse_args(argv)
    if args.tables:
        args.tables = [t.strip() for item in args.tables for t in item.split(",") if t.strip()]
        unknown = sorted(set(args.tables) - set(TABLES))
        if unknown:
            parser.error(f"unknown tables: {', '.join(unknown)} (choose from {', '.join(TABLES)})")
    return args


def main(argv: Sequence[str] | None = None, prog: str = "segment-warehouse demo-data") -> int:
    """Run the command-line interface; return the process exit code."""
    args = _parse_args(argv, prog)
    started = time.perf_counter()
    try:
        counts = generate(
            args.out,
            customers=args.customers,
            seed=args.seed,
            fmt=args.fmt,
            bad_row_share=args.bad_row_share,
            start_date=args.start_date,
            end_date=args.end_date,
            tables=args.tables,
            threads=args.threads,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    print(
        f"Wrote {args.customers:,} customers (seed {args.seed}) to {args.out}/raw "
        f"as {args.fmt} in {seconds:.1f} s"
    )
    width = max(len(name) for name in counts)
    for name, rows in counts.items():
        print(f"  {name:<{width}}  {rows:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
