"""Emitters for the integrated ops (edgexf/ir/ops_fused.py): one call of firmware/kernels/fused.c or
quant_fused.c each: the op's numbers and constants as its parameter struct (kernel_params.py), its
activations and working memory (a scratch buffer in the arena) as the arguments."""

from __future__ import annotations

import math

from edgexf.codegen.kernel_params import add_terms, norm_terms, params_call
from edgexf.codegen.kernels import EmitContext, KernelCall, c_float
from edgexf.codegen.kernels_q import CTYPE, dense_terms
from edgexf.ir.graph import Op
from edgexf.ir.kernel_choice import WIDE_LINEARS, uses_dsp, uses_wide

ACT = {"gelu_none": "EXF_ACT_GELU", "gelu_tanh": "EXF_ACT_GELU_TANH", "relu": "EXF_ACT_RELU"}


def _q(c: EmitContext, name: str) -> str:
    return c.ptr(name, CTYPE[c.graph.tensors[name].dtype]) if name else "NULL"


def _f(c: EmitContext, name: str) -> str:
    return c.ptr(name) if name else "NULL"


def _wide_terms(c: EmitContext, op: Op) -> tuple[list[str | None], list[str]]:
    """The requantization terms of a dsp op's linear layers (None for each where its weights stay int8):
    constants of the graph (passes/widen_weights.py), so no static declarations."""
    if not uses_wide(op):
        return [None] * len(WIDE_LINEARS[op.type]), []
    return [_q(c, n) for n in op.attrs["rq"]], []


def _rows(c: EmitContext, name: str) -> tuple[int, int]:
    shape = c.shape(name)
    return math.prod(shape[:-1]), shape[-1]


def _ln_f32(c: EmitContext, op: Op) -> dict:
    """A float LayerNorm's fields (its gamma and beta are the op's inputs 1 and 2)."""
    return {"gamma": _f(c, op.inputs[1]), "beta": _f(c, op.inputs[2]), "eps": c_float(op.attrs["eps"])}


def _ln_linear(c: EmitContext, op: Op) -> KernelCall:
    x, _, _, w, bias = op.inputs
    rows, k = _rows(c, x)
    fields = {**_ln_f32(c, op), "w": _f(c, w), "b": _f(c, bias)}
    fields |= {"rows": rows, "k": k, "m": c.shape(w)[0]}
    io = (_f(c, x), _f(c, op.outputs[0]), c.scratch(op, "float"))
    return params_call(op, "exf_ln_linear_f32", "exf_ln_linear_f32_params_t", fields, *io)


def _q_ln_linear(c: EmitContext, op: Op) -> KernelCall:
    x, g, b, w, bias, mult, shift = op.inputs
    rows, k = _rows(c, x)
    at = op.attrs
    rq, statics = _wide_terms(c, op) if uses_dsp(op) else ([None], [])
    fields = {
        "ln": norm_terms(c, op, g, b, "ln_zp"),
        "fc": dense_terms(c, w, bias, mult, shift, at["out_zp"], rq[0]),
    }
    fields |= {"x_bytes": c.itemsize(x), "rows": rows, "k": k, "m": c.shape(w)[0]}
    ctype, io = "exf_ln_linear_q_params_t", (c.ptr(x, "void"), _q(c, op.outputs[0]))
    if uses_dsp(op):
        return params_call(op, "exf_ln_linear_s8_dsp", ctype, fields, *io, c.scratch(op), statics=statics)
    return params_call(op, "exf_ln_linear_s8", ctype, fields, *io, c.scratch(op, "int8_t"))


def _attention(c: EmitContext, op: Op) -> KernelCall:
    qkv, scale = op.inputs
    t, d3 = c.shape(qkv)[-2:]
    heads = op.attrs["heads"]
    fields = {"scale": _f(c, scale), "t": t, "heads": heads, "dh": d3 // (3 * heads)}
    io = (_f(c, qkv), _f(c, op.outputs[0]), c.scratch(op, "float"))
    return params_call(op, "exf_attention_f32", "exf_attention_f32_params_t", fields, *io)


def _q_attention(c: EmitContext, op: Op) -> KernelCall:
    qkv, exp = op.inputs
    t, d3 = c.shape(qkv)[-2:]
    at = op.attrs
    heads = at["heads"]
    fields = {"exp_table": _q(c, exp), "t": t, "heads": heads, "dh": d3 // (3 * heads)}
    fields |= {"q_zp": at["q_zp"], "k_zp": at["k_zp"], "v_zp": at["v_zp"]}
    fields |= {"exp_mult": at["exp"][0], "exp_shift": at["exp"][1]}
    fields |= {"av_mult": at["av"][0], "av_shift": at["av"][1], "out_zp": at["av"][2]}
    ctype, io = "exf_attention_q_params_t", (_q(c, qkv), _q(c, op.outputs[0]))
    if uses_dsp(op):
        return params_call(op, "exf_attention_s8_dsp", ctype, fields, *io, c.scratch(op))
    return params_call(op, "exf_attention_s8", ctype, fields, *io, c.scratch(op, "int32_t"))


def _token_mlp(c: EmitContext, op: Op) -> KernelCall:
    x, _, _, w1, b1, w2, b2 = op.inputs
    rows, d = _rows(c, x)
    fields = {**_ln_f32(c, op), "w1": _f(c, w1), "b1": _f(c, b1)}
    fields |= {"act": ACT[op.attrs["act"]], "w2": _f(c, w2), "b2": _f(c, b2)}
    fields |= {"rows": rows, "d": d, "hidden": c.shape(w1)[0]}
    io = (_f(c, x), _f(c, op.outputs[0]), c.scratch(op, "float"))
    return params_call(op, "exf_token_mlp_f32", "exf_token_mlp_f32_params_t", fields, *io)


def _q_token_mlp(c: EmitContext, op: Op) -> KernelCall:
    x, g, b, w1, b1, m1, s1, table, w2, b2, m2, s2 = op.inputs
    rows, d = _rows(c, x)
    at = op.attrs
    y = op.outputs[0]
    rq, statics = _wide_terms(c, op) if uses_dsp(op) else ([None, None], [])
    fields = {"ln": norm_terms(c, op, g, b, "ln_zp")}
    fields["fc1"] = dense_terms(c, w1, b1, m1, s1, at["fc1_zp"], rq[0])
    fields["act_table"] = _q(c, table)
    fields["fc2"] = dense_terms(c, w2, b2, m2, s2, at["fc2_zp"], rq[1])
    fields["res"] = add_terms(at["res"])
    fields |= {
        "x_bytes": c.itemsize(x),
        "y_bytes": c.itemsize(y),
        "rows": rows,
        "d": d,
        "hidden": c.shape(w1)[0],
    }
    ctype, io = "exf_token_mlp_q_params_t", (c.ptr(x, "void"), c.ptr(y, "void"))
    if uses_dsp(op):
        return params_call(op, "exf_token_mlp_q_dsp", ctype, fields, *io, c.scratch(op), statics=statics)
    return params_call(op, "exf_token_mlp_q", ctype, fields, *io, c.scratch(op, "int8_t"))


def _patch_embed(c: EmitContext, op: Op) -> KernelCall:
    x, w, b, cls, pos = op.inputs
    _, ch, h, wd = c.shape(x)
    fields = {"w": _f(c, w), "b": _f(c, b), "cls": _f(c, cls), "pos": _f(c, pos)}
    fields |= {"c": ch, "h": h, "wd": wd, "d": c.shape(w)[0], "p": op.attrs["patch"]}
    io = (_f(c, x), _f(c, op.outputs[0]), c.scratch(op, "float"))
    return params_call(op, "exf_patch_embed_f32", "exf_patch_embed_f32_params_t", fields, *io)


def _q_patch_embed(c: EmitContext, op: Op) -> KernelCall:
    x, w, bias, mult, shift, cls, pos = op.inputs
    _, ch, h, wd = c.shape(x)
    at = op.attrs
    y = op.outputs[0]
    rq, statics = _wide_terms(c, op)  # wide: the weights as (d, c p p) int16 pairs; rq with conv_zp
    fields = dense_terms(c, w, bias, mult, shift, 0, rq[0])
    fields.pop("out_zp", None)  # the conv output zero point is conv_zp (in rq when wide)
    fields |= {"in_zp": at["in_zp"], "conv_zp": at["conv_zp"], "cls": _q(c, cls), "pos": _q(c, pos)}
    if pos:
        fields["pos_add"] = add_terms(at["pos_add"])
    fields |= {"y_bytes": c.itemsize(y), "c": ch, "h": h, "wd": wd, "d": c.shape(w)[0], "p": at["patch"]}
    fn = "exf_patch_embed_s8_w16" if uses_wide(op) else "exf_patch_embed_s8"
    io = (_q(c, x), c.ptr(y, "void"), c.scratch(op, "void"))
    return params_call(op, fn, "exf_patch_embed_q_params_t", fields, *io, statics=statics)


FUSED_KERNELS = {
    "ln_linear": _ln_linear,
    "q_ln_linear": _q_ln_linear,
    "attention": _attention,
    "q_attention": _q_attention,
    "token_mlp": _token_mlp,
    "q_token_mlp": _q_token_mlp,
    "patch_embed": _patch_embed,
    "q_patch_embed": _q_patch_embed,
}
