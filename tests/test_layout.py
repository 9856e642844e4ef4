"""The house as README.md's Development section draws it: small modules, imports pointing down.

Read from the source with ``ast``, so a rule broken anywhere in ``labwidget/`` fails here, naming
the module and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "labwidget"
MAX_LINES = 400
# May show a widget: the public API, and the torch entry points that show one.
WIDGET_USERS = {"labwidget", "labwidget.ask", "labwidget.capture"}
# The Store's private ways in: its engine, connections and transactions.
STORE_PRIVATE = {"_engine", "_read", "_transaction", "_write_one", "_item_shape"}


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name, migrations aside."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path) -> set[str]:
    """What ``path`` imports from labwidget, as dotted names (``from a import b`` gives a.b)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("labwidget"):
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("labwidget"))
    return names


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def test_no_module_is_over_400_lines() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by concept (at most {MAX_LINES} lines each): {long}"


def test_only_the_api_ask_and_capture_import_a_widget() -> None:
    wrong = {
        (name, target)
        for name, path in modules().items()
        if not within(name, "labwidget.widgets") and name not in WIDGET_USERS
        for target in imports(path)
        if within(target, "labwidget.widgets")
    }
    assert wrong == set()


def test_only_the_store_touches_its_internals() -> None:
    wrong = {
        (name, target)
        for name, path in modules().items()
        if not within(name, "labwidget.store")
        for target in imports(path)
        if target.startswith(("labwidget.store._", "labwidget.store.schema"))
    }
    assert wrong == set()


def test_only_the_store_opens_its_connections() -> None:
    wrong = {
        (name, node.attr)
        for name, path in modules().items()
        if not within(name, "labwidget.store")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in STORE_PRIVATE
    }
    assert wrong == set(), "read through the Store's public methods (store/_feed.py, _reads.py)"


def test_the_store_imports_nothing_else_of_labwidget() -> None:
    wrong = {
        (name, target)
        for name, path in modules().items()
        if within(name, "labwidget.store")
        for target in imports(path)
        if not within(target, "labwidget.store")
    }
    assert wrong == set()


def test_nothing_imports_the_server_extension_jupyter_server_loads_it() -> None:
    wrong = {
        (name, target)
        for name, path in modules().items()
        if not within(name, "labwidget.server")
        for target in imports(path)
        if within(target, "labwidget.server")
    }
    assert wrong == set()
