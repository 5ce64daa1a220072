"""import-linter contract types for a project whose top level holds modules as well as packages.

grimp (under import-linter) builds its graph from *packages* only, but the design keeps a few
modules at the top level (``app_streamlit_cloud.py``, ``cli.py``, ``background_tasks.py``,
``health_monitor.py``, ``secrets_manager.py``, ``errors.py``, ``i18n.py``, ``ui_theme.py``,
``registry.py``). :func:`add_top_level_modules` parses those files and adds their imports to
the graph (each import statement, at module level or inside a function), so the built-in
contracts see every edge. Two contract types use it:

* ``project_layers``: import-linter's layers contract on the completed graph;
* ``project_forbidden``: its forbidden contract on the completed graph;
* ``acyclic``: no module reaches itself through its imports (every strongly connected
  component of the module graph has one member).

Configured in ``pyproject.toml`` under ``[tool.importlinter]``; run with ``lint-imports``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import Contract, ContractCheck

ROOT = Path(__file__).resolve().parents[1]
_ADDED = "_talkingphoto_top_level_added"


def top_level_modules() -> list[str]:
    return sorted(p.stem for p in ROOT.glob("*.py"))


def _project_names(graph: grimp.ImportGraph) -> set[str]:
    return {m.split(".")[0] for m in graph.modules} | set(top_level_modules())


def _resolve(graph: grimp.ImportGraph, name: str) -> str:
    """The deepest module of ``name`` the graph knows (``services.jobs.JobView`` -> ...)."""
    parts = name.split(".")
    while len(parts) > 1 and ".".join(parts) not in graph.modules:
        parts.pop()
    return ".".join(parts)


def add_top_level_modules(graph: grimp.ImportGraph) -> None:
    """Add the top-level modules and every import they make (idempotent per graph)."""
    if getattr(graph, _ADDED, False):
        return
    project = _project_names(graph)
    for stem in top_level_modules():
        if stem not in graph.modules:
            graph.add_module(stem)
    for stem in top_level_modules():
        tree = ast.parse((ROOT / f"{stem}.py").read_text("utf-8"))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names] or [node.module]
            for target in targets:
                top = target.split(".")[0]
                if top not in project:
                    if top not in graph.modules:
                        graph.add_module(top, is_squashed=True)
                    imported = top
                else:
                    imported = _resolve(graph, target)
                if imported != stem:
                    graph.add_import(
                        importer=stem,
                        imported=imported,
                        line_number=node.lineno,
                        line_contents=ast.unparse(node),
                    )
    setattr(graph, _ADDED, True)


class ProjectLayersContract(LayersContract):
    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        add_top_level_modules(graph)
        return super().check(graph, verbose)


class ProjectForbiddenContract(ForbiddenContract):
    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        add_top_level_modules(graph)
        return super().check(graph, verbose)


def cycles(graph: grimp.ImportGraph, project: set[str]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    nodes = sorted(m for m in graph.modules if m.split(".")[0] in project)
    edges = {
        m: sorted(
            i for i in graph.find_modules_directly_imported_by(m) if i.split(".")[0] in project
        )
        for m in nodes
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = edges.get(node, [])
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


class AcyclicContract(Contract):
    """No import cycles between the project's modules, whatever the depth of the import."""

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        add_top_level_modules(graph)
        found = cycles(graph, _project_names(graph))
        return ContractCheck(kept=not found, metadata={"cycles": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        from importlinter.application import output

        for component in check.metadata["cycles"]:
            output.print_error(f"Import cycle between: {', '.join(component)}")
            output.new_line()
