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
DEMO_STAMP := $(DEMO_DIR)/.generated-$(DEMO_CUSTOMERS)-$(DEMO_SEED)

export DBT_PROFILES_DIR := $(CURDIR)/profiles
export SEGMENT_WAREHOUSE_RAW_DATA_DIR ?= $(CURDIR)/$(DEMO_DIR)/raw
DBT := $(BIN)/dbt

.PHONY: help install build demo-data dbt-build refresh test lint format pytest docs report bi bi-stop public-interface contract-docs registry-docs reference-seeds benchmark benchmark-clv benchmark-clusters benchmark-incremental clean

help:
	@echo "make build      install, generate demo data ($(DEMO_CUSTOMERS) customers), dbt build into warehouse/"
	@echo "make refresh    the scheduled job on the demo data: build as of REFRESH_DATE, record history, publish"
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
	@echo "make reference-seeds  rebuild the ISO country, currency and rate seeds (seeds/*.csv)"
	@echo "make benchmark  time generation and dbt build at several sizes, write BENCHMARKS.md"
	@echo "make benchmark-clv  time the CLV fits against lifetimes on 1M customers, write BENCHMARKS.md"
	@echo "make benchmark-clusters  time the clustering against plain KMeans on 1M customers, write BENCHMARKS.md"
	@echo "make benchmark-incremental  time an incremental run against a full rebuild on 1M customers, write BENCHMARKS.md"
	@echo "make clean      remove build artefacts, the warehouse and generated data"

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(DEMO_STAMP): $(STAMP) segment_warehouse/demo_data.py
	rm -f $(DEMO_DIR)/.generated-*
	$(BIN)/python scripts/generate_demo_data.py --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --out $(DEMO_DIR)
	touch $(DEMO_STAMP)

demo-data: $(DEMO_STAMP)

dbt-build: $(STAMP)
	mkdir -p warehouse
	$(DBT) build --target dev

build: demo-data dbt-build

# The demo data ends on 2026-06-30; the job's freshness check fails for later dates.
REFRESH_DATE ?= 2026-06-30
REFRESH_ARGS ?= --as-of-date $(REFRESH_DATE)

refresh: demo-data
	mkdir -p warehouse
	$(BIN)/python scripts/refresh.py $(REFRESH_ARGS)

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
	$(DBT) docs generate --static --target dev
	@echo "docs site: target/static_index.html"

report: $(STAMP)
	$(BIN)/python scripts/segment_report.py

bi: $(STAMP)
	$(BIN)/python scripts/superset_bi.py

bi-stop: $(STAMP)
	$(BIN)/python scripts/superset_bi.py --stop

contract-docs: $(STAMP)
	$(BIN)/python -m segment_warehouse.contract --write docs/data-contract.md

public-interface: $(STAMP)
	$(BIN)/python -m segment_warehouse.interface --write

registry-docs: $(STAMP)
	$(BIN)/python -m segment_warehouse.registry --write docs/segments.md

reference-seeds: $(STAMP)
	$(BIN)/python -m segment_warehouse.reference_seeds

benchmark: $(STAMP)
	$(BIN)/python scripts/benchmark.py

benchmark-clv: $(STAMP)
	$(BIN)/python scripts/benchmark_clv.py

benchmark-clusters: $(STAMP)
	$(BIN)/python scripts/benchmark_clusters.py

benchmark-incremental: $(STAMP)
	$(BIN)/python scripts/benchmark_incremental.py

clean:
	rm -rf target logs warehouse $(DEMO_DIR) .pytest_cache .ruff_cache
