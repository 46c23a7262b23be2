"""The kernel registry: for each IR op, the C call that computes it (one table, KERNELS).

An emitter works out every number in Python (rows, strides, byte offsets) and returns the C
statement(s) and any static const arrays it needs; the templates only print them. An op with no
entry, or an attribute combination the kernels do not cover, is refused with a message naming it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edgexf.errors import UnsupportedOpError
from edgexf.ir.graph import Graph, Op
from edgexf.ir.opdef import ConvGeometry


@dataclass
class KernelCall:
    lines: list[str]  # C statements
    statics: list[str] = field(default_factory=list)  # static const declarations they use
    functions: list[str] = field(default_factory=list)  # kernel functions called (checked to exist)


class EmitContext:
    """What an emitter needs: tensor shapes and the C expression of each tensor's address."""

    def __init__(
        self, graph: Graph, pointer: Callable[[str], str], scratch: Callable[[str], str] | None = None
    ):
        self.graph = graph
        self._pointer = pointer
        self._scratch = scratch

    def scratch(self, op: Op, ctype: str = "void") -> str:
        """The C expression of the op's working memory (a fused op's row buffer in the arena)."""
        if self._scratch is None:
            raise refuse(op, "it needs working memory and none was planned")
        return f"({ctype} *){self._scratch(op.name)}"

    def shape(self, name: str) -> tuple[int, ...]:
        return self.graph.tensors[name].shape

    def itemsize(self, name: str) -> int:
        return self.graph.tensors[name].nbytes // max(1, self.graph.tensors[name].numel)

    def ptr(self, name: str, ctype: str = "float") -> str:
        if not name:
            return "NULL"
        return f"({'const ' if self.graph.tensors[name].is_const else ''}{ctype} *){self._pointer(name)}"

    def byte_ptr(self, name: str, offset: int = 0) -> str:
        cast = "const uint8_t" if self.graph.tensors[name].is_const else "uint8_t"
        return f"(({cast} *){self._pointer(name)} + {offset})" if offset else self._pointer(name)


def refuse(op: Op, why: str) -> UnsupportedOpError:
    return UnsupportedOpError(f"no C kernel for {op.describe()}: {why}")


def static_array(op: Op, what: str, values: list[int]) -> tuple[str, str]:
    name = f"{c_ident(op.name)}_{what}"
    return name, f"static const int32_t {name}[{len(values)}] = {{{', '.join(str(v) for v in values)}}};"


