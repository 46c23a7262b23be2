"""Take rows out before a row-wise op, not after: the op then runs on the rows that are read.

    y = rowwise(x, params...) -> slice(y, axis a, start:end)   (a not the last axis, y read only there)
        =>  x' = slice(x, axis a, start:end) -> rowwise(x', params...)      (the same for a gather)
    y = rowwise(x, params...) -> reshape(y) -> linear   (the reshape keeps the last axis)
        =>  reshape(x) -> rowwise -> linear              (so LayerNorm + linear can fold)

A row-wise op computes each row (everything but the last axis) from that row alone, so the slice of
its result equals the op on the slice of its input. A ViT's final LayerNorm runs over every token but
only the class token reaches the head: after this pass it normalizes 1 row of 50 (the MNIST ViT:
54,780 -> ~1,100 instructions before fusion), and the LayerNorm then reads straight into the head's
linear, so fuse.py's LayerNorm + linear fold applies. Float graph only (before quantization): the
LayerNorm's calibrated output range is then the kept rows' own.
"""

from __future__ import annotations

from edgexf.ir.graph import Graph, Op
from edgexf.passes.chains import Chains, Match, rewrite

ROW_WISE = ("layernorm",)  # normalizes over the last axis; gamma and beta are per column


def _moves_rows_only(m: Chains, s: Op) -> bool:
    y, rank = s.inputs[0], len(m.shape(s.inputs[0]))
    if s.type in ("slice", "gather"):  # taking columns would change what the norm averages
        return s.attrs["axis"] % rank != rank - 1
    if s.type == "reshape":  # only rows a slice took, read by a linear: moved, the norm feeds it
        keeps = m.shape(s.outputs[0])[-1] == m.shape(y)[-1]
        norm = m.producer.get(y)
        took = norm is not None and getattr(m.producer.get(norm.inputs[0]), "type", "") in ("slice", "gather")
        return keeps and took and m.sole_user(s.outputs[0], ("linear",)) is not None
    return False


def _slice_first(m: Chains, s: Op) -> Match | None:
    if s.type not in ("slice", "gather", "reshape") or not _moves_rows_only(m, s):
        return None
    y = s.inputs[0]
    op = m.made_by(y, ROW_WISE)
    if op is None or m.g.tensors[op.inputs[0]].dtype != "float32":
        return None
    x = op.inputs[0]
    shape = m.shape(s.outputs[0])
    x_rows = m.tensor(f"{x}_rows", tuple(shape), like=x)
    first = Op(s.type, s.name, [x], [x_rows], dict(s.attrs), s.source)
    # the norm keeps its output's name (an int8 .tflite's scale is the file's for that name)
    out, renames = s.outputs[0], {}
    if out not in m.exits:
        out, renames = y, {s.outputs[0]: y}
        m.reshaped(y, shape)
    then = Op(op.type, op.name, [x_rows, *op.inputs[1:]], [out], dict(op.attrs), op.source)
    return Match([op, s], [first, then], renames=renames)


def slice_before_rows(graph: Graph) -> Graph:
    """Move every slice of rows (and reshape before a linear) before the row-wise op it reads;
    returns the new graph, verified."""
    return rewrite(graph, [_slice_first])[0]
