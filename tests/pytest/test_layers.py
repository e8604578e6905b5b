"""Layers flow one way and follow the naming conventions, checked over dbt's manifest.

Data flows sources -> staging -> intermediate -> marts: a model's layer is the folder it
lives in (models/staging, models/intermediate, models/marts) and it may read only from its
own layer or an earlier one; only staging reads the raw sources. The checker is a plain
function over the manifest dict, proven able to fail on a planted manifest.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
LAYERS = ("staging", "intermediate", "marts")
# What each layer may read: its own layer, earlier layers and the reference seeds.
ALLOWED_PARENTS = {
    "staging": {"source", "seed", "staging"},
    "intermediate": {"seed", "staging", "intermediate"},
    "marts": {"seed", "staging", "intermediate", "marts"},
}
MART_FORBIDDEN_PREFIXES = ("int_", "stg_", "base_")
# Manifest sections whose entries name the YAML file that declares them.
YAML_SECTIONS = (
    "nodes",
    "sources",
    "exposures",
    "metrics",
    "groups",
    "semantic_models",
    "saved_queries",
    "unit_tests",
)


def _project_nodes(manifest: dict, section: str) -> Iterator[dict]:
    project = manifest.get("metadata", {}).get("project_name")
    for node in manifest.get(section, {}).values():
        if project is None or node.get("package_name") == project:
            yield node


def layer_of(node: dict) -> str:
    """A model's layer from its folder; other resources are their own kind (source, seed)."""
    if node["resource_type"] != "model":
        return node["resource_type"]
    parts = PurePosixPath(node["original_file_path"]).parts
    if len(parts) > 2 and parts[0] == "models" and parts[1] in LAYERS:
        return parts[1]
    return "unlayered"


def layer_violations(manifest: dict) -> list[str]:
    """Every model that reads from a later layer (or a source outside staging)."""
    resources = {**manifest.get("sources", {}), **manifest["nodes"]}
    violations = []
    for node in _project_nodes(manifest, "nodes"):
        if node["resource_type"] != "model":
            continue
        layer = layer_of(node)
        if layer == "unlayered":
            violations.append(f"{node['name']} is outside models/{{{','.join(LAYERS)}}}")
            continue
        for parent_id in node["depends_on"]["nodes"]:
            parent = resources.get(parent_id)
            if parent is None:
                continue
            parent_layer = layer_of(parent)
            if parent_layer not in ALLOWED_PARENTS[layer]:
                violations.append(
                    f"{node['name']} ({layer}) depends on {parent['name']} ({parent_layer})"
                )
    return sorted(violations)


def _yaml_files(manifest: dict) -> set[str]:
    files = set()
    for section in YAML_SECTIONS:
        for node in _project_nodes(manifest, section):
            for key in ("patch_path", "original_file_path"):
                path = (node.get(key) or "").split("://")[-1]
                if path.endswith((".yml", ".yaml")):
                    files.add(path)
    return files


def naming_violations(manifest: dict) -> list[str]:
    """Models and YAML files not named after their layer and folder.

    staging: base_<source>__<table> in models/staging/<source>/base/, stg_<source>__<entity>
    in models/staging/<source>/ (<source> is the folder: a raw source, the loader or the
    reference seeds); intermediate: int_*; marts: no int_/stg_/base_ prefix; a YAML file
    in a layer folder: _<folder>__<what>.yml, except a segment family's file
    (families/<family>.yml, declaring the exposure segment_family_<family>) and an
    audience's file (audiences/<audience>.yml, declaring the exposure audience_<audience>).
    """
    violations = []
    for node in _project_nodes(manifest, "nodes"):
        if node["resource_type"] != "model":
            continue
        name, layer = node["name"], layer_of(node)
        parts = PurePosixPath(node["original_file_path"]).parts
        if layer == "staging":
            source = parts[2] if len(parts) > 3 else ""
            prefix = "base" if parts[3:4] == ("base",) else "stg"
            if not re.fullmatch(rf"{prefix}_{re.escape(source)}__[a-z0-9_]+", name):
                violations.append(f"{name}: staging model in {'/'.join(parts[:-1])}")
        elif layer == "intermediate" and not name.startswith("int_"):
            violations.append(f"{name}: intermediate model without the int_ prefix")
        elif layer == "marts" and name.startswith(MART_FORBIDDEN_PREFIXES):
            violations.append(f"{name}: mart named like an earlier layer")
    family_files = {
        node["original_file_path"]: node["name"] for node in _project_nodes(manifest, "exposures")
    }
    for path in _yaml_files(manifest):
        parts = PurePosixPath(path).parts
        if parts[-2:-1] == ("families",):
            if family_files.get(path) != f"segment_family_{PurePosixPath(path).stem}":
                violations.append(f"{path}: family file not declaring segment_family_<file name>")
        elif parts[-2:-1] == ("audiences",):
            if family_files.get(path) != f"audience_{PurePosixPath(path).stem}":
                violations.append(f"{path}: audience file not declaring audience_<file name>")
        elif len(parts) > 2 and parts[0] == "models":
            folder = parts[-2]
            if not re.fullmatch(rf"_{re.escape(folder)}__[a-z0-9_]+\.ya?ml", parts[-1]):
                violations.append(f"{path}: YAML file not named _{folder}__<what>.yml")
    return sorted(violations)


