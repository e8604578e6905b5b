"""The README is a short map and every link in the Markdown documentation resolves."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
README_MAX_LINES = 250
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    return {_anchor(heading) for heading in _HEADING.findall(_FENCE.sub("", markdown))}


def broken_links(path: Path) -> list[str]:
    """Relative links in ``path`` whose file or anchor does not exist."""
    broken = []
    text = _FENCE.sub("", path.read_text())
    for target in _LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
            continue
        if anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            broken.append(target)
    return broken


def markdown_files() -> list[Path]:
    files = [PROJECT_DIR / name for name in ("README.md", "CONTRIBUTING.md", "DECISIONLOG.md")]
    return [path for path in files if path.exists()] + sorted((PROJECT_DIR / "docs").glob("*.md"))


def test_readme_is_a_short_map() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MAX_LINES
    for command in ("make build", "make test"):
        assert command in readme


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    for page in sorted((PROJECT_DIR / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in readme, page.name


def test_every_relative_link_and_anchor_resolves() -> None:
    assert {path.name: broken_links(path) for path in markdown_files()} == {
        path.name: [] for path in markdown_files()
    }


def test_the_link_checker_finds_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "target.md").write_text(
        "# A heading, with punctuation\n\n```\n# not a heading\n```\n"
    )
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](target.md#a-heading-with-punctuation) [gone](missing.md) "
        "[fenced](target.md#not-a-heading) [web](https://example.com) [self](#nowhere)\n"
    )
    assert broken_links(page) == ["missing.md", "target.md#not-a-heading", "#nowhere"]


def documented_vars(markdown: str) -> set[str]:
    """Var names in the first cell of the configuration page's table rows."""
    names: set[str] = set()
    for line in markdown.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([a-z_.]+)`", line.split("|")[1]))
    return names


def test_every_var_is_namespaced_and_documented() -> None:
    project_vars = set(yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"])
    assert {name for name in project_vars if not re.fullmatch(r"[a-z]+\.[a-z_]+", name)} == {
        "as_of_date"
    }
    page = (PROJECT_DIR / "docs" / "configuration.md").read_text()
    assert documented_vars(page) == project_vars


def test_dbt_project_holds_project_settings_only() -> None:
    project = (PROJECT_DIR / "dbt_project.yml").read_text()
    assert len(project.splitlines()) < 150
    assert "segment_families" not in project
