"""What an op type is (OpDef), and the shape helpers the op tables share (ops.py, ops_q.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgexf.ir.graph import GraphError, Op

Spec = tuple[tuple[int, ...], str]  # (shape, dtype)
# alias(op, input specs, output specs) -> [(input index, delta)]: output 0 may be placed `delta` >= 0 bytes
# below that input (the input starting delta bytes into the output's region), overwriting it, when the
# input is dead after this op. The C kernel must guarantee it (and a test runs it with shared memory).
Alias = Callable[[Op, list["Spec | None"], list["Spec"]], list[tuple[int, int]]]
ITEMSIZE = {"float32": 4, "int8": 1, "int16": 2, "int32": 4, "uint8": 1}


@dataclass(frozen=True)
class OpDef:
    infer: Callable[[Op, list[Spec | None]], list[Spec]]
    # reference(op, input arrays, input specs) -> output arrays
    reference: Callable[[Op, list[np.ndarray | None], list[Spec | None]], list[np.ndarray]]
    macs: Callable[[Op, list[Spec | None], list[Spec]], int] = lambda op, i, o: 0
    doc: str = ""
    alias: Alias | None = None  # which input output 0 may overwrite (token overwriting)
    # scratch(op, input specs) -> bytes of working memory the kernel needs while it runs (fused ops)
    scratch: Callable[[Op, list[Spec | None]], int] | None = None
    # An elementwise float op's C kernel, exf_<op>_f32(x, y, n): its emitter is made from this name
    # (edgexf/codegen/kernels_math.py); empty where the op has an emitter of its own
    c_function: str = ""
    # An elementwise op's int8 form: the float64 function (of the dequantized codes and the op) that the
    # quantization pass tabulates into a q_lut (edgexf/ir/int8_tables.py)
    int8_table: Callable[[np.ndarray, Op], np.ndarray] | None = None


def nbytes(spec: Spec) -> int:
    return int(np.prod(spec[0], dtype=np.int64)) * ITEMSIZE[spec[1]]


def alias_rows(rows_of: Callable[[Spec], int], inputs: tuple[int, ...] = (0,)) -> Alias:
    """Kernels that finish reading row r of an input before writing row r of the output, rows in order:
    the input may lie under the output where an output row is no longer than an input row (delta 0), or
    at the output's tail where it is longer (delta = rows * (out row - in row) bytes)."""

    def alias(op, ins, outs):
        found = []
        for i in inputs:
            if i >= len(ins) or ins[i] is None:
                continue
            rows = rows_of(outs[0])
            if rows != rows_of(ins[i]) or rows == 0:
                continue
            grow = nbytes(outs[0]) // rows - nbytes(ins[i]) // rows
            found.append((i, max(0, rows * grow)))
        return found

    return alias


def _elements(spec: Spec) -> int:
    return int(np.prod(spec[0], dtype=np.int64))


def rows_of(spec: Spec) -> int:
    """Rows of a tensor for per-row kernels: every axis but the last."""
    return int(np.prod(spec[0][:-1], dtype=np.int64))


# elementwise kernels (y[i] from x[i], read before written): any input of the output's own shape
alias_elementwise = alias_rows(_elements, (0, 1))
# kernels over the last axis (LayerNorm, softmax), input 0
alias_last_axis = alias_rows(rows_of)


def same_shape_inputs(alias: Alias) -> Alias:
    """Only inputs of the output's shape (a broadcast operand is read again and again: never overwrite it)."""
    return lambda op, ins, outs: [
        (i, d) for i, d in alias(op, ins, outs) if ins[i] is not None and ins[i][0] == outs[0][0]
    ]


def broadcast(op: Op, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError as e:
        raise GraphError(f"{op.describe()}: shapes {list(a)} and {list(b)} do not broadcast") from e


def lead(x: np.ndarray, rank: int) -> tuple[int, ...]:
    """The extra leading (data set) axes of x in front of its declared rank."""
    return x.shape[: x.ndim - rank]


def align(args: list[np.ndarray], specs: list[Spec], rank: int) -> list[np.ndarray]:
    """Pad each argument's declared shape with 1s up to `rank`, behind its leading (data set) axes,
    so NumPy broadcasting pairs declared axes with declared axes."""
    out = []
    for x, (shape, _) in zip(args, specs):
        out.append(x.reshape(lead(x, len(shape)) + (1,) * (rank - len(shape)) + tuple(shape)))
    return out


def linear_macs(op, i, o):
    return int(np.prod(o[0][0])) * i[1][0][1]


def matmul_macs(op, i, o):
    return int(np.prod(o[0][0])) * i[0][0][-1]


def conv2d_macs(op, i, o):
    return int(np.prod(o[0][0])) * int(np.prod(i[1][0][1:]))


@dataclass(frozen=True)
class ConvGeometry:
    """A 2-D convolution's attributes with their defaults: stride, pads (top, left, bottom, right),
    dilation, groups. conv2d's "padding" is (ph, pw) for both sides or the four pads."""

    stride: tuple[int, int]
    pads: tuple[int, int, int, int]
    dilation: tuple[int, int]
    groups: int

    @staticmethod
    def of(op: Op) -> ConvGeometry:
        pad = tuple(int(p) for p in op.attrs["padding"])
        pads = pad if len(pad) == 4 else (pad[0], pad[1], pad[0], pad[1])
        stride = tuple(int(v) for v in op.attrs["stride"])
        dilation = tuple(int(v) for v in op.attrs.get("dilation", (1, 1)))
        return ConvGeometry(stride, pads, dilation, int(op.attrs.get("groups", 1)))

    @property
    def plain(self) -> bool:
        """No groups, no dilation, symmetric padding: what the int8 and fused kernels take."""
        pt, pl, pb, pr = self.pads
        return self.groups == 1 and self.dilation == (1, 1) and (pt, pl) == (pb, pr)

    def out_size(self, h: int, w: int, kh: int, kw: int) -> tuple[int, int]:
        (sh, sw), (pt, pl, pb, pr), (dh, dw) = self.stride, self.pads, self.dilation
        return (h + pt + pb - dh * (kh - 1) - 1) // sh + 1, (w + pl + pr - dw * (kw - 1) - 1) // sw + 1


def reduced_shape(op, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape after reducing op.attrs["axis"] (kept as 1 with keepdims)."""
    out = list(shape)
    if op.attrs.get("keepdims"):
        out[op.attrs["axis"]] = 1
    else:
        del out[op.attrs["axis"]]
    return tuple(out)
