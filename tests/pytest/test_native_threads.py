"""The Python models' native thread pools: each dbt thread's share of the cores."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime that threadpoolctl reports)
from threadpoolctl import threadpool_info

from segment_warehouse.modelling import threads

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("dbt_threads", "cores", "expected"),
    [
        (1, 2, 2),  # alone: every core
        (2, 2, 1),  # two nodes side by side on two cores: one each
        (4, 2, 1),  # more nodes than cores: never fewer than one
        (3, 8, 2),
        ("2", 8, 4),  # a rendered config value is text
        (None, 4, 4),  # unknown: one node
        (0, 4, 4),
    ],
)
def test_cores_per_node(dbt_threads, cores, expected) -> None:
    assert threads.cores_per_node(dbt_threads, cores=cores) == expected


def _pool_sizes() -> dict[str, int]:
    return {pool["user_api"]: pool["num_threads"] for pool in threadpool_info()}


def test_native_threads_limits_the_pools_and_restores_them() -> None:
    before = _pool_sizes()
    assert "openmp" in before
    many = max(2, 2 * threads.cores_per_node(1))  # more dbt threads than cores
    with threads.native_threads(many):
        assert set(_pool_sizes().values()) == {1}
    assert _pool_sizes() == before


def _limits_its_threads(tree: ast.Module) -> bool:
    """True when ``model`` does its work inside ``threads.native_threads(dbt.config.get(...))``."""
    for function in tree.body:
        if isinstance(function, ast.FunctionDef) and function.name == "model":
            for node in ast.walk(function):
                if isinstance(node, ast.With):
                    call = node.items[0].context_expr
                    if (
                        isinstance(call, ast.Call)
                        and ast.unparse(call.func) == "threads.native_threads"
                        and ast.unparse(call.args[0]) == "dbt.config.get('dbt_threads')"
                    ):
                        return True
    return False


def test_every_python_model_runs_in_its_share_of_the_cores() -> None:
    python_models = sorted((PROJECT_DIR / "models").rglob("*.py"))
    assert len(python_models) >= 6
    for path in python_models:
        assert _limits_its_threads(ast.parse(path.read_text())), path.name


def test_the_python_models_are_given_dbt_s_thread_count() -> None:
    project = (PROJECT_DIR / "dbt_project.yml").read_text()
    assert '+dbt_threads: "{{ target.threads }}"' in project
