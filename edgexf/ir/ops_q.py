"""The integer ops: what the quantization pass (edgexf/compress/quantize.py) turns float ops into.

Every number a kernel needs (multipliers, shifts, zero points, tables) is an attribute or a constant
input worked out once by the pass, so the reference (edgexf/ir/kernels_q.py) and the C kernels
(firmware/kernels/quant*.c) compute the same integers from the same integers. Requantization
everywhere is round(acc * mult / 2^shift), ties toward +infinity, then + the output zero point,
then a clamp to the output type. The contract is the int8 section of edgexf_kernels.h.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir import kernels_q as KQ
from edgexf.ir.graph import GraphError, Op
from edgexf.ir.kernel_choice import (
    conv_scratch,
    matmul_scratch,
    uses_dsp,
    uses_wide,
    wide_scratch,
    widened_bytes,
)
from edgexf.ir.opdef import (
    ConvGeometry,
    OpDef,
    Spec,
    alias_elementwise,
    alias_last_axis,
    align,
    broadcast,
    conv2d_macs,
    linear_macs,
    matmul_macs,
    reduced_shape,
    rows_of,
    same_shape_inputs,
)
from edgexf.ir.ops_math import conv1d_geometry

INT_TYPES = ("int8", "int16")
_ELEMENTWISE = same_shape_inputs(alias_elementwise)


def _expect(op: Op, specs: list[Spec | None], dtypes: list[tuple[str, ...] | None]) -> None:
    for i, (s, allowed) in enumerate(zip(specs, dtypes)):
        if s is not None and allowed is not None and s[1] not in allowed:
            raise GraphError(f"{op.describe()}: input {i} is {s[1]}, this op takes {' or '.join(allowed)}")


def _channel_args(op: Op, s: list[Spec | None], m: int) -> None:
    for i, what in ((2, "bias"), (3, "mult"), (4, "shift")):
        if s[i] is not None and s[i][0] != (m,):
            raise GraphError(f"{op.describe()}: {what} is {list(s[i][0])}, expected [{m}]")


def _linear_infer(op, s):
    _expect(op, s, [("int8",), ("int8",), ("int32",), ("int32",), ("int32",)])
    (x, _), (w, _) = s[0], s[1]
    if len(w) != 2 or x[-1] != w[1]:
        raise GraphError(f"{op.describe()}: x {list(x)} @ W {list(w)}^T does not fit")
    _channel_args(op, s, w[0])
    return [(x[:-1] + (w[0],), "int8")]


def _linear_q_infer(op, s):
    _expect(op, s, [INT_TYPES, ("int8",), ("int32",), ("int32",), ("int32",)])
    (x, _), (w, _) = s[0], s[1]
    if len(w) != 2 or x[-1] != w[1]:
        raise GraphError(f"{op.describe()}: x {list(x)} @ W {list(w)}^T does not fit")
    _channel_args(op, s, w[0])
    return [(x[:-1] + (w[0],), op.attrs["dtype"])]


def _conv2d_infer(op, s):
    _expect(op, s, [("int8",), ("int8",), ("int32",), ("int32",), ("int32",)])
    (x, _), (w, _) = s[0], s[1]
    geo = ConvGeometry.of(op)
    g = geo.groups
    if len(x) != 4 or len(w) != 4 or g < 1 or x[1] % g or w[0] % g or x[1] != w[1] * g:
        raise GraphError(
            f"{op.describe()}: input {list(x)} and weight {list(w)} do not fit (NCHW, OIHW, groups={g})"
        )
    _channel_args(op, s, w[0])
    oh, ow = geo.out_size(x[2], x[3], w[2], w[3])
    if oh < 1 or ow < 1:
        raise GraphError(f"{op.describe()}: {geo} leaves no output for input {list(x)}, kernel {list(w[2:])}")
    return [((x[0], w[0], oh, ow), "int8")]


def _conv2d_ref(op, a, s):
    x, w, b, mult, shift = a
    a_, geo = op.attrs, ConvGeometry.of(op)
    flat = x.reshape((-1,) + x.shape[-3:])
    y = KQ.conv2d_s8(
        flat, w, b, mult, shift, geo.stride, geo.pads, a_["in_zp"], a_["out_zp"], geo.dilation, geo.groups
    )
    return [y.reshape(x.shape[:-3] + y.shape[1:])]


def _conv2d_scratch(op, s):
    """exf_conv2d_s8_dsp's im2col block and weight row pair, or its direct path's padded plane
    (firmware/kernels/quant_conv_dsp.c)."""
    if not uses_dsp(op):
        return 0
    (x, _), (w, _), geo = s[0], s[1], ConvGeometry.of(op)
    out_hw = geo.out_size(x[-2], x[-1], w[2], w[3])
    return conv_scratch(tuple(w), geo.groups, out_hw, geo.stride, geo.dilation)


def _conv1d_infer(op, s):
    _expect(op, s, [("int8",), ("int8",), ("int32",), ("int32",), ("int32",)])
    (x, _), (w, _) = s[0], s[1]
    geo = conv1d_geometry(op)
    g = geo.groups
    if len(x) != 3 or len(w) != 3 or g < 1 or x[1] % g or w[0] % g or x[1] != w[1] * g:
        raise GraphError(
            f"{op.describe()}: input {list(x)} and weight {list(w)} do not fit (NCL, OCK, groups={g})"
        )
    _channel_args(op, s, w[0])
    length = geo.out_size(1, x[2], 1, w[2])[1]
    if length < 1:
        raise GraphError(f"{op.describe()}: {geo} leaves no output for input {list(x)}, kernel {w[2]}")
    return [((x[0], w[0], length), "int8")]


def _conv1d_ref(op, a, s):
    """The int8 conv2d of a one-row image, as the C runs it (exf_conv2d_s8 with h = kh = 1); x (..., N, C, L):
    the leading axes (calibration batches) fold into N."""
    x, w, b, mult, shift = a
    geo = conv1d_geometry(op)
    y = KQ.conv2d_s8(
        x.reshape((-1, x.shape[-2], 1, x.shape[-1])), w[:, :, None, :], b, mult, shift, geo.stride, geo.pads,
        op.attrs["in_zp"], op.attrs["out_zp"], geo.dilation, geo.groups,
    )  # fmt: skip
    return [y.reshape(x.shape[:-2] + (y.shape[1], y.shape[3]))]


def _matmul_infer(op, s):
    _expect(op, s, [("int8",), ("int8",)])
    (a, _), (b, _) = s
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
        raise GraphError(f"{op.describe()}: cannot multiply {list(a)} by {list(b)}")
    return [(broadcast(op, a[:-2], b[:-2]) + (a[-2], b[-1]), "int8")]


def _matmul_ref(op, a, s):
    x, y = align(a, s, max(len(s[0][0]), len(s[1][0])))
    at = op.attrs
    return [KQ.matmul_s8(x, y, at["a_zp"], at["b_zp"], at["mult"], at["shift"], at["out_zp"])]


def _table_infer(entries: int, dtype: str):
    def infer(op, s):
        _expect(op, s, [("int8",), (dtype,)])
        if s[1][0] != (entries,):
            raise GraphError(f"{op.describe()}: the table is {list(s[1][0])}, expected [{entries}]")
        return [(s[0][0], "int8")]

    return infer


def _layernorm_infer(op, s):
    _expect(op, s, [INT_TYPES, ("int32",), ("int32",)])
    d = s[0][0][-1]
    if ln_plain(op.attrs):  # gamma and beta folded into the next layer
        if s[1] is not None or s[2] is not None or d > 1 << 15:
            raise GraphError(f"{op.describe()}: without gamma (mult, mshift), no gamma/beta and d <= 2^15")
    elif s[1] is None or s[2] is None or s[1][0] != (d,) or s[2][0] != (d,):
        raise GraphError(f"{op.describe()}: gamma/beta must be [{d}]")
    return [(s[0][0], "int8")]


def ln_plain(attrs: dict, prefix: str = "") -> bool:
    """Whether an integer LayerNorm's attributes (q_layernorm's, or a fused op's with prefix "ln_") are
    the form without gamma and beta (mult, mshift), folded into the next linear layer by the quantizer."""
    return f"{prefix}mult" in attrs


def layernorm_ref(x, gamma, beta, attrs: dict, prefix: str = "") -> np.ndarray:
    """q_layernorm's integers, of either form (a fused op's attributes are named ln_mult, ln_zp, ...)."""
    zp = attrs[f"{prefix}zp" if prefix else "out_zp"]
    if ln_plain(attrs, prefix):
        mult, mshift = attrs[f"{prefix}mult"], attrs[f"{prefix}mshift"]
        return KQ.layernorm_plain_q(x, attrs["eps_term"], mult, mshift, zp)
    return KQ.layernorm_q(x, gamma, beta, attrs["eps_term"], attrs["gshift"], zp)


def _binary_infer(op, s):
    _expect(op, s, [INT_TYPES, INT_TYPES])
    return [(broadcast(op, s[0][0], s[1][0]), op.attrs["dtype"])]


def _add_ref(op, a, s):
    x, y = align(a, s, max(len(s[0][0]), len(s[1][0])))
    at = op.attrs
    return [
        KQ.add_q(x, y, at["a_zp"], at["b_zp"], at["ma"], at["mb"], at["shift"], at["out_zp"], at["dtype"])
    ]


def _mul_ref(op, a, s):
    x, y = align(a, s, max(len(s[0][0]), len(s[1][0])))
    at = op.attrs
    return [KQ.mul_q(x, y, at["a_zp"], at["b_zp"], at["mult"], at["shift"], at["out_zp"], at["dtype"])]


def _mean_infer(op, s):
    _expect(op, s, [("int8",)])
    return [(reduced_shape(op, s[0][0]), "int8")]


def _mean_ref(op, a, s):
    at = op.attrs
    y = KQ.mean_q(a[0], at["axis"], at["in_zp"], at["mult"], at["shift"], at["out_zp"])
    return [np.expand_dims(y, at["axis"]) if at.get("keepdims") else y]


def _requant_infer(op, s):
    _expect(op, s, [INT_TYPES])
    return [(s[0][0], op.attrs["dtype"])]


def _linear_scratch(op, s):
    if uses_wide(op):  # exf_linear_s8_w16: two widened rows and their sums
        return wide_scratch(s[0][0][-1], s[1][0][0])
    if uses_dsp(op):  # exf_linear_s8_dsp widens at most the rows there are (firmware/kernels/quant_dot_dsp.c)
        return widened_bytes(s[0][0][-1], rows_of(s[0]))
    return 0


def _matmul_scratch(op, s):
    """exf_matmul_s8_dsp widens one batch of both operands (firmware/kernels/quant_matmul_dsp.c)."""
    (a, _), (b, _) = s
    return matmul_scratch(a[-2], a[-1], b[-1]) if uses_dsp(op) else 0


def _requant_ref(op, a, s):
    at = op.attrs
    return [KQ.requant_q(a[0], at["in_zp"], at["mult"], at["shift"], at["out_zp"], at["dtype"])]


Q_OPS: dict[str, OpDef] = {
    "q_linear": OpDef(
        _linear_infer,
        lambda op, a, s: [KQ.linear_s8(*a, op.attrs["out_zp"])],
        linear_macs,
        "int8 x W^T + bias (int32, input zero point folded in), per-channel mult/shift (inputs 3, 4)",
        scratch=_linear_scratch,
    ),
    "q_linear_q": OpDef(
        _linear_q_infer,
        lambda op, a, s: [KQ.linear_q(*a, op.attrs["out_zp"], op.attrs["dtype"])],
        linear_macs,
        "q_linear with int8 or int16 x and y (a recurrent state kept in int16), int64 accumulator",
        scratch=_linear_scratch,
    ),
    "q_conv2d": OpDef(
        _conv2d_infer,
        _conv2d_ref,
        conv2d_macs,
        "int8 NCHW conv, per-channel requantization",
        scratch=_conv2d_scratch,
    ),
    "q_conv1d": OpDef(
        _conv1d_infer, _conv1d_ref, conv2d_macs, "int8 NCL conv (Mamba's causal one): q_conv2d of one row"
    ),
    "q_matmul": OpDef(
        _matmul_infer,
        _matmul_ref,
        matmul_macs,
        "(a - a_zp) @ (b - b_zp), requantized",
        scratch=_matmul_scratch,
    ),
    "q_lut": OpDef(
        _table_infer(256, "int8"),
        lambda op, a, s: [KQ.lut_s8(*a)],
        doc="any int8 -> int8 elementwise function: y = table[x + 128]",
        alias=_ELEMENTWISE,
    ),
    "q_softmax": OpDef(
        _table_infer(256, "int32"),
        lambda op, a, s: [KQ.softmax_s8(*a)],
        doc="softmax over the last axis with a 256-entry exp table; output scale 1/256, zero point -128",
        alias=alias_last_axis,
    ),
    "q_layernorm": OpDef(
        _layernorm_infer,
        lambda op, a, s: [layernorm_ref(*a, op.attrs)],
        doc="LayerNorm with integer statistics and integer square root; int8/int16 in, int8 out",
        alias=alias_last_axis,
    ),
    "q_add": OpDef(
        _binary_infer,
        _add_ref,
        doc="(a - a_zp) * ma + (b - b_zp) * mb, shifted (sub: mb < 0)",
        alias=_ELEMENTWISE,
    ),
    "q_mul": OpDef(
        _binary_infer,
        _mul_ref,
        doc="(a - a_zp) * (b - b_zp), requantized; int8 or int16 in and out (exf_mul_q for int8 inputs)",
        alias=_ELEMENTWISE,
    ),
    "q_mean": OpDef(_mean_infer, _mean_ref, doc="sum of (x - in_zp) over one axis, requantized"),
    "q_requant": OpDef(
        _requant_infer, _requant_ref, doc="rescale and/or convert between int8 and int16", alias=_ELEMENTWISE
    ),
}
