"""Evaluate at compile time every op whose inputs are all constants.

    W_t = transpose(W)        (W a parameter)      =>    W_t: constant, computed once in Python
    y   = linear(x, W_t, b)                              y = linear(x, W_t, b)

Runs before planning so folded values go to flash, not the arena. Constants no op reads any more
are dropped.
"""

from __future__ import annotations

from edgexf.ir.graph import Graph, Tensor
from edgexf.ir.ops import OPS, input_specs


def fold_constants(graph: Graph) -> Graph:
    g = graph.copy()
    kept = []
    for op in g.ops:
        args = [g.tensors[n] for n in op.inputs if n]
        if args and all(t.is_const for t in args):
            values = OPS[op.type].reference(
                op, [g.tensors[n].data if n else None for n in op.inputs], input_specs(g, op)
            )
            for name, value in zip(op.outputs, values, strict=True):
                t = g.tensors[name]
                g.tensors[name] = Tensor(name, t.shape, t.dtype, value.reshape(t.shape).copy())
        else:
            kept.append(op)
    g.ops = kept
    used = {n for op in g.ops for n in op.inputs} | set(g.exit_tensors()) | set(g.entry_tensors())
    g.tensors = {k: t for k, t in g.tensors.items() if k in used or not t.is_const}
    return g.verify()
