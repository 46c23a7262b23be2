"""ONNX ops -> IR ops: ONNX_OPS, one handler per op_type (handler(converter, node) -> value(s)).

A handler reads its inputs through the converter (edgexf/frontends/onnx_import.py): `c.x(i)` is input i as
an IR tensor, `c.const(i)` its value when it is a constant (shapes, axes, weights). It returns an IR
tensor name, a NumPy array (a constant: Shape), or a list of them (Split). Nodes whose inputs are all
constants never get here: they are evaluated at import (onnx_fold.py). Attributes not listed in
KNOWN_ATTRS are refused by name. The layer ops (MatMul, Gemm, Conv, normalization, softmax,
reductions) are in onnx_ops_nn.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx

from edgexf.frontends.onnx_import import ints
from edgexf.frontends.onnx_ops_nn import NN_ATTRS, NN_OPS
from edgexf.frontends.onnx_ops_select import SELECT_ATTRS, SELECT_ONNX_OPS

if TYPE_CHECKING:
    from edgexf.frontends.onnx_import import OnnxConverter as C


# ---- elementwise ----------------------------------------------------------------------------------


def _unary(type: str, attrs: dict | None = None) -> Callable[[C, Any], str]:
    return lambda c, n: c.op(type, [c.x(0)], attrs)


def _binary(type: str) -> Callable[[C, Any], str]:
    return lambda c, n: c.op(type, [c.x(0), c.x(1)])


def _sum(c: C, n) -> str:
    """Variadic Sum (broadcasting): a chain of adds, left to right."""
    y = c.x(0)
    for i in range(1, len(n.input)):
        y = c.op("add", [y, c.x(i)])
    return y


def _pow(c: C, n) -> str:
    e = c.const(1)
    if e is None or e.size == 0 or not np.all(e == e.reshape(-1)[0]):
        raise c.refuse("a computed or non-uniform exponent (only a constant 2, 3, 0.5, -0.5, 1 or -1)")
    x, p = c.x(0), float(e.reshape(-1)[0])
    if p == 2:
        y = c.op("mul", [x, x])
    elif p == 3:
        y = c.op("mul", [c.op("mul", [x, x]), x])
    elif p == 0.5:
        y = c.op("sqrt", [x])
    elif p == -0.5:
        y = c.op("rsqrt", [x])
    elif p == 1:
        y = x
    elif p == -1:
        y = c.op("div", [c.scalar(1.0), x])
    else:
        raise c.refuse(f"exponent {p} (only 2, 3, 0.5, -0.5, 1 and -1; write other powers as products)")
    return c.reshape(y, np.broadcast_shapes(c.shape(x), e.shape))  # a (1, 1) exponent adds axes


def _where(c: C, n) -> str:
    cond = c.const(0)
    if cond is None:  # computed: a uint8 tensor (IsNaN's output; ONNX bool)
        if c.b.tensor(c.x(0)).dtype != "uint8":
            raise c.refuse(f"a {c.b.tensor(c.x(0)).dtype} condition (only bool)")
        return c.op("where", [c.x(0), c.x(1), c.x(2)])
    shape = np.broadcast_shapes(cond.shape, c.shape(1), c.shape(2))
    if cond.all() or not cond.any():  # one branch only: no select needed
        return broadcast_to(c, c.x(1 if cond.all() else 2), shape)
    mask = c.b.add_const(f"{c.name()}.mask", (cond != 0).astype(np.uint8))
    return c.op("where", [mask, c.x(1), c.x(2)])


def broadcast_to(c: C, x: str, shape) -> str:
    shape = tuple(int(d) for d in shape)
    if c.shape(x) == shape:
        return x
    if math.prod(c.shape(x)) == math.prod(shape):
        return c.reshape(x, shape)
    return c.op("broadcast", [x], {"shape": shape})


def _expand(c: C, n) -> str:
    x = c.x(0)
    shape = ints(c.const_required(1, "shape"))
    return broadcast_to(c, x, np.broadcast_shapes(c.shape(x), tuple(shape)))


def _cumsum(c: C, n) -> str:
    x = c.x(0)
    axis = c.axis(ints(c.const_required(1, "axis"))[0], len(c.shape(x)))
    attrs = {"axis": axis - len(c.shape(x)), "exclusive": bool(c.attr("exclusive", 0))}
    return c.op("cumsum", [x], attrs | {"reverse": bool(c.attr("reverse", 0))})


# ---- shapes and data movement ------------------------------------------------------------------------


def _reshape(c: C, n) -> str:
    x = c.x(0)
    shape, target = c.shape(x), ints(c.const_required(1, "shape"))
    allowzero = c.attr("allowzero", 0)
    out = [shape[i] if d == 0 and not allowzero and i < len(shape) else d for i, d in enumerate(target)]
    if out.count(-1) > 1 or any(d < -1 for d in out):
        raise c.refuse(f"shape {target}")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or math.prod(shape) % known:
            raise c.refuse(f"shape {target} for an input of shape {list(shape)}")
        out[out.index(-1)] = math.prod(shape) // known
    if math.prod(out) != math.prod(shape):
        raise c.refuse(f"shape {target} for an input of shape {list(shape)}")
    return c.reshape(x, out)


def _transpose(c: C, n) -> str:
    x = c.x(0)
    rank = len(c.shape(x))
    perm = c.attr("perm") or list(range(rank))[::-1]
    if sorted(perm) != list(range(rank)):
        raise c.refuse(f"perm {perm} for {rank} axes")
    return c.transpose(x, list(perm))


def _concat(c: C, n) -> str:
    names = [c.x(i) for i in range(c.n_inputs()) if c.has(i)]
    rank = len(c.shape(names[0]))
    axis = c.axis(c.attr("axis"), rank)
    names = [t for t in names if c.shape(t)[axis] != 0] or names[:1]
    return names[0] if len(names) == 1 else c.op("concat", names, {"axis": axis - rank})


def slice_of(c: C, x: str, axis: int, start: int, end: int) -> str:
    """x[start:end] along axis (0..rank-1), after Python's clamping; the whole axis: x itself."""
    shape = c.shape(x)
    start, end, _ = slice(start, end).indices(shape[axis])
    if end <= start:
        raise c.refuse(f"an empty slice [{start}:{end}] of axis {axis} (size {shape[axis]})")
    if (start, end) == (0, shape[axis]):
        return x
    return c.op("slice", [x], {"axis": axis - len(shape), "start": start, "end": end})


