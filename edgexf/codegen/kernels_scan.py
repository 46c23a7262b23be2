"""Emitters for Mamba's step. Its selective scan (edgexf/ir/ops_scan.py): one call of firmware/kernels/scan.c
or quant_scan.c, A and D (and the integer form's Q15 exp table, zero points and multipliers) in its
parameter struct, the activations and the state (h, and h' where the plan put it: usually over h) as
arguments. Its causal conv on the conv state (edgexf/ir/ops_conv_step.py): one call of conv_step.c. Its
integer output gate (edgexf/ir/ops_gate.py): one call of quant_gate.c; its integer RMSNorm chain
(edgexf/ir/ops_rms_norm.py): one call of quant_rms_norm.c."""

from __future__ import annotations

import math

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


def _q_scan(c: EmitContext, op: Op) -> KernelCall:
    x, dt, A, B, C, D, h, table = op.inputs
    e, n = c.shape(h)[-2:]
    at = op.attrs
    fields: dict = {"A": c.ptr(A, "int8_t"), "D": c.ptr(D, "int8_t"), "exp_table": c.ptr(table, "int16_t")}
    fields["dA"] = {k: int(at["dA"][k]) for k in ("a_zp", "b_zp", "mult", "shift", "out_zp")}
    fields |= {f"{k}_zp": int(at["zp"][k]) for k in ("x", "dt", "B", "C", "D")}
    fields |= {"w_mult": int(at["dBx"]["mult"]), "w_shift": int(at["dBx"]["shift"])}
    fields["y"] = add_terms({"a_zp": 0, "b_zp": 0, **at["y"]})
    h2, y = op.outputs
    fields |= {"y_bytes": c.itemsize(y), "e": e, "n": n}
    io = [c.ptr(t, CTYPE[c.graph.tensors[t].dtype]) for t in (x, dt, B, C, h, h2)] + [c.ptr(y, "void")]
    return params_call(op, "exf_selective_scan_q", "exf_scan_q_params_t", fields, *io)


SCAN_KERNELS = {"selective_scan": _scan, "q_selective_scan": _q_scan}


def _conv_step(c: EmitContext, op: Op) -> KernelCall:
    """conv_step and q_conv_step (edgexf/ir/ops_conv_step.py): W and the bias in the struct."""
    x, state, w, bias = op.inputs
    e, k1 = c.shape(state)[-2:]
    if op.type == "conv_step":
        fields = {"W": c.ptr(w), "bias": c.ptr(bias), "e": e, "k": k1 + 1}
        io = [c.ptr(t) for t in (x, state, *op.outputs)]
        return params_call(op, "exf_conv_step_f32", "exf_conv_step_f32_params_t", fields, *io)
    at = op.attrs
    fields = {"W": c.ptr(w, "int8_t"), "bias": c.ptr(bias, "int32_t"), "w_zp": at["w_zp"]}
    fields |= {"mult": at["mult"], "shift": at["shift"], "out_zp": at["out_zp"], "e": e, "k": k1 + 1}
    io = [c.ptr(t, "int16_t") for t in (x, state, op.outputs[0])] + [c.ptr(op.outputs[1], "int8_t")]
    return params_call(op, "exf_conv_step_q", "exf_conv_step_q_params_t", fields, *io)


def _gate(c: EmitContext, op: Op) -> KernelCall:
    """q_gate (edgexf/ir/ops_gate.py): the table and both steps' terms in the struct."""
    a, z, table = op.inputs
    at = op.attrs
    fields: dict = {"table": c.ptr(table, "int8_t")}
    fields |= {f"z_{k}": int(v) for k, v in at["z"].items()}
    fields["mul"] = {k: int(at["mul"][k]) for k in ("a_zp", "b_zp", "mult", "shift", "out_zp")}
    fields |= {"a_bytes": c.itemsize(a), "n": math.prod(c.shape(a))}
    io = [c.ptr(a, "void"), c.ptr(z, "int16_t"), c.ptr(op.outputs[0], "int8_t")]
    return params_call(op, "exf_gate_q", "exf_gate_q_params_t", fields, *io)


def _rms_norm(c: EmitContext, op: Op) -> KernelCall:
    """q_rms_norm (edgexf/ir/ops_rms_norm.py): w, the composed table and every step's terms in the struct."""
    x, w, table = op.inputs
    at = op.attrs
    fields: dict = {"w": c.ptr(w, "int8_t"), "table": c.ptr(table, "int8_t")}
    fields |= {
        k: {t: int(at[k][t]) for t in ("a_zp", "b_zp", "mult", "shift", "out_zp")}
        for k in ("sq", "norm", "scale")
    }
    fields |= {f"mean_{k}": int(v) for k, v in at["mean"].items()}
    d = c.shape(x)[-1]
    fields |= {"x_bytes": c.itemsize(x), "rows": math.prod(c.shape(x)) // d, "d": d}
    io = [c.ptr(x, "void"), c.ptr(op.outputs[0], "int8_t")]
    return params_call(op, "exf_rms_norm_q", "exf_rms_norm_q_params_t", fields, *io)


SCAN_KERNELS |= {"conv_step": _conv_step, "q_conv_step": _conv_step, "q_gate": _gate, "q_rms_norm": _rms_norm}
