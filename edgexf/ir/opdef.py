"""What an op type is (OpDef), and the shape helpers the op tables share (ops.py, ops_q.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgexf.ir.graph import GraphError, Op

Spec = tuple[tuple[int, ...], str]  # (shape, dtype)


@dataclass(frozen=True)
class OpDef:
    infer: Callable[[Op, list[Spec | None]], list[Spec]]
    # reference(op, input arrays, input specs) -> output arrays
    reference: Callable[[Op, list[np.ndarray | None], list[Spec | None]], list[np.ndarray]]
    macs: Callable[[Op, list[Spec | None], list[Spec]], int] = lambda op, i, o: 0
    doc: str = ""


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


def reduced_shape(op, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape after reducing op.attrs["axis"] (kept as 1 with keepdims)."""
    out = list(shape)
    if op.attrs.get("keepdims"):
        out[op.attrs["axis"]] = 1
    else:
        del out[op.attrs["axis"]]
    return tuple(out)
