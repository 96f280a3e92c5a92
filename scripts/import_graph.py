#!/usr/bin/env python3
"""Which of the wheel's modules import which, and whether any of them import each other in a cycle.

    python3 scripts/import_graph.py                       # python/src/airflow_openmetadata_lineage
    python3 scripts/import_graph.py path/to/some_package  # any package directory

Reads the source with `ast` (nothing is imported): every import counts, at module level, inside functions
(lazy imports) and under `if TYPE_CHECKING:` (type-only; marked `(type)` when every import of that module
from there is type-only). An import names its module only, not the parent packages Python also runs first.
Prints one line per module, `module -> imported modules` (names relative to the
package; `.` is the package's __init__), then each import cycle. Exit 0: no cycle; 1: a cycle, named; 2: not
a package. Run by `make lint`.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "python" / "src" / "airflow_openmetadata_lineage"


def module_names(root: Path) -> dict[str, Path]:
    """Dotted name (the package's own name first) -> file, for every .py below `root`."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:` (not its else)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = getattr(test, "id", None) or getattr(test, "attr", None)  # bare or typing.TYPE_CHECKING
            if name == "TYPE_CHECKING":
                for child in node.body:
                    found.update(
                        id(n) for n in ast.walk(child) if isinstance(n, (ast.Import, ast.ImportFrom))
                    )
    return found


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names (relative levels resolved against `module`)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def imports(module: str, path: Path, known: set[str]) -> Iterator[tuple[str, bool]]:
    """(imported module of the package, type-only?) for every import in `path`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    type_only = _type_checking_nodes(tree)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in known:  # `import pkg.mod.attr`-like names: the module part
                    target = target.rpartition(".")[0]
                if target:
                    yield target, id(node) in type_only
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:  # `from . import auth`: the submodule itself
                    yield submodule, id(node) in type_only
                elif base in known:  # `from .config import load_config`: the module named
                    yield base, id(node) in type_only


def graph(root: Path) -> tuple[dict[str, dict[str, bool]], str]:
    """module -> {imported module: type-only?} (self-imports left out), and the package name."""
    names = module_names(root)
    known = set(names)
    edges: dict[str, dict[str, bool]] = {name: {} for name in names}
    for name, path in names.items():
        for target, type_only in imports(name, path, known):
            if target != name:
                edges[name][target] = edges[name].get(target, True) and type_only
    return edges, root.name


def cycles(edges: dict[str, dict[str, bool]]) -> list[tuple[list[str], list[str]]]:
    """(one cycle: a path back to its start, every module of its strongly connected component) per component
    of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan; the graph is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return [(_cycle_in(component, edges), component) for component in sorted(components)]


def _cycle_in(component: list[str], edges: dict[str, dict[str, bool]]) -> list[str]:
    """A shortest path from the component's first module back to itself, inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v]):
            if w == start:
                return [*paths[v], start]
            if w in members and w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    return component  # unreachable: a component's modules reach each other


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT, help="the package directory")
    args = parser.parse_args(argv)
    if not (args.root / "__init__.py").is_file():
        print(f"import_graph: {args.root} is not a package (no __init__.py)", file=sys.stderr)
        return 2
    edges, package = graph(args.root)

    def short(name: str) -> str:
        return "." if name == package else name[len(package) + 1 :]

    for name in sorted(edges):
        targets = ", ".join(
            short(t) + (" (type)" if type_only else "") for t, type_only in sorted(edges[name].items())
        )
        print(f"{short(name)} -> {targets}" if targets else f"{short(name)} ->")
    found = cycles(edges)
    for cycle, component in found:
        also = f" (modules in this cycle's component: {', '.join(map(short, component))})"
        print(f"import cycle: {' -> '.join(map(short, cycle))}{also}", file=sys.stderr)
    if found:
        print(f"import_graph: {len(found)} import cycle(s) in {package}", file=sys.stderr)
        return 1
    print(f"import_graph: {len(edges)} modules of {package}, no import cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
