"""The connected_components materialization (label propagation in SQL) against an
independent union-find, on the graphs that break naive implementations: a chain whose
edges point both ways (5-7, 7-1), long paths, cycles, stars and random graphs.

Each test runs the project's materialization in a throwaway dbt project of its own, so
the graphs are exactly the ones written here.
"""

from __future__ import annotations

import itertools
import random
import shutil
import subprocess
from pathlib import Path

import duckdb

from segment_warehouse.pipeline.dbt_runner import dbt_executable

PROJECT_DIR = Path(__file__).resolve().parents[2]
MATERIALIZATION = PROJECT_DIR / "macros" / "materializations" / "connected_components.sql"


def union_find_components(edges: list[tuple[str, str]]) -> dict[str, str]:
    """Reference: each node with an edge to another node -> the smallest node of its component."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for left, right in edges:
        if left == right:
            continue
        root_left, root_right = find(left), find(right)
        if root_left != root_right:
            parent[max(root_left, root_right)] = min(root_left, root_right)
    nodes = {node for edge in edges for node in edge if edge[0] != edge[1]}
    members: dict[str, list[str]] = {}
    for node in nodes:
        members.setdefault(find(node), []).append(node)
    return {node: min(group) for group in members.values() for node in group}


def run_components(
    tmp_path: Path, edges: list[tuple[str, str]], max_iterations: int = 40
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], int | None]:
    """Build a model materialized as connected_components over ``edges``; return dbt's
    result, node -> component_key and the pass count (None when the build failed)."""
    project = tmp_path / "cc_project"
    (project / "macros").mkdir(parents=True)
    (project / "models").mkdir()
    (project / "seeds").mkdir()
    shutil.copy(MATERIALIZATION, project / "macros" / MATERIALIZATION.name)
    (project / "dbt_project.yml").write_text(
        "name: cc_check\nversion: '1.0'\nprofile: cc_check\nconfig-version: 2\n"
        "seeds:\n  cc_check:\n    +column_types: {node_key: varchar, neighbour_key: varchar}\n"
    )
    (project / "profiles.yml").write_text(
        "cc_check:\n  target: test\n  outputs:\n    test:\n      type: duckdb\n"
        f"      path: {project / 'cc.duckdb'}\n      threads: 1\n"
    )
    lines = ["node_key,neighbour_key", *(f"{left},{right}" for left, right in edges)]
    (project / "seeds" / "graph_edges.csv").write_text("\n".join(lines) + "\n")
    config = (
        f"{{{{ config(materialized='connected_components', max_iterations={max_iterations}) }}}}"
    )
    (project / "models" / "components.sql").write_text(
        f"{config}\nselect node_key, neighbour_key from {{{{ ref('graph_edges') }}}}\n"
    )
    result = subprocess.run(
        [dbt_executable(), "build", "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True,
        text=True,
        check=False,
        cwd=project,
    )
    if result.returncode != 0:
        return result, {}, None
    with duckdb.connect(str(project / "cc.duckdb"), read_only=True) as connection:
        rows = connection.sql(
            "select node_key, component_key, iteration_count from main.components"
        ).fetchall()
        leftovers = connection.sql(
            "select table_name from information_schema.tables where table_name like '%__cc_%'"
        ).fetchall()
    assert leftovers == [], "scratch tables left behind"
    return result, {node: key for node, key, _ in rows}, rows[0][2] if rows else 0


def test_chain_five_seven_one_is_one_group(tmp_path: Path) -> None:
    """5-7 and 7-1 is one group, whichever way the edges point; 9-8 is another."""
    edges = [("5", "7"), ("7", "1"), ("9", "8")]
    result, components, _ = run_components(tmp_path, edges)
    assert result.returncode == 0, result.stdout
    assert components == {"1": "1", "5": "1", "7": "1", "8": "8", "9": "8"}


def test_long_path_cycles_and_stars_match_union_find(tmp_path: Path) -> None:
    """A 3,000-node path in shuffled key order, a 500-node cycle with a chord, a star, a
    self-edge and duplicate edges: the same groups as a union-find, in few passes."""
    rng = random.Random(19)
    path_nodes = [f"p{n:05d}" for n in range(3000)]
    rng.shuffle(path_nodes)
    edges = list(itertools.pairwise(path_nodes))
    cycle = [f"c{n:04d}" for n in range(500)]
    rng.shuffle(cycle)
    edges += [*itertools.pairwise([*cycle, cycle[0]]), (cycle[0], cycle[250])]
    edges += [("s000", f"s{n:03d}") for n in range(1, 200)]
    edges += [("x1", "x1"), ("y1", "y2"), ("y2", "y1"), ("y1", "y2")]
    rng.shuffle(edges)
    result, components, passes = run_components(tmp_path, edges)
    assert result.returncode == 0, result.stdout
    assert components == union_find_components(edges)
    assert len(set(components.values())) == 4  # path, cycle, star, y; x1 has no edge
    assert passes is not None and passes <= 2 * 12 + 2  # about log2(3000) passes, not 3000


def test_random_graphs_match_union_find(tmp_path: Path) -> None:
    """Sparse random graphs (many small groups and a few large ones) agree with a union-find."""
    rng = random.Random(7)
    nodes = [f"n{rng.randrange(10**9):09d}" for _ in range(6000)]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(4500)]
    result, components, _ = run_components(tmp_path, edges)
    assert result.returncode == 0, result.stdout
    assert components == union_find_components(edges)


def test_reaching_max_iterations_fails_loudly(tmp_path: Path) -> None:
    """A graph that needs more passes than allowed stops the build with a clear error
    and leaves no table behind."""
    path_nodes = [f"p{n:04d}" for n in range(1000)]
    edges = list(itertools.pairwise(path_nodes[::-1]))
    result, _, _ = run_components(tmp_path, edges, max_iterations=2)
    assert result.returncode != 0
    assert "did not settle within 2 label-propagation passes" in result.stdout
    with duckdb.connect(str(tmp_path / "cc_project" / "cc.duckdb"), read_only=True) as connection:
        tables = {
            row[0]
            for row in connection.sql("select table_name from information_schema.tables").fetchall()
        }
    assert "components" not in tables
    assert not any("__cc_" in table for table in tables)


def test_self_edges_only_give_an_empty_table(tmp_path: Path) -> None:
    """A graph whose only edges are self-edges (no two records linked) builds an empty table."""
    result, components, _ = run_components(tmp_path, [("a", "a"), ("b", "b")])
    assert result.returncode == 0, result.stdout
    assert components == {}
