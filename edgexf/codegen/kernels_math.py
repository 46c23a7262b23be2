"""Emitters for the float32 math ops (edgexf/ir/ops_math.py): one call of firmware/kernels/activation.c
or conv1d.c each."""

from __future__ import annotations

import math

from edgexf.codegen.kernels import EmitContext, KernelCall, _refuse, _unary, c_float, reduce_axis, register
from edgexf.ir.graph import Op


def _softplus(c: EmitContext, op: Op) -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    beta, threshold = float(op.attrs["beta"]), float(op.attrs["threshold"])
    if not (math.isfinite(beta) and math.isfinite(threshold)) or beta == 0:
        raise _refuse(op, f"beta={beta}, threshold={threshold} (beta finite and nonzero, threshold finite)")
    n = math.prod(c.shape(x))
    args = f"{c.ptr(x)}, {c.ptr(y)}, {n}, {c_float(beta)}, {c_float(threshold)}"
    return KernelCall([f"exf_softplus_f32({args});"], functions=["exf_softplus_f32"])


def _conv1d(c: EmitContext, op: Op) -> KernelCall:
    x, w, b = op.inputs
    n, ch, length = c.shape(x)
    o, _, k = c.shape(w)
    at = op.attrs
    ol = c.shape(op.outputs[0])[2]
    ptrs = f"{c.ptr(x)}, {c.ptr(w)}, {c.ptr(b)}, {c.ptr(op.outputs[0])}"
    dims = f"{n}, {ch}, {length}, {o}, {k}, {at['stride']}, {at['padding']}, {at['groups']}, {ol}"
    return KernelCall([f"exf_conv1d_f32({ptrs}, {dims});"], functions=["exf_conv1d_f32"])


register(
    {
        "exp": _unary("exf_exp_f32"),
        "silu": _unary("exf_silu_f32"),
        "softplus": _softplus,
        "sigmoid": _unary("exf_sigmoid_f32"),
        "tanh": _unary("exf_tanh_f32"),
        "rsqrt": _unary("exf_rsqrt_f32"),
        "sqrt": _unary("exf_sqrt_f32"),
        "sum": reduce_axis("exf_sum_f32"),
        "conv1d": _conv1d,
    }
)
