"""The elementwise float ops the int8 pass turns into 256-entry tables (q_lut): each op's OpDef names its
table function (OpDef.int8_table, edgexf/ir/int8_tables.py), beside its reference and its C kernel."""

from __future__ import annotations

from edgexf.ir.ops import OPS

UNARY = {t: d.int8_table for t, d in OPS.items() if d.int8_table is not None}
