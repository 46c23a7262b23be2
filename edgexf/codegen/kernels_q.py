"""Emitters for the integer ops (edgexf/ir/ops_q.py): each prints one call of firmware/kernels/quant*.c.

Every multiplier, shift and zero point is an op attribute or a constant tensor set by the
quantization pass; these functions only lay the numbers out as C arguments.
"""

from __future__ import annotations

import math

from edgexf.codegen.kernels import EmitContext, KernelCall, broadcast_loops, matmul_layout
from edgexf.ir.graph import Op
from edgexf.ir.kernel_choice import uses_dsp, uses_wide
from edgexf.ir.opdef import ConvGeometry
from edgexf.ir.ops_math import conv1d_geometry

CTYPE = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t"}


def _p(c: EmitContext, name: str) -> str:
    return c.ptr(name, CTYPE[c.graph.tensors[name].dtype]) if name else "NULL"


def _bytes(c: EmitContext, name: str) -> int:
    return c.itemsize(name)


def _call(fn: str, *args, statics: list[str] | None = None) -> KernelCall:
    return KernelCall([f"{fn}({', '.join(str(a) for a in args)});"], statics or [], [fn])


def _linear(c: EmitContext, op: Op) -> KernelCall:
    x, w, b, mult, shift = op.inputs
    m, k = c.shape(w)
    rows = math.prod(c.shape(x)) // k
    if uses_wide(op):
        rq = _p(c, op.attrs["rq"][0])  # passes/widen_weights.py
        ptrs = [_p(c, x), c.ptr(w, "int16_t"), _p(c, b), _p(c, mult), rq, _p(c, op.outputs[0])]
        return _call("exf_linear_s8_w16", *ptrs, rows, k, m, c.scratch(op))
    ptrs = [_p(c, n) for n in (x, w, b, mult, shift, op.outputs[0])]
    if uses_dsp(op):
        return _call("exf_linear_s8_dsp", *ptrs, rows, k, m, op.attrs["out_zp"], c.scratch(op))
    return _call("exf_linear_s8", *ptrs, rows, k, m, op.attrs["out_zp"])


def _linear_q(c: EmitContext, op: Op) -> KernelCall:
    x, w, b, mult, shift = op.inputs
    y = op.outputs[0]
    m, k = c.shape(w)
    rows = math.prod(c.shape(x)) // k
    if uses_wide(op):
        rq, ls = _p(c, op.attrs["rq"][0]), op.attrs["pre_shift"]  # passes/widen_weights.py
        ptrs = [c.ptr(w, "int16_t"), _p(c, b), _p(c, mult), rq, ls]
        args = [c.ptr(x, "void"), _bytes(c, x), *ptrs, c.ptr(y, "void"), _bytes(c, y), rows, k, m]
        return _call("exf_linear_q_w16", *args, c.scratch(op))
    ptrs = [_p(c, n) for n in (w, b, mult, shift)]
    args = [c.ptr(x, "void"), _bytes(c, x), *ptrs, c.ptr(y, "void"), _bytes(c, y)]
    return _call("exf_linear_q", *args, rows, k, m, op.attrs["out_zp"])


def _conv2d(c: EmitContext, op: Op) -> KernelCall:
    n, ch, h, wd = c.shape(op.inputs[0])
    o, _, kh, kw = c.shape(op.inputs[1])
    return _conv_call(c, op, (n, ch, h, wd), (o, kh, kw), ConvGeometry.of(op), c.shape(op.outputs[0])[2:])


def _conv1d(c: EmitContext, op: Op) -> KernelCall:
    """A 1-D convolution is the 2-D one of a one-row image (h = kh = 1), as its reference computes it."""
    n, ch, length = c.shape(op.inputs[0])
    o, _, k = c.shape(op.inputs[1])
    out_hw = (1, c.shape(op.outputs[0])[2])
    return _conv_call(c, op, (n, ch, 1, length), (o, 1, k), conv1d_geometry(op), out_hw)