def c_ident(name: str) -> str:
    """A tensor or op name as a C identifier fragment."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def c_float(v: float) -> str:
    """A float32 as a C literal that parses back to the same bits (9 significant digits)."""
    v = float(np.float32(v))
    if not math.isfinite(v):
        raise ValueError(f"cannot print {v} as a C float literal")
    s = f"{v:.9g}"
    if not any(ch in s for ch in ".en"):
        s += ".0"
    return s + "f"


def _linear(c: EmitContext, op: Op) -> KernelCall:
    x, w, b = op.inputs
    m, k = c.shape(w)
    rows = math.prod(c.shape(x)) // k
    return KernelCall(
        [f"exf_linear_f32({c.ptr(x)}, {c.ptr(w)}, {c.ptr(b)}, {c.ptr(op.outputs[0])}, {rows}, {k}, {m});"],
        functions=["exf_linear_f32"],
    )


def matmul_layout(c: EmitContext, op: Op) -> tuple[int, int, int, int, int, int]:
    """(batch, m, k, n, a_batch_stride, b_batch_stride) of a @ b, as the matmul kernels take them;
    stride 0 broadcasts an operand over the batch."""
    a, b = op.inputs
    y = c.shape(op.outputs[0])
    batch = math.prod(y[:-2])
    m, n, k = y[-2], y[-1], c.shape(a)[-1]
    strides = []
    for t, size in ((a, m * k), (b, k * n)):
        tb = math.prod(c.shape(t)[:-2])
        if tb not in (1, batch):
            raise refuse(op, f"batch axes of {list(c.shape(t))} broadcast only partly against {list(y)}")
        strides.append(size if tb == batch and batch > 1 else 0)
    return batch, m, k, n, strides[0], strides[1]


def _matmul(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    batch, m, k, n, sa, sb = matmul_layout(c, op)
    return KernelCall(
        [
            f"exf_matmul_f32({c.ptr(a)}, {c.ptr(b)}, {c.ptr(op.outputs[0])}, {batch}, {m}, {k}, "
            f"{n}, {sa}, {sb});"
        ],
        functions=["exf_matmul_f32"],
    )


def conv2d_call(c: EmitContext, op: Op, n, ch, h, wd, o, kh, kw, geo: ConvGeometry, oh, ow) -> KernelCall:
    """exf_conv2d_f32 (x, w, b, y of op) with this geometry: conv2d, and conv1d as a one-row image."""
    x, w, b = op.inputs
    (sh, sw), (pt, pl, _, _), (dh, dw) = geo.stride, geo.pads, geo.dilation
    ptrs = f"{c.ptr(x)}, {c.ptr(w)}, {c.ptr(b)}, {c.ptr(op.outputs[0])}"
    dims = f"{n}, {ch}, {h}, {wd}, {o}, {kh}, {kw}, {sh}, {sw}, {pt}, {pl}, {dh}, {dw}, {geo.groups}"
    dims += f", {oh}, {ow}"
    return KernelCall([f"exf_conv2d_f32({ptrs}, {dims});"], functions=["exf_conv2d_f32"])


def _conv2d(c: EmitContext, op: Op) -> KernelCall:
    n, ch, h, wd = c.shape(op.inputs[0])
    o, _, kh, kw = c.shape(op.inputs[1])
    return conv2d_call(c, op, n, ch, h, wd, o, kh, kw, ConvGeometry.of(op), *c.shape(op.outputs[0])[2:])


def _layernorm(c: EmitContext, op: Op) -> KernelCall:
    x, g, b = op.inputs
    d = c.shape(x)[-1]
    rows = math.prod(c.shape(x)) // d
    return KernelCall(
        [
            f"exf_layernorm_f32({c.ptr(x)}, {c.ptr(g)}, {c.ptr(b)}, {c.ptr(op.outputs[0])}, "
            f"{rows}, {d}, {c_float(op.attrs['eps'])});"
        ],
        functions=["exf_layernorm_f32"],
    )


def _softmax(c: EmitContext, op: Op) -> KernelCall:
    n = c.shape(op.inputs[0])[-1]
    rows = math.prod(c.shape(op.inputs[0])) // n
    return KernelCall(
        [f"exf_softmax_f32({c.ptr(op.inputs[0])}, {c.ptr(op.outputs[0])}, {rows}, {n});"],
        functions=["exf_softmax_f32"],
    )


def unary_emitter(fn: str) -> Callable[[EmitContext, Op], KernelCall]:
    def emit(c: EmitContext, op: Op) -> KernelCall:
        name = fn
        if op.type == "gelu":
            approx = op.attrs.get("approximate", "none")
            if approx not in ("none", "tanh"):
                raise refuse(op, f"approximate={approx!r}")
            name = "exf_gelu_tanh_f32" if approx == "tanh" else "exf_gelu_f32"
        n = math.prod(c.shape(op.inputs[0]))
        return KernelCall([f"{name}({c.ptr(op.inputs[0])}, {c.ptr(op.outputs[0])}, {n});"], functions=[name])

    return emit


def broadcast_strides(shape: tuple[int, ...], out: tuple[int, ...]) -> list[int]:
    """Element strides of a contiguous `shape` read along `out` (0 where broadcast)."""
    shape = (1,) * (len(out) - len(shape)) + tuple(shape)
    strides, acc = [0] * len(out), 1
    for i in range(len(out) - 1, -1, -1):
        strides[i] = acc if shape[i] != 1 else 0
        acc *= shape[i]
    return strides


def merge_dims(shape: list[int], strides: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """Merge neighbouring axes that every operand walks contiguously (fewer, longer loops)."""
    dims, st = [shape[0]], [[s[0]] for s in strides]
    for i in range(1, len(shape)):
        if all(s[-1] == si[i] * shape[i] for s, si in zip(st, strides)):
            dims[-1] *= shape[i]
            for s, si in zip(st, strides):
                s[-1] = si[i]
        else:
            dims.append(shape[i])
            for s, si in zip(st, strides):
                s.append(si[i])
    return dims, st


def broadcast_layout(
    c: EmitContext, op: Op, operands: list[str] | None = None
) -> tuple[list[int], list[list[int]]]:
    """y's shape and each operand's element strides (default: the op's first two inputs) for broadcasting
    them to the op's output, as 4 loops after merging contiguous axes (padded in front with 1 and 0)."""
    operands = op.inputs[:2] if operands is None else operands
    y = c.shape(op.outputs[0]) or (1,)
    dims, strides = merge_dims(list(y), [broadcast_strides(c.shape(t), y) for t in operands])
    if len(dims) > 4:
        shapes = " with ".join(str(list(c.shape(t))) for t in operands)
        raise refuse(op, f"broadcasting {shapes} needs {len(dims)} loops (max 4)")
    pad = 4 - len(dims)
    return [1] * pad + dims, [[0] * pad + st for st in strides]


def broadcast_loops(c: EmitContext, op: Op, operands: list[str] | None = None) -> tuple[str, list[str]]:
    """broadcast_layout as static arrays: the C argument list "shape, s0, s1, ..." and their
    declarations. The stride arrays are named sa, sb (two operands) or s0, s1, ..."""
    shape, strides = broadcast_layout(c, op, operands)
    names = ["sa", "sb"] if len(strides) == 2 else [f"s{i}" for i in range(len(strides))]
    statics = [static_array(op, "shape", shape)]
    statics += [static_array(op, name, st) for name, st in zip(names, strides)]
    return ", ".join(s[0] for s in statics), [s[1] for s in statics]


def _binary(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    loops, decls = broadcast_loops(c, op)
    fn = f"exf_{op.type}_f32"
    return KernelCall([f"{fn}({c.ptr(a)}, {c.ptr(b)}, {c.ptr(op.outputs[0])}, {loops});"], decls, [fn])


def reduce_axis(fn: str) -> Callable[[EmitContext, Op], KernelCall]:
    """A reduction over one axis (mean, sum): fn(x, y, outer, n, inner)."""

    def emit(c: EmitContext, op: Op) -> KernelCall:
        shape = c.shape(op.inputs[0])
        axis = op.attrs["axis"] % len(shape)
        outer, n, inner = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1 :])
        return KernelCall(
            [f"{fn}({c.ptr(op.inputs[0])}, {c.ptr(op.outputs[0])}, {outer}, {n}, {inner});"], functions=[fn]
        )

    return emit


