# Everything a person does with the project. Two commands set up a fresh clone:
#   make build   virtualenv, dependencies, demo data, dbt build into warehouse/
#   make test    lint, then pytest (unit tests and dbt end to end on generated data)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

DEMO_CUSTOMERS ?= 100000
DEMO_SEED ?= 42
DEMO_DIR := data/demo

export DBT_PROFILES_DIR := $(CURDIR)/profiles
export SEGMENT_WAREHOUSE_RAW_DATA_DIR ?= $(CURDIR)/$(DEMO_DIR)/raw
DBT := $(BIN)/dbt
# the project's one command line (segment_warehouse/cli.py); `$(CLI) --help` lists commands
CLI := $(BIN)/segment-warehouse --project-dir $(CURDIR)
DEMO_ARGS := --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)

.PHONY: help install build demo-data refresh backfill check test lint format pytest docs report bi bi-stop public-interface contract-docs registry-docs reference-seeds benchmark benchmark-clv benchmark-clusters benchmark-incremental benchmark-daily benchmark-identity clean benchmark-memory

help:
	@echo "make build      install, generate demo data ($(DEMO_CUSTOMERS) customers), dbt build into warehouse/"
	@echo "make refresh    the scheduled job on the demo data: build as of REFRESH_DATE, record history, publish"
	@echo "make backfill   the scheduled job for every BACKFILL_STEP from BACKFILL_FROM to REFRESH_DATE"
	@echo "make check      validate the raw files (RAW_DATA_DIR) against the contract; no marts built"
	@echo "make test       lint (sqlfluff, ruff) and pytest, including dbt end to end on generated data"
	@echo "make lint       sqlfluff and ruff checks only"
	@echo "make format     apply sqlfluff and ruff fixes"
	@echo "make docs       dbt's static docs site: target/static_index.html (one file)"
	@echo "make report     HTML segment report from the published marts (after make refresh)"
	@echo "make bi         optional: Apache Superset on :8088 with the Customer segments dashboard"
	@echo "make bi-stop    stop the Superset web server that make bi started"
	@echo "make public-interface  record the public marts' columns and types (models/marts/public_interface.json)"
	@echo "make contract-docs  rewrite docs/data-contract.md's raw contract from the sources YAML"
	@echo "make registry-docs  rewrite docs/segments.md's segment families from the registry"
	@echo "make reference-seeds  rebuild the ISO country, currency, calling-code and rate seeds (seeds/*.csv)"
	@echo "make benchmark  time generation and dbt build at several sizes, write BENCHMARKS.md"
	@echo "make benchmark-clv  time the CLV fits against lifetimes on 1M customers, write BENCHMARKS.md"
	@echo "make benchmark-clusters  time the clustering against plain KMeans on 1M customers, write BENCHMARKS.md"
	@echo "make benchmark-incremental  time an incremental run against a full rebuild on 1M customers, write BENCHMARKS.md"
	@echo "make benchmark-daily  time the daily job (first run, next day, nothing new) and the core path against a hand-written DuckDB pass on 1M customers, write BENCHMARKS.md"
	@echo "make benchmark-identity  time identity resolution on 1M customers, check it against the planted people, write BENCHMARKS.md"
	@echo "make benchmark-memory  peak memory and wall time of a full dbt build of 1M customers, write BENCHMARKS.md"
	@echo "make clean      remove build artefacts, the warehouse and generated data"
	@echo "Every target runs .venv/bin/segment-warehouse; see its --help and each command's --help."

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# regenerates every time; build and refresh generate it only when missing or stale
demo-data: $(STAMP)
	$(CLI) demo-data $(DEMO_ARGS) --out $(DEMO_DIR)

# demo data when missing or stale (customers, seed or generator changed), then dbt build
build: $(STAMP)
	$(CLI) build $(DEMO_ARGS)

# The demo data ends on 2026-06-30; the job's freshness check fails for later dates.
REFRESH_DATE ?= 2026-06-30
REFRESH_ARGS ?= --as-of-date $(REFRESH_DATE)

BACKFILL_FROM ?= 2026-01-31
BACKFILL_STEP ?= month
RAW_DATA_DIR ?= $(SEGMENT_WAREHOUSE_RAW_DATA_DIR)

# the demo data when missing or stale, then the job (its own dbt build)
refresh: $(STAMP)
	$(CLI) demo-data --if-needed $(DEMO_ARGS)
	$(CLI) refresh $(REFRESH_ARGS)

backfill: $(STAMP)
	$(CLI) demo-data --if-needed $(DEMO_ARGS)
	$(CLI) backfill $(BACKFILL_FROM) $(REFRESH_DATE) --step $(BACKFILL_STEP)

check: $(STAMP)
	$(CLI) check $(RAW_DATA_DIR)

lint: $(STAMP)
	$(BIN)/ruff check segment_warehouse models scripts tests
	$(BIN)/ruff format --check segment_warehouse models scripts tests
	$(BIN)/sqlfluff lint models tests --templater dbt --processes 2

format: $(STAMP)
	$(BIN)/ruff format segment_warehouse models scripts tests
	$(BIN)/ruff check --fix segment_warehouse models scripts tests
	$(BIN)/sqlfluff fix models tests --templater dbt

# Test files are spread over PYTEST_WORKERS processes (each dbt build is one process);
# tests/pytest/conftest.py groups them per file.
PYTEST_WORKERS ?= 2

pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder

test: lint pytest

docs: $(STAMP)
	$(CLI) docs

report: $(STAMP)
	$(CLI) report

bi: $(STAMP)
	$(CLI) bi

bi-stop: $(STAMP)
	$(CLI) bi --stop

contract-docs: $(STAMP)
	$(BIN)/python -m segment_warehouse.documentation.contract --write docs/data-contract.md

public-interface: $(STAMP)
	$(BIN)/python -m segment_warehouse.documentation.interface --write

registry-docs: $(STAMP)
	$(BIN)/python -m segment_warehouse.documentation.registry --write docs/segments.md

reference-seeds: $(STAMP)
	$(BIN)/python -m segment_warehouse.documentation.reference_seeds

benchmark: $(STAMP)
	$(BIN)/python scripts/benchmark.py

benchmark-clv: $(STAMP)
	$(BIN)/python scripts/benchmark_clv.py

benchmark-clusters: $(STAMP)
	$(BIN)/python scripts/benchmark_clusters.py

benchmark-identity: $(STAMP)
	$(BIN)/python scripts/benchmark_identity.py

benchmark-incremental: $(STAMP)
	$(BIN)/python scripts/benchmark_incremental.py

benchmark-daily: $(STAMP)
	$(BIN)/python scripts/benchmark_daily.py

benchmark-memory: $(STAMP)
	$(BIN)/python scripts/benchmark_memory.py

clean:
	rm -rf target logs warehouse $(DEMO_DIR) .pytest_cache .ruff_cache
