"""TFLite operators -> IR ops: one handler per builtin operator, in one table (TFLITE_OPS).

A handler reads the operator's inputs through Ctx (activations as IR tensor names, constants as
arrays), adds IR ops, and binds each TFLite output to an IR tensor. Layout stays NHWC; convolutions
transpose around an NCHW conv2d. For an int8 model every IR tensor gets the file's parameters:
a TFLite output's own, and an intermediate (a conv before its fused activation) those of the
TFLite output it leads to; data movement (reshape, transpose, slice, concat) shares its input's
(edgexf/compress/fixed_qparams.py groups them). Where TFLite changes parameters across a move,
a requantization (x * 1.0, an int8 table) is inserted.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from edgexf.compress.fixed_qparams import int16_params
from edgexf.errors import ModelLoadError
from edgexf.frontends.tflite_ctx import Ctx
from edgexf.ir.graph import QParams


def _opts(op, field: str, default):
    v = getattr(op.builtinOptions, field, None) if op.builtinOptions is not None else None
    return default if v is None else v


def _axis(c: Ctx, axis: int, rank: int) -> int:
    """IR axes are negative (references run with extra leading axes)."""
    if not -rank <= axis < rank:
        raise ModelLoadError(
            f"{c.where}: operator {c.k} ({c.op_name}): axis {axis} out of range for rank {rank}"
        )
    return axis - rank if axis >= 0 else axis


# ---- handlers ------------------------------------------------------------------------------------


def _fully_connected(c: Ctx, op) -> None:
    ins = c.ins(op, 2)
    x, w = c.value(ins[0]), c.weight(ins[1])
    b = c.value(ins[2]) if len(ins) > 2 and ins[2] >= 0 else ""
    if len(c.shape(w)) != 2 or not c.shape(x) or c.shape(x)[-1] != c.shape(w)[1]:
        raise ModelLoadError(
            f"{c.where}: operator {c.k} (FULLY_CONNECTED): input {list(c.shape(x))} and weight "
            f"{list(c.shape(w))} do not fit"
        )
    k = c.shape(w)[1]
    if not _opts(op, "keepNumDims", False) and len(c.shape(x)) != 2:
        x = c.reshape(x, (math.prod(c.shape(x)) // k, k))
    y = c.op("linear", [x, w, b])
    c.output(op, c.activation(y, _opts(op, "fusedActivationFunction", 0)))


def _batch_matmul(c: Ctx, op) -> None:
    a, b = (c.value(i) for i in c.ins(op, 2)[:2])
    swap = lambda n: list(range(n - 2)) + [n - 1, n - 2]  # noqa: E731
    if _opts(op, "adjX", False):
        a = c.transpose(a, swap(len(c.shape(a))))
    if _opts(op, "adjY", False):
        b = c.transpose(b, swap(len(c.shape(b))))
    c.output(op, c.op("matmul", [a, b]))


def _same_padding(size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _conv(c: Ctx, op, depthwise: bool) -> None:
    ins = c.ins(op, 2)
    x = c.value(ins[0])
    if len(c.shape(x)) != 4 or len(c.tensors[ins[1]].shape) != 4:
        raise ModelLoadError(
            f"{c.where}: operator {c.k} ({c.op_name}): input and weight must be 4-D (NHWC, OHWI)"
        )
    n, h, w_, ch = c.shape(x)
    if depthwise:  # weight (1, kh, kw, C * m): O = C * m, one input channel per group
        w = c.weight(ins[1], perm=(3, 0, 1, 2))
        groups = ch
    else:  # weight (O, kh, kw, I)
        w = c.weight(ins[1], perm=(0, 3, 1, 2))
        groups = ch // c.shape(w)[1] if c.shape(w)[1] else 0
        if groups != 1:
            raise c.error(
                f"grouped convolution (input {ch} channels, weight {c.shape(w)[1]}) is not supported"
            )
    b = c.value(ins[2]) if len(ins) > 2 and ins[2] >= 0 else ""
    _, _, kh, kw = c.shape(w)
    sh, sw = int(_opts(op, "strideH", 1)), int(_opts(op, "strideW", 1))
    dh, dw = int(_opts(op, "dilationHFactor", 1)), int(_opts(op, "dilationWFactor", 1))
    if min(sh, sw, dh, dw) < 1:
        raise ModelLoadError(f"{c.where}: operator {c.k}: stride {sh, sw} / dilation {dh, dw} below 1")
    if _opts(op, "padding", 0) == 0:  # SAME: TFLite puts the odd pixel at the bottom/right
        (top, bottom), (left, right) = _same_padding(h, kh, sh, dh), _same_padding(w_, kw, sw, dw)
        padding = (top, left) if (top, left) == (bottom, right) else (top, left, bottom, right)
    else:
        padding = (0, 0)
    attrs = {"stride": (sh, sw), "padding": padding}
    if groups != 1:
        attrs["groups"] = groups
    if (dh, dw) != (1, 1):
        attrs["dilation"] = (dh, dw)
    y = c.op("conv2d", [c.transpose(x, (0, 3, 1, 2)), w, b], attrs)
    y = c.activation(y, _opts(op, "fusedActivationFunction", 0))
    c.output(op, c.transpose(y, (0, 2, 3, 1)))


def _binary(type: str):
    def handler(c: Ctx, op) -> None:
        a, b = (c.value(i) for i in c.ins(op, 2)[:2])
        c.output(op, c.activation(c.op(type, [a, b]), _opts(op, "fusedActivationFunction", 0)))

    return handler


def _squared_difference(c: Ctx, op) -> None:
    ia, ib = c.ins(op, 2)[:2]
    a, b = c.value(ia), c.value(ib)
    # (a - b) in int16 (symmetric, covering |a| + |b|), then squared into the output's int8
    p = int16_params(c.params_of(a), c.params_of(b)) if c.quantized else None
    d = c.op("sub", [a, b], params=p)
    c.int16.add(d)
    c.output(op, c.op("mul", [d, d]))


def _unary(type: str, **attrs):
    def handler(c: Ctx, op) -> None:
        c.output(op, c.op(type, [c.value(c.ins(op)[0])], dict(attrs)))

    return handler


def _gelu(c: Ctx, op) -> None:
    approximate = "tanh" if _opts(op, "approximate", False) else "none"
    c.output(op, c.op("gelu", [c.value(c.ins(op)[0])], {"approximate": approximate}))


def _softmax(c: Ctx, op) -> None:
    x = c.value(c.ins(op)[0])
    beta = float(_opts(op, "beta", 1.0))
    if beta != 1.0:  # softmax(beta x): x * beta first, with parameters that make it exact in int8
        p = c.params_of(x)
        scaled = None if p is None else QParams(p.scale * beta, p.zero_point)
        x = c.op("mul", [x, c.b.add_const(f"softmax_{c.k}.beta", np.array(beta, np.float32))], params=scaled)
    c.output(op, c.op("softmax", [x]))


def _reduce(type: str):
    def handler(c: Ctx, op) -> None:
        ins = c.ins(op, 2)
        x = c.value(ins[0])
        rank = len(c.shape(x))
        axes = sorted({_axis(c, int(a), rank) for a in np.asarray(c.const(ins[1])).reshape(-1)})
        keep = bool(_opts(op, "keepDims", False))
        for a in reversed(axes):  # one axis at a time (mean of means: equal group sizes); size 1: nothing
            if c.shape(x)[a] != 1:
                x = c.op(type, [x], {"axis": a, "keepdims": True})
        shape = [d for i, d in enumerate(c.shape(x)) if keep or (i - rank) not in axes]
        c.output(op, c.reshape(x, shape))

    return handler


def _reshape(c: Ctx, op) -> None:
    x = c.value(c.ins(op)[0])
    out = c.tensors[c.outs(op)[0]]
    if math.prod(out.shape) != math.prod(c.shape(x)):
        raise ModelLoadError(f"{c.where}: operator {c.k} (RESHAPE): {list(c.shape(x))} -> {list(out.shape)}")
    c.output(op, c.reshape(x, out.shape))


def _transpose(c: Ctx, op) -> None:
    ins = c.ins(op, 2)
    x = c.value(ins[0])
    perm = [int(p) for p in np.asarray(c.const(ins[1])).reshape(-1)]
    if sorted(perm) != list(range(len(c.shape(x)))):
        raise ModelLoadError(f"{c.where}: operator {c.k} (TRANSPOSE): {perm} is not a permutation")
    c.output(op, c.transpose(x, perm))


def _concatenation(c: Ctx, op) -> None:
    ins = c.ins(op)
    p = c.tensors[c.outs(op)[0]].qparams() if c.quantized else None
    parts = [c.requant_to(c.value(i), p) if c.tensors[i].data is None else c.value(i) for i in ins]
    axis = _axis(c, int(_opts(op, "axis", 0)), len(c.shape(parts[0])))
    y = c.op("concat", parts, {"axis": axis}) if len(parts) > 1 else parts[0]
    c.output(op, c.activation(y, _opts(op, "fusedActivationFunction", 0)))


def _slices(c: Ctx, x: str, begin: list[int], end: list[int]) -> str:
    shape = c.shape(x)
    for i, (s, e) in enumerate(zip(begin, end)):
        if (s, e) != (0, shape[i]):
            if not 0 <= s < e <= shape[i]:
                raise c.error(f"slice [{s}:{e}] of axis {i} (size {shape[i]}) is empty or out of range")
            x = c.op("slice", [x], {"axis": i - len(shape), "start": s, "end": e})
    return x


def _slice(c: Ctx, op) -> None:
    ins = c.ins(op, 3)
    x = c.value(ins[0])
    shape = c.shape(x)
    begin = [int(v) for v in np.asarray(c.const(ins[1])).reshape(-1)]
    size = [int(v) for v in np.asarray(c.const(ins[2])).reshape(-1)]
    if len(begin) != len(shape) or len(size) != len(shape):
        raise ModelLoadError(f"{c.where}: operator {c.k} (SLICE): begin/size do not match rank {len(shape)}")
    end = [d if n == -1 else b + n for b, n, d in zip(begin, size, shape)]
    c.output(op, _slices(c, x, begin, end))


def _strided_slice(c: Ctx, op) -> None:
    ins = c.ins(op, 4)
    x = c.value(ins[0])
    shape = c.shape(x)
    begin, end, strides = ([int(v) for v in np.asarray(c.const(i)).reshape(-1)] for i in ins[1:4])
    if _opts(op, "ellipsisMask", 0) or _opts(op, "newAxisMask", 0) or _opts(op, "offset", False):
        raise c.error("ellipsis_mask, new_axis_mask and offset are not supported (simple slices only)")
    if any(s != 1 for s in strides):
        raise c.error(f"strides {strides}: only stride 1 is supported")
    bm, em, sm = (int(_opts(op, f, 0)) for f in ("beginMask", "endMask", "shrinkAxisMask"))
    b2, e2 = [], []
    for i, d in enumerate(shape):
        b = 0 if bm >> i & 1 else begin[i] + (d if begin[i] < 0 else 0)
        e = d if em >> i & 1 else end[i] + (d if end[i] < 0 else 0)
        if sm >> i & 1:
            e = b + 1
        b2.append(max(0, min(b, d)))
        e2.append(max(0, min(e, d)))
    y = _slices(c, x, b2, e2)
    c.output(op, c.reshape(y, c.tensors[c.outs(op)[0]].shape))


def _pack(c: Ctx, op) -> None:
    ins = c.ins(op)
    out = c.tensors[c.outs(op)[0]].shape
    axis = int(_opts(op, "axis", 0)) % len(out)
    p = c.tensors[c.outs(op)[0]].qparams() if c.quantized else None
    parts = []
    for i in ins:
        v = c.value(i)
        v = c.requant_to(v, p) if c.tensors[i].data is None else v
        parts.append(c.reshape(v, c.shape(v)[:axis] + (1,) + c.shape(v)[axis:]))
    y = c.op("concat", parts, {"axis": axis - len(out)}) if len(parts) > 1 else parts[0]
    c.output(op, y)


def _unpack(c: Ctx, op) -> None:
    x = c.value(c.ins(op)[0])
    shape = c.shape(x)
    axis = int(_opts(op, "axis", 0)) % len(shape)
    for k in range(len(c.outs(op))):
        part = c.op("slice", [x], {"axis": axis - len(shape), "start": k, "end": k + 1})
        c.output(op, c.reshape(part, shape[:axis] + shape[axis + 1 :]), k)


def _gather(c: Ctx, op) -> None:
    """GATHER with constant indices (an embedding table lookup by fixed positions, a class-token pick)."""
    ins = c.ins(op, 2)
    x = c.value(ins[0])
    idx = np.asarray(c.const(ins[1])).astype(np.int64)
    if int(_opts(op, "batchDims", 0)) != 0:
        raise c.error("batch_dims other than 0 is not supported")
    axis = _axis(c, int(_opts(op, "axis", 0)), len(c.shape(x)))
    size = c.shape(x)[axis]
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise ModelLoadError(f"{c.where}: operator {c.k} (GATHER): an index is out of range for size {size}")
    attrs = {
        "axis": axis,
        "indices": tuple(int(i) % size for i in idx.reshape(-1)),
        "indices_shape": idx.shape,
    }
    c.output(op, c.op("gather", [x], attrs))


def _broadcast_to(c: Ctx, op) -> None:
    x = c.value(c.ins(op, 2)[0])
    c.output(op, c.op("broadcast", [x], {"shape": c.tensors[c.outs(op)[0]].shape}))


def _quantize(c: Ctx, op) -> None:
    """float -> int8 (at the input) is the identity on real values; int8 -> int8 is a requantization."""
    i = c.ins(op)[0]
    x = c.value(i)
    src, dst = c.tensors[i], c.tensors[c.outs(op)[0]]
    if src.type == "FLOAT32" or src.qparams() == dst.qparams():
        return c.bind(c.outs(op)[0], x)
    c.output(op, c.requant_to(x, dst.qparams()))


def _dequantize(c: Ctx, op) -> None:
    """int8 -> float32 (at the output) is the identity on real values; a float16 or int8 constant is
    widened when read (c.value)."""
    c.bind(c.outs(op)[0], c.value(c.ins(op)[0]))


TFLITE_OPS: dict[str, Callable[[Ctx, object], None]] = {
    "FULLY_CONNECTED": _fully_connected,
    "BATCH_MATMUL": _batch_matmul,
    "CONV_2D": lambda c, op: _conv(c, op, depthwise=False),
    "DEPTHWISE_CONV_2D": lambda c, op: _conv(c, op, depthwise=True),
    "ADD": _binary("add"),
    "SUB": _binary("sub"),
    "MUL": _binary("mul"),
    "DIV": _binary("div"),
    "SQUARED_DIFFERENCE": _squared_difference,
    "RSQRT": _unary("rsqrt"),
    "SQRT": _unary("sqrt"),
    "EXP": _unary("exp"),
    "LOG": _unary("log"),
    "LOGISTIC": _unary("sigmoid"),
    "TANH": _unary("tanh"),
    "RELU": _unary("relu"),
    "GELU": _gelu,
    "SOFTMAX": _softmax,
    "MEAN": _reduce("mean"),
    "SUM": _reduce("sum"),
    "RESHAPE": _reshape,
    "TRANSPOSE": _transpose,
    "CONCATENATION": _concatenation,
    "SLICE": _slice,
    "STRIDED_SLICE": _strided_slice,
    "GATHER": _gather,
    "BROADCAST_TO": _broadcast_to,
    "PACK": _pack,
    "UNPACK": _unpack,
    "QUANTIZE": _quantize,
    "DEQUANTIZE": _dequantize,
}
