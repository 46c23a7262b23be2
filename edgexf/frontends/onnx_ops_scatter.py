"""ScatterND and ScatterElements with constant indices (merged into ONNX_OPS): what torch.onnx's dynamo
exporter writes for in-place updates such as mambapy's parallel scan (`Xa[:, :, :, -1] = ...`).

Both are data movement: the output is the data with some positions replaced by the updates. With the
indices known at import the whole op is a fixed copy map, so it becomes two ops the IR already has:

    y = gather(concat([data, updates], axis=a), table, axis=a)

where table[j] is the position along axis a that y's slice j comes from: j itself where data stays, or
data.shape[a] + i where the update slice i lands. No new kernel and no arithmetic: float32 is exact, and
in an int8 graph data, updates and y form one group (concat and gather are moves, edgexf/compress/
quantize.py), so the codes move unchanged. The gather's C is one strided row copy per run of consecutive
table entries (edgexf/codegen/kernels.py), so no index table goes to flash.

Axis a is the first along which the map is a choice of whole slices (data and updates then agree on
every other axis); the exporters' updates always are (a select_scatter, a slice assignment). Any other
map is the same construction on the flattened tensors: exact too, but one copy call per run of elements.
Costs: the concat's buffer (data plus updates) lives until the gather has read it, and every element is
copied twice. reduction='none' only; computed indices and duplicate target positions (ONNX leaves their
order undefined) are refused.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from edgexf.frontends.onnx_import import OnnxConverter as C


def _reduction(c: C) -> None:
    reduction = c.attr("reduction", "none")
    if reduction != "none":
        raise c.refuse(f"reduction={reduction!r} (only 'none': the updates replace the data)")


def _scatter_nd(c: C, n) -> str:
    """indices (..., k) each pick a slice data[i_0, ..., i_k-1]; updates are (..., *data.shape[k:])."""
    _reduction(c)
    shape, ushape = c.shape(0), c.shape(2)
    idx = c.const_required(1, "indices").astype(np.int64)
    k = idx.shape[-1] if idx.ndim else 0
    if idx.ndim == 0 or not 1 <= k <= len(shape) or ushape != idx.shape[:-1] + shape[k:]:
        raise _shapes(c, idx, ushape, shape)
    rows = _in_range(c, idx.reshape(-1, k), np.array(shape[:k]))
    src = _ids(shape)
    ups = (src.size + np.arange(math.prod(ushape))).reshape(-1, *shape[k:])
    _no_duplicates(c, [tuple(r) for r in rows.tolist()])
    for row, u in zip(rows.tolist(), ups):
        src[tuple(row)] = u
    return _copy_map(c, src, ushape)


def _scatter_elements(c: C, n) -> str:
    """updates[i][j][k] -> data[indices[i][j][k]][j][k] (axis 0), and so on for the other axes."""
    _reduction(c)
    shape, ushape = c.shape(0), c.shape(2)
    idx = c.const_required(1, "indices").astype(np.int64)
    rank = len(shape)
    axis = c.axis(c.attr("axis", 0), rank)
    if idx.shape != ushape or idx.ndim != rank or any(i > d for i, d in zip(idx.shape, shape)):
        raise _shapes(c, idx, ushape, shape)
    idx = _in_range(c, idx, np.array(shape[axis]))
    where = list(np.indices(idx.shape))
    where[axis] = idx
    flat = np.ravel_multi_index(tuple(where), shape).reshape(-1)
    _no_duplicates(c, flat.tolist())
    src = _ids(shape).reshape(-1)
    src[flat] = src.size + np.arange(flat.size)
    return _copy_map(c, src.reshape(shape), ushape)


def _shapes(c: C, idx: np.ndarray, ushape, shape):
    return c.refuse(f"indices of shape {list(idx.shape)} and updates {list(ushape)} for data {list(shape)}")


def _ids(shape) -> np.ndarray:
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)


def _in_range(c: C, idx: np.ndarray, dims: np.ndarray) -> np.ndarray:
    """Indices with negatives counted from the end (as onnxruntime does); out of range is refused."""
    if np.any(idx < -dims) or np.any(idx >= dims):
        raise c.refuse(f"indices {idx.reshape(-1).tolist()[:8]} out of range for axes of {dims.tolist()}")
    return np.where(idx < 0, idx + dims, idx)


def _no_duplicates(c: C, targets: list) -> None:
    if len(set(targets)) != len(targets):
        raise c.refuse("two updates for one position (ONNX leaves which one wins undefined)")


def _copy_map(c: C, src: np.ndarray, ushape: tuple[int, ...]) -> str:
    """y = data with src's ids: id < data.size is that data element, else updates' element id - data.size."""
    data, updates = c.x(0), c.x(2)
    shape = src.shape
    if not src.size or not np.any(src >= src.size):  # nothing replaced
        return data
    for a in range(len(shape)):
        table = axis_table(src, ushape, a)
        if table is not None:
            return _gather_of_concat(c, data, updates, a, table)
    m = math.prod(ushape)
    table = axis_table(src.reshape(-1), (m,), 0)
    assert table is not None  # one axis: always a choice of elements
    flat = _gather_of_concat(c, c.reshape(data, (src.size,)), c.reshape(updates, (m,)), 0, table)
    return c.reshape(flat, shape)


def axis_table(src: np.ndarray, ushape: tuple[int, ...], a: int) -> list[int] | None:
    """The table along axis a of concat([data ids, update ids], a) that gives src, or None where src is not
    a choice of whole slices along a (or data and updates differ on another axis)."""
    shape = src.shape
    if len(ushape) != len(shape) or shape[:a] + shape[a + 1 :] != ushape[:a] + ushape[a + 1 :]:
        return None
    cat = np.concatenate([_ids(shape), src.size + _ids(ushape)], axis=a)
    cat_rows, src_rows = np.moveaxis(cat, a, 0).reshape(cat.shape[a], -1), np.moveaxis(src, a, 0)
    src_rows = src_rows.reshape(shape[a], -1)
    at = {int(row[0]): k for k, row in enumerate(cat_rows)}
    table = [at.get(int(row[0]), -1) for row in src_rows]
    if min(table) < 0 or not all(np.array_equal(cat_rows[k], row) for k, row in zip(table, src_rows)):
        return None
    return table


def _gather_of_concat(c: C, data: str, updates: str, a: int, table: list[int]) -> str:
    rank = len(c.shape(data))
    cat = c.op("concat", [data, updates], {"axis": a - rank})
    return c.op("gather", [cat], {"axis": a - rank, "indices": tuple(table), "indices_shape": (len(table),)})


SCATTER_ONNX_OPS: dict[str, Any] = {"ScatterND": _scatter_nd, "ScatterElements": _scatter_elements}
SCATTER_ATTRS = {"ScatterND": {"reduction"}, "ScatterElements": {"axis", "reduction"}}
