"""The package's layering: no import cycles, data flowing one way, light stages light.

The import graph is read from the source (every ``import``, at module level or
inside a function), at module granularity, over ``snnhw``, ``snnboards`` and
``snntb``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"snnhw": ROOT / "snnhw", "snnboards": ROOT / "boards" / "snnboards",
            "snntb": ROOT / "sim" / "snntb"}


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [pkg, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def _resolve(name: str, mods) -> str | None:
    """The longest prefix of ``name`` that is one of our modules."""
    while name:
        if name in mods:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        package = mod if is_pkg else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from pkg import sub` imports the submodule `pkg.sub`
                targets = [f"{stem}.{a.name}" for a in node.names] + [stem]
            for t in targets:
                dep = _resolve(t, mods)
                if dep is not None and dep != mod:
                    graph[mod].add(dep)
    return graph


def _cycle(graph) -> list[str] | None:
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph[m]):
            # a package's __init__ re-exporting its own modules is not a cycle
            if d.startswith(m + "."):
                continue
            if state.get(d) == "open":
                return [*stack[stack.index(d):], d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[m] = "done"
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_graph_sees_known_edges():
    g = import_graph()
    assert "snnhw.golden.model" in g["snnhw.golden.compare"]
    assert "snnhw.golden.compare" in g["snnhw.verify.coverify"]
    assert "snnhw.protocol.link" in g["snnhw.gateware.hostlink"]
    assert "snnboards.estimate" in g["snnboards.build"]


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    assert _cycle(import_graph()) is None


# Lower layers never reach into higher ones (the data flows one way).
FORBIDDEN = {
    "snnhw.ir": ("snnhw.nn", "snnhw.golden", "snnhw.gateware", "snnhw.verify", "snnhw.host",
                 "snnhw.cli", "snnboards", "snntb"),
    "snnhw.golden": ("snnhw.nn", "snnhw.gateware", "snnhw.verify", "snnhw.host", "snnhw.cli",
                     "snnboards", "snntb"),
    "snnhw.protocol": ("snnhw.nn", "snnhw.golden", "snnhw.gateware", "snnhw.verify",
                       "snnhw.host", "snnhw.cli", "snnboards", "snntb"),
    "snnhw.gateware": ("snnhw.nn", "snnhw.verify", "snnhw.host", "snnhw.cli", "snnboards",
                       "snntb"),
    "snnhw.host": ("snnhw.nn", "snnhw.gateware", "snnhw.cli", "snnboards", "snntb"),
    "snnhw.verify": ("snnhw.gateware", "snnhw.host", "snnhw.cli", "snnboards", "snntb"),
    # the front end and co-verification meet only through the golden model
    "snnhw.nn": ("snnhw.verify", "snnhw.gateware", "snnhw.host", "snnhw.cli", "snnboards",
                 "snntb"),
    # a family knows its primitives, never the designs built from them
    "snnhw.families": ("snnhw.nn", "snnhw.ir", "snnhw.golden", "snnhw.gateware",
                       "snnhw.verify", "snnhw.host", "snnhw.cli", "snnboards", "snntb"),
    "snnboards": ("snnhw.nn", "snnhw.cli", "snnhw.verify", "snntb"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer):
    g = import_graph()
    bad = [(m, d) for m, deps in g.items() if m == layer or m.startswith(layer + ".")
           for d in deps if any(d == f or d.startswith(f + ".") for f in FORBIDDEN[layer])]
    assert bad == []


@pytest.mark.parametrize("module", ["snnhw.host", "snnhw.protocol.link", "snnhw.gateware",
                                    "snnhw.golden", "snnhw.golden.compare", "snnboards.estimate",
                                    "snnhw.families"])
def test_light_modules_do_not_import_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