def _transpose(c: EmitContext, op: Op) -> KernelCall:
    x = op.inputs[0]
    perm = op.attrs["perm"]
    in_strides = broadcast_strides(c.shape(x), c.shape(x))
    out_shape = [c.shape(x)[p] for p in perm]
    dims, (st,) = merge_dims(out_shape, [[in_strides[p] if c.shape(x)[p] != 1 else 0 for p in perm]])
    return _permute(c, op, dims, st, "a permutation")


def _permute(c: EmitContext, op: Op, dims: list[int], strides: list[int], what: str) -> KernelCall:
    """exf_permute of the op's input into its output: dims and element strides of the input, merged."""
    x = op.inputs[0]
    if len(dims) > 6:
        raise refuse(op, f"{what} of {len(dims)} non-mergeable axes (max 6)")
    shape_name, shape_decl = static_array(op, "shape", dims)
    strides_name, strides_decl = static_array(op, "strides", strides)
    return KernelCall(
        [
            f"exf_permute({c.byte_ptr(x)}, {c.byte_ptr(op.outputs[0])}, {c.itemsize(x)}, {len(dims)}, "
            f"{shape_name}, {strides_name});"
        ],
        [shape_decl, strides_decl],
        ["exf_permute"],
    )


def _copy(src: str, src_stride: int, dst: str, dst_stride: int, rows: int, row_bytes: int) -> str:
    return f"exf_copy_rows({src}, {src_stride}, {dst}, {dst_stride}, {rows}, {row_bytes});"


def _concat(c: EmitContext, op: Op) -> KernelCall:
    y = op.outputs[0]
    shape = c.shape(y)
    axis = op.attrs["axis"] % len(shape)
    rows = math.prod(shape[:axis])
    item = c.itemsize(y)
    dst_stride = math.prod(shape[axis:]) * item
    lines, offset = [], 0
    for x in op.inputs:
        row_bytes = math.prod(c.shape(x)[axis:]) * item
        lines.append(_copy(c.byte_ptr(x), row_bytes, c.byte_ptr(y, offset), dst_stride, rows, row_bytes))
        offset += row_bytes
    return KernelCall(lines, functions=["exf_copy_rows"])


