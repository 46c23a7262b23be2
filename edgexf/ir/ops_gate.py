"""Mamba's output gate in integers, y * SiLU(z) (Gu and Dao 2023, Figure 3), one op for the chain the
quantization pass makes of it and that passes/fuse_gate.py finds:

    s = q_lut(q_requant(z))          z int16 (the in_proj half) -> int8 -> the activation's table
    y = q_mul(a, s)                  a int8 or int16 (the scan's y), y int8

    => y = q_gate(a, z, table)

The reference is the three ops' own references composed, so a fused graph gives the unfused one's numbers
bit for bit; the kernel (firmware/kernels/quant_gate.c) makes one pass where the chain made three (about 16
instructions an element against 59).
"""

from __future__ import annotations

from edgexf.ir import kernels_q as KQ
from edgexf.ir.graph import GraphError, Op
from edgexf.ir.opdef import OpDef, Spec, alias_elementwise, lead


def _infer(op: Op, s: list[Spec | None]):
    if len(s) != 3 or any(spec is None for spec in s):
        raise GraphError(f"{op.describe()}: takes a, z and a table")
    (a, at), (z, zt), table = s
    if at not in ("int8", "int16") or zt not in ("int8", "int16") or table != ((256,), "int8"):
        raise GraphError(f"{op.describe()}: takes int8 or int16 a and z and a 256-entry int8 table")
    if a != z:
        raise GraphError(f"{op.describe()}: a {list(a)} and z {list(z)} must have one shape")
    return [(a, "int8")]


def _ref(op: Op, a, s):
    x, z, table = a
    r, m = op.attrs["z"], op.attrs["mul"]
    zq = KQ.requant_q(z, r["in_zp"], r["mult"], r["shift"], r["out_zp"], "int8")
    act = KQ.lut_s8(zq, table)
    y = KQ.mul_q(x, act, m["a_zp"], m["b_zp"], m["mult"], m["shift"], m["out_zp"], "int8")
    return [y.reshape(lead(y, len(s[0][0])) + tuple(s[0][0]))]


GATE_OPS: dict[str, OpDef] = {
    "q_gate": OpDef(
        _infer,
        _ref,
        doc="a * table[requant(z)] in integers (Mamba's y * SiLU(z)): the requant, q_lut and q_mul composed; "
        "inputs a, z, table",
        alias=alias_elementwise,
    ),
}