def _conv_call(c: EmitContext, op: Op, x_shape, w_shape, geo: ConvGeometry, out_hw) -> KernelCall:
    n, ch, h, wd = x_shape
    o, kh, kw = w_shape
    (sh, sw), (pt, pl, _, _), (dh, dw) = geo.stride, geo.pads, geo.dilation
    oh, ow = out_hw
    ptrs = [_p(c, t) for t in (*op.inputs, op.outputs[0])]
    dims = (n, ch, h, wd, o, kh, kw, sh, sw, pt, pl, dh, dw, geo.groups, oh, ow)
    return _call("exf_conv2d_s8", *ptrs, *dims, op.attrs["in_zp"], op.attrs["out_zp"])


def _matmul(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    at = op.attrs
    zps = (at["a_zp"], at["b_zp"], at["mult"], at["shift"], at["out_zp"])
    return _call("exf_matmul_s8", _p(c, a), _p(c, b), _p(c, op.outputs[0]), *matmul_layout(c, op), *zps)


def _lut(c: EmitContext, op: Op) -> KernelCall:
    x, table = op.inputs
    return _call("exf_lut_s8", _p(c, x), _p(c, table), _p(c, op.outputs[0]), math.prod(c.shape(x)))


def _softmax(c: EmitContext, op: Op) -> KernelCall:
    x, table = op.inputs
    n = c.shape(x)[-1]
    rows = math.prod(c.shape(x)) // n
    return _call("exf_softmax_s8", _p(c, x), _p(c, table), _p(c, op.outputs[0]), rows, n)


def _layernorm(c: EmitContext, op: Op) -> KernelCall:
    x, gamma, beta = op.inputs
    d = c.shape(x)[-1]
    rows = math.prod(c.shape(x)) // d
    fn = "exf_layernorm_s16" if c.graph.tensors[x].dtype == "int16" else "exf_layernorm_s8"
    at = op.attrs
    ptrs = [_p(c, t) for t in (x, gamma, beta, op.outputs[0])]
    return _call(fn, *ptrs, rows, d, f"INT64_C({at['eps_term']})", at["gshift"], at["out_zp"])


def _add(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    y = op.outputs[0]
    loops, decls = broadcast_loops(c, op)
    at = op.attrs
    args = [c.ptr(a, "void"), _bytes(c, a), c.ptr(b, "void"), _bytes(c, b), c.ptr(y, "void"), _bytes(c, y)]
    rest = (at["a_zp"], at["b_zp"], at["ma"], at["mb"], at["shift"], at["out_zp"])
    return _call("exf_add_q", *args, loops, *rest, statics=decls)


def _mul(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    y = op.outputs[0]
    loops, decls = broadcast_loops(c, op)
    at = op.attrs
    rest = (at["a_zp"], at["b_zp"], at["mult"], at["shift"], at["out_zp"])
    if _bytes(c, a) == _bytes(c, b) == 1:
        args8 = [_p(c, a), _p(c, b), c.ptr(y, "void"), _bytes(c, y)]
        return _call("exf_mul_q", *args8, loops, *rest, statics=decls)
    args = [c.ptr(a, "void"), _bytes(c, a), c.ptr(b, "void"), _bytes(c, b), c.ptr(y, "void"), _bytes(c, y)]
    return _call("exf_mul_qq", *args, loops, *rest, statics=decls)  # an int16 operand (a recurrent state)


def _mean(c: EmitContext, op: Op) -> KernelCall:
    x = op.inputs[0]
    shape = c.shape(x)
    axis = op.attrs["axis"] % len(shape)
    outer, n, inner = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
    at = op.attrs
    zps = (at["in_zp"], at["mult"], at["shift"], at["out_zp"])
    return _call("exf_mean_s8", _p(c, x), _p(c, op.outputs[0]), outer, n, inner, *zps)


def _requant(c: EmitContext, op: Op) -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    at = op.attrs
    args = [c.ptr(x, "void"), _bytes(c, x), c.ptr(y, "void"), _bytes(c, y), math.prod(c.shape(x))]
    return _call("exf_requant_q", *args, at["in_zp"], at["mult"], at["shift"], at["out_zp"])


Q_KERNELS = {
    "q_linear": _linear,
    "q_linear_q": _linear_q,
    "q_conv2d": _conv2d,
    "q_conv1d": _conv1d,
    "q_matmul": _matmul,
    "q_lut": _lut,
    "q_softmax": _softmax,
    "q_layernorm": _layernorm,
    "q_add": _add,
    "q_mul": _mul,
    "q_mean": _mean,
    "q_requant": _requant,
}
