"""Find RMSNorm's integer chain (edgexf.models.mamba's RMSNorm, x * rsqrt(mean(x * x) + eps) * w, as the
quantization pass makes it) and replace it by one q_rms_norm op (edgexf/ir/ops_rms_norm.py):

    sq = q_mul(x, x)  ->  q_mean(sq, -1)  [-> reshape]  ->  q_lut  ->  q_lut  =: r
    y  = q_mul(q_mul(x, r), w)                 either operand order of the last two; w a constant

    => y = q_rms_norm(x, w, table)             table[k] = second_table[first_table[k] + 128]

Every intermediate is int8 and read only by the next op of the chain; x (int8 or int16) may have other
readers (the residual). The op computes what the chain computes, bit for bit. Runs in the fusion stage,
after quantization (edgexf/pipeline.py).
"""

from __future__ import annotations

import math

import numpy as np

from edgexf.ir.graph import Graph, Op, Tensor
from edgexf.passes.chains import Chains, Match, chain_source, rewrite

MUL_TERMS = ("a_zp", "b_zp", "mult", "shift", "out_zp")


def _terms(op: Op, swap: bool = False) -> dict:
    """A q_mul's terms, its operands exchanged when `swap`."""
    t = {k: int(op.attrs[k]) for k in MUL_TERMS}
    if swap:
        t["a_zp"], t["b_zp"] = t["b_zp"], t["a_zp"]
    return t


def rms_norm_rule(m: Chains, sq: Op) -> Match | None:
    g = m.g
    if sq.type != "q_mul" or len(sq.inputs) != 2 or sq.inputs[0] != sq.inputs[1]:
        return None
    x = sq.inputs[0]
    d = m.shape(x)[-1]
    if g.tensors[x].dtype not in ("int8", "int16"):
        return None
    mean = m.sole_user(sq.outputs[0], "q_mean")
    if mean is None or mean.attrs["axis"] not in (-1, len(m.shape(x)) - 1):
        return None
    t, reshape = mean.outputs[0], []
    if (op := m.sole_user(t, "reshape")) is not None:
        t, reshape = op.outputs[0], [op]
    lut1 = m.sole_user(t, "q_lut")
    lut2 = lut1 and m.sole_user(lut1.outputs[0], "q_lut")
    norm = lut2 and m.sole_user(lut2.outputs[0], "q_mul")
    if norm is None or x not in norm.inputs or m.shape(norm.outputs[0]) != m.shape(x):
        return None
    scale = m.sole_user(norm.outputs[0], "q_mul")
    w = scale and m.other(scale, norm.outputs[0])
    if w is None or not m.constant(w) or g.tensors[w].dtype != "int8" or math.prod(m.shape(w)) != d:
        return None
    chain = [sq, mean, *reshape, lut1, lut2, norm, scale]
    if any(g.tensors[op.outputs[0]].dtype != "int8" for op in chain):
        return None
    first = g.tensors[lut1.inputs[1]].data.astype(np.int64)
    table = g.tensors[lut2.inputs[1]].data[first + 128].astype(np.int8)
    name = m.name(f"{lut2.inputs[1]}.composed")
    m.pending[name] = Tensor(name, (256,), "int8", table)
    mt = {k: int(mean.attrs[k]) for k in ("in_zp", "mult", "shift", "out_zp")}
    attrs = {
        "sq": _terms(sq),
        "mean": mt,
        "norm": _terms(norm, norm.inputs[0] != x),
        "scale": _terms(scale, scale.inputs[0] == w),
    }
    src = chain_source("fused", chain)
    op = Op("q_rms_norm", f"{scale.name}_rms_norm", [x, w, name], list(scale.outputs), attrs, src)
    return Match(chain, [op])


def fuse_rms_norms(graph: Graph) -> tuple[Graph, int]:
    """Replace every integer RMSNorm chain; returns the new graph (verified) and how many were found."""
    return rewrite(graph, [rms_norm_rule])
