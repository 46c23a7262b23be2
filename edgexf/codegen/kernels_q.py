"""Emitters for the integer ops (edgexf/ir/ops_q.py): each prints one call of firmware/kernels/quant*.c.

Every multiplier, shift and zero point is an op attribute or a constant tensor set by the
quantization pass; these functions only name the numbers as fields of the kernel's parameter struct
(firmware/kernels/edgexf_params.h), which kernel_params.py prints.
"""

from __future__ import annotations

import math

from edgexf.codegen.kernel_params import add_terms, norm_terms, params_call
from edgexf.codegen.kernels import EmitContext, KernelCall, broadcast_layout, matmul_layout
from edgexf.ir.graph import Op
from edgexf.ir.kernel_choice import uses_dsp, uses_wide
from edgexf.ir.opdef import ConvGeometry
from edgexf.ir.ops_math import conv1d_geometry

CTYPE = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t"}


def _p(c: EmitContext, name: str) -> str:
    return c.ptr(name, CTYPE[c.graph.tensors[name].dtype]) if name else "NULL"


def _bytes(c: EmitContext, name: str) -> int:
    return c.itemsize(name)


def dense_terms(
    c: EmitContext, w: str, bias: str, mult: str, shift: str, out_zp: int, rq: str | None
) -> dict:
    """exf_dense_q_t of one linear layer: int8 weights (rq None) or widened ones with their rq terms."""
    if rq is None:
        return {
            "w": _p(c, w),
            "bias": _p(c, bias),
            "mult": _p(c, mult),
            "shift": _p(c, shift),
            "out_zp": out_zp,
        }
    return {"w": c.ptr(w, "int16_t"), "bias": _p(c, bias), "mult": _p(c, mult), "rq": rq}


