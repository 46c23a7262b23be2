"""Kernel parameter structs in the generated C: every emitter of an integer or fused kernel names its
numbers and constant pointers as fields (firmware/kernels/edgexf_params.h) and this module prints them
as one `static const exf_..._params_t <op>_params = {.field = value, ...};` per op, then the call with a
pointer to it. One formatter for all of them, so model.c reads the same everywhere.
"""

from __future__ import annotations

from edgexf.codegen.kernels import EmitContext, KernelCall, c_ident
from edgexf.ir.graph import Op

WIDTH = 110  # model.c's line width (as the kernel library's)

# A field's value: a C expression (str), an integer, a list of integers (a fixed array) or a nested
# struct (a dict of fields).
Value = str | int | list[int] | dict


def _scalar(v) -> bool:
    return isinstance(v, int) or (isinstance(v, str) and not v.startswith("("))


def _inline(v: Value) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f".{k} = {_inline(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "{" + ", ".join(str(int(x)) for x in v) + "}"
    return str(v)


def _lines(fields: dict[str, Value], indent: int) -> list[str]:
    """The fields one per line, but consecutive scalars (numbers) a few per line up to WIDTH; a nested
    struct on one line when it fits, else its fields on their own lines, indented."""
    pad = " " * indent
    out: list[str] = []
    run: list[str] = []  # scalars waiting to be packed onto one line

    def flush():
        line = ""
        for item in run:
            if line and len(pad) + len(line) + len(item) + 2 > WIDTH:
                out.append(pad + line)
                line = ""
            line += (" " if line else "") + item
        if line:
            out.append(pad + line)
        run.clear()

    for key, v in fields.items():
        item = f".{key} = {_inline(v)},"
        if _scalar(v):
            run.append(item)
            continue
        flush()
        if isinstance(v, dict) and len(pad) + len(item) > WIDTH:
            out.append(f"{pad}.{key} = {{")
            out += _lines(v, indent + 4)
            out.append(pad + "},")
        else:
            out.append(pad + item)
    flush()
    return out


def designated_initializer(ctype: str, name: str, fields: dict[str, Value]) -> str:
    """`static const ctype name = {...};` with designated fields, e.g.
    designated_initializer("exf_lut_params_t", "silu_params", {"table": "W_silu_table", "n": 64}) ->
    static const exf_lut_params_t silu_params = {
        .table = W_silu_table, .n = 64,
    };"""
    return "\n".join([f"static const {ctype} {name} = {{", *_lines(fields, 4), "};"])


def params_call(
    op: Op, fn: str, ctype: str, fields: dict[str, Value], *args, statics: list[str] | None = None
) -> KernelCall:
    """One kernel call fn(&<op>_params, *args) and its parameter struct (after `statics`, which the
    struct may point into: the wide linears' requantization terms)."""
    name = f"{c_ident(op.name)}_params"
    line = f"{fn}({', '.join([f'&{name}', *(str(a) for a in args)])});"
    return KernelCall([line], [*(statics or []), designated_initializer(ctype, name, fields)], [fn])


def add_terms(terms: dict) -> dict[str, int]:
    """exf_add_terms_t of an add's parameters (a_zp, b_zp, ma, mb, shift, out_zp)."""
    return {k: int(terms[k]) for k in ("a_zp", "b_zp", "ma", "mb", "shift", "out_zp")}


def norm_terms(c: EmitContext, op: Op, gamma: str, beta: str, out_zp_key: str) -> dict[str, Value]:
    """exf_norm_q_t of an integer layernorm (of a fused op: its out_zp is that op's ln_zp)."""
    at = op.attrs
    prefix = "ln_" if out_zp_key == "ln_zp" else ""
    form = (
        {"gshift": at["gshift"]}  # with gamma and beta, else folded into the next linear layer
        if f"{prefix}mult" not in at
        else {"mult": at[f"{prefix}mult"], "mshift": at[f"{prefix}mshift"]}
    )
    return {
        "gamma": c.ptr(gamma, "int32_t"),
        "beta": c.ptr(beta, "int32_t"),
        "eps_term": f"INT64_C({at['eps_term']})",
        **form,
        "out_zp": at[out_zp_key],
    }