def _slice(c: C, n) -> str:
    y = c.x(0)
    rank = len(c.shape(y))
    starts, ends = ints(c.const_required(1, "starts")), ints(c.const_required(2, "ends"))
    axes = ints(c.const_required(3, "axes")) if c.has(3) else list(range(len(starts)))
    steps = ints(c.const_required(4, "steps")) if c.has(4) else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise c.refuse(f"starts {starts}, ends {ends}, axes {axes}, steps {steps} of different lengths")
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = c.axis(axis, rank)
        if step == 1:
            y = slice_of(c, y, axis, start, end)
            continue
        if step == 0:
            raise c.refuse("step 0")
        # another step (mambapy's scan, a reversal): a gather of the indices Python's slice picks, which
        # clamps start and end as ONNX does for either sign of step
        idx = tuple(range(*slice(start, end, step).indices(c.shape(y)[axis])))
        if not idx:
            raise c.refuse(f"an empty slice [{start}:{end}:{step}] of axis {axis} (size {c.shape(y)[axis]})")
        y = c.op("gather", [y], {"axis": axis - rank, "indices": idx, "indices_shape": (len(idx),)})
    return y


def _split(c: C, n) -> list[str]:
    x = c.x(0)
    shape = c.shape(x)
    axis = c.axis(c.attr("axis", 0), len(shape))
    dim, count = shape[axis], c.attr("num_outputs") or len(n.output)
    sizes = ints(c.const_required(1, "split")) if c.has(1) else c.attr("split")
    if not sizes:
        if c.attr("num_outputs") is None and dim % count:
            raise c.refuse(f"{count} equal pieces of an axis of {dim}")
        size = -(-dim // count)
        sizes = [min(size, dim - s) for s in range(0, dim, size)] if size else []
    if sum(sizes) != dim or len(sizes) != len(n.output) or any(s < 0 for s in sizes):
        raise c.refuse(f"split {list(sizes)} of an axis of {dim} into {len(n.output)} outputs")
    starts = np.cumsum([0, *sizes[:-1]]).tolist()
    return [
        slice_of(c, x, axis, s, s + k) if c.output_used(i) else ""
        for i, (s, k) in enumerate(zip(starts, sizes))
    ]


def _gather(c: C, n) -> str:
    x = c.x(0)
    shape = c.shape(x)
    axis = c.axis(c.attr("axis", 0), len(shape))
    idx = c.const_required(1, "indices").astype(np.int64)
    dim = shape[axis]
    if idx.size == 0 or idx.min() < -dim or idx.max() >= dim:
        raise c.refuse(f"indices {idx.reshape(-1).tolist()[:8]} for an axis of size {dim}")
    idx = np.where(idx < 0, idx + dim, idx)
    flat = idx.reshape(-1)
    out_shape = shape[:axis] + idx.shape + shape[axis + 1 :]
    if idx.ndim <= 1 and np.array_equal(flat, np.arange(flat[0], flat[0] + flat.size)):  # a slice
        return c.reshape(slice_of(c, x, axis, int(flat[0]), int(flat[0]) + flat.size), out_shape)
    attrs = {"axis": axis - len(shape), "indices": tuple(flat.tolist()), "indices_shape": idx.shape}
    return c.op("gather", [x], attrs)


def _axes(c: C) -> list[int] | None:
    return ints(c.const_required(1, "axes")) if c.has(1) else c.attr("axes")


def _squeeze(c: C, n) -> str:
    x = c.x(0)
    shape = c.shape(x)
    axes = _axes(c)
    drop = {c.axis(a, len(shape)) for a in axes} if axes else {i for i, d in enumerate(shape) if d == 1}
    if any(shape[a] != 1 for a in drop):
        raise c.refuse(f"axes {sorted(drop)} of shape {list(shape)} (squeezed axes must have size 1)")
    return c.reshape(x, [d for i, d in enumerate(shape) if i not in drop])


def _unsqueeze(c: C, n) -> str:
    x = c.x(0)
    shape = list(c.shape(x))
    axes = _axes(c) or []
    rank = len(shape) + len(axes)
    new = {c.axis(a, rank) for a in axes}
    if len(new) != len(axes):
        raise c.refuse(f"repeated axes {axes}")
    it = iter(shape)
    return c.reshape(x, [1 if i in new else next(it) for i in range(rank)])


def _flatten(c: C, n) -> str:
    x = c.x(0)
    shape = c.shape(x)
    axis = c.attr("axis", 1)
    if not -len(shape) <= axis <= len(shape):
        raise c.refuse(f"axis {axis} for {len(shape)} axes")
    axis += len(shape) if axis < 0 else 0
    return c.reshape(x, [math.prod(shape[:axis]), math.prod(shape[axis:])])


# ---- bookkeeping -----------------------------------------------------------------------------------


def _identity(c: C, n):
    return c.value(0)


def _dropout(c: C, n):
    training = c.const(2)
    if c.has(2) and (training is None or bool(training.reshape(-1)[0])):
        raise c.refuse("training_mode on (inference only)")
    if c.output_used(1):
        raise c.refuse("its mask output used")
    return c.value(0)


def _shape(c: C, n) -> np.ndarray:
    shape = c.shape(0)
    start, end = c.attr("start", 0), c.attr("end", len(shape))
    return np.array(shape[slice(start, end)], dtype=np.int64)


def _cast(c: C, n):
    if c.attr("to") != onnx.TensorProto.FLOAT:
        raise c.refuse(f"to={c.attr('to')} on a computed tensor (only float32 is computed)")
    return c.value(0)


def _cast_like(c: C, n):
    like = c.value(1)
    dtype = like.dtype if isinstance(like, np.ndarray) else np.dtype(c.b.tensor(like).dtype)
    if dtype != np.float32:
        raise c.refuse(f"a {dtype} target on a computed tensor (only float32 is computed)")
    return c.value(0)


def _constant(c: C, n):
    from edgexf.frontends.onnx_fold import fold_node

    return fold_node(n, [], c.opset)


ONNX_OPS: dict[str, Callable[[C, Any], Any]] = {
    **NN_OPS,  # MatMul, Gemm, Conv, LayerNormalization, Softmax, Gelu, ReduceMean/Sum/Max (onnx_ops_nn.py)
    **SELECT_ONNX_OPS,  # IsNaN, Max, Pad (onnx_ops_select.py)
    "Add": _binary("add"),
    "Sub": _binary("sub"),
    "Mul": _binary("mul"),
    "Div": _binary("div"),
    "Sum": _sum,
    "Pow": _pow,
    "Sqrt": _unary("sqrt"),
    "Reciprocal": lambda c, n: c.op("div", [c.scalar(1.0), c.x(0)]),
    "Neg": lambda c, n: c.op("mul", [c.x(0), c.scalar(-1.0)]),
    "Erf": _unary("erf"),
    "Tanh": _unary("tanh"),
    "Sigmoid": _unary("sigmoid"),
    "Exp": _unary("exp"),
    "Log": _unary("log"),
    "Softplus": _unary("softplus", {"beta": 1.0, "threshold": 20.0}),
    "Relu": _unary("relu"),
    "Where": _where,
    "Expand": _expand,
    "CumSum": _cumsum,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Concat": _concat,
    "Slice": _slice,
    "Split": _split,
    "Gather": _gather,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Flatten": _flatten,
    "Identity": _identity,
    "Dropout": _dropout,
    "Shape": _shape,
    "Size": lambda c, n: np.array(math.prod(c.shape(0)), dtype=np.int64),
    "Cast": _cast,
    "CastLike": _cast_like,
    "Constant": _constant,
}

_CONSTANT = {
    "value",
    "value_float",
    "value_floats",
    "value_int",
    "value_ints",
    "value_string",
    "value_strings",
}
KNOWN_ATTRS: dict[str, set[str]] = {
    **NN_ATTRS,
    **SELECT_ATTRS,
    "Softplus": set(),
    "CumSum": {"exclusive", "reverse"},
    "Reshape": {"allowzero"},
    "Transpose": {"perm"},
    "Concat": {"axis"},
    "Split": {"axis", "num_outputs", "split"},
    "Gather": {"axis"},
    "Squeeze": {"axes"},
    "Unsqueeze": {"axes"},
    "Flatten": {"axis"},
    "Dropout": {"seed"},
    "Shape": {"start", "end"},
    "Cast": {"to", "saturate", "round_mode"},
    "CastLike": {"saturate", "round_mode"},
    "Constant": _CONSTANT | {"sparse_value"},
}
