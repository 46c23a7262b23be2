"""No lower layer calls back into a higher one (issue 22, point 3).

The import graph of edgexf/ is read from the source with `ast` (nothing is imported), counting imports
at module level and inside functions alike: a function-level import is still a call into that layer,
only deferred. Each subpackage (edgexf.ir, edgexf.passes, ...) is one node; each top-level module
(edgexf/errors.py, edgexf/pipeline.py) is a node of its own, since errors.py sits under everything
and pipeline.py over everything.

The tests fail on (1) a cycle between nodes, (2) an import of a `_private` name from another module,
(3) a module-level import that goes up the declared layer order. Each failure names the import chain:
module, line, imported module.

`python tests/test_layers.py` prints the same findings (the figures issue 22 asks for).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "edgexf"

# The layer order, lowest first: (name, nodes, why they sit there). A node may import at module level
# from its own layer and the layers below. Nodes of one layer must still form no cycle.
LAYERS: list[tuple[str, list[str], str]] = [
    (
        "base",
        ["edgexf", "edgexf.errors", "edgexf.resources", "edgexf.schemas"],
        "the version, the errors, installed data paths, the JSON Schemas of the files edgexf writes",
    ),
    ("data", ["edgexf.features", "edgexf.datasets"], "data files and offline data sets: numpy only"),
    ("ir", ["edgexf.ir"], "the Graph, op definitions, the NumPy references: what every stage reads"),
    ("memory", ["edgexf.memory"], "the arena planner: needs only the IR, not the passes that made it"),
    ("models", ["edgexf.models"], "PyTorch ViT, Mamba, LMU: the inputs of compress's fine-tuning"),
    ("compress", ["edgexf.compress"], "quantization and rank choice on the Graph or the nn.Module"),
    ("passes", ["edgexf.passes"], "Graph -> Graph rewrites; lowrank_linear uses compress's rank choice"),
    ("frontends", ["edgexf.frontends"], "model files to a Graph, recognized and folded by passes"),
    ("codegen", ["edgexf.codegen"], "prints what the Graph and the memory plan say"),
    ("targets", ["edgexf.targets", "edgexf.build_output"], "boards, toolchains, builds and their sizes"),
    ("run", ["edgexf.run"], "runs a build on the host or in QEMU and compares it with its vectors"),
    ("eval", ["edgexf.eval"], "a board or emulator over serial; the eval firmware; ONNX conformance"),
    (
        "compile",
        [
            "edgexf.compile_inputs",
            "edgexf.compile_steps",
            "edgexf.memory_techniques",
            "edgexf.compile_report",
            "edgexf.compile_summary",
            "edgexf.pipeline",
        ],
        "`edgexf compile`: its stages, inputs and report, over every layer below",
    ),
    ("commands", ["edgexf.fit", "edgexf.cli"], "fit compiles candidates through the pipeline; the CLI"),
]


# Private names a module may still import from another: (importing module, imported module, name) ->
# why. Empty: a name used across modules is public. An entry no longer imported fails the test too.
PENDING_PRIVATE: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Import:
    source: str  # importing module, e.g. edgexf.eval.flash
    target: str  # imported module, e.g. edgexf.targets.boards
    names: tuple[str, ...]  # the names taken by `from target import ...` (empty for `import target`)
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = "function-level" if self.in_function else "module-level"
        what = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.source}:{self.line} -> {self.target}{what} [{where}]"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(base: str, level: int, module: str | None, source: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    parts = source.split(".")
    parts = parts if is_package else parts[:-1]
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, module] if module else parts)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import of an edgexf module in one file. `from edgexf.x import y` counts as an import of
    edgexf.x.y when that is a module, else of edgexf.x."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "edgexf":
                        found.append(Import(name, alias.name, (), child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                base = _resolve("edgexf", child.level, child.module, name, path.name == "__init__.py")
                if base.split(".")[0] != "edgexf":
                    continue
                plain = []
                for alias in child.names:
                    if f"{base}.{alias.name}" in modules:
                        found.append(Import(name, f"{base}.{alias.name}", (), child.lineno, in_function))
                    else:
                        plain.append(alias.name)
                if plain:
                    found.append(Import(name, base, tuple(plain), child.lineno, in_function))
            else:
                visit(child, inner)

    visit(tree, False)
    return found


def import_graph() -> list[Import]:
    modules = all_modules()
    return [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]


def node_of(module: str) -> str:
    """The layer node a module belongs to: its subpackage, or the top-level module itself."""
    parts = module.split(".")
    if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir():
        return ".".join(parts[:2])
    return module


def node_edges(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    edges: dict[tuple[str, str], list[Import]] = {}
    for imp in imports:
        a, b = node_of(imp.source), node_of(imp.target)
        if a != b:
            edges.setdefault((a, b), []).append(imp)
    return edges


def cycles(edges: dict[tuple[str, str], list[Import]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan's algorithm)."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                strongconnect(w)
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
                found.append(sorted(component))

    for v in sorted(succ):
        if v not in index:
            strongconnect(v)
    return found


def cycle_chains(component: list[str], edges: dict[tuple[str, str], list[Import]]) -> list[list[Import]]:
    """For each node of a strongly connected component, the shortest cycle through it, as one import per
    step (breadth-first search; cycles found twice are listed once)."""
    inside = set(component)
    succ = {a: sorted(b for (x, b) in edges if x == a and b in inside) for a in component}
    chains: list[list[Import]] = []
    seen: set[frozenset[tuple[str, str]]] = set()
    for start in component:
        parent: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in parent:
            nxt = []
            for a in frontier:
                for b in succ[a]:
                    if b not in parent:
                        parent[b] = a
                        nxt.append(b)
            frontier = nxt
        path = [start]
        while len(path) == 1 or path[-1] != start:
            path.append(parent[path[-1]])
        steps = list(zip(path[:0:-1], path[-2::-1], strict=True))
        if frozenset(steps) not in seen:
            seen.add(frozenset(steps))
            chains.append([edges[step][0] for step in steps])
    return chains


def describe_cycles(edges: dict[tuple[str, str], list[Import]]) -> str:
    lines = []
    for component in cycles(edges):
        lines.append(f"cycle between {', '.join(component)}:")
        for chain in cycle_chains(component, edges):
            nodes = [node_of(chain[0].source)] + [node_of(imp.target) for imp in chain]
            lines.append("  " + " -> ".join(nodes))
            lines.extend(f"    {imp}" for imp in chain)
    return "\n".join(lines)


def private_imports(imports: list[Import]) -> dict[tuple[str, str, str], Import]:
    """`from other_module import _name` (a private name of another module; dunders are not private)."""
    return {
        (imp.source, imp.target, n): imp
        for imp in imports
        if imp.source != imp.target
        for n in imp.names
        if n.startswith("_") and not n.startswith("__")
    }


def layer_of(node: str) -> int:
    for i, (_, nodes, _) in enumerate(LAYERS):
        if node in nodes:
            return i
    raise KeyError(f"{node} is in no layer of tests/test_layers.py's LAYERS: add it where it belongs")


def upward_imports(imports: list[Import]) -> list[Import]:
    """Module-level imports from a lower layer into a higher one."""
    return [
        imp
        for imp in imports
        if not imp.in_function and layer_of(node_of(imp.source)) < layer_of(node_of(imp.target))
    ]


def test_every_node_has_a_layer():
    nodes = {node_of(m) for m in all_modules()}
    missing = sorted(n for n in nodes if not any(n in layer for _, layer, _ in LAYERS))
    assert not missing, f"not in LAYERS: {missing}"


def test_no_cycles_between_packages():
    edges = node_edges(import_graph())
    assert not cycles(edges), describe_cycles(edges)


def test_no_private_names_across_modules():
    found = private_imports(import_graph())
    new = [f"{imp} takes {key[2]}" for key, imp in found.items() if key not in PENDING_PRIVATE]
    gone = [
        f"{src} no longer imports {tgt}.{name}"
        for src, tgt, name in PENDING_PRIVATE
        if (src, tgt, name) not in found
    ]
    assert not new, (
        "private names imported from another module (make them public or move them):\n" + "\n".join(new)
    )
    assert not gone, "remove from PENDING_PRIVATE:\n" + "\n".join(gone)


def test_module_level_imports_go_down_the_layers():
    found = upward_imports(import_graph())
    assert not found, "\n".join(str(i) for i in found)


def test_the_checks_can_fail():
    """The checks see a cycle, a private import and an upward import when there is one."""
    a = Import("edgexf.ir.graph", "edgexf.passes.fuse", ("_helper",), 1, False)
    b = Import("edgexf.passes.fuse", "edgexf.ir.graph", ("Graph",), 1, True)
    assert cycles(node_edges([a, b])) == [["edgexf.ir", "edgexf.passes"]]
    assert "edgexf.ir -> edgexf.passes -> edgexf.ir" in describe_cycles(node_edges([a, b]))
    assert list(private_imports([a, b]).values()) == [a]
    assert upward_imports([a, b]) == [a]


if __name__ == "__main__":
    graph = import_graph()
    edges = node_edges(graph)
    print(describe_cycles(edges) or "no cycles between packages")
    print("private names across modules:")
    for (_, _, name), imp in private_imports(graph).items():
        print(
            "   ",
            imp,
            "takes",
            name,
            "(pending)" if (imp.source, imp.target, name) in PENDING_PRIVATE else "",
        )
    print("module-level imports up the layers:")
    for imp in upward_imports(graph):
        print("   ", imp)
