"""Generated README sections, each between `<!-- name:start -->` and `<!-- name:end -->`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def readme_section(readme_text: str, name: str) -> str:
    """Return the text of the README section ``name``."""
    start_marker, end_marker = _markers(name)
    start = readme_text.index(start_marker) + len(start_marker)
    end = readme_text.index(end_marker)
    return readme_text[start:end].strip("\n") + "\n"


def write_readme_section(readme: Path, name: str, markdown: str) -> None:
    """Replace the README section ``name`` with ``markdown``."""
    start_marker, end_marker = _markers(name)
    text = readme.read_text()
    start = text.index(start_marker) + len(start_marker)
    end = text.index(end_marker)
    readme.write_text(text[:start] + "\n" + markdown + text[end:])


def section_cli(name: str, render: Callable[[], str], argv: list[str] | None = None) -> None:
    """Print a generated section, or with ``--write README`` replace it in that file."""
    import argparse

    parser = argparse.ArgumentParser(
        description=f"Print the README's {name} section, or with --write refresh it."
    )
    parser.add_argument("--write", type=Path, help=f"README file whose {name} section to replace")
    args = parser.parse_args(argv)
    markdown = render()
    if args.write:
        write_readme_section(args.write, name, markdown)
    else:
        print(markdown, end="")


def write_section(path: Path, name: str, heading: str, markdown: str) -> None:
    """Replace the section ``name`` of ``path``, first appending ``heading`` and markers if absent.

    Lets each benchmark script own its part of BENCHMARKS.md.
    """
    start_marker, end_marker = _markers(name)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start_marker not in text:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n{start_marker}\n{end_marker}\n"
        path.write_text(text)
    write_readme_section(path, name, markdown)
