"""How storage/ imports: no cycle between its modules, and never the application.

Every import counts, at the top of a module, inside a function or under TYPE_CHECKING:
an import that waits until it runs still ties the two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import storage

ROOT = Path(storage.__file__).parent
FORBIDDEN = ("bot", "content", "flows")  # DESIGN.md, invariant 1


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (a `from storage import x` of a module
    names the module `storage.x`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in MODULES
            )
    return found


GRAPH = {
    name: {other for other in imported(path) if other in MODULES and other != name}
    for name, path in MODULES.items()
}


def test_the_modules_are_found() -> None:
    assert {"storage.repo", "storage.tables", "storage.db", "storage.tallies"} <= set(GRAPH)
    assert "storage.tables" in GRAPH["storage.people"]
    assert "storage.tallies" in GRAPH["storage.db"]  # inside a function it would count too


def test_storage_never_imports_the_application() -> None:
    offending = sorted(
        f"{name} imports {other}"
        for name, path in MODULES.items()
        for other in imported(path)
        if other.split(".")[0] in FORBIDDEN
    )
    assert offending == []


def test_no_import_cycle_inside_storage() -> None:
    cycles: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the path, "done" once explored
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        path.append(name)
        for other in sorted(GRAPH[name]):
            if state.get(other) == "open":
                cycles.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other)
        path.pop()
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)
    assert cycles == []


def test_no_module_imports_another_ones_private_name() -> None:
    offending = sorted(
        f"{module_name(path)} imports {node.module}.{alias.name}"
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("storage")
        for alias in node.names
        if alias.name.startswith("_") and alias.name != "__future__"
    )
    assert offending == []
