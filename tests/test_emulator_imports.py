# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The emulator's module structure: no import loops, no import of the client package."""
import ast
from pathlib import Path

import astroquery_eso_ancillary.emulator as emulator_package

EMULATOR = Path(emulator_package.__file__).parent


def _imports(path):
    """Sibling emulator modules imported anywhere in ``path`` (top level or in functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("astroquery_eso_ancillary.emulator."):
                found.add(node.module.split(".")[2])
    return found


def _graph():
    return {p.stem: _imports(p) for p in EMULATOR.glob("*.py")}


def test_no_import_loop_among_emulator_modules():
    graph = _graph()
    assert "schema" in graph and "schema" in graph["data"] and "schema" in graph["engine"]
    assert "engine" not in graph["data"] and "data" not in graph["engine"]
    # depth-first search for a cycle, reporting the path found
    state, loops = {}, []

    def visit(name, path):
        state[name] = "open"
        for dep in sorted(graph.get(name, ())):
            if dep not in graph:
                continue
            if state.get(dep) == "open":
                loops.append([*path[path.index(dep):], dep] if dep in path else [name, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert loops == []


def test_emulator_never_imports_the_client_package():
    client = {"adql", "tap", "core", "download", "datalink", "cli", "demo", "unzip",
              "filenames", "exceptions", "_compat"}
    for path in EMULATOR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                raise AssertionError(f"{path.name} imports from the client package")
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                parts = node.module.split(".")
                if parts[0] == "astroquery_eso_ancillary" and path.name != "pytest_plugin.py":
                    assert len(parts) > 1 and parts[1] == "emulator", (path.name, node.module)
                    assert parts[1] not in client
