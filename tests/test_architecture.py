"""The package's layering: no import of the reference agents from the library, no cycle between subpackages.

Imports are read from the source (``ast``), including those inside functions, so a lazy import
that reaches the wrong way is caught too.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cvr_gym"


def _imports(path: Path) -> set[str]:
    """Absolute module names imported anywhere in ``path`` (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join((*base, node.module)) if node.module else ".".join(base)
            else:
                module = node.module or ""
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
    return out


def _subpackage(module: str) -> str | None:
    """``cvr_gym.core.tasks`` -> ``core``; top-level modules of cvr_gym -> ``""``; others ``None``."""
    parts = module.split(".")
    if parts[0] != "cvr_gym":
        return None
    if len(parts) == 1:
        return ""
    return parts[1] if (PACKAGE / parts[1]).is_dir() else ""


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        source = _subpackage(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        for module in _imports(path):
            target = _subpackage(module)
            if target is not None and target != source:
                graph[source].add(target)
    return graph


def test_only_the_cli_imports_the_reference_agents():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE).parts[:1]:
            continue
        if any(m == "baselines" or m.startswith("baselines.") for m in _imports(path)):
            offenders.append(str(path.relative_to(PACKAGE.parent)))
    assert not offenders, f"library modules importing baselines: {offenders}"


def test_no_import_cycle_between_subpackages():
    graph = _graph()
    # The package root only registers the envs and re-exports core names; it is not a layer.
    graph.pop("", None)
    for deps in graph.values():
        deps.discard("")
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            raise AssertionError(f"import cycle between subpackages: {' -> '.join(cycle)}; graph: "
                                 f"{ {k: sorted(v) for k, v in sorted(graph.items())} }")


def test_core_imports_no_other_subpackage():
    assert _graph().get("core", set()) <= {""}, _graph()["core"]
