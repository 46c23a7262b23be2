"""Which tensors share quantization parameters: those joined by ops that move bytes without arithmetic
(see edgexf/compress/quantize.py's module doc)."""

from __future__ import annotations

from edgexf.ir.graph import Graph

# no arithmetic: every output value is an input value or a constant (a class token, a pad value), so the
# outputs share the inputs' params; max, maximum and pad compare or place codes (edgexf/ir/ops_select.py)
MOVES = ("reshape", "transpose", "slice", "concat", "gather", "broadcast", "max", "maximum", "pad")


class Groups:
    """Union-find over tensor names."""

    def __init__(self, names):
        self.parent = {n: n for n in names}

    def find(self, n: str) -> str:
        while self.parent[n] != n:
            self.parent[n] = self.parent[self.parent[n]]
            n = self.parent[n]
        return n

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)

    def members(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for n in self.parent:
            out.setdefault(self.find(n), []).append(n)
        return out


def move_groups(g: Graph) -> Groups:
    """Tensors joined by data movement (reshape, transpose, slice, ...): each group shares one scale."""
    groups = Groups(g.tensors)
    for op in g.ops:
        if op.type in MOVES:
            for n in op.inputs + op.outputs:
                if n:
                    groups.union(n, op.outputs[0])
        elif op.type == "compare" and not any(g.tensors[n].is_const for n in op.inputs):  # codes compared
            groups.union(*op.inputs)
    return groups