# ---- the project -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The project's manifest from `dbt parse` (no database work) into a temporary target."""
    target = tmp_path_factory.mktemp("layers_target")
    dbt = Path(sys.executable).parent / "dbt"
    completed = subprocess.run(
        [
            str(dbt) if dbt.exists() else "dbt",
            "parse",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR / "profiles"),
            "--target",
            "lint",
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads((target / "manifest.json").read_text())


def test_the_manifest_holds_every_layer(manifest: dict) -> None:
    layers = {layer_of(node) for node in manifest["nodes"].values()}
    assert set(LAYERS) <= layers
    names = {node["name"] for node in manifest["nodes"].values()}
    assert {"int_customers_profiled", "int_customer_rfm_scored", "dim_customers"} <= names


def test_layers_flow_one_way(manifest: dict) -> None:
    assert layer_violations(manifest) == []


def test_models_and_yaml_files_are_named_after_their_layer_and_folder(manifest: dict) -> None:
    assert naming_violations(manifest) == []


def test_marts_that_publish_intermediate_models_read_them(manifest: dict) -> None:
    parents = {
        node["name"]: {
            manifest["nodes"][parent]["name"] if parent in manifest["nodes"] else parent
            for parent in node["depends_on"]["nodes"]
        }
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    assert parents["dim_customers"] == {"int_customers_profiled"}
    assert parents["customer_rfm"] == {"int_customer_rfm_scored"}
    assert "int_customers_profiled" in parents["int_segment_features"]
    assert "int_customer_rfm_scored" in parents["int_segment_features"]


# ---- the checker can fail ----------------------------------------------------------------


def _model(name: str, path: str, *parents: str) -> tuple[str, dict]:
    node = {
        "resource_type": "model",
        "package_name": "p",
        "name": name,
        "original_file_path": path,
        "patch_path": None,
        "depends_on": {"nodes": list(parents)},
    }
    return f"model.p.{name}", node


def _planted_manifest(*models: tuple[str, dict]) -> dict:
    source = {
        "resource_type": "source",
        "package_name": "p",
        "name": "orders",
        "original_file_path": "models/staging/shop/_shop__sources.yml",
    }
    return {
        "metadata": {"project_name": "p"},
        "sources": {"source.p.shop.orders": source},
        "nodes": dict(models),
    }


def test_checker_reports_exactly_the_models_that_read_a_later_layer() -> None:
    manifest = _planted_manifest(
        _model(
            "base_shop__orders",
            "models/staging/shop/base/base_shop__orders.sql",
            "source.p.shop.orders",
        ),
        _model(
            "stg_shop__orders",
            "models/staging/shop/stg_shop__orders.sql",
            "model.p.base_shop__orders",
            "model.p.int_orders_enriched",
        ),
        _model(
            "int_orders_enriched",
            "models/intermediate/core/int_orders_enriched.sql",
            "model.p.base_shop__orders",
            "model.p.fct_orders",
        ),
        _model(
            "fct_orders",
            "models/marts/core/fct_orders.sql",
            "model.p.int_orders_enriched",
            "model.p.stg_shop__orders",
        ),
        _model("dim_customers", "models/marts/core/dim_customers.sql", "model.p.fct_orders"),
    )
    assert layer_violations(manifest) == [
        "int_orders_enriched (intermediate) depends on fct_orders (marts)",
        "stg_shop__orders (staging) depends on int_orders_enriched (intermediate)",
    ]
    assert naming_violations(manifest) == []


def test_checker_reports_sources_read_outside_staging_and_models_outside_the_layers() -> None:
    manifest = _planted_manifest(
        _model(
            "int_raw_orders", "models/intermediate/core/int_raw_orders.sql", "source.p.shop.orders"
        ),
        _model("quarantine", "models/marts/data_quality/quarantine.sql", "source.p.shop.orders"),
        _model("loose_model", "models/loose_model.sql"),
    )
    assert layer_violations(manifest) == [
        "int_raw_orders (intermediate) depends on orders (source)",
        "loose_model is outside models/{staging,intermediate,marts}",
        "quarantine (marts) depends on orders (source)",
    ]


def test_checker_reports_exactly_the_misnamed_models_and_yaml_files() -> None:
    manifest = _planted_manifest(
        _model("base_shop__orders", "models/staging/shop/base/base_shop__orders.sql"),
        _model("stg_shop__orders", "models/staging/shop/base/stg_shop__orders.sql"),
        _model("stg_web__sessions", "models/staging/shop/stg_web__sessions.sql"),
        _model("orders_cleaned", "models/staging/shop/orders_cleaned.sql"),
        _model("customer_features", "models/intermediate/core/customer_features.sql"),
        _model("int_customer_summary", "models/marts/core/int_customer_summary.sql"),
        _model("dim_customers", "models/marts/core/dim_customers.sql"),
    )
    manifest["nodes"]["model.p.dim_customers"]["patch_path"] = "p://models/marts/core/schema.yml"
    manifest["nodes"]["model.p.int_customer_summary"]["patch_path"] = (
        "p://models/marts/core/_core__models.yml"
    )
    families = "models/marts/segments/families"
    manifest["exposures"] = {
        f"exposure.p.{name}": {
            "name": name,
            "resource_type": "exposure",
            "package_name": "p",
            "original_file_path": f"{families}/{file}",
        }
        for name, file in [("segment_family_vip", "vip.yml"), ("segment_family_gift", "gifts.yml")]
    }
    assert naming_violations(manifest) == [
        "customer_features: intermediate model without the int_ prefix",
        "int_customer_summary: mart named like an earlier layer",
        "models/marts/core/schema.yml: YAML file not named _core__<what>.yml",
        f"{families}/gifts.yml: family file not declaring segment_family_<file name>",
        "orders_cleaned: staging model in models/staging/shop",
        "stg_shop__orders: staging model in models/staging/shop/base",
        "stg_web__sessions: staging model in models/staging/shop",
    ]
