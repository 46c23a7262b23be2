"""Drop ops whose outputs nothing reads (e.g. the unused parts of an unbind), and their tensors.

a = slice(x); b = slice(x)    (b never read)    =>    a = slice(x)
"""

from __future__ import annotations

from edgexf.ir.graph import Graph


def remove_dead_ops(graph: Graph) -> Graph:
    g = graph.copy()
    needed = set(g.exit_tensors())
    kept = []
    for op in reversed(g.ops):
        if any(o in needed for o in op.outputs):
            kept.append(op)
            needed.update(n for n in op.inputs if n)
    g.ops = kept[::-1]
    needed |= set(g.entry_tensors())
    g.tensors = {k: t for k, t in g.tensors.items() if k in needed}
    return g.verify()
