"""compare in an int8 graph: the integer form of a <cmp> b (edgexf/ir/ops_select.py), exact.

Two tensors: the quantization pass gives both one scale s and zero point z (move_groups joins them), and
since q -> s * (q - z) is increasing, comparing codes is comparing the values they stand for.

A constant threshold t: with x = s * (q - z) taken as an exact real and s > 0, x > t <=> q - z > t / s,
and for an integer q that is q > z + floor(t / s). Likewise
    x >= t <=> q >= z + ceil(t / s)      x < t  <=> q < z + ceil(t / s)
    x <= t <=> q <= z + floor(t / s)     x == t <=> q == z + t / s, never where t / s is not an integer.
t / s is evaluated exactly (fractions.Fraction of the two floats), so no rounding can move a boundary.
The integer k is then clamped to [qmin - 1, qmax + 1], which changes no result for a code in [qmin, qmax]
(k < qmin: q > k always; k > qmax: never; and so on), and an infinite t is such a k (+inf: qmax + 1).
A NaN threshold (every comparison false, but != true) is refused. The codes k are int32 constants.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from edgexf.compress.qmath import LIMITS
from edgexf.errors import QuantizationError
from edgexf.ir.graph import Op, QParams, Tensor
from edgexf.ir.ops_select import MIRROR


def threshold_code(t: float, params: QParams, dtype: str, cmp: str) -> int:
    """The integer k with (scale * (q - zero_point) <cmp> t) == (q <cmp> k) for every code q of dtype."""
    lo, hi = LIMITS[dtype]
    if math.isinf(t):
        return hi + 1 if t > 0 else lo - 1
    r = Fraction(float(t)) / Fraction(float(params.scale))
    if cmp in ("greater", "less_equal"):
        k = math.floor(r)
    elif cmp in ("greater_equal", "less"):
        k = math.ceil(r)
    else:  # equal
        k = int(r) if r.denominator == 1 else hi + 1 - params.zero_point
    return min(max(k + params.zero_point, lo - 1), hi + 1)


def quantize_compare(qz, op: Op) -> None:
    """Emit the integer compare for the float op (qz: the Quantizer of edgexf/compress/quantize.py)."""
    a, b = op.inputs
    cmp = op.attrs["cmp"]
    if qz.g.tensors[a].is_const and not qz.g.tensors[b].is_const:
        a, b, cmp = b, a, MIRROR.get(cmp, cmp)
    y = op.outputs[0]
    qz.tensors[y] = Tensor(y, qz.g.tensors[y].shape, "uint8", None, None)
    aq = qz.operand(op, a, int8=False)
    tb = qz.g.tensors[b]
    if tb.is_const:
        if np.isnan(tb.data).any():
            raise QuantizationError(f"{op.describe()}: a NaN threshold has no integer form")
        p, dtype = qz.q(aq), qz.tensors[aq].dtype
        codes = [threshold_code(float(t), p, dtype, cmp) for t in tb.data.reshape(-1)]
        bq = qz.const(f"{qz.owner(op)}.codes", np.array(codes, np.int32).reshape(tb.shape))
    else:
        bq = qz.operand(op, b, int8=False)
        if (qz.q(aq), qz.tensors[aq].dtype) != (qz.q(bq), qz.tensors[bq].dtype):
            raise QuantizationError(f"{op.describe()}: its operands have different scales")
    qz.emit("compare", op, [aq, bq], {"cmp": cmp})
