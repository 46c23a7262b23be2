"""The float32 math ops recurrent models need (Mamba, LMU: their one-time-step functions, exported):
elementwise exp, silu, softplus, sigmoid, tanh, rsqrt, sqrt; sum over one axis; and 1-D convolution. And
what ONNX models add: erf, log, cumsum, where.

Merged into OPS (edgexf/ir/ops.py) as MATH_OPS. References are the bit-exact mirrors of the C kernels in
firmware/kernels/activation.c and elementwise.c (edgexf/ir/kernels_math_ref.py); like every reference they
take extra leading (data set) axes, so axes are stored negative.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir import int8_tables as T
from edgexf.ir import kernels_math_ref as KM
from edgexf.ir.graph import GraphError, Op
from edgexf.ir.opdef import (
    ConvGeometry,
    OpDef,
    Spec,
    alias_elementwise,
    align,
    broadcast,
    conv2d_macs,
    reduced_shape,
    same_shape_inputs,
)

# y[i] from x[i] alone: the output may take the input's bytes when the input dies here
_ELEMENTWISE = same_shape_inputs(alias_elementwise)


def _float(op: Op, specs: list[Spec | None]) -> None:
    for s in specs:
        if s is not None and s[1] != "float32":
            raise GraphError(f"{op.describe()}: only float32 is implemented for this op, got {s[1]}")


def _same(op, s):
    _float(op, s)
    return [s[0]]


def _unary(fn, c_function: str, int8_table, doc: str) -> OpDef:
    """An elementwise op: its reference fn, its C kernel c_function (x, y, n) and its int8 table."""
    return OpDef(
        _same,
        lambda op, a, s: [fn(a[0])],
        doc=doc,
        alias=_ELEMENTWISE,
        c_function=c_function,
        int8_table=int8_table,
    )


def _softplus_ref(op, a, s):
    return [KM.softplus_f32(a[0], op.attrs["beta"], op.attrs["threshold"])]


# ---- sum ------------------------------------------------------------------------------------------


def _sum_infer(op, s):
    _float(op, s)
    axis = op.attrs["axis"]
    if not -len(s[0][0]) <= axis < 0:
        raise GraphError(f"{op.describe()}: axis {axis} must be negative and within rank {len(s[0][0])}")
    return [(reduced_shape(op, s[0][0]), "float32")]


def _sum_ref(op, a, s):
    return [KM.sum_f32(a[0], op.attrs["axis"], bool(op.attrs.get("keepdims")))]


# ---- conv1d ---------------------------------------------------------------------------------------


def conv1d_pads(op: Op) -> tuple[int, int]:
    """(left, right) zero padding of a conv1d: attr padding is one int for both sides, or the pair."""
    pad = op.attrs["padding"]
    return (int(pad), int(pad)) if isinstance(pad, int) else (int(pad[0]), int(pad[1]))


def conv1d_geometry(op: Op) -> ConvGeometry:
    """A conv1d as the 2-D convolution of a one-row image (h = kh = 1), which is how its kernels (float32
    and int8) run it: the same sums in the same order."""
    left, right = conv1d_pads(op)
    at = op.attrs
    return ConvGeometry((1, at["stride"]), (0, left, 0, right), (1, at.get("dilation", 1)), at["groups"])


def _conv1d_infer(op, s):
    _float(op, s)
    (x, _), (w, _) = s[0], s[1]
    stride, groups, dilation = op.attrs["stride"], op.attrs["groups"], op.attrs.get("dilation", 1)
    left, right = conv1d_pads(op)
    if len(x) != 3 or len(w) != 3 or groups < 1 or x[1] % groups or w[0] % groups or w[1] * groups != x[1]:
        raise GraphError(
            f"{op.describe()}: input {list(x)} and weight {list(w)} do not fit (NCL, O x C/groups x K, "
            f"groups={groups})"
        )
    if s[2] is not None and s[2][0] != (w[0],):
        raise GraphError(f"{op.describe()}: bias {list(s[2][0])} is not ({w[0]},)")
    span = dilation * (w[2] - 1) + 1
    if stride < 1 or dilation < 1 or min(left, right) < 0 or x[2] + left + right < span:
        raise GraphError(
            f"{op.describe()}: stride {stride}, padding {(left, right)}, dilation {dilation} leave no output "
            f"of length {x[2]}"
        )
    return [((x[0], w[0], (x[2] + left + right - span) // stride + 1), "float32")]


def _conv1d_ref(op, a, s):
    x, w, b = a  # x (..., N, C, L): the leading axes fold into N
    at = op.attrs
    flat = x.reshape((-1,) + x.shape[-2:])
    y = KM.conv1d_f32(flat, w, b, at["stride"], conv1d_pads(op), at["groups"], at.get("dilation", 1))
    return [y.reshape(x.shape[:-2] + y.shape[1:])]


# ---- cumsum, where ------------------------------------------------------------------------------


def _cumsum_infer(op, s):
    _float(op, s)
    if not -len(s[0][0]) <= op.attrs["axis"] < 0:
        rank = len(s[0][0])
        raise GraphError(f"{op.describe()}: axis {op.attrs['axis']} must be negative and within rank {rank}")
    return [s[0]]


def _cumsum_ref(op, a, s):
    at = op.attrs
    return [KM.cumsum_f32(a[0], at["axis"], bool(at.get("exclusive")), bool(at.get("reverse")))]


def _where_infer(op, s):
    if s[0][1] != "uint8":
        raise GraphError(f"{op.describe()}: the condition is {s[0][1]}, not uint8 (nonzero = true)")
    _float(op, s[1:])
    return [(broadcast(op, broadcast(op, s[0][0], s[1][0]), s[2][0]), "float32")]


def _where_ref(op, a, s):
    rank = max(len(x[0]) for x in s)
    cond, x, y = align(a, s, rank)
    return [np.where(cond != 0, x, y).astype(np.float32)]


MATH_OPS: dict[str, OpDef] = {
    "exp": _unary(
        KM.exp_f32,
        "exf_exp_f32",
        T.exp,
        "exp; saturates at exf_expf's clamp [-87, 88] (~1.65e-38 .. ~1.65e38)",
    ),
    "silu": _unary(KM.silu_f32, "exf_silu_f32", T.silu, "x * sigmoid(x) (SiLU, swish)"),
    "softplus": OpDef(
        _same,
        _softplus_ref,
        doc="torch's softplus: x where beta x > threshold, else log(1 + exp(beta x)) / beta (attrs beta, "
        "threshold), without overflow",
        alias=_ELEMENTWISE,
        int8_table=T.softplus,
    ),
    "sigmoid": _unary(KM.sigmoid_f32, "exf_sigmoid_f32", T.sigmoid, "1 / (1 + exp(-x)), without overflow"),
    "tanh": _unary(KM.tanh_f32, "exf_tanh_f32", T.tanh, "tanh"),
    "rsqrt": _unary(KM.rsqrt_f32, "exf_rsqrt_f32", T.rsqrt, "1 / sqrt(x)"),
    "sqrt": _unary(KM.sqrt_f32, "exf_sqrt_f32", T.sqrt, "sqrt, correctly rounded"),
    "erf": _unary(KM.erf_f32, "exf_erf_f32", T.erf, "erf (as in exf_gelu_f32: max error ~1.5e-7 absolute)"),
    "log": _unary(KM.log_f32, "exf_log_f32", T.log, "natural log; -inf at 0, NaN below"),
    "cumsum": OpDef(
        _cumsum_infer,
        _cumsum_ref,
        doc="running sum along one axis (negative); attrs exclusive, reverse (as ONNX CumSum)",
    ),
    "where": OpDef(
        _where_infer,
        _where_ref,
        doc="cond ? a : b elementwise, all three broadcast; cond uint8 (nonzero = true), a and b float32",
    ),
    "sum": OpDef(_sum_infer, _sum_ref, doc="sum over one axis (negative), keepdims or not"),
    "conv1d": OpDef(
        _conv1d_infer,
        _conv1d_ref,
        conv2d_macs,  # output elements x (C/groups) x K, as for conv2d
        "NCL conv, weight (O, C/groups, K), optional bias; attrs stride, padding (zeros: one int for both "
        "sides, or (left, right)), groups, dilation (default 1)",
    ),
}
