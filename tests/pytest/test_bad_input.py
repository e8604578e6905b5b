"""Bad input never reaches BI: each kind of broken delivery and its outcome.

Every case starts from one small clean generated data set (CSV) and breaks it the way real
deliveries break. The outcome is one of: rows quarantined with a reason and a row or line
number while the rest of the file is read (raw = staged + quarantined still holds), a
warning, or a stopped build whose message names the file and the problem. Cases that can
share one build do (the "messy delivery"); cases that stop a build get their own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import Warehouse, build_warehouse

from segment_warehouse.paths import PROJECT_DIR

pytestmark = pytest.mark.dbt

GATES = "+int_raw_tables_gated +quarantined_rows +raw_row_reconciliation"
"""The raw layer, staging, the gates and the quarantine marts: what bad input reaches."""

# the scheduled job through the console script's module
REFRESH = ["-m", "segment_warehouse.cli", "--project-dir", str(PROJECT_DIR), "refresh"]


# ---- data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean generated delivery: 400 customers, every table, CSV, no planted bad rows."""
    from segment_warehouse.demo.generator import generate

    out_dir = tmp_path_factory.mktemp("clean")
    generate(out_dir, customers=400, seed=23, fmt="csv", bad_row_share=0)
    return out_dir / "raw"


def copy_delivery(clean_raw: Path, target: Path) -> Path:
    """A writable copy of the clean delivery."""
    shutil.copytree(clean_raw, target)
    return target


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a generated CSV file."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def write_lines(path: Path, lines: list[str], *, newline: str = "\n") -> None:
    path.write_bytes(newline.join(lines).encode() + newline.encode())


def quoted(values: list[str]) -> str:
    """One CSV line as the generator writes it: every non-empty value quoted."""
    return ",".join(f'"{value}"' if value != "" else "" for value in values)


def edit_rows(path: Path, edit: Callable[[int, list[str]], str | None]) -> None:
    """Rewrite ``path``; ``edit(index, row)`` returns the line to write instead, or None."""
    header, rows = read_rows(path)
    lines = [",".join(header)]
    for index, row in enumerate(rows):
        replacement = edit(index, row)
        lines.append(quoted(row) if replacement is None else replacement)
    write_lines(path, lines)


