"""Compute each value once: an op of the same type, inputs and attributes as an earlier one is dropped
and its outputs' readers read the earlier op's outputs.

Hand-written PyTorch repeats expressions (`(x - mu) * (x - mu)`, `x - mu` again for the division) and
torch.export keeps every one; after this pass a LayerNorm written that way has the one `x - mu` the
recognizers (recognize.py) look for, and the arena holds one copy. IR ops have no side effects, so two
ops with equal inputs and attributes compute equal outputs. Graph outputs and next states keep their
names: an op writing one is never dropped.
"""

from __future__ import annotations

from edgexf.ir.graph import Graph


def merge_common_subexpressions(graph: Graph) -> Graph:
    g = graph.copy()
    exits = set(g.exit_tensors())
    seen: dict[tuple, list[str]] = {}
    same: dict[str, str] = {}  # a dropped op's output -> the earlier op's
    kept = []
    for op in g.ops:
        op.inputs = [same.get(t, t) for t in op.inputs]
        key = (op.type, tuple(op.inputs), repr(sorted(op.attrs.items())), len(op.outputs))
        if key in seen and not exits & set(op.outputs):
            same.update(zip(op.outputs, seen[key]))
            continue
        seen.setdefault(key, list(op.outputs))
        kept.append(op)
    g.ops = kept
    for name in same:
        del g.tensors[name]
    return g.verify()
