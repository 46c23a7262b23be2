"""Emitters for Mamba's selective scan (edgexf/ir/ops_scan.py): one call of firmware/kernels/scan.c or
quant_scan.c, A and D (and the integer form's exp table and the chain's terms by role) in its parameter
struct, the activations and the state (h, and h' where the plan put it: usually over h) as arguments."""

from __future__ import annotations

from edgexf.codegen.kernel_params import add_terms, params_call
from edgexf.codegen.kernels import EmitContext, KernelCall
from edgexf.codegen.kernels_q import CTYPE
from edgexf.ir.graph import Op


def _scan(c: EmitContext, op: Op) -> KernelCall:
    x, dt, A, B, C, D, h = op.inputs
    e, n = c.shape(h)[-2:]
    fields = {"A": c.ptr(A), "D": c.ptr(D), "e": e, "n": n}
    io = [c.ptr(t) for t in (x, dt, B, C, h, *op.outputs)]
    return params_call(op, "exf_selective_scan_f32", "exf_scan_f32_params_t", fields, *io)


def _mul_terms(terms: dict) -> dict[str, int]:
    return {k: int(terms[k]) for k in ("a_zp", "b_zp", "mult", "shift", "out_zp")}


def _q_scan(c: EmitContext, op: Op) -> KernelCall:
    x, dt, A, B, C, D, h, table = op.inputs
    e, n = c.shape(h)[-2:]
    at = op.attrs
    fields: dict = {"A": c.ptr(A, "int8_t"), "D": c.ptr(D, "int8_t"), "exp_table": c.ptr(table, "int8_t")}
    fields |= {key: _mul_terms(at[key]) for key in ("dA", "dAh", "dtx", "dBx")}
    fields |= {"h": add_terms(at["h"]), "hC": _mul_terms(at["hC"])}
    fields |= {f"sum_{k}": int(at["sum"][k]) for k in ("in_zp", "mult", "shift", "out_zp")}
    fields |= {"Dx": _mul_terms(at["Dx"]), "y": add_terms(at["y"])}
    h2, y = op.outputs
    fields |= {"y_bytes": c.itemsize(y), "e": e, "n": n}
    io = [c.ptr(t, CTYPE[c.graph.tensors[t].dtype]) for t in (x, dt, B, C, h, h2)] + [c.ptr(y, "void")]
    return params_call(op, "exf_selective_scan_q", "exf_scan_q_params_t", fields, *io)


SCAN_KERNELS = {"selective_scan": _scan, "q_selective_scan": _q_scan}
