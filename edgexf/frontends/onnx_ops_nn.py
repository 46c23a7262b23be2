"""The ONNX layer ops (merged into ONNX_OPS): MatMul, Gemm, Conv -> linear, matmul, conv2d, conv1d;
LayerNormalization, Softmax, Gelu, ReduceMean, ReduceSum, ReduceMax -> layernorm, softmax, gelu, mean,
sum, max.

A constant 2-D right operand makes a `linear` (weight stored (out, in), as torch's); the bias Add that
follows it is folded in by edgexf/passes/recognize.py. Conv covers 1-D and 2-D, groups (depthwise),
dilations, strides, pads (asymmetric too) and every auto_pad.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from edgexf.frontends.onnx_import import ints

if TYPE_CHECKING:
    from edgexf.frontends.onnx_import import OnnxConverter as C


def _matmul(c: C, n) -> str:
    w = c.const(1)
    a = c.x(0)
    sa = c.shape(a)
    if w is not None and w.ndim == 2 and w.dtype == np.float32 and len(sa) >= 1:
        x = c.reshape(a, (1, *sa)) if len(sa) == 1 else a
        y = c.op("linear", [x, c.b.add_const(f"{c.name()}.weight", w.T.copy()), ""])
        return c.reshape(y, sa[:-1] + (w.shape[1],))
    b = c.x(1)
    sb = c.shape(b)
    if not sa or not sb:
        raise c.refuse("a 0-D operand")
    x = c.reshape(a, (1, *sa)) if len(sa) == 1 else a
    y = c.reshape(b, (*sb, 1)) if len(sb) == 1 else b
    batch = np.broadcast_shapes(c.shape(x)[:-2], c.shape(y)[:-2])
    x, y = (_full_batch(c, t, batch) for t in (x, y))
    out = c.op("matmul", [x, y])
    shape = c.shape(out)
    if len(sa) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(sb) == 1:
        shape = shape[:-1]
    return c.reshape(out, shape)


def _full_batch(c: C, t: str, batch: tuple[int, ...]) -> str:
    """t with its batch axes materialized to `batch` where it broadcasts only partly (the matmul kernel
    steps through an operand's batch or repeats one matrix, nothing in between)."""
    own = c.shape(t)[:-2]
    if math.prod(own) in (1, math.prod(batch)):
        return t
    return c.op("broadcast", [t], {"shape": (*batch, *c.shape(t)[-2:])})


def _gemm(c: C, n) -> str:
    alpha, beta = float(c.attr("alpha", 1.0)), float(c.attr("beta", 1.0))
    a = c.x(0)
    if len(c.shape(a)) != 2:
        raise c.refuse(f"A of shape {list(c.shape(a))} (Gemm takes 2-D A and B)")
    if c.attr("transA", 0):
        a = c.transpose(a, [1, 0])
    w, bias_c = c.const(1), c.const(2)
    if w is not None and w.ndim == 2 and w.dtype == np.float32:
        w = (w if c.attr("transB", 0) else w.T) * np.float32(alpha)  # (N, K), as linear takes it
        bias = ""
        if bias_c is not None and bias_c.dtype == np.float32 and bias_c.size in (1, w.shape[0]):
            if bias_c.ndim <= 1 or bias_c.shape[0] == 1:  # one bias per output column
                bias_c = np.broadcast_to(bias_c.reshape(-1) * np.float32(beta), (w.shape[0],))
                bias = c.b.add_const(f"{c.name()}.bias", bias_c)
        y = c.op("linear", [a, c.b.add_const(f"{c.name()}.weight", np.ascontiguousarray(w)), bias])
        if bias or not c.has(2):
            return y
    else:
        b = c.x(1)
        if len(c.shape(b)) != 2:
            raise c.refuse(f"B of shape {list(c.shape(b))} (Gemm takes 2-D A and B)")
        y = c.op("matmul", [a, c.transpose(b, [1, 0]) if c.attr("transB", 0) else b])
        if alpha != 1:
            y = c.op("mul", [y, c.scalar(alpha)])
        if not c.has(2):
            return y
    cc = c.x(2)
    if beta != 1:
        cc = c.op("mul", [cc, c.scalar(beta)])
    return c.op("add", [y, cc])


def _same_pads(size: int, k: int, stride: int, dilation: int, lower: bool) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    small, big = total // 2, total - total // 2
    return (big, small) if lower else (small, big)


def _conv(c: C, n) -> str:
    x = c.x(0)
    shape = c.shape(x)
    w = c.const_required(1, "weight")
    spatial = len(shape) - 2
    if spatial not in (1, 2) or w.ndim != len(shape):
        raise c.refuse(f"input {list(shape)}, weight {list(w.shape)} (only 1-D NCL and 2-D NCHW)")
    k = list(w.shape[2:])
    if c.attr("kernel_shape") not in (None, k):
        raise c.refuse(f"kernel_shape {c.attr('kernel_shape')} for a weight of shape {list(w.shape)}")
    strides = list(c.attr("strides") or [1] * spatial)
    dilations = list(c.attr("dilations") or [1] * spatial)
    groups = int(c.attr("group", 1))
    pads = list(c.attr("pads") or [0] * 2 * spatial)
    auto_pad = c.attr("auto_pad", "NOTSET")
    if len(strides) != spatial or len(dilations) != spatial or len(pads) != 2 * spatial:
        raise c.refuse(f"strides {strides}, dilations {dilations}, pads {pads} for a {spatial}-D convolution")
    if min(strides + dilations) < 1 or min(pads) < 0 or groups < 1:
        raise c.refuse(f"strides {strides}, dilations {dilations}, pads {pads}, group {groups}")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        both = [
            _same_pads(shape[2 + i], k[i], strides[i], dilations[i], auto_pad == "SAME_LOWER")
            for i in range(spatial)
        ]
        pads = [b for b, _ in both] + [e for _, e in both]
    elif auto_pad == "VALID":
        pads = [0] * 2 * spatial
    elif auto_pad != "NOTSET":
        raise c.refuse(f"auto_pad={auto_pad!r}")
    if shape[1] % groups or w.shape[0] % groups or w.shape[1] * groups != shape[1]:
        raise c.refuse(f"group {groups} with input {list(shape)} and weight {list(w.shape)}")
    for i in range(spatial):
        if shape[2 + i] + pads[i] + pads[spatial + i] < (k[i] - 1) * dilations[i] + 1:
            raise c.refuse(f"a kernel {k} larger than the padded input {list(shape)}")
    inputs = [x, c.x(1), c.x(2)]
    if spatial == 2:
        padding = tuple(pads[:2]) if pads[:2] == pads[2:] else tuple(pads)
        attrs = {"stride": tuple(strides), "padding": padding}
        if groups != 1 or dilations != [1, 1]:
            attrs |= {"groups": groups, "dilation": tuple(dilations)}
        return c.op("conv2d", inputs, attrs)
    padding = pads[0] if pads[0] == pads[1] else tuple(pads)
    attrs = {"stride": strides[0], "padding": padding, "groups": groups}
    return c.op("conv1d", inputs, attrs | ({"dilation": dilations[0]} if dilations != [1] else {}))


# ---- normalization, softmax, reductions ------------------------------------------------------------


def _reduce(type: str) -> Callable[[C, Any], str]:
    def handler(c: C, n) -> str:
        x = c.x(0)
        shape = c.shape(x)
        rank = len(shape)
        axes = ints(c.const_required(1, "axes")) if c.has(1) else c.attr("axes")
        if not axes and c.attr("noop_with_empty_axes", 0):
            return x
        if rank == 0:
            raise c.refuse("a 0-D input")
        dims = sorted({c.axis(a, rank) for a in (axes or range(rank))})
        if dims != list(range(dims[0], dims[-1] + 1)):
            raise c.refuse(f"axes {dims} (only consecutive axes)")
        keep = bool(c.attr("keepdims", 1))
        kept = [1 if i in dims else d for i, d in enumerate(shape)]
        if len(dims) == 1:
            return c.op(type, [x], {"axis": dims[0] - rank, "keepdims": keep})
        merged = list(shape[: dims[0]]) + [math.prod(shape[d] for d in dims)] + list(shape[dims[-1] + 1 :])
        y = c.op(type, [c.reshape(x, merged)], {"axis": dims[0] - len(merged), "keepdims": False})
        return c.reshape(y, kept) if keep else y

    return handler


def _layer_norm(c: C, n) -> str | list[str]:
    x = c.x(0)
    shape = c.shape(x)
    axis = c.axis(c.attr("axis", -1), len(shape))
    d = math.prod(shape[axis:])
    if c.attr("stash_type", 1) != 1:
        raise c.refuse(f"stash_type={c.attr('stash_type')} (statistics in float32 only)")
    params = []
    for i, what in ((1, "scale"), (2, "bias")):
        if not c.has(i):
            params.append("")
            continue
        p = c.const_required(i, what)
        if p.dtype != np.float32:
            raise c.refuse(f"a {p.dtype} {what}")
        p = np.broadcast_to(p, shape[axis:]).reshape(d)  # per element of the normalized axes
        params.append(c.b.add_const(f"{c.name()}.{what}", p))
    rows = c.reshape(x, shape[:axis] + (d,))
    eps = float(c.attr("epsilon", 1e-5))
    y = c.reshape(c.op("layernorm", [rows, *params], {"eps": eps}), shape)
    if not (c.output_used(1) or c.output_used(2)):
        return y
    # the statistics as outputs too (training graphs keep them): computed again beside the fused kernel,
    # as ONNX defines them, of shape (d0, .., d(axis-1), 1, .., 1)
    kept = shape[:axis] + (1,) * (len(shape) - axis)
    mean = c.op("mean", [rows], {"axis": -1, "keepdims": True})
    diff = c.op("sub", [rows, mean])
    var = c.op("mean", [c.op("mul", [diff, diff])], {"axis": -1, "keepdims": True})
    inv = c.op("rsqrt", [c.op("add", [var, c.scalar(eps)])])
    return [y, c.reshape(mean, kept), c.reshape(inv, kept)]


def _softmax(c: C, n) -> str:
    x = c.x(0)
    rank = len(c.shape(x))
    axis = c.axis(c.attr("axis", -1), rank)
    if axis == rank - 1:
        return c.op("softmax", [x])
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return c.transpose(c.op("softmax", [c.transpose(x, perm)]), perm)


def _gelu(c: C, n) -> str:
    approximate = c.attr("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise c.refuse(f"approximate={approximate!r}")
    return c.op("gelu", [c.x(0)], {"approximate": approximate})


NN_OPS = {
    "MatMul": _matmul,
    "Gemm": _gemm,
    "Conv": _conv,
    "ReduceMean": _reduce("mean"),
    "ReduceSum": _reduce("sum"),
    "ReduceMax": _reduce("max"),
    "LayerNormalization": _layer_norm,
    "Softmax": _softmax,
    "Gelu": _gelu,
}
_REDUCE = {"axes", "keepdims", "noop_with_empty_axes"}
NN_ATTRS = {
    "Gemm": {"alpha", "beta", "transA", "transB"},
    "Conv": {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"},
    "ReduceMean": _REDUCE,
    "ReduceSum": _REDUCE,
    "ReduceMax": _REDUCE,
    "LayerNormalization": {"axis", "epsilon", "stash_type"},
    "Softmax": {"axis"},
    "Gelu": {"approximate"},
}
