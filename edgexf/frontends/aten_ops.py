"""The aten op table of the PyTorch frontend: each aten op the compact ViT family uses maps to IR ops
(ATEN; the recurrent models' math ops are merged in from aten_math.py). A handler takes the converter
(edgexf/frontends/torch_export.py) and the op's arguments bound by schema name, and returns the IR value:
a tensor name, or a list/tuple of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from edgexf.frontends.aten_math import ATEN_MATH

if TYPE_CHECKING:  # torch_export imports this module for its table
    from edgexf.frontends.torch_export import AtenConverter


def resolve_shape(shape: list[int], numel: int) -> list[int]:
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        shape[shape.index(-1)] = numel // known
    return [int(d) for d in shape]


def _axis(dim: int, rank: int) -> int:
    """Axes are stored negative so references can run with extra leading (data set) axes."""
    return dim - rank if dim >= 0 else dim


# ---- handlers: (converter, bound arguments) -> IR value (tensor name, or list/tuple of them) ------


def _conv2d(c: AtenConverter, a: dict) -> str:
    x, w, b = a["input"], a["weight"], a.get("bias")
    if len(c.shape(x)) == 3:  # (N, C, L): a 1-D convolution (edgexf/frontends/aten_math.py)
        return ATEN["aten.conv1d.default"](c, a)
    if a.get("transposed"):
        raise c.refuse("transposed=True")
    stride, padding, dilation = (list(a.get(k) or [1]) for k in ("stride", "padding", "dilation"))
    if isinstance(a.get("padding"), str):
        if a["padding"] != "valid":
            raise c.refuse(f"padding='{a['padding']}'")
        padding = [0]
    if a.get("groups", 1) != 1 or any(d != 1 for d in dilation):
        raise c.refuse(f"groups={a.get('groups')}, dilation={dilation} (only groups=1, dilation=1)")
    if len(c.shape(x)) != 4:
        raise c.refuse(f"a {len(c.shape(x))}-D input (only 1-D convolution, NCL, and 2-D, NCHW)")
    stride, padding = (v * 2 if len(v) == 1 else v for v in (stride, padding))
    inputs = [x, w] + ([b] if b else [""])
    return c.op("conv2d", inputs, {"stride": tuple(stride), "padding": tuple(padding)})


def _linear(c: AtenConverter, a: dict) -> str:
    return c.op("linear", [a["input"], a["weight"], a.get("bias") or ""])


def _matmul(c: AtenConverter, a: dict) -> str:
    x, y = a.get("self"), a.get("other", a.get("mat2"))
    if len(c.shape(x)) < 2 or len(c.shape(y)) < 2:
        raise c.refuse("a 1-D operand (reshape to 2-D first)")
    w = c.const_value(y)
    if w is not None and w.ndim == 2:  # x @ W with constant W is a linear layer (weight (out, in))
        return c.op("linear", [x, c.b.add_const(f"{c.node.name}.weight", w.T.copy()), ""])
    return c.op("matmul", [x, y])


def _addmm(c: AtenConverter, a: dict) -> str:
    if a.get("beta", 1) != 1 or a.get("alpha", 1) != 1:
        raise c.refuse("beta or alpha other than 1")
    y = _matmul(c, {"self": a["mat1"], "mat2": a["mat2"]})
    return c.op("add", [y, a["self"]])


def _binary(type: str) -> Callable:
    def handler(c: AtenConverter, a: dict) -> str:
        x, y = a["self"], a["other"]
        if a.get("rounding_mode"):
            raise c.refuse(f"rounding_mode={a['rounding_mode']!r}")
        names = [v if isinstance(v, str) else c.scalar(float(v)) for v in (x, y)]
        if a.get("alpha", 1) != 1:
            names[1] = c.op("mul", [names[1], c.scalar(float(a["alpha"]))])
        return c.op(type, names)

    return handler


def _layer_norm(c: AtenConverter, a: dict) -> str:
    x, shape = a["input"], list(a["normalized_shape"])
    if len(shape) != 1 or shape[0] != c.shape(x)[-1]:
        raise c.refuse(f"normalized_shape={shape} (only the last axis)")
    return c.op("layernorm", [x, a.get("weight") or "", a.get("bias") or ""], {"eps": float(a["eps"])})


def _softmax(c: AtenConverter, a: dict) -> str:
    x = a["self"]
    rank = len(c.shape(x))
    dim = a["dim"] % rank
    if dim == rank - 1:
        return c.op("softmax", [x])
    perm = list(range(rank))
    perm[dim], perm[-1] = perm[-1], perm[dim]
    return c.transpose(c.op("softmax", [c.transpose(x, perm)]), perm)


def _gelu(c: AtenConverter, a: dict) -> str:
    return c.op("gelu", [a["self"]], {"approximate": a.get("approximate") or "none"})


def _mean(c: AtenConverter, a: dict) -> str:
    x, dims = a["self"], a.get("dim")
    rank = len(c.shape(x))
    dims = sorted(d % rank for d in (dims if dims else range(rank)))
    if dims != list(range(dims[0], dims[-1] + 1)):
        raise c.refuse(f"dim={dims} (only consecutive axes)")
    shape = c.shape(x)
    merged = list(shape[: dims[0]]) + [math.prod(shape[d] for d in dims)] + list(shape[dims[-1] + 1 :])
    y = c.op("mean", [c.reshape(x, merged)], {"axis": _axis(dims[0], len(merged))})
    if a.get("keepdim"):
        y = c.reshape(y, [1 if i in dims else d for i, d in enumerate(shape)])
    return y


def _flatten(c: AtenConverter, a: dict) -> str:
    x = a["self"]
    shape = list(c.shape(x))
    s, e = a.get("start_dim", 0) % len(shape), a.get("end_dim", -1) % len(shape)
    return c.reshape(x, shape[:s] + [math.prod(shape[s : e + 1])] + shape[e + 1 :])


def _unsqueeze(c: AtenConverter, a: dict) -> str:
    shape = list(c.shape(a["self"]))
    dim = a["dim"] % (len(shape) + 1)
    return c.reshape(a["self"], shape[:dim] + [1] + shape[dim:])


def _squeeze(c: AtenConverter, a: dict) -> str:
    shape = list(c.shape(a["self"]))
    dims = a.get("dim")
    dims = [dims] if isinstance(dims, int) else (dims if dims is not None else range(len(shape)))
    drop = {d % len(shape) for d in dims if shape[d % len(shape)] == 1}
    return c.reshape(a["self"], [d for i, d in enumerate(shape) if i not in drop])


def _expand(c: AtenConverter, a: dict) -> str:
    x, size = a["self"], list(a["size"])
    shape = c.shape(x)
    target = [s if s != -1 else shape[i - (len(size) - len(shape))] for i, s in enumerate(size)]
    value = c.const_value(x)
    if value is not None:  # expanding a parameter (e.g. the class token): fold it now
        return c.b.add_const(c.node.name, np.broadcast_to(value, target).copy())
    if math.prod(target) == math.prod(shape):
        return c.reshape(x, target)
    raise c.refuse(f"a non-constant input broadcast from {list(shape)} to {target}")


def _transpose(c: AtenConverter, a: dict) -> str:
    x = a["self"]
    rank = len(c.shape(x))
    perm = list(range(rank))
    if "dims" in a:
        perm = [d % rank for d in a["dims"]]
    else:
        d0, d1 = (a.get("dim0", 0) % rank, a.get("dim1", 1) % rank) if rank else (0, 0)
        perm[d0], perm[d1] = perm[d1], perm[d0]
    return c.transpose(x, perm)


def _cat(c: AtenConverter, a: dict) -> str:
    xs = [x for x in a["tensors"] if math.prod(c.shape(x)) > 0]
    if len(xs) == 1:
        return xs[0]
    rank = len(c.shape(xs[0]))
    return c.op("concat", xs, {"axis": _axis(a.get("dim", 0) % rank, rank)})


def slice_of(c: AtenConverter, x: str, dim: int, start: int, end: int) -> str:
    shape = c.shape(x)
    rank = len(shape)
    dim %= rank
    start, end, _ = slice(start, end).indices(shape[dim])
    if start == 0 and end == shape[dim]:
        return x
    return c.op("slice", [x], {"axis": _axis(dim, rank), "start": start, "end": end})


def _slice(c: AtenConverter, a: dict) -> str:
    if (a.get("step") or 1) != 1:
        raise c.refuse(f"step={a['step']} (only step 1)")
    return slice_of(c, a["self"], a.get("dim", 0), a.get("start"), a.get("end"))


def _select(c: AtenConverter, a: dict) -> str:
    x, dim = a["self"], a["dim"] % len(c.shape(a["self"]))
    index = a["index"] % c.shape(x)[dim]
    y = slice_of(c, x, dim, index, index + 1)
    return c.reshape(y, [d for i, d in enumerate(c.shape(y)) if i != dim])


def _unbind(c: AtenConverter, a: dict) -> list[str]:
    x, dim = a["self"], a.get("dim", 0) % len(c.shape(a["self"]))
    return [_select(c, {"self": x, "dim": dim, "index": i}) for i in range(c.shape(x)[dim])]


def _sdpa(c: AtenConverter, a: dict) -> str:
    if a.get("attn_mask") is not None or a.get("is_causal") or a.get("dropout_p", 0.0) != 0.0:
        raise c.refuse("attn_mask, is_causal or dropout (plain attention only)")
    q, k, v = a["query"], a["key"], a["value"]
    rank = len(c.shape(q))
    scale = a.get("scale") or 1.0 / math.sqrt(c.shape(q)[-1])
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    scores = c.op("mul", [c.op("matmul", [q, c.transpose(k, perm)]), c.scalar(scale)])
    return c.op("matmul", [c.op("softmax", [scores]), v])


def _identity(c: AtenConverter, a: dict) -> str:
    return a.get("self", a.get("input"))


ATEN: dict[str, Callable[[AtenConverter, dict], Any]] = {
    "aten.conv2d.default": _conv2d,
    "aten.convolution.default": _conv2d,
    "aten.linear.default": _linear,
    "aten.matmul.default": _matmul,
    "aten.mm.default": _matmul,
    "aten.bmm.default": _matmul,
    "aten.addmm.default": _addmm,
    "aten.add.Tensor": _binary("add"),
    "aten.sub.Tensor": _binary("sub"),
    "aten.mul.Tensor": _binary("mul"),
    "aten.div.Tensor": _binary("div"),
    "aten.layer_norm.default": _layer_norm,
    "aten.native_layer_norm.default": lambda c, a: (_layer_norm(c, a), None, None),
    "aten.softmax.int": _softmax,
    "aten._softmax.default": _softmax,
    "aten.gelu.default": _gelu,
    "aten.relu.default": lambda c, a: c.op("relu", [a["self"]]),
    "aten.mean.dim": _mean,
    "aten.flatten.using_ints": _flatten,
    "aten.view.default": lambda c, a: c.reshape(a["self"], a["size"]),
    "aten.reshape.default": lambda c, a: c.reshape(a["self"], a["shape"]),
    "aten._unsafe_view.default": lambda c, a: c.reshape(a["self"], a["size"]),
    "aten.unsqueeze.default": _unsqueeze,
    "aten.squeeze.dim": _squeeze,
    "aten.squeeze.dims": _squeeze,
    "aten.expand.default": _expand,
    "aten.transpose.int": _transpose,
    "aten.permute.default": _transpose,
    "aten.t.default": _transpose,
    "aten.cat.default": _cat,
    "aten.select.int": _select,
    "aten.slice.Tensor": _slice,
    "aten.unbind.int": _unbind,
    "aten.scaled_dot_product_attention.default": _sdpa,
    "aten.clone.default": _identity,
    "aten.contiguous.default": _identity,
    "aten.alias.default": _identity,
    "aten.detach.default": _identity,
    "aten.dropout.default": _identity,
    "aten.lift_fresh_copy.default": _identity,
    **ATEN_MATH,  # exp, silu, softplus, ..., split, chunk, conv1d: recurrent models (aten_math.py)
}
