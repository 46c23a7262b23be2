"""Emitters for the float32 math ops (edgexf/ir/ops_math.py): one call of firmware/kernels/activation.c
or exf_conv2d_f32 (conv1d) each."""

from __future__ import annotations

import math

from edgexf.codegen.kernels import (
    EmitContext,
    KernelCall,
    broadcast_loops,
    c_float,
    conv2d_call,
    reduce_axis,
    refuse,
    unary_emitter,
)
from edgexf.ir.graph import Op
from edgexf.ir.ops_math import MATH_OPS, conv1d_geometry


def _softplus(c: EmitContext, op: Op) -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    beta, threshold = float(op.attrs["beta"]), float(op.attrs["threshold"])
    if not (math.isfinite(beta) and math.isfinite(threshold)) or beta == 0:
        raise refuse(op, f"beta={beta}, threshold={threshold} (beta finite and nonzero, threshold finite)")
    n = math.prod(c.shape(x))
    args = f"{c.ptr(x)}, {c.ptr(y)}, {n}, {c_float(beta)}, {c_float(threshold)}"
    return KernelCall([f"exf_softplus_f32({args});"], functions=["exf_softplus_f32"])


def _conv1d(c: EmitContext, op: Op) -> KernelCall:
    """A 1-D convolution is the 2-D one of a one-row image (h = kh = 1): the same sums in the same order."""
    n, ch, length = c.shape(op.inputs[0])
    o, _, k = c.shape(op.inputs[1])
    return conv2d_call(c, op, n, ch, 1, length, o, 1, k, conv1d_geometry(op), 1, c.shape(op.outputs[0])[2])


def _cumsum(c: EmitContext, op: Op) -> KernelCall:
    shape = c.shape(op.inputs[0])
    axis = op.attrs["axis"] % len(shape)
    outer, n, inner = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
    flags = f"{int(bool(op.attrs.get('exclusive')))}, {int(bool(op.attrs.get('reverse')))}"
    args = f"{c.ptr(op.inputs[0])}, {c.ptr(op.outputs[0])}, {outer}, {n}, {inner}, {flags}"
    return KernelCall([f"exf_cumsum_f32({args});"], functions=["exf_cumsum_f32"])


def _where(c: EmitContext, op: Op) -> KernelCall:
    cond, a, b = op.inputs
    loops, decls = broadcast_loops(c, op, [cond, a, b])
    ptrs = f"{c.ptr(cond, 'uint8_t')}, {c.ptr(a)}, {c.ptr(b)}, {c.ptr(op.outputs[0])}"
    return KernelCall([f"exf_where_f32({ptrs}, {loops});"], decls, ["exf_where_f32"])


MATH_KERNELS = {
    **{
        t: unary_emitter(d.c_function) for t, d in MATH_OPS.items() if d.c_function
    },  # exp, silu, ...: y = f(x)
    "softplus": _softplus,
    "sum": reduce_axis("exf_sum_f32"),
    "conv1d": _conv1d,
    "cumsum": _cumsum,
    "where": _where,
}
