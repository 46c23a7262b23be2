"""The selective scan of Mamba's step (Gu and Dao 2023, Algorithm 2), one op for the elementwise chain
that passes/fuse_scan.py finds in the exported step graph:

    dA  = exp(dt A)                   dt (E,), A (E, N)                  (E, N)
    h'  = dA * h + (dt * x) B         x (E,), B (N,), h (E, N)           (E, N), the next state
    y   = sum_n h' C + x D            C (N,), D (E,)                     (E,)

inputs [x, dt, A, B, C, D, h] (leading 1s allowed: (1, E), (1, 1, N), ...), outputs [h', y]. The kernel
makes one pass over E x N per step and may write h' over h (element (e, n) is read before written).

The float32 reference is the chain's own references composed, in the chain's order, so a fused graph
gives the numbers of the unfused one bit for bit (exf_selective_scan_f32: the chain's exf_expf, products
and sum in index order). The integer form is its own arithmetic, made from the chain's scales by the pass:
the chain requantized every one of its seven steps to int8 or int16 (about 80 instructions per state
element fused, bit-exact with the chain); here dA's int8 index is the chain's, its exp a Q15 table (the
chain's: 8 bits), h' one rounding of dA h + dt x B, y one requantization of C . h' + D x. Mamba MNIST,
1000 test sequences: 97.7% (the chain 96.8%, float 97.5%).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir import kernels_math_ref as KM
from edgexf.ir import kernels_q as KQ
from edgexf.ir import kernels_ref as K
from edgexf.ir.graph import GraphError, Op
from edgexf.ir.opdef import ITEMSIZE, OpDef, Spec, lead

INT8_INPUTS = (0, 1, 2, 3, 4, 5)  # x, dt, A, B, C, D (h: int16, the state)


def _dims(op: Op, s: list[Spec | None]) -> tuple[int, int]:
    """(E, N) from h, after checking every operand's element count."""
    if any(spec is None for spec in s[:7]):
        raise GraphError(f"{op.describe()}: takes x, dt, A, B, C, D and h, all present")
    h = s[6][0]
    if len(h) < 2:
        raise GraphError(f"{op.describe()}: the state h {list(h)} must be (..., E, N)")
    e, n = h[-2], h[-1]
    want = {0: e, 1: e, 2: e * n, 3: n, 4: n, 5: e}
    for i, count in want.items():
        if int(np.prod(s[i][0])) != count:
            shape = list(s[i][0])
            raise GraphError(f"{op.describe()}: input {i} {shape} should hold {count} values (E={e}, N={n})")
    return e, n


def _scan_infer(op: Op, s):
    e, n = _dims(op, s)
    h_shape = s[6][0]
    y_shape = tuple(op.attrs.get("y_shape", h_shape[:-1]))
    if op.type == "selective_scan":
        if any(spec[1] != "float32" for spec in s[:7]):
            raise GraphError(f"{op.describe()}: float32 operands only")
        return [(h_shape, "float32"), (y_shape, "float32")]
    for i in INT8_INPUTS:
        if s[i][1] != "int8":
            raise GraphError(f"{op.describe()}: input {i} is {s[i][1]}, this op takes int8")
    if s[6][1] != "int16" or s[7] is None or s[7] != ((256,), "int16"):
        raise GraphError(f"{op.describe()}: takes an int16 state and a 256-entry int16 (Q15) exp table")
    return [(h_shape, "int16"), (y_shape, op.attrs["y"]["dtype"])]


def _operands(a: list[np.ndarray], s: list[Spec | None], e: int, n: int) -> list[np.ndarray]:
    """x, dt (..., E, 1), A (E, N), B, C (..., 1, N), D (E, 1), h (..., E, N): the chain's layout."""
    shapes = [(e, 1), (e, 1), (e, n), (1, n), (1, n), (e, 1), (e, n)]
    return [x.reshape(lead(x, len(spec[0])) + shape) for x, spec, shape in zip(a, s, shapes)]


def _scan_ref(op: Op, a, s):
    e, n = _dims(op, s)
    x, dt, A, B, C, D, h = _operands(a[:7], s, e, n)
    if op.type == "selective_scan":
        h2 = K.add_f32(K.mul_f32(KM.exp_f32(K.mul_f32(dt, A)), h), K.mul_f32(K.mul_f32(dt, x), B))
        y = K.add_f32(KM.sum_f32(K.mul_f32(h2, C), -1), K.mul_f32(x, D)[..., 0])
    else:
        h2, y = _q15_scan(op.attrs, x, dt, A, B, C, D, h, a[7])
    return [h2.reshape(lead(h2, 2) + s[6][0]), y.reshape(lead(y, 1) + _scan_infer(op, s)[1][0])]


def _q15_scan(at: dict, x, dt, A, B, C, D, h, table) -> tuple[np.ndarray, np.ndarray]:
    """q_selective_scan's integers (int64; the C kernel's the same values): the chain's int8 index of
    dt A into a Q15 exp table; w = dt x per row in Q15 of h per code of B (int32, saturated);
    h' = (dA h + w (B - zp) + 2^14) >> 15 saturated to int16, one rounding; y = h' . (C - zp) and x D
    in one add."""
    i64 = np.int64
    z = at["zp"]
    m = at["dA"]
    idx = KQ.mul_q(dt, A, m["a_zp"], m["b_zp"], m["mult"], m["shift"], m["out_zp"], np.int8)
    dA = np.asarray(table, i64)[idx.astype(i64) + 128]  # Q15, in [0, 32767]
    u = (dt.astype(i64) - z["dt"]) * (x.astype(i64) - z["x"])  # (..., E, 1)
    w = np.clip(KQ.requantize(u, at["dBx"]["mult"], at["dBx"]["shift"]), -(2**31), 2**31 - 1)
    h2 = KQ.clamp((dA * h.astype(i64) + w * (B.astype(i64) - z["B"]) + (1 << 14)) >> 15, np.int16)
    acc = (h2.astype(i64) * (C.astype(i64) - z["C"])).sum(axis=-1)  # (..., E)
    xd = ((x.astype(i64) - z["x"]) * (D.astype(i64) - z["D"]))[..., 0]
    t = at["y"]
    y = KQ.add_q(acc, xd, 0, 0, t["ma"], t["mb"], t["shift"], t["out_zp"], t["dtype"])
    return h2, y


def _scan_alias(op, ins, outs):
    """h' may be written over h (same shape and element size; (e, n) is read before it is written)."""
    h = ins[6] if len(ins) > 6 else None
    return [(6, 0)] if h is not None and h[0] == outs[0][0] and ITEMSIZE[h[1]] == ITEMSIZE[outs[0][1]] else []


def _scan_macs(op, i, o):
    h = o[0][0]
    return 3 * int(np.prod(h))  # dA h, dtx B, h' C per state element


SCAN_OPS: dict[str, OpDef] = {
    "selective_scan": OpDef(
        _scan_infer,
        _scan_ref,
        _scan_macs,
        "Mamba's step: h' = exp(dt A) h + (dt x) B, y = C . h' + D x; inputs x, dt, A, B, C, D, h",
        alias=_scan_alias,
    ),
    "q_selective_scan": OpDef(
        _scan_infer,
        _scan_ref,
        _scan_macs,
        "selective_scan in integers, h' in Q15 arithmetic; inputs as selective_scan's and a Q15 exp table",
        alias=_scan_alias,
    ),
}
