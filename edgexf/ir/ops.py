"""Every IR op in one table: shape inference, the NumPy reference, and MAC count.

The reference is the golden model: its float32 numerics are those of the C kernels bit for bit
(edgexf/ir/kernels_ref.py mirrors firmware/kernels/). References accept extra leading axes in
front of the declared shapes, so a whole data set runs through the graph in one call; axis
attributes are therefore stored, and applied, as negative (counted from the end).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir import int8_tables as T
from edgexf.ir import kernels_ref as K
from edgexf.ir.graph import Graph, GraphError, Op
from edgexf.ir.opdef import (
    ConvGeometry,
    OpDef,
    Spec,
    alias_elementwise,
    alias_last_axis,
    align,
    broadcast,
    conv2d_macs,
    lead,
    linear_macs,
    matmul_macs,
    reduced_shape,
    same_shape_inputs,
)
from edgexf.ir.ops_conv_step import CONV_STEP_OPS
from edgexf.ir.ops_fused import FUSED_OPS
from edgexf.ir.ops_gate import GATE_OPS
from edgexf.ir.ops_math import MATH_OPS
from edgexf.ir.ops_q import Q_OPS
from edgexf.ir.ops_rms_norm import RMS_NORM_OPS
from edgexf.ir.ops_scan import SCAN_OPS
from edgexf.ir.ops_select import SELECT_OPS

_ELEMENTWISE = same_shape_inputs(alias_elementwise)


def _float(op: Op, specs: list[Spec | None]) -> None:
    for s in specs:
        if s is not None and s[1] != "float32":
            raise GraphError(f"{op.describe()}: only float32 is implemented for this op, got {s[1]}")


# ---- compute ops ---------------------------------------------------------------------------------


def _linear_infer(op, s):
    _float(op, s)
    (x, _), (w, _) = s[0], s[1]
    if len(w) != 2 or x[-1] != w[1] or (s[2] is not None and s[2][0] != (w[0],)):
        raise GraphError(f"{op.describe()}: x {list(x)} @ W {list(w)}^T does not fit")
    return [(x[:-1] + (w[0],), "float32")]


def _matmul_infer(op, s):
    _float(op, s)
    (a, _), (b, _) = s
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
        raise GraphError(f"{op.describe()}: cannot multiply {list(a)} by {list(b)}")
    return [(broadcast(op, a[:-2], b[:-2]) + (a[-2], b[-1]), "float32")]


def _conv2d_infer(op, s):
    _float(op, s)
    (x, _), (w, _) = s[0], s[1]
    geo = ConvGeometry.of(op)
    g = geo.groups
    if len(x) != 4 or len(w) != 4 or g < 1 or x[1] % g or w[0] % g or x[1] != w[1] * g:
        raise GraphError(
            f"{op.describe()}: input {list(x)} and weight {list(w)} do not fit (NCHW, OIHW, groups={g})"
        )
    if s[2] is not None and s[2][0] != (w[0],):
        raise GraphError(f"{op.describe()}: bias {list(s[2][0])} is not ({w[0]},)")
    oh, ow = geo.out_size(x[2], x[3], w[2], w[3])
    if min(geo.stride + geo.dilation) < 1 or min(geo.pads) < 0 or oh < 1 or ow < 1:
        raise GraphError(f"{op.describe()}: {geo} leaves no output for input {list(x)}, kernel {list(w[2:])}")
    return [((x[0], w[0], oh, ow), "float32")]


def _conv2d_ref(op, a, s):
    x, w, b = a  # x (..., N, C, H, W): the leading axes fold into N
    geo = ConvGeometry.of(op)
    flat = x.reshape((-1,) + x.shape[-3:])
    y = K.conv2d_f32(flat, w, b, geo.stride, geo.pads, geo.dilation, geo.groups)
    return [y.reshape(x.shape[:-3] + y.shape[1:])]


def _same(op, s):
    _float(op, s)
    return [s[0]]


def _binary_infer(op, s):
    _float(op, s)
    return [(broadcast(op, s[0][0], s[1][0]), "float32")]


def _binary_ref(fn):
    def ref(op, a, s):
        rank = max(len(s[0][0]), len(s[1][0]))
        return [fn(*align(a, s, rank))]

    return ref


def _matmul_ref(op, a, s):
    rank = max(len(s[0][0]), len(s[1][0]))
    return [K.matmul_f32(*align(a, s, rank))]


def _mean_infer(op, s):
    _float(op, s)
    return [(reduced_shape(op, s[0][0]), "float32")]


def _mean_ref(op, a, s):
    y = K.mean_f32(a[0], op.attrs["axis"])
    return [np.expand_dims(y, op.attrs["axis"]) if op.attrs.get("keepdims") else y]


# ---- data movement ops ---------------------------------------------------------------------------


def _reshape_infer(op, s):
    shape = tuple(op.attrs["shape"])
    if int(np.prod(shape)) != int(np.prod(s[0][0])):
        raise GraphError(f"{op.describe()}: cannot reshape {list(s[0][0])} to {list(shape)}")
    return [(shape, s[0][1])]


def _reshape_ref(op, a, s):
    x = a[0]
    rank = len(s[0][0])
    return [x.reshape(lead(x, rank) + tuple(op.attrs["shape"]))]


def _transpose_infer(op, s):
    perm = op.attrs["perm"]
    if sorted(perm) != list(range(len(s[0][0]))):
        raise GraphError(f"{op.describe()}: perm {perm} is not a permutation of {len(s[0][0])} axes")
    return [(tuple(s[0][0][p] for p in perm), s[0][1])]


def _transpose_ref(op, a, s):
    x, perm = a[0], op.attrs["perm"]
    nl = x.ndim - len(perm)
    return [np.ascontiguousarray(np.transpose(x, list(range(nl)) + [nl + p for p in perm]))]


def _concat_infer(op, s):
    shapes = [list(x[0]) for x in s]
    axis = op.attrs["axis"] % len(shapes[0])

    def others(sh):
        return sh[:axis] + sh[axis + 1 :]

    if any(len(sh) != len(shapes[0]) or others(sh) != others(shapes[0]) for sh in shapes):
        raise GraphError(f"{op.describe()}: cannot concatenate {shapes} on axis {op.attrs['axis']}")
    out = list(shapes[0])
    out[axis] = sum(sh[axis] for sh in shapes)
    return [(tuple(out), s[0][1])]


def _concat_ref(op, a, s):
    lead = max(a, key=lambda x: x.ndim)
    parts = [np.broadcast_to(x, lead.shape[: lead.ndim - x.ndim] + x.shape) for x in a]
    return [np.concatenate(parts, axis=op.attrs["axis"])]


def _slice_infer(op, s):
    shape = list(s[0][0])
    axis, start, end = op.attrs["axis"], op.attrs["start"], op.attrs["end"]
    if not 0 <= start < end <= shape[axis]:
        raise GraphError(f"{op.describe()}: slice [{start}:{end}] out of range for axis size {shape[axis]}")
    shape[axis] = end - start
    return [(tuple(shape), s[0][1])]


def _slice_ref(op, a, s):
    x, axis = a[0], op.attrs["axis"]
    index = [slice(None)] * x.ndim
    index[axis] = slice(op.attrs["start"], op.attrs["end"])
    return [np.ascontiguousarray(x[tuple(index)])]


def _gather_infer(op, s):
    shape, axis = s[0][0], op.attrs["axis"]
    if not -len(shape) <= axis < 0:
        raise GraphError(f"{op.describe()}: axis {axis} must be negative and within rank {len(shape)}")
    idx, idx_shape = op.attrs["indices"], tuple(op.attrs["indices_shape"])
    if len(idx) != int(np.prod(idx_shape)) or any(not 0 <= i < shape[axis] for i in idx):
        raise GraphError(
            f"{op.describe()}: indices {list(idx)} (shape {list(idx_shape)}) for an axis of {shape[axis]}"
        )
    a = axis % len(shape)
    return [(shape[:a] + idx_shape + shape[a + 1 :], s[0][1])]


def _gather_ref(op, a, s):
    x, axis = a[0], op.attrs["axis"]
    idx = np.asarray(op.attrs["indices"], np.int64).reshape(tuple(op.attrs["indices_shape"]))
    return [np.ascontiguousarray(np.take(x, idx, axis=axis))]


def _broadcast_infer(op, s):
    shape = tuple(op.attrs["shape"])
    try:
        ok = np.broadcast_shapes(s[0][0], shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise GraphError(f"{op.describe()}: cannot broadcast {list(s[0][0])} to {list(shape)}")
    return [(shape, s[0][1])]


def _broadcast_ref(op, a, s):
    x, shape = a[0], tuple(op.attrs["shape"])
    (x,) = align([x], s, len(shape))
    return [np.ascontiguousarray(np.broadcast_to(x, lead(x, len(shape)) + shape))]


OPS: dict[str, OpDef] = {
    "linear": OpDef(
        _linear_infer,
        lambda op, a, s: [K.linear_f32(*a)],
        linear_macs,
        "y = x W^T + b over the last axis (W is (out, in), as in torch)",
    ),
    "matmul": OpDef(_matmul_infer, _matmul_ref, matmul_macs, "batched a @ b, batch axes broadcast"),
    "conv2d": OpDef(
        _conv2d_infer,
        _conv2d_ref,
        conv2d_macs,
        "NCHW conv, weight (O, C/groups, KH, KW), optional bias; attrs stride, padding (ph, pw) or (top, "
        "left, bottom, right) of zeros, dilation (default (1, 1)), groups (default 1)",
    ),
    "layernorm": OpDef(
        _same,
        lambda op, a, s: [K.layernorm_f32(a[0], a[1], a[2], op.attrs["eps"])],
        doc="LayerNorm over the last axis",
        alias=alias_last_axis,
    ),
    "softmax": OpDef(
        _same, lambda op, a, s: [K.softmax_f32(a[0])], doc="softmax over the last axis", alias=alias_last_axis
    ),
    "gelu": OpDef(
        _same,
        lambda op, a, s: [K.gelu_f32(a[0], op.attrs["approximate"])],
        doc="GELU, approximate 'none' (erf) or 'tanh'",
        alias=_ELEMENTWISE,
        int8_table=T.gelu,
    ),
    "relu": OpDef(_same, lambda op, a, s: [K.relu_f32(a[0])], alias=_ELEMENTWISE, int8_table=T.relu),
    "add": OpDef(_binary_infer, _binary_ref(K.add_f32), doc="a + b with broadcasting", alias=_ELEMENTWISE),
    "sub": OpDef(_binary_infer, _binary_ref(K.sub_f32), doc="a - b with broadcasting", alias=_ELEMENTWISE),
    "mul": OpDef(_binary_infer, _binary_ref(K.mul_f32), doc="a * b with broadcasting", alias=_ELEMENTWISE),
    "div": OpDef(_binary_infer, _binary_ref(K.div_f32), doc="a / b with broadcasting", alias=_ELEMENTWISE),
    "mean": OpDef(_mean_infer, _mean_ref, doc="mean over one axis (negative), keepdims or not"),
    "reshape": OpDef(_reshape_infer, _reshape_ref, doc="same bytes, new shape: no code, shares the buffer"),
    "transpose": OpDef(_transpose_infer, _transpose_ref, doc="permute axes (a copy)"),
    "concat": OpDef(_concat_infer, _concat_ref, doc="join along one axis (negative)"),
    "slice": OpDef(_slice_infer, _slice_ref, doc="[start:end] along one axis (negative), step 1"),
    "gather": OpDef(
        _gather_infer,
        _gather_ref,
        doc="take constant indices along one axis (negative): attrs axis, indices (flat), indices_shape",
    ),
    "broadcast": OpDef(_broadcast_infer, _broadcast_ref, doc="numpy.broadcast_to(x, attr shape), copied"),
    **Q_OPS,  # the integer ops the quantization pass produces (edgexf/ir/ops_q.py)
    **FUSED_OPS,  # what the fusion pass makes of both (edgexf/ir/ops_fused.py)
    **MATH_OPS,  # float32 math for recurrent models: exp, silu, ..., sum, conv1d (edgexf/ir/ops_math.py)
    **SELECT_OPS,  # max, maximum, pad (any value dtype) and isnan (edgexf/ir/ops_select.py)
    **SCAN_OPS,  # Mamba's selective scan step, float32 and int8 (edgexf/ir/ops_scan.py)
    **GATE_OPS,  # Mamba's output gate y * SiLU(z) in integers (edgexf/ir/ops_gate.py)
    **RMS_NORM_OPS,  # RMSNorm's integer chain as one op (edgexf/ir/ops_rms_norm.py)
    **CONV_STEP_OPS,  # Mamba's causal conv on its conv state, float32 and int8 (edgexf/ir/ops_conv_step.py)
}


def input_specs(graph: Graph, op: Op) -> list[Spec | None]:
    return [(graph.tensors[n].shape, graph.tensors[n].dtype) if n else None for n in op.inputs]


def infer_output_specs(graph: Graph, op: Op) -> list[Spec]:
    return OPS[op.type].infer(op, input_specs(graph, op))


def op_macs(graph: Graph, op: Op) -> int:
    outs = [(graph.tensors[n].shape, graph.tensors[n].dtype) for n in op.outputs]
    return OPS[op.type].macs(op, input_specs(graph, op), outs)


def count_params(graph: Graph) -> int:
    """Elements of the graph's constants (an int8 graph's include its multipliers and tables)."""
    return int(sum(np.prod(t.shape, dtype=np.int64) for t in graph.constants()))
