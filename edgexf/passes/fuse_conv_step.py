"""Find the causal depthwise conv of Mamba's step on its conv state in an exported step graph and replace
its chain by one conv_step (float32) or q_conv_step (int8) op (edgexf/ir/ops_conv_step.py):

    window = cat(state, reshape(x))            concat                      (the same, int16)
    y      = reshape(sum(reshape(window) * W)) + bias
                                               reshape, mul, sum, reshape, add  (q_mul, q_mean, q_add)
    state' = window[..., 1:]                   slice

    => state', y = conv_step(x, state, W, bias)

W and bias are constants with E K and E values; either operand order of the mul and the add is taken, and
the reshapes may be absent. This is the form edgexf.models.mamba's step exports (torch.export). The
integer chain is taken where the quantization pass gave it an int16 state (state, x and window int16,
one scale, zero point 0; W and bias int8 per tensor; y int8); an int8 state stays unfused. Runs in the
fusion stage, after quantization (edgexf/pipeline.py): the float op rounds as the chain does; the int8 op
keeps y's scale but sums in int32 and rounds once (ir/ops_conv_step.py), so an int8 build with
--no-fusion differs from a fused one. Where y is int16 (--int16 residual) and read only by a
requantization to int8, that requantization joins the chain and y is its int8 output. A conv written as a
conv1d (mambapy's step(), whole-sequence exports) is q_conv1d's, not matched here.
"""

from __future__ import annotations

import math

import numpy as np

from edgexf.compress.qmath import scalar_multiplier
from edgexf.ir.graph import Graph, Op, Tensor
from edgexf.passes.chains import Chains, Match, chain_source, rewrite

INT32_LIMIT = 2**31 - 1


def _skip_reshape(m: Chains, t: str) -> tuple[str, list[Op]]:
    """The one reader of t past a reshape that is t's only reader, and that reshape (or t, [])."""
    op = m.sole_user(t, "reshape")
    return (op.outputs[0], [op]) if op is not None else (t, [])


def _before_reshape(m: Chains, t: str) -> tuple[str, list[Op]]:
    """What a reshape read by nothing else made t from, and that reshape (or t, [])."""
    op = m.made_by(t, "reshape")
    return (op.inputs[0], [op]) if op is not None else (t, [])


def _q_terms(m: Chains, state: str, w: str, bias: str, y: str, k: int) -> tuple[dict, np.ndarray] | None:
    """q_conv_step's attributes and int32 bias from the chain's scales, or None where the types or the
    int32 sum's bound do not allow it."""
    t = m.g.tensors
    q = {n: t[n].quant for n in (state, w, bias, y)}
    if any(p is None or p.axis is not None for p in q.values()) or q[state].zero_point != 0:
        return None
    if t[state].dtype != "int16" or t[w].dtype != "int8" or t[bias].dtype != "int8" or t[y].dtype != "int8":
        return None
    s_acc = float(q[state].scale) * float(q[w].scale)  # the sum's units: one code of the window times W's
    b = (t[bias].data.astype(np.float64) - q[bias].zero_point) * float(q[bias].scale) / s_acc
    bias32 = np.round(b).astype(np.int64)
    wc = np.abs(t[w].data.astype(np.int64) - q[w].zero_point).reshape(-1, k).sum(-1)
    if int((32768 * wc + np.abs(bias32)).max()) > INT32_LIMIT:
        return None  # the kernel sums in int32
    mult, shift = scalar_multiplier(s_acc / float(q[y].scale))
    attrs = {"w_zp": int(q[w].zero_point), "mult": mult, "shift": shift, "out_zp": int(q[y].zero_point)}
    return attrs, bias32.astype(np.int32)


def conv_step_rule(m: Chains, cat: Op) -> Match | None:
    if cat.type != "concat" or len(cat.inputs) != 2:
        return None
    g = m.g
    state, x_in = cat.inputs
    st_shape = m.shape(state)
    rank = len(st_shape)
    if rank < 2 or cat.attrs.get("axis", 0) % rank != rank - 1 or m.shape(x_in)[-1:] != (1,):
        return None
    e, k = st_shape[-2], st_shape[-1] + 1
    q = g.tensors[state].dtype != "float32"
    MUL, ADD, SUM = ("q_mul", "q_add", "q_mean") if q else ("mul", "add", "sum")
    window = cat.outputs[0]
    users = {id(op): op for op in m.users.get(window, [])}.values()
    if window in m.exits or len(users) != 2:
        return None
    sl = next((op for op in users if op.type == "slice"), None)
    if sl is None or sl.attrs.get("axis", 0) % rank != rank - 1 or sl.attrs.get("step", 1) != 1:
        return None
    if sl.attrs.get("start") != 1 or sl.attrs.get("end", k) < k or m.shape(sl.outputs[0]) != st_shape:
        return None
    first = next(op for op in users if op is not sl)
    # y = reshape(sum(reshape(window) * W)) + bias
    reshape_w = [first] if first.type == "reshape" else []
    mul = first if not reshape_w else m.sole_user(first.outputs[0], MUL)
    if mul is None or mul.type != MUL or len(mul.inputs) != 2:
        return None
    w = m.other(mul, (reshape_w[0].outputs[0] if reshape_w else window))
    if w is None or not m.constant(w) or math.prod(m.shape(w)) != e * k or m.shape(mul.outputs[0])[-1] != k:
        return None
    total = m.sole_user(mul.outputs[0], SUM)
    r = len(m.shape(mul.outputs[0]))
    if total is None or total.attrs["axis"] % r != r - 1 or total.attrs.get("keepdims"):
        return None
    y_pre, flatten = _skip_reshape(m, total.outputs[0])
    add = m.sole_user(y_pre, ADD)
    bias = add and m.other(add, y_pre)
    if bias is None or not m.constant(bias) or math.prod(m.shape(bias)) != e:
        return None
    y = add.outputs[0]
    if math.prod(m.shape(y)) != e:
        return None
    x, x_reshape = _before_reshape(m, x_in)
    chain = [*x_reshape, cat, *reshape_w, mul, total, *flatten, add, sl]
    to_int8 = m.sole_user(y, "q_requant") if q and g.tensors[y].dtype == "int16" else None
    if to_int8 is not None and g.tensors[to_int8.outputs[0]].dtype == "int8":
        y = to_int8.outputs[0]  # an int16 y (--int16 residual) read only as int8: one rounding to that
        chain.append(to_int8)
    inputs = [x, state, w, bias]
    attrs: dict = {}
    if q:
        same = [(g.tensors[t].dtype, g.tensors[t].quant) for t in (x, window, sl.outputs[0])]
        if any(d != ("int16", g.tensors[state].quant) for d in same):
            return None
        found = _q_terms(m, state, w, bias, y, k)
        if found is None:
            return None
        terms, bias32 = found
        name = m.name(f"{bias}.int32")
        m.pending[name] = Tensor(name, (e,), "int32", bias32)
        inputs[3] = name
        attrs |= terms
    kind = "q_conv_step" if q else "conv_step"
    attrs["y_shape"] = list(m.shape(y))
    op = Op(kind, f"{cat.name}_conv_step", inputs, [sl.outputs[0], y], attrs, chain_source("fused", chain))
    return Match(chain, [op], first=True)  # y is read long before the slice (state') is made


def fuse_conv_steps(graph: Graph) -> tuple[Graph, int]:
    """Replace every conv-step chain; returns the new graph (verified) and how many were found."""
    return rewrite(graph, [conv_step_rule])