def reconciliation(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query("select * from marts.raw_row_reconciliation").set_index("table_name")


# ---- one messy delivery: rows quarantined, the rest read --------------------------------

LONG_LINE_BYTES = 3_000_000


@pytest.fixture(scope="module")
def messy(clean_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A delivery with one broken thing of each quarantinable kind, in several files."""
    raw = copy_delivery(clean_raw, tmp_path_factory.mktemp("messy") / "raw")

    # orders: an unterminated quote, an unquoted decimal comma, strict-number violations,
    # time zones written as offsets and names, an unknown zone
    def orders(index: int, row: list[str]) -> str | None:
        values = list(row)
        if index == 10:
            return quoted(values).replace(f'"{values[0]}"', f'"{values[0]}', 1)
        if index == 11:
            values[3] = "12.50"
            return quoted(values).replace('"12.50"', "12,50")
        special = {
            12: (3, "1_000"),
            13: (3, "1e3"),
            14: (3, "12,50"),
            15: (2, "2026-03-01 10:00 Europe/Berlin"),
            16: (2, "2026-03-01 10:00:00+05:30"),
            17: (2, "2026-03-01 10:00 Mars/Olympus"),
            18: (3, " 1000.5 "),
        }
        if index in special:
            column, value = special[index]
            values[column] = value
            values[8] = ""  # no updated_at: the row's version is its ordered_at
            return quoted(values)
        return None

    edit_rows(raw / "orders.csv", orders)

    # customers: one latin-1 byte in a UTF-8 file; Australian and other ISO countries
    def customers(index: int, row: list[str]) -> str | None:
        values = list(row)
        if index in (0, 1, 2):
            values[7] = ["Australia", "AU", "AUS"][index]
            return quoted(values)
        return None

    edit_rows(raw / "customers.csv", customers)
    data = (raw / "customers.csv").read_bytes().split(b"\n")
    data[21] = data[21].replace(b'"', b'"\xe9', 1)  # line 22 of the file
    (raw / "customers.csv").write_bytes(b"\n".join(data))

    # web sessions: one 3 MB line
    header, rows = read_rows(raw / "web_sessions.csv")
    lines = [",".join(header), *(quoted(row) for row in rows)]
    long_row = list(rows[4])
    long_row[6] = "x" * LONG_LINE_BYTES
    lines[5] = quoted(long_row)
    write_lines(raw / "web_sessions.csv", lines)

    # order lines: a CRLF export with rows appended by a tool writing LF endings
    header, rows = read_rows(raw / "order_lines.csv")
    crlf_part = "\r\n".join([",".join(header), *(quoted(row) for row in rows[:-25])]) + "\r\n"
    lf_part = "\n".join(quoted(row) for row in rows[-25:]) + "\n"
    (raw / "order_lines.csv").write_bytes(crlf_part.encode() + lf_part.encode())

    # products: a byte-order mark, header names in other case with spaces, a value with a
    # line break inside quotes, an unknown extra column
    header, rows = read_rows(raw / "products.csv")
    rows[0][1] = "Two-line\nname"
    lines = [",".join([f" {name.upper()} " for name in header] + ["supplier_note"])]
    lines += [quoted([*row, "n/a"]) for row in rows]
    (raw / "products.csv").write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode())

    return build_warehouse(
        raw, tmp_path_factory.mktemp("messy_build"), select=GATES + " +stg_shop__customers"
    )


def quarantined(warehouse: Warehouse, table: str) -> pd.DataFrame:
    return warehouse.query(
        "select record_key, quarantine_reason, quarantine_detail, raw_row_number "
        f"from marts.quarantined_rows where table_name = '{table}'"
    )


def test_messy_delivery_builds_and_every_raw_row_is_accounted_for(
    messy: Warehouse, clean_raw: Path
) -> None:
    assert messy.run.success, messy.run.output[-3000:]
    counts = reconciliation(messy)
    assert (counts["unaccounted_rows"] == 0).all()
    assert (counts["staged_rows"] + counts["quarantined_rows"] == counts["raw_rows"]).all()
    # every data row of every file is a raw row: nothing vanished into a neighbour
    for table in ("orders", "customers", "web_sessions", "order_lines", "products"):
        _, rows = read_rows(clean_raw / f"{table}.csv")
        assert counts.loc[table, "raw_rows"] == len(rows), table


def test_unterminated_quote_quarantines_one_line_and_reads_the_rest(messy: Warehouse) -> None:
    rows = quarantined(messy, "orders")
    malformed = rows[rows["quarantine_reason"] == "malformed_line"]
    # file line 12 (header = line 1) is the 11th data row
    assert 12 in set(malformed["raw_row_number"])
    detail = malformed.set_index("raw_row_number").loc[12, "quarantine_detail"]
    assert "quote" in detail
    staged = messy.query("select count(*) as n from staging.stg_shop__orders")["n"].iloc[0]
    assert staged > 1000


def test_unquoted_decimal_comma_is_a_malformed_line_never_a_shifted_amount(
    messy: Warehouse,
) -> None:
    rows = quarantined(messy, "orders")
    malformed = rows[rows["quarantine_reason"] == "malformed_line"].set_index("raw_row_number")
    detail = malformed.loc[13, "quarantine_detail"]
    assert "does not have the header's 9 fields" in detail
    assert "decimal comma" in detail
    assert not len(messy.query("select 1 from staging.stg_shop__orders where original_amount = 12"))


@pytest.mark.parametrize("value", ["1_000", "1e3", "12,50"])
def test_numbers_are_strict(messy: Warehouse, value: str) -> None:
    rows = quarantined(messy, "orders")
    hits = rows[rows["quarantine_detail"] == f"amount is not a decimal number: {value}"]
    assert hits["quarantine_reason"].tolist() == ["invalid_value"]


def test_plain_decimal_with_spaces_around_is_read(messy: Warehouse) -> None:
    amounts = messy.query(
        "select original_amount from staging.stg_shop__orders where original_amount = 1000.5"
    )
    assert len(amounts) == 1


def test_time_zone_names_and_offsets_are_converted_to_utc(messy: Warehouse) -> None:
    staged = messy.query(
        "select ordered_at from staging.stg_shop__orders "
        "where cast(ordered_at as date) = date '2026-03-01' order by ordered_at"
    )["ordered_at"].tolist()
    # 10:00 +05:30 is 04:30 UTC; 10:00 in Berlin in March (CET) is 09:00 UTC
    assert pd.Timestamp("2026-03-01 04:30:00") in staged
    assert pd.Timestamp("2026-03-01 09:00:00") in staged
    assert pd.Timestamp("2026-03-01 10:00:00") not in staged


def test_unknown_time_zone_name_is_quarantined(messy: Warehouse) -> None:
    rows = quarantined(messy, "orders")
    hits = rows[rows["quarantine_detail"].str.contains("Mars/Olympus", regex=False)]
    assert hits["quarantine_reason"].tolist() == ["invalid_value"]


def test_invalid_utf8_byte_quarantines_its_line_as_invalid_encoding(messy: Warehouse) -> None:
    rows = quarantined(messy, "customers")
    bad = rows[rows["quarantine_reason"] == "invalid_encoding"]
    assert bad["raw_row_number"].tolist() == [22]
    assert "utf-8" in bad["quarantine_detail"].iloc[0]
    assert "raw.read_options" in bad["quarantine_detail"].iloc[0]


def test_overlong_line_is_quarantined_and_the_file_read(messy: Warehouse) -> None:
    rows = quarantined(messy, "web_sessions")
    long_lines = rows[rows["quarantine_reason"] == "line_too_long"]
    assert long_lines["raw_row_number"].tolist() == [6]
    assert "max_line_bytes" in long_lines["quarantine_detail"].iloc[0]
    # the other quarantined sessions belong to the customer whose line is not utf-8
    others = rows[rows["quarantine_reason"] != "line_too_long"]
    assert set(others["quarantine_reason"]) == {"unknown_customer"}


def test_mixed_line_endings_are_read_without_losing_a_row(messy: Warehouse) -> None:
    rows = quarantined(messy, "order_lines")
    # only lines of orders quarantined on purpose above; no line is unreadable
    assert set(rows["quarantine_reason"]) <= {"unknown_order", "order_quarantined"}
    assert "mixes CRLF and LF" in messy.run.output


def test_bom_header_case_quoted_newline_and_extra_column_are_read(messy: Warehouse) -> None:
    counts = reconciliation(messy)
    assert counts.loc["products", "quarantined_rows"] == 0
    names = messy.query("select product_name from staging.stg_shop__products")["product_name"]
    assert "Two-line\nname" in set(names)


def test_every_iso_country_is_mapped(messy: Warehouse) -> None:
    countries = messy.query(
        "select country_code from staging.stg_shop__customers "
        "where customer_id in ('C00000001', 'C00000002', 'C00000003')"
    )["country_code"].tolist()
    assert countries == ["AU", "AU", "AU"]


# ---- gates: too much quarantined, no valid row, a drop in volume ------------------------


def test_european_export_read_without_options_stops_the_build_naming_file_and_reasons(
    clean_raw: Path, tmp_path: Path
) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    # the contract's column names, in UTF-8, but European values
    write_european_values(clean_raw / "orders.csv", raw / "orders.csv")
    warehouse = build_warehouse(raw, tmp_path / "build", select=GATES, check=False)
    assert not warehouse.run.success
    message = warehouse.run.output
    assert "Data-quality gate failed" in message
    assert f"shop.orders ({raw / 'orders.csv'})" in message
    assert "Bestelldatum" not in message
    assert "no valid row in a required table" in message
    assert "100.0 %" in message
    assert re.search(r"invalid_value \d+ \(e\.g\. row 1: ", message)
    assert "int_raw_tables_gated" in warehouse.run.failed_nodes()


EUROPEAN_HEADER = {
    "order_id": "Bestellnummer",
    "customer_id": "Kundennummer",
    "ordered_at": "Bestelldatum",
    "amount": "Betrag",
    "currency": "Währung",
    "channel": "Kanal",
    "discount_amount": "Rabatt",
    "coupon_code": "Gutschein",
    "updated_at": "Geändert",
}
EUROPEAN_OPTIONS = {
    "raw.read_options": {
        "tables": {
            "orders": {
                "delimiter": ";",
                "decimal_separator": ",",
                "thousands_separator": ".",
                "timestamp_format": "%d.%m.%Y %H:%M:%S",
                "date_format": "%d.%m.%Y",
                "timezone": "Europe/Berlin",
                "encoding": "latin-1",
                "columns": {german: contract for contract, german in EUROPEAN_HEADER.items()},
            }
        }
    }
}


def _european_timestamp(text: str) -> str:
    """An ISO timestamp as a Berlin-local 'dd.mm.yyyy HH:MM:SS' (UTC without an offset)."""
    if not text:
        return ""
    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert("Europe/Berlin").strftime("%d.%m.%Y %H:%M:%S")


def _european_amount(text: str) -> str:
    if not text:
        return ""
    whole, _, cents = f"{float(text):.2f}".partition(".")
    return f"{int(whole):,}".replace(",", ".") + "," + cents


def write_european_orders(
    source: Path,
    target: Path,
    *,
    delimiter: str = ";",
    german_header: bool = True,
    encoding: str = "latin-1",
) -> None:
    """The clean orders as a European spreadsheet exports them: semicolons, decimal
    commas with thousands points, dd.mm.yyyy Berlin times, renamed columns in latin-1."""
    header, rows = read_rows(source)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([EUROPEAN_HEADER[name] if german_header else name for name in header])
    for row in rows:
        values = dict(zip(header, row, strict=True))
        for column in ("ordered_at", "updated_at"):
            values[column] = _european_timestamp(values[column])
        for column in ("amount", "discount_amount"):
            values[column] = _european_amount(values[column])
        writer.writerow([values[name] for name in header])
    target.write_bytes(out.getvalue().encode(encoding))


def write_european_values(source: Path, target: Path) -> None:
    """European values under the contract's column names, comma-separated, in UTF-8: a
    file the default options read, but whose every amount and date is unreadable."""
    write_european_orders(source, target, delimiter=",", german_header=False, encoding="utf-8")


def ambiguous_local_times(path: Path) -> set[str]:
    """Order ids whose Berlin time falls in the repeated hour of a DST change: a file
    without offsets cannot say which of the two instants it meant."""
    orders = pd.read_csv(path, dtype=str, keep_default_na=False)
    ambiguous = set()
    for order_id, ordered_at in zip(orders["order_id"], orders["ordered_at"], strict=True):
        stamp = pd.Timestamp(ordered_at)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        local = stamp.tz_convert("Europe/Berlin").tz_localize(None)
        if pd.isna(local.tz_localize("Europe/Berlin", ambiguous="NaT")):
            ambiguous.add(order_id)
    return ambiguous


def test_file_in_another_delimiter_is_refused_with_a_hint(clean_raw: Path, tmp_path: Path) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    write_european_orders(
        clean_raw / "orders.csv", raw / "orders.csv", german_header=False, encoding="utf-8"
    )
    warehouse = build_warehouse(raw, tmp_path / "build", select=GATES, check=False)
    assert not warehouse.run.success
    output = warehouse.run.output
    assert (
        f"Raw table 'orders' read from {raw / 'orders.csv'} is missing required column(s)" in output
    )
    assert "one column; is the delimiter ',' right? (var raw.read_options)" in output


def test_file_not_in_the_configured_encoding_is_refused_naming_it(
    clean_raw: Path, tmp_path: Path
) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    write_european_orders(clean_raw / "orders.csv", raw / "orders.csv")
    warehouse = build_warehouse(raw, tmp_path / "build", select=GATES, check=False)
    assert not warehouse.run.success
    assert f"{raw / 'orders.csv'}: the header line is not utf-8" in warehouse.run.output
    assert "set the table's encoding in var raw.read_options" in warehouse.run.output


def test_european_export_with_read_options_builds_the_same_totals_as_the_clean_file(
    clean_raw: Path, tmp_path: Path
) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    write_european_orders(clean_raw / "orders.csv", raw / "orders.csv")
    assert b"\xe4" in (raw / "orders.csv").read_bytes()[:200]  # Währung in latin-1
    assert re.search(rb"\d\.\d{3},\d\d", (raw / "orders.csv").read_bytes())
    as_of = {"as_of_date": "2026-06-30"}
    european = build_warehouse(raw, tmp_path / "european", variables={**as_of, **EUROPEAN_OPTIONS})
    clean = build_warehouse(clean_raw, tmp_path / "clean", variables=as_of)
    ambiguous = ambiguous_local_times(clean_raw / "orders.csv")
    assert len(ambiguous) < 5
    orders_sql = (
        "select order_id, customer_id, amount, discount_amount, ordered_at, updated_at "
        "from staging.stg_shop__orders order by order_id"
    )
    european_orders, clean_orders = european.query(orders_sql), clean.query(orders_sql)
    unambiguous = ~clean_orders["order_id"].isin(ambiguous)
    pd.testing.assert_frame_equal(
        european_orders[unambiguous].reset_index(drop=True),
        clean_orders[unambiguous].reset_index(drop=True),
    )
    # the repeated hour is read as its first instant (summer time)
    shifted = european_orders[~unambiguous]["ordered_at"] - clean_orders[~unambiguous]["ordered_at"]
    assert (shifted.abs() <= pd.Timedelta(hours=1)).all()
    totals_sql = """
        select
            (select count(*) from marts.fct_orders) as orders,
            (select sum(net_spend) from marts.dim_customers) as net_spend,
            (select count(*) from marts.dim_customers where order_count > 0) as purchasers,
            (select string_agg(lifecycle_stage || ':' || customers, ',' order by lifecycle_stage)
                from (select lifecycle_stage, count(*) as customers
                      from marts.customer_segments group by 1)) as lifecycle
    """
    pd.testing.assert_frame_equal(european.query(totals_sql), clean.query(totals_sql))
    assert clean.query(totals_sql)["orders"].iloc[0] > 1000


def test_header_only_orders_file_stops_the_build(clean_raw: Path, tmp_path: Path) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    header = (raw / "orders.csv").read_text().split("\n", 1)[0]
    (raw / "orders.csv").write_text(header + "\n")
    warehouse = build_warehouse(raw, tmp_path / "build", select=GATES, check=False)
    assert not warehouse.run.success
    assert "no valid row in a required table" in warehouse.run.output
    assert "none (the table is empty)" in warehouse.run.output


def test_share_of_quarantined_rows_warns_then_stops_the_build(
    clean_raw: Path, tmp_path: Path
) -> None:
    def break_every(step: int) -> Callable[[int, list[str]], str | None]:
        def edit(index: int, row: list[str]) -> str | None:
            if index % step:
                return None
            values = list(row)
            values[1] = "not a time"
            return quoted(values)

        return edit

    warned_raw = copy_delivery(clean_raw, tmp_path / "warned")
    edit_rows(warned_raw / "web_sessions.csv", break_every(25))  # 4 %
    warned = build_warehouse(warned_raw, tmp_path / "warned_build", select=GATES)
    assert warned.run.statuses["raw_row_reconciliation_no_gate_warning"] == "warn"
    gates = reconciliation(warned)
    assert gates.loc["web_sessions", "gate_status"] == "warn"
    assert "warning above 1.0 %" in gates.loc["web_sessions", "gate_message"]
    assert "Data-quality warning: web.web_sessions" in warned.run.output

    failed_raw = copy_delivery(clean_raw, tmp_path / "failed")
    edit_rows(failed_raw / "web_sessions.csv", break_every(5))  # 20 %
    failed = build_warehouse(failed_raw, tmp_path / "failed_build", select=GATES, check=False)
    assert not failed.run.success
    message = failed.run.output
    assert f"web.web_sessions ({failed_raw / 'web_sessions.csv'})" in message
    assert "(20.0 %, error above 10.0 %)" in message
    assert "invalid_value" in message and "started_at is not a timestamp: not a time" in message

    # the threshold is a var, per table
    lifted = build_warehouse(
        failed_raw,
        tmp_path / "lifted_build",
        select=GATES,
        variables={"quality.gates": {"tables": {"web_sessions": {"quarantine_error_share": 0.3}}}},
    )
    assert lifted.run.success


def test_sharp_drop_in_volume_warns(clean_raw: Path, tmp_path: Path) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    build = tmp_path / "build"
    first = build_warehouse(raw, build, select=GATES)
    assert first.run.statuses["raw_row_reconciliation_no_gate_warning"] == "pass"
    header, rows = read_rows(raw / "store_transactions.csv")
    write_lines(
        raw / "store_transactions.csv",
        [",".join(header), *(quoted(row) for row in rows[: len(rows) // 3])],
    )
    second = build_warehouse(raw, build, select=GATES)
    assert second.run.success
    gate = reconciliation(second).loc["store_transactions"]
    assert gate["gate_status"] == "warn"
    assert gate["previous_raw_rows"] == len(rows)
    assert "down 66." in gate["gate_message"] or "down 67." in gate["gate_message"]


def test_rows_lost_between_staging_and_quarantine_stop_the_build_naming_the_count(
    clean_raw: Path, tmp_path: Path
) -> None:
    build = tmp_path / "build"
    first = build_warehouse(clean_raw, build, select=GATES)
    assert first.run.success
    with duckdb.connect(str(first.database)) as connection:
        connection.execute(
            "delete from staging.base_shop__products "
            "where product_id in (select product_id from staging.base_shop__products limit 2)"
        )
    second = build_warehouse(clean_raw, build, select="int_raw_tables_gated", check=False)
    assert not second.run.success
    assert "shop.products (" in second.run.output
    assert "2 raw rows are neither staged nor quarantined" in second.run.output


# ---- deliveries the loader refuses, naming the file and the problem ---------------------


def test_parquet_with_a_nested_amount_is_refused(clean_raw: Path, tmp_path: Path) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select * replace ({{'value': amount, 'currency': currency}} as amount) "
            f"from read_csv('{raw / 'orders.csv'}', all_varchar = true)) "
            f"to '{raw / 'orders.parquet'}' (format parquet)"
        )
    (raw / "orders.csv").unlink()
    warehouse = build_warehouse(raw, tmp_path / "build", select=GATES, check=False)
    assert not warehouse.run.success
    assert f"read from {raw / 'orders.parquet'}: column amount holds nested values" in (
        warehouse.run.output
    )


def test_empty_file_is_refused_naming_it(clean_raw: Path, tmp_path: Path) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    (raw / "returns.csv").write_bytes(b"")
    warehouse = build_warehouse(raw, tmp_path / "build", select=GATES, check=False)
    assert not warehouse.run.success
    assert f"{raw / 'returns.csv'}: the file is empty (no header line)" in warehouse.run.output


def test_header_naming_a_column_twice_is_refused(clean_raw: Path, tmp_path: Path) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    text = (raw / "feedback.csv").read_text()
    header, rest = text.split("\n", 1)
    names = header.split(",")
    names[-1] = names[0]
    (raw / "feedback.csv").write_text(",".join(names) + "\n" + rest)
    warehouse = build_warehouse(raw, tmp_path / "build", select=GATES, check=False)
    assert not warehouse.run.success
    assert f"the header names {names[0]} twice" in warehouse.run.output


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (
            {"money.max_order_amount": -1},
            "money.max_order_amount must be a positive number; got -1",
        ),
        ({"lifecycle_new_days": 14}, "var lifecycle_new_days was renamed lifecycle.new_days"),
        ({"vip_min_spend_percentile": 0.9}, "var vip_min_spend_percentile is gone: segment"),
        (
            {"churn.risk_high_max_p_alive": 0.2},
            "var churn.risk_high_max_p_alive is gone: churn_risk_level is cut from the calibrated",
        ),
        (
            {"quality.gates": {"quarantine_error_share": 5}},
            "quality.gates.quarantine_error_share must be a share between 0 and 1; got 5",
        ),
        (
            {"staging.source_timezone": "Berlin"},
            "staging.source_timezone must be an IANA time zone name",
        ),
        (
            {"identity.max_group_size": 0},
            "identity.max_group_size must be a whole number of at least 1; got 0",
        ),
        (
            {"identity.match_threshold": 1.5},
            "identity.match_threshold must be a probability above 0 and at most 1; got 1.5",
        ),
        (
            {"baskets.min_support": 0},
            "baskets.min_support must be a share above 0 and at most 1; got 0",
        ),
        (
            {"basket_min_confidence": 0.2},
            "var basket_min_confidence is spelled baskets.min_confidence",
        ),
        (
            {"baskets.refit_every_days": 2.5},
            "baskets.refit_every_days must be a whole number of at least 1; got 2.5",
        ),
        (
            {"raw.read_options": {"tables": {"orders": {"delimter": ";"}}}},
            "var raw.read_options.tables.orders has an unknown key 'delimter'",
        ),
        (
            {"raw.read_options": {"tables": {"order": {"delimiter": ";"}}}},
            "var raw.read_options.tables names 'order', which is not a raw table",
        ),
        (
            {"raw.read_options": {"tables": {"orders": {"columns": {"Betrag": "amount"}}}}},
            "var raw.read_options.tables.orders.columns maps 'betrag', which is not a column of",
        ),
        (
            {"raw.read_options": {"tables": {"orders": {"timezone": "Mars/Olympus"}}}},
            "timezone 'Mars/Olympus' is not an IANA time zone name",
        ),
        (
            {"raw.read_options": {"tables": {"orders": {"encoding": "cp1252"}}}},
            "encoding 'cp1252' is not supported",
        ),
    ],
    ids=[
        "negative-max-order-amount",
        "renamed-var",
        "family-threshold-var",
        "retired-churn-risk-var",
        "gate-share-out-of-range",
        "unknown-source-timezone",
        "identity-group-size-zero",
        "identity-threshold-above-one",
        "basket-support-zero",
        "basket-var-as-the-issue-spelt-it",
        "basket-refit-period-not-whole",
        "misspelt-read-option",
        "unknown-table-in-read-options",
        "header-mapping-to-absent-column",
        "unknown-table-timezone",
        "unsupported-encoding",
    ],
)
def test_unusable_settings_are_refused_before_anything_is_read(
    clean_raw: Path, tmp_path: Path, variables: dict, expected: str
) -> None:
    warehouse = build_warehouse(
        clean_raw, tmp_path / "build", select=GATES, variables=variables, check=False
    )
    assert not warehouse.run.success
    assert expected in warehouse.run.output
    assert not warehouse.run.statuses  # stopped before any model ran


def test_latin1_file_reads_with_the_configured_encoding(clean_raw: Path, tmp_path: Path) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    header, rows = read_rows(raw / "products.csv")
    rows[0][1] = "Crème brûlée"
    text = "\n".join([",".join(header), *(quoted(row) for row in rows)]) + "\n"
    (raw / "products.csv").write_bytes(text.encode("latin-1"))
    warehouse = build_warehouse(
        raw,
        tmp_path / "build",
        select=GATES,
        variables={"raw.read_options": {"tables": {"products": {"encoding": "latin-1"}}}},
    )
    names = warehouse.query("select product_name from staging.stg_shop__products")
    assert "Crème brûlée" in set(names["product_name"])


# ---- freshness ---------------------------------------------------------------------------


def test_no_event_by_as_of_date_stops_the_build_naming_the_source(
    clean_raw: Path, tmp_path: Path
) -> None:
    warehouse = build_warehouse(
        clean_raw,
        tmp_path / "build",
        select="+int_source_freshness_checked",
        variables={"as_of_date": "2020-01-01"},
        check=False,
    )
    assert not warehouse.run.success
    output = warehouse.run.output
    assert "Source freshness failed" in output
    assert f"shop.orders ({clean_raw / 'orders.csv'}) has no valid event at or before" in output
    assert re.search(r"as_of_date 2020-01-01 \(its first valid event: 202\d-\d\d-\d\d ", output)


def test_delivered_event_file_without_rows_stops_the_build(clean_raw: Path, tmp_path: Path) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    header = (raw / "store_transactions.csv").read_text().split("\n", 1)[0]
    (raw / "store_transactions.csv").write_text(header + "\n")
    warehouse = build_warehouse(
        raw, tmp_path / "build", select="+int_source_freshness_checked", check=False
    )
    assert not warehouse.run.success
    assert (
        f"pos.store_transactions ({raw / 'store_transactions.csv'}) has no valid event at or "
        "before as_of_date"
    ) in warehouse.run.output
    assert "(the table has no valid row)" in warehouse.run.output


def test_stale_source_names_the_source_and_its_latest_event(
    clean_raw: Path, tmp_path: Path
) -> None:
    latest = max(
        pd.to_datetime(
            pd.read_csv(clean_raw / "orders.csv")["ordered_at"], utc=True, format="mixed"
        )
    )
    as_of = (latest + pd.Timedelta(days=20)).date().isoformat()
    warehouse = build_warehouse(
        clean_raw,
        tmp_path / "build",
        select="+int_source_freshness_checked",
        variables={"as_of_date": as_of, "quality.source_max_age_days": 3},
        check=False,
    )
    assert not warehouse.run.success
    output = warehouse.run.output
    assert f"shop.orders ({clean_raw / 'orders.csv'}) is stale: its latest event, " in output
    assert latest.tz_convert(None).strftime("%Y-%m-%d %H:%M:%S") in output
    assert "(at most 3 allowed, var quality.source_max_age_days)" in output


# ---- the scheduled job: a failed gate publishes nothing -----------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refresh(root: Path, raw: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            *REFRESH,
            "--target",
            "test",
            "--database",
            str(root / "warehouse.duckdb"),
            "--published",
            str(root / "published" / "segment_warehouse.duckdb"),
            "--target-path",
            str(root / "target"),
            "--no-parquet",
            "--max-source-age-days",
            "-1",
            *args,
        ],
        env={**os.environ, "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(raw)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_failed_gate_keeps_the_last_good_publication_byte_for_byte(
    clean_raw: Path, tmp_path: Path
) -> None:
    raw = copy_delivery(clean_raw, tmp_path / "raw")
    first = refresh(tmp_path, raw, "--as-of-date", "2026-06-30")
    assert first.returncode == 0, first.stdout + first.stderr
    published = tmp_path / "published" / "segment_warehouse.duckdb"
    before = sha256(published)

    # the case: everything quarantined (here: orders in a European export read
    # with the default options)
    write_european_values(clean_raw / "orders.csv", raw / "orders.csv")
    second = refresh(tmp_path, raw, "--as-of-date", "2026-06-30")
    assert second.returncode == 1
    assert sha256(published) == before
    assert "shop.orders" in second.stdout and "no valid row in a required table" in second.stdout
    runs = [
        json.loads(line) for line in (published.parent / "job_runs.jsonl").read_text().splitlines()
    ]
    assert [run["status"] for run in runs][-2:] == ["success", "failed"]
    assert "shop.orders" in runs[-1]["message"]
    with duckdb.connect(str(published), read_only=True) as connection:
        customers = connection.execute("select count(*) from dim_customers").fetchall()[0][0]
    assert customers > 300

    # a var no build could use stops the job before dbt builds anything
    shutil.copy(clean_raw / "orders.csv", raw / "orders.csv")
    third = refresh(
        tmp_path, raw, "--as-of-date", "2026-06-30", "--vars", '{"money.max_order_amount": -5}'
    )
    assert third.returncode == 1
    assert sha256(published) == before
    last = json.loads((published.parent / "job_runs.jsonl").read_text().splitlines()[-1])
    assert last["status"] == "failed"
    assert "money.max_order_amount must be a positive number" in Path(last["log_file"]).read_text()
