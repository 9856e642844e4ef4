"""Every public name of labwidget is documented: a docstring, and a row in the README's API table.

As sqlite-utils checks its documentation: a name added to ``labwidget.__all__`` without either
fails here, naming it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import labwidget as lw

README = Path(__file__).resolve().parents[1] / "README.md"


def api_names() -> str:
    """The first column of the README's "API at a glance" table, as one text."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## API at a glance")
    section = text[start : text.index("\n## ", start)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return "\n".join(row.split(" | ")[0] for row in rows)


@pytest.mark.parametrize("name", lw.__all__)
def test_each_public_name_has_a_docstring(name: str) -> None:
    doc = getattr(lw, name).__doc__ or ""
    assert doc.strip(), f"labwidget.{name} has no docstring"


@pytest.mark.parametrize("name", lw.__all__)
def test_each_public_name_is_in_the_readme_api_table(name: str) -> None:
    assert re.search(rf"(?<![\w]){name}\b", api_names()), (
        f"labwidget.{name} is not in README.md's API table: add a row (or name it in one)"
    )
