"""The DuckDB session plugin: the CSV preparer and the libraries loaded before threads."""

from __future__ import annotations

import ast
import gzip
import json
import sys
from pathlib import Path

import duckdb
import pytest

from segment_warehouse import duckdb_plugin
from segment_warehouse.paths import PROJECT_DIR


def prepare(path: Path, cache_dir: Path, **options: str) -> dict:
    return json.loads(duckdb_plugin.prepare_csv(str(path), json.dumps(options), str(cache_dir)))


def test_header_is_read_with_the_configured_dialect(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes('\ufeff"Order ID";Betrag;"Wäh;rung"\r\n1;2,5;EUR\r\n'.encode())
    described = prepare(path, tmp_path / "cache", delimiter=";", quote='"')
    assert described["columns"] == ["Order ID", "Betrag", "Wäh;rung"]
    assert described["line_ending"] == "\r\n"
    assert described["path"] == str(path)
    assert not described["normalised"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty (no header line)"),
        (b"  \n", "the file is empty (no header line)"),
        (b"id,name,id\n1,a,2\n", "the header names id twice"),
        (b"id,,name\n", "the header has an empty column name"),
        (b"id,n\xe9m\n", "the header line is not utf-8"),
    ],
)
def test_unreadable_headers_are_refused_naming_the_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(content)
    described = prepare(path, tmp_path / "cache", delimiter=",", quote='"')
    assert described["error"].startswith(f"{path}: {problem}")


def test_latin1_header_reads_with_its_encoding(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes("id,Währung\n1,EUR\n".encode("latin-1"))
    described = prepare(path, tmp_path / "cache", delimiter=",", encoding="latin-1")
    assert described["columns"] == ["id", "Währung"]


def test_line_endings_are_counted_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = {
        b"a,b\r\n1,2\r\n3,4\n5,6\r\n": (True, True),
        b"a,b\r\n1,2\r\n": (True, False),
        b"a,b\n1,2\n": (False, True),
        b"a,b\n1,\r2\n": (False, True),  # a CR inside a value is not a line ending
        b"a,b": (False, False),
    }
    for content, kinds in cases.items():
        path = tmp_path / "table.csv"
        path.write_bytes(content)
        for chunk in (1, 2, 3, 5, 1 << 20):
            monkeypatch.setattr(duckdb_plugin, "CHUNK_BYTES", chunk)
            assert duckdb_plugin.line_ending_kinds(path) == kinds, (content, chunk)


def test_mixed_line_endings_are_normalised_in_a_copy_with_the_same_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duckdb_plugin, "CHUNK_BYTES", 7)  # split CR from LF somewhere
    path = tmp_path / "lines.csv"
    original = b'id,note\r\n1,"two\r\nlines"\r\n2,x\n3,y\n'
    path.write_bytes(original)
    described = prepare(path, tmp_path / "cache", delimiter=",", quote='"')
    assert described["normalised"]
    copy = Path(described["path"])
    assert copy.parent == tmp_path / "cache"
    assert copy.read_bytes() == original.replace(b"\r\n", b"\n")
    assert path.read_bytes() == original  # the delivery itself is never changed
    # the copy is reused while the original is unchanged, and replaced when it changes
    assert prepare(path, tmp_path / "cache", delimiter=",")["path"] == str(copy)
    path.write_bytes(original + b"4,z\r\n")
    newer = Path(prepare(path, tmp_path / "cache", delimiter=",")["path"])
    assert newer != copy and not copy.exists()
    rows = duckdb.sql(
        f"select * from read_csv('{newer}', header = true, auto_detect = false, "
        "columns = {'id': 'VARCHAR', 'note': 'VARCHAR'}, delim = ',', quote = '\"')"
    ).fetchall()
    assert rows == [("1", "two\nlines"), ("2", "x"), ("3", "y"), ("4", "z")]


def test_compressed_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"id,amount\r\n1,2\n")
    described = prepare(path, tmp_path / "cache", delimiter=",")
    assert described["columns"] == ["id", "amount"]
    assert described["normalised"]
    assert Path(described["path"]).read_bytes() == b"id,amount\n1,2\n"


def test_unsupported_encoding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(b"id\n1\n")
    described = prepare(path, tmp_path / "cache", encoding="cp1252")
    assert "encoding 'cp1252' is not supported" in described["error"]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


def test_every_module_a_python_model_imports_is_preloaded() -> None:
    """A model importing a library the plugin does not load could race another thread."""
    python_models = sorted((PROJECT_DIR / "models").rglob("*.py"))
    assert len(python_models) >= 5
    preloaded = set(duckdb_plugin.PRELOADED_MODULES)
    for model in python_models:
        for module in imported_modules(model):
            if module.split(".")[0] in sys.stdlib_module_names:
                continue
            covered = module in preloaded or any(
                module.startswith(f"{name}.") or name.startswith(f"{module}.") for name in preloaded
            )
            assert covered, f"{model.name} imports {module}, which is not preloaded"


def test_preloading_imports_the_libraries() -> None:
    duckdb_plugin.preload_libraries()
    for module in duckdb_plugin.PRELOADED_MODULES:
        assert module in sys.modules