def _linear(c: EmitContext, op: Op) -> KernelCall:
    x, w, b, mult, shift = op.inputs
    y = op.outputs[0]
    m, k = c.shape(w)
    dims = {"rows": math.prod(c.shape(x)) // k, "k": k, "m": m}
    ctype = "exf_linear_q_params_t"
    if uses_wide(op):
        rq = _p(c, op.attrs["rq"][0])  # passes/widen_weights.py
        fields = {"fc": dense_terms(c, w, b, mult, shift, 0, rq), **dims}
        # two rows and more with a bias: blocks of rows requantized from registers (quant_dot_w16.c); one row
        # (a recurrent step) keeps the kernel without that test
        kernel = "exf_linear_s8_w16_rows" if dims["rows"] >= 2 and b else "exf_linear_s8_w16"
        return params_call(op, kernel, ctype, fields, _p(c, x), _p(c, y), c.scratch(op))
    fields = {"fc": dense_terms(c, w, b, mult, shift, op.attrs["out_zp"], None), **dims}
    if uses_dsp(op):
        return params_call(op, "exf_linear_s8_dsp", ctype, fields, _p(c, x), _p(c, y), c.scratch(op))
    return params_call(op, "exf_linear_s8", ctype, fields, _p(c, x), _p(c, y))


def _linear_q(c: EmitContext, op: Op) -> KernelCall:
    x, w, b, mult, shift = op.inputs
    y = op.outputs[0]
    m, k = c.shape(w)
    dims = {
        "rows": math.prod(c.shape(x)) // k,
        "k": k,
        "m": m,
        "x_bytes": _bytes(c, x),
        "y_bytes": _bytes(c, y),
    }
    ctype, io = "exf_linear_q_params_t", (c.ptr(x, "void"), c.ptr(y, "void"))
    if uses_wide(op):
        rq, ls = _p(c, op.attrs["rq"][0]), op.attrs["pre_shift"]  # passes/widen_weights.py
        fields = {"fc": dense_terms(c, w, b, mult, shift, 0, rq), **dims, "pre_shift": ls}
        # as _linear: row pairs requantized from registers where that path takes the layer
        kernel = "exf_linear_q_w16_rows" if dims["rows"] >= 2 and b and ls == 0 else "exf_linear_q_w16"
        return params_call(op, kernel, ctype, fields, *io, c.scratch(op))
    fields = {"fc": dense_terms(c, w, b, mult, shift, op.attrs["out_zp"], None), **dims}
    return params_call(op, "exf_linear_q", ctype, fields, *io)


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
    x, w, bias, mult, shift = op.inputs
    n, ch, h, wd = x_shape
    o, kh, kw = w_shape
    (sh, sw), (pt, pl, _, _), (dh, dw) = geo.stride, geo.pads, geo.dilation
    oh, ow = out_hw
    fields = {"w": _p(c, w), "bias": _p(c, bias), "mult": _p(c, mult), "shift": _p(c, shift)}
    fields |= {"n": n, "c": ch, "h": h, "wd": wd, "o": o, "kh": kh, "kw": kw, "sh": sh, "sw": sw, "pt": pt}
    fields |= {"pl": pl, "dh": dh, "dw": dw, "groups": geo.groups, "oh": oh, "ow": ow}
    fields |= {"in_zp": op.attrs["in_zp"], "out_zp": op.attrs["out_zp"]}
    io = (_p(c, x), _p(c, op.outputs[0]))
    if uses_dsp(op):
        return params_call(op, "exf_conv2d_s8_dsp", "exf_conv2d_q_params_t", fields, *io, c.scratch(op))
    return params_call(op, "exf_conv2d_s8", "exf_conv2d_q_params_t", fields, *io)


def _matmul(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    at = op.attrs
    batch, m, k, n, sa, sb = matmul_layout(c, op)
    fields = {"batch": batch, "m": m, "k": k, "n": n, "a_batch_stride": sa, "b_batch_stride": sb}
    fields |= {key: at[key] for key in ("a_zp", "b_zp", "mult", "shift", "out_zp")}
    ptrs = (_p(c, a), _p(c, b), _p(c, op.outputs[0]))
    if uses_dsp(op):
        return params_call(op, "exf_matmul_s8_dsp", "exf_matmul_q_params_t", fields, *ptrs, c.scratch(op))
    return params_call(op, "exf_matmul_s8", "exf_matmul_q_params_t", fields, *ptrs)


def _lut(c: EmitContext, op: Op) -> KernelCall:
    x, table = op.inputs
    fields = {"table": _p(c, table), "n": math.prod(c.shape(x))}
    return params_call(op, "exf_lut_s8", "exf_lut_params_t", fields, _p(c, x), _p(c, op.outputs[0]))


def _softmax(c: EmitContext, op: Op) -> KernelCall:
    x, table = op.inputs
    n = c.shape(x)[-1]
    fields = {"exp_table": _p(c, table), "rows": math.prod(c.shape(x)) // n, "n": n}
    return params_call(op, "exf_softmax_s8", "exf_softmax_q_params_t", fields, _p(c, x), _p(c, op.outputs[0]))


def _layernorm(c: EmitContext, op: Op) -> KernelCall:
    x, gamma, beta = op.inputs
    d = c.shape(x)[-1]
    fields = {"ln": norm_terms(c, op, gamma, beta, "out_zp"), "rows": math.prod(c.shape(x)) // d, "d": d}
    fn = "exf_layernorm_s16" if c.graph.tensors[x].dtype == "int16" else "exf_layernorm_s8"
    return params_call(op, fn, "exf_layernorm_q_params_t", fields, _p(c, x), _p(c, op.outputs[0]))


def _broadcast_fields(c: EmitContext, op: Op) -> dict:
    a, b = op.inputs
    shape, (sa, sb) = broadcast_layout(c, op)
    y = op.outputs[0]
    return {
        "shape": shape,
        "sa": sa,
        "sb": sb,
        "a_bytes": _bytes(c, a),
        "b_bytes": _bytes(c, b),
        "y_bytes": _bytes(c, y),
    }


def _add(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    fields = {**_broadcast_fields(c, op), "add": add_terms(op.attrs)}
    ptrs = (c.ptr(a, "void"), c.ptr(b, "void"), c.ptr(op.outputs[0], "void"))
    return params_call(op, "exf_add_q", "exf_add_q_params_t", fields, *ptrs)


def _mul(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    at = op.attrs
    fields = _broadcast_fields(c, op) | {key: at[key] for key in ("a_zp", "b_zp", "mult", "shift", "out_zp")}
    y = c.ptr(op.outputs[0], "void")
    if _bytes(c, a) == _bytes(c, b) == 1:
        return params_call(op, "exf_mul_q", "exf_mul_q_params_t", fields, _p(c, a), _p(c, b), y)
    # an int16 operand (a recurrent state)
    return params_call(op, "exf_mul_qq", "exf_mul_q_params_t", fields, c.ptr(a, "void"), c.ptr(b, "void"), y)


def _mean(c: EmitContext, op: Op) -> KernelCall:
    x = op.inputs[0]
    shape = c.shape(x)
    axis = op.attrs["axis"] % len(shape)
    fields = {"outer": math.prod(shape[:axis]), "n": shape[axis], "inner": math.prod(shape[axis + 1 :])}
    fields |= {key: op.attrs[key] for key in ("in_zp", "mult", "shift", "out_zp")}
    return params_call(op, "exf_mean_s8", "exf_mean_q_params_t", fields, _p(c, x), _p(c, op.outputs[0]))


def _requant(c: EmitContext, op: Op) -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    fields = {"x_bytes": _bytes(c, x), "y_bytes": _bytes(c, y), "n": math.prod(c.shape(x))}
    fields |= {key: op.attrs[key] for key in ("in_zp", "mult", "shift", "out_zp")}
    ptrs = (c.ptr(x, "void"), c.ptr(y, "void"))
    return params_call(op, "exf_requant_q", "exf_requant_q_params_t", fields, *ptrs)


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