def _slice(c: EmitContext, op: Op) -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    shape = c.shape(x)
    axis = op.attrs["axis"] % len(shape)
    inner = math.prod(shape[axis + 1 :]) * c.itemsize(x)
    row_bytes = (op.attrs["end"] - op.attrs["start"]) * inner
    return KernelCall(
        [
            _copy(
                c.byte_ptr(x, op.attrs["start"] * inner),
                shape[axis] * inner,
                c.byte_ptr(y),
                row_bytes,
                math.prod(shape[:axis]),
                row_bytes,
            )
        ],
        functions=["exf_copy_rows"],
    )


def _gather(c: EmitContext, op: Op) -> KernelCall:
    """One strided row copy per run of consecutive indices: x[:, i:i+k, ...] -> y[:, j:j+k, ...]."""
    x, y = op.inputs[0], op.outputs[0]
    shape = c.shape(x)
    axis = op.attrs["axis"] % len(shape)
    outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1 :]) * c.itemsize(x)
    idx = list(op.attrs["indices"])
    lines, j = [], 0
    while j < len(idx):
        k = 1
        while j + k < len(idx) and idx[j + k] == idx[j] + k:
            k += 1
        src, dst = c.byte_ptr(x, idx[j] * inner), c.byte_ptr(y, j * inner)
        lines.append(_copy(src, shape[axis] * inner, dst, len(idx) * inner, outer, k * inner))
        j += k
    return KernelCall(lines, functions=["exf_copy_rows"])


def _broadcast(c: EmitContext, op: Op) -> KernelCall:
    """A permute whose broadcast axes have stride 0."""
    x, y = op.inputs[0], op.outputs[0]
    dims, (st,) = merge_dims(list(c.shape(y)), [broadcast_strides(c.shape(x), c.shape(y))])
    return _permute(c, op, dims, st, "a broadcast")


def _reshape(c: EmitContext, op: Op) -> KernelCall:
    return KernelCall(
        [f"/* {op.outputs[0]} is {op.inputs[0]} viewed as {list(c.shape(op.outputs[0]))}: no code */"]
    )


MOVES = ("reshape", "transpose", "concat", "slice", "gather", "broadcast")  # any dtype: they move bytes

KERNELS: dict[str, Callable[[EmitContext, Op], KernelCall]] = {
    "linear": _linear,
    "matmul": _matmul,
    "conv2d": _conv2d,
    "layernorm": _layernorm,
    "softmax": _softmax,
    "gelu": unary_emitter("exf_gelu_f32"),
    "relu": unary_emitter("exf_relu_f32"),
    "add": _binary,
    "sub": _binary,
    "mul": _binary,
    "div": _binary,
    "mean": reduce_axis("exf_mean_f32"),
    "transpose": _transpose,
    "concat": _concat,
    "slice": _slice,
    "reshape": _reshape,
    "gather": _gather,
    "broadcast": _broadcast,
}


CHECKS_DTYPES: set[str] = set()  # op types whose emitter picks its kernel by dtype (or refuses) itself


def register(table: dict[str, Callable[[EmitContext, Op], KernelCall]], any_dtype: bool = False) -> None:
    """Add emitters for more op types (edgexf/codegen/__init__.py adds each kernel module's table);
    any_dtype: the emitters take other dtypes than float32 and check them themselves."""
    KERNELS.update(table)
    if any_dtype:
        CHECKS_DTYPES.update(table)


def emit(c: EmitContext, op: Op) -> KernelCall:
    if op.type not in KERNELS:
        raise refuse(op, f"op type {op.type!r} has no kernel; kernels exist for {', '.join(sorted(KERNELS))}")
    operands = op.inputs[1:] if op.type == "where" else op.inputs  # its condition is uint8
    dtypes = {c.graph.tensors[n].dtype for n in operands + op.outputs if n}
    if op.type not in (*MOVES, *CHECKS_DTYPES) and not op.type.startswith("q_") and dtypes != {"float32"}:
        raise refuse(op, f"dtypes {sorted(dtypes)} (only float32 kernels exist yet)")
    return KERNELS[op.type](c, op)
