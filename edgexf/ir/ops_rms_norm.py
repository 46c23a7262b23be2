"""RMSNorm in integers as the quantization pass makes it (Mamba's norms: x * rsqrt(mean(x * x) + eps) * w,
Zhang and Sennrich 2019), one op for the chain that passes/fuse_rms_norm.py finds:

    sq = q_mul(x, x)            m = q_mean(sq, -1)        r = rsqrt_table[add_table[m]]  (two q_luts)
    n1 = q_mul(x, r)            y = q_mul(n1, w)          x (..., D) int8 or int16, the rest int8

    => y = q_rms_norm(x, w, table)      table: the two tables composed, table[k] = rsqrt[add[k]]

The reference is the chain's own references composed, so a fused graph gives the unfused one's numbers
bit for bit; the kernel (firmware/kernels/quant_rms_norm.c) makes two passes over a row where the chain made
seven ops (about 1,000 instructions a 32-wide norm against 2,400).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir import kernels_q as KQ
from edgexf.ir.graph import GraphError, Op
from edgexf.ir.opdef import OpDef, Spec


def _infer(op: Op, s: list[Spec | None]):
    if len(s) != 3 or any(spec is None for spec in s):
        raise GraphError(f"{op.describe()}: takes x, w and a table")
    (x, xt), (w, wt), table = s
    if xt not in ("int8", "int16") or wt != "int8" or table != ((256,), "int8"):
        raise GraphError(f"{op.describe()}: takes int8 or int16 x, int8 w and a 256-entry int8 table")
    if int(np.prod(w)) != x[-1]:
        raise GraphError(f"{op.describe()}: w {list(w)} should hold {x[-1]} values")
    return [(x, "int8")]


def _mul(a, b, t: dict) -> np.ndarray:
    return KQ.mul_q(a, b, t["a_zp"], t["b_zp"], t["mult"], t["shift"], t["out_zp"], "int8")


def _ref(op: Op, a, s):
    x, w, table = a
    at = op.attrs
    m = at["mean"]
    sq = _mul(x, x, at["sq"])
    mean = KQ.mean_q(sq, -1, m["in_zp"], m["mult"], m["shift"], m["out_zp"])[..., None]
    r = KQ.lut_s8(mean, table)
    y = _mul(_mul(x, r, at["norm"]), w.reshape(-1), at["scale"])
    return [y]


RMS_NORM_OPS: dict[str, OpDef] = {
    "q_rms_norm": OpDef(
        _infer,
        _ref,
        doc="RMSNorm over the last axis in integers, the chain's q_mul, q_mean, two q_luts (composed) and "
        "two q_muls; inputs x, w, table",
    ),
}
