"""Ops that select or place values without computing new ones: max over an axis, the elementwise
maximum of two tensors, constant padding; and isnan, the test that the softmax guard of exported
attention makes (edgexf/frontends/onnx_ops_select.py).

Merged into OPS (edgexf/ir/ops.py) as SELECT_OPS. max, maximum and pad take float32 or integer codes
(int8, int16) alike: each output value is one of the input values (or the pad value), so an integer
tensor keeps its scale and zero point (edgexf/compress/quantize.py puts inputs and output in one group),
and since q -> scale * (q - zero_point) is increasing, the largest code is the code of the largest
value. The references spell out the C kernels' comparisons (firmware/kernels/select.c), NaN included:
max and maximum pass a NaN on, as NumPy's do.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import GraphError, Op
from edgexf.ir.opdef import OpDef, Spec, align, broadcast, reduced_shape

VALUE_TYPES = ("float32", "int8", "int16")


def _values(op: Op, specs: list[Spec | None]) -> str:
    """The one dtype of the op's operands, which must be a value type."""
    dtypes = {s[1] for s in specs if s is not None}
    if len(dtypes) != 1 or not dtypes <= set(VALUE_TYPES):
        raise GraphError(f"{op.describe()}: operands of {sorted(dtypes)}; one of {', '.join(VALUE_TYPES)}")
    return dtypes.pop()


# ---- max over one axis -----------------------------------------------------------------------------


def _max_infer(op, s):
    dtype = _values(op, s)
    if not -len(s[0][0]) <= op.attrs["axis"] < 0 or s[0][0][op.attrs["axis"]] == 0:
        raise GraphError(f"{op.describe()}: axis {op.attrs['axis']} of {list(s[0][0])} (negative, not empty)")
    return [(reduced_shape(op, s[0][0]), dtype)]


@np.errstate(all="ignore")
def max_ref(x: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
    """Mirrors exf_max_f32 / exf_max_q: m = x[0]; m = x[j] where x[j] > m or x[j] is NaN, j in order
    (so the first NaN stays: NaN > m and m > NaN are both false)."""
    xr = np.moveaxis(x, axis, -1)
    m = xr[..., 0].copy()
    for j in range(1, xr.shape[-1]):
        v = xr[..., j]
        m = np.where((v > m) | (v != v), v, m)
    return np.expand_dims(m, axis) if keepdims else m


# ---- elementwise maximum ---------------------------------------------------------------------------


def _maximum_infer(op, s):
    return [(broadcast(op, s[0][0], s[1][0]), _values(op, s))]


@np.errstate(all="ignore")
def maximum_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mirrors exf_maximum_f32 / exf_maximum_q: a where a > b or a is NaN, else b."""
    return np.where((a > b) | (a != a), a, b)


def _maximum_ref(op, a, s):
    x, y = align(a, s, max(len(s[0][0]), len(s[1][0])))
    return [maximum_ref(x, y)]


# ---- constant padding ------------------------------------------------------------------------------


def _pad_infer(op, s):
    dtype = _values(op, s)
    shape, pads = s[0][0], tuple(op.attrs["pads"])
    if s[1][0] not in ((), (1,)) or len(pads) != 2 * len(shape) or min(pads, default=0) < 0:
        raise GraphError(
            f"{op.describe()}: pads {list(pads)} (begins then ends, >= 0) of {list(shape)}, "
            f"value of shape {list(s[1][0])}"
        )
    return [(tuple(d + lo + hi for d, lo, hi in zip(shape, pads, pads[len(shape) :])), dtype)]


def _pad_ref(op, a, s):
    x, value = a
    rank, pads = len(s[0][0]), op.attrs["pads"]
    widths = [(0, 0)] * (x.ndim - rank) + list(zip(pads[:rank], pads[rank:]))
    return [np.pad(x, widths, constant_values=value.reshape(-1)[0])]


# ---- isnan -----------------------------------------------------------------------------------------


def _isnan_infer(op, s):
    if s[0][1] != "float32":
        raise GraphError(f"{op.describe()}: the input is {s[0][1]}, not float32")
    return [(s[0][0], "uint8")]


SELECT_OPS: dict[str, OpDef] = {
    "max": OpDef(
        _max_infer,
        lambda op, a, s: [max_ref(a[0], op.attrs["axis"], bool(op.attrs.get("keepdims")))],
        doc="max over one axis (negative), keepdims or not; float32 or integer codes; NaN wins",
    ),
    "maximum": OpDef(
        _maximum_infer,
        _maximum_ref,
        doc="elementwise max of a and b with broadcasting, both float32 or both the same integer codes",
    ),
    "pad": OpDef(
        _pad_infer,
        _pad_ref,
        doc="constant padding: attr pads (the begins of every axis, then the ends, >= 0); input 1 is the "
        "value (a scalar of x's dtype)",
    ),
    "isnan": OpDef(
        _isnan_infer,
        lambda op, a, s: [np.isnan(a[0]).astype(np.uint8)],
        doc="1 where x is NaN, else 0 (uint8)",
    ),
}
