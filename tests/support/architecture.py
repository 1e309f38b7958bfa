"""The import graph of the project's packages, and the rules it must keep.

Every import counts: at module level, inside a function, under `if TYPE_CHECKING:`. An
import of a submodule (`from bot.core import dialog`, `import bot.core.dialog`) is an
edge to that module; an import of a name from a package is an edge to its __init__.

The rules (DESIGN.md, README "How it is built"):
- flows/, content/ and storage/ never import bot/; flows/ imports neither storage/ nor
  content/ nor a network or database library; content/ imports no storage/; storage/
  imports no content/ or flows/;
- bot/ in layers, each importing only what `ALLOWED` names (and lower packages):
  the kernel (core) at the bottom; channels, inbound, outbound and scheduling above it,
  siblings that do not import each other; documents beside the kernel; the features
  above both, independent of each other and of the concrete channels; the composition
  root (app) above all of them; serve and web above it; the cli and the simulator on top;
- a project module is imported inside a function only by the cli (each command loads
  what it needs, so that `jamaah --help` starts at once): anywhere else it would be
  a cycle dodged, which is a design problem;
- no cycle anywhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("bot", "flows", "content", "storage")
# Libraries that flows/ (pure rules) must not touch.
IO_LIBRARIES = (
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "sqlite3",
    "httpx",
    "aiohttp",
    "requests",
    "telegram",
    "twilio",
    "starlette",
    "uvicorn",
    "socket",
    "urllib.request",
)
# What each part of bot/ may import of bot/ (besides itself, and the lower packages).
_BELOW_APP = (
    "bot.core",
    "bot.documents",
    "bot.channels",
    "bot.inbound",
    "bot.outbound",
    "bot.scheduling",
    "bot.features",
)
ALLOWED: dict[str, tuple[str, ...]] = {
    "bot.core": (),
    "bot.documents": (),
    "bot.channels": ("bot.core",),
    "bot.inbound": ("bot.core",),
    "bot.outbound": ("bot.core",),
    "bot.scheduling": ("bot.core",),
    "bot.features": ("bot.core", "bot.documents"),
    "bot.app": _BELOW_APP,
    "bot.serve": (*_BELOW_APP, "bot.app", "bot.web"),
    "bot.web": (*_BELOW_APP, "bot.app"),
    "bot.simulate": (*_BELOW_APP, "bot.app"),
    "bot.cli": (*_BELOW_APP, "bot.app", "bot.serve", "bot.web", "bot.simulate"),
}
# Packages whose sub-packages (or modules) are independent of each other.
INDEPENDENT = ("bot.features", "bot.channels")
# Where a project module may be imported inside a function.
LAZY_IMPORTS_ALLOWED = ("bot.cli",)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported project module, or the external library's name
    line: int
    inner: bool  # inside a function
    external: bool


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found[module_name(root, path)] = path
    return found


def imports_of(root: Path) -> Iterator[Import]:
    modules = project_modules(root)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node, inner in _walk(tree, False):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield _edge(name, alias.name, node.lineno, inner, modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    target = candidate if candidate in modules else base
                    yield _edge(name, target, node.lineno, inner, modules)


def _walk(node: ast.AST, inner: bool) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, inner
        deeper = inner or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(child, deeper)


def _edge(source: str, target: str, line: int, inner: bool, modules: dict[str, Path]) -> Import:
    if target in modules:
        return Import(source, target, line, inner, external=False)
    # A project module named by a longer path than exists (an attribute): its module.
    parts = target.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    if parts and parts[0] in PACKAGES:
        return Import(source, ".".join(parts), line, inner, external=False)
    return Import(source, target, line, inner, external=True)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _part_of_bot(module: str) -> str | None:
    """The entry of `ALLOWED` that `module` belongs to."""
    return next((part for part in ALLOWED if _within(module, part)), None)


def _part(module: str, package: str) -> str | None:
    """The sub-package (or module) of `package` that `module` is in."""
    if not module.startswith(package + "."):
        return None
    return package + "." + module[len(package) + 1 :].split(".")[0]


def violations(edges: Iterable[Import]) -> list[str]:
    """Every broken rule, one line each (empty when the house is in order)."""
    edges = list(edges)
    found: list[str] = []
    for e in edges:
        where = f"{e.source} (line {e.line}{', inside a function' if e.inner else ''})"
        top_s, top_t = e.source.split(".")[0], e.target.split(".")[0]
        if e.external:
            if top_s == "flows" and any(_within(e.target, lib) for lib in IO_LIBRARIES):
                found.append(f"{where} imports {e.target}: flows/ is pure, no I/O")
            continue
        if top_s in ("flows", "content", "storage") and top_t == "bot":
            found.append(f"{where} imports {e.target}: {top_s}/ never imports bot/")
        if top_s == "flows" and top_t in ("storage", "content"):
            found.append(
                f"{where} imports {e.target}: flows/ imports neither storage/ nor content/"
            )
        if top_s == "content" and top_t == "storage":
            found.append(f"{where} imports {e.target}: content/ never imports storage/")
        if top_s == "storage" and top_t in ("content", "flows"):
            found.append(f"{where} imports {e.target}: storage/ never imports {top_t}/")
        if e.inner and not any(_within(e.source, p) for p in LAZY_IMPORTS_ALLOWED):
            found.append(
                f"{where} imports {e.target} inside a function: import it at the top "
                "(a cycle this dodges is a design problem to fix)"
            )
        if top_s != "bot" or top_t != "bot":
            continue
        source, target = _part_of_bot(e.source), _part_of_bot(e.target)
        if source is None or target is None:
            found.append(f"{where} imports {e.target}: a module outside bot/'s layers")
            continue
        if source != target and target not in ALLOWED[source]:
            found.append(
                f"{where} imports {e.target}: {source} may import only "
                f"{', '.join(ALLOWED[source]) or 'nothing else of bot/'}"
            )
        for package in INDEPENDENT:
            a, b = _part(e.source, package), _part(e.target, package)
            if a is not None and b is not None and a != b:
                found.append(f"{where} imports {e.target}: {package} parts are independent")
    found += [f"import cycle: {' → '.join(cycle)}" for cycle in cycles(edges)]
    return list(dict.fromkeys(found))  # one line per broken rule, in order


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The strongly connected groups of more than one module (or a module importing
    itself), each as a path through the group."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if not e.external:
            graph.setdefault(e.source, set()).add(e.target)
            graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append([*sorted(group), sorted(group)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups
