"""Emitters for the integrated ops (edgexf/ir/ops_fused.py): one call of firmware/kernels/fused.c or
quant_fused.c each, with the op's working memory (a scratch buffer in the arena) as the last argument."""

from __future__ import annotations

import math

from edgexf.codegen.kernels import EmitContext, KernelCall, c_float, c_ident
from edgexf.codegen.kernels_q import CTYPE
from edgexf.ir.graph import Op
from edgexf.ir.kernel_choice import WIDE_LINEARS, uses_dsp, uses_wide

ACT = {"gelu_none": "EXF_ACT_GELU", "gelu_tanh": "EXF_ACT_GELU_TANH", "relu": "EXF_ACT_RELU"}
ADD_KEYS = ("a_zp", "b_zp", "ma", "mb", "shift", "out_zp")


def _call(fn: str, *args, statics: list[str] | None = None) -> KernelCall:
    return KernelCall([f"{fn}({', '.join(str(a) for a in args)});"], statics or [], [fn])


def _q(c: EmitContext, name: str) -> str:
    return c.ptr(name, CTYPE[c.graph.tensors[name].dtype]) if name else "NULL"


def _f(c: EmitContext, name: str) -> str:
    return c.ptr(name) if name else "NULL"


def _add_params(op: Op, key: str) -> tuple[str, list[str]]:
    values = [int(op.attrs[key][k]) for k in ADD_KEYS]
    name = f"{c_ident(op.name)}_{key}"
    return name, [f"static const int32_t {name}[6] = {{{', '.join(map(str, values))}}};"]


def _wide_terms(c: EmitContext, op: Op) -> tuple[list[str], list[str]]:
    """The requantization terms of a dsp op's linear layers (NULL for each where its weights stay int8):
    constants of the graph (passes/widen_weights.py); no static declarations."""
    if not uses_wide(op):
        return ["NULL"] * len(WIDE_LINEARS[op.type]), []
    return [_q(c, n) for n in op.attrs["rq"]], []


def _rows(c: EmitContext, name: str) -> tuple[int, int]:
    shape = c.shape(name)
    return math.prod(shape[:-1]), shape[-1]


def _ln_linear(c: EmitContext, op: Op) -> KernelCall:
    x, g, b, w, bias = op.inputs
    rows, k = _rows(c, x)
    m = c.shape(w)[0]
    args = (_f(c, x), _f(c, g), _f(c, b), c_float(op.attrs["eps"]), _f(c, w), _f(c, bias))
    return _call("exf_ln_linear_f32", *args, _f(c, op.outputs[0]), rows, k, m, c.scratch(op, "float"))


def _q_ln_linear(c: EmitContext, op: Op) -> KernelCall:
    x, g, b, w, bias, mult, shift = op.inputs
    rows, k = _rows(c, x)
    at = op.attrs
    ln = (c.ptr(x, "void"), c.itemsize(x), _q(c, g), _q(c, b), f"INT64_C({at['eps_term']})", at["gshift"])
    lin = (at["ln_zp"], _q(c, w), _q(c, bias), _q(c, mult), _q(c, shift), at["out_zp"])
    tail = (_q(c, op.outputs[0]), rows, k, c.shape(w)[0])
    if uses_dsp(op):
        rq, statics = _wide_terms(c, op)
        lin = (at["ln_zp"], c.ptr(w, "void"), *lin[2:5], rq[0], at["out_zp"])
        return _call("exf_ln_linear_s8_dsp", *ln, *lin, *tail, c.scratch(op), statics=statics)
    return _call("exf_ln_linear_s8", *ln, *lin, *tail, c.scratch(op, "int8_t"))


def _attention(c: EmitContext, op: Op) -> KernelCall:
    qkv, scale = op.inputs
    t, d3 = c.shape(qkv)[-2:]
    heads = op.attrs["heads"]
    args = (_f(c, qkv), _f(c, scale), _f(c, op.outputs[0]), t, heads, d3 // (3 * heads))
    return _call("exf_attention_f32", *args, c.scratch(op, "float"))


def _q_attention(c: EmitContext, op: Op) -> KernelCall:
    qkv, table, exp = op.inputs
    t, d3 = c.shape(qkv)[-2:]
    at = op.attrs
    heads = at["heads"]
    dims = (t, heads, d3 // (3 * heads))
    zps = (at["q_zp"], at["k_zp"], *at["qk"], at["p_zp"], at["v_zp"], *at["av"])
    ptrs = (_q(c, qkv), _q(c, table), _q(c, exp), _q(c, op.outputs[0]))
    if uses_dsp(op):
        return _call("exf_attention_s8_dsp", *ptrs, *dims, *zps, c.scratch(op))
    return _call("exf_attention_s8", *ptrs, *dims, *zps, c.scratch(op, "int8_t"))


def _token_mlp(c: EmitContext, op: Op) -> KernelCall:
    x, g, b, w1, b1, w2, b2 = op.inputs
    rows, d = _rows(c, x)
    head = (_f(c, x), _f(c, g), _f(c, b), c_float(op.attrs["eps"]), _f(c, w1), _f(c, b1))
    tail = (ACT[op.attrs["act"]], _f(c, w2), _f(c, b2), _f(c, op.outputs[0]), rows, d, c.shape(w1)[0])
    return _call("exf_token_mlp_f32", *head, *tail, c.scratch(op, "float"))


def _q_token_mlp(c: EmitContext, op: Op) -> KernelCall:
    x, g, b, w1, b1, m1, s1, table, w2, b2, m2, s2 = op.inputs
    rows, d = _rows(c, x)
    at = op.attrs
    add, statics = _add_params(op, "res")
    y = op.outputs[0]
    args = [c.ptr(x, "void"), c.itemsize(x), _q(c, g), _q(c, b), f"INT64_C({at['eps_term']})", at["gshift"]]
    tail = [add, c.ptr(y, "void"), c.itemsize(y), rows, d, c.shape(w1)[0]]
    if uses_dsp(op):
        rq, wide_statics = _wide_terms(c, op)
        args += [at["ln_zp"], c.ptr(w1, "void"), _q(c, b1), _q(c, m1), _q(c, s1), rq[0], at["fc1_zp"]]
        args += [_q(c, table), c.ptr(w2, "void"), _q(c, b2), _q(c, m2), _q(c, s2), rq[1], at["fc2_zp"], *tail]
        return _call("exf_token_mlp_q_dsp", *args, c.scratch(op), statics=statics + wide_statics)
    args += [at["ln_zp"], _q(c, w1), _q(c, b1), _q(c, m1), _q(c, s1), at["fc1_zp"], _q(c, table)]
    args += [_q(c, w2), _q(c, b2), _q(c, m2), _q(c, s2), at["fc2_zp"], *tail]
    return _call("exf_token_mlp_q", *args, c.scratch(op, "int8_t"), statics=statics)


def _patch_embed(c: EmitContext, op: Op) -> KernelCall:
    x, w, b, cls, pos = op.inputs
    _, ch, h, wd = c.shape(x)
    ptrs = (_f(c, x), _f(c, w), _f(c, b), _f(c, cls), _f(c, pos), _f(c, op.outputs[0]))
    return _call(
        "exf_patch_embed_f32", *ptrs, ch, h, wd, c.shape(w)[0], op.attrs["patch"], c.scratch(op, "float")
    )


def _q_patch_embed(c: EmitContext, op: Op) -> KernelCall:
    x, w, bias, mult, shift, cls, pos = op.inputs
    _, ch, h, wd = c.shape(x)
    at = op.attrs
    add, statics = _add_params(op, "pos_add") if pos else ("NULL", [])
    y = op.outputs[0]
    tail = [_q(c, cls), _q(c, pos), add, c.ptr(y, "void"), c.itemsize(y)]
    tail += [ch, h, wd, c.shape(w)[0], at["patch"], c.scratch(op, "void")]
    if uses_wide(op):  # the weights as (d, c p p) int16 pairs; rq: the requantization with conv_zp
        rq, wide_statics = _wide_terms(c, op)
        args = [_q(c, x), c.ptr(w, "int16_t"), _q(c, bias), _q(c, mult), rq[0], at["in_zp"], *tail]
        return _call("exf_patch_embed_s8_w16", *args, statics=statics + wide_statics)
    args = [_q(c, x), _q(c, w), _q(c, bias), _q(c, mult), _q(c, shift), at["in_zp"], at["conv_zp"], *tail]
    return _call("exf_patch_embed_s8", *args, statics=statics)


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
