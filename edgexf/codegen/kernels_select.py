"""Emitters for the selection ops (edgexf/ir/ops_select.py): one call of firmware/kernels/select.c each.
max and maximum pick the float32 kernel or the integer-code one (int8, int16) by dtype; pad moves bytes
of any dtype; isnan and compare write uint8 (compare reads float32, or codes with codes or int32
thresholds)."""

from __future__ import annotations

import math

from edgexf.codegen.kernel_params import params_call
from edgexf.codegen.kernels import (
    EmitContext,
    KernelCall,
    broadcast_layout,
    broadcast_loops,
    refuse,
    static_array,
)
from edgexf.ir.graph import Op
from edgexf.ir.ops_select import VALUE_TYPES

PAD_MAX_DIMS = 8  # firmware/kernels/edgexf_kernels.h EXF_PAD_MAX_DIMS


def _dtype(c: EmitContext, op: Op) -> str:
    dtypes = {c.graph.tensors[n].dtype for n in op.inputs + op.outputs if n}
    if len(dtypes) != 1 or not dtypes <= set(VALUE_TYPES):
        raise refuse(op, f"dtypes {sorted(dtypes)} (one of {', '.join(VALUE_TYPES)} throughout)")
    return dtypes.pop()


def _max(c: EmitContext, op: Op) -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    shape = c.shape(x)
    axis = op.attrs["axis"] % len(shape)
    dims = f"{math.prod(shape[:axis])}, {shape[axis]}, {math.prod(shape[axis + 1 :])}"
    if _dtype(c, op) == "float32":
        return KernelCall([f"exf_max_f32({c.ptr(x)}, {c.ptr(y)}, {dims});"], functions=["exf_max_f32"])
    fields = {"bytes": c.itemsize(x), "outer": math.prod(shape[:axis]), "n": shape[axis]}
    fields["inner"] = math.prod(shape[axis + 1 :])
    return params_call(op, "exf_max_q", "exf_max_q_params_t", fields, c.ptr(x, "void"), c.ptr(y, "void"))


def _maximum(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    y = op.outputs[0]
    if _dtype(c, op) == "float32":
        loops, decls = broadcast_loops(c, op)
        call = f"exf_maximum_f32({c.ptr(a)}, {c.ptr(b)}, {c.ptr(y)}, {loops});"
        return KernelCall([call], decls, ["exf_maximum_f32"])
    shape, (sa, sb) = broadcast_layout(c, op)
    fields = {"shape": shape, "sa": sa, "sb": sb, "bytes": c.itemsize(y)}
    ptrs = (c.ptr(t, "void") for t in (a, b, y))
    return params_call(op, "exf_maximum_q", "exf_maximum_q_params_t", fields, *ptrs)


def _pad(c: EmitContext, op: Op) -> KernelCall:
    x, value = op.inputs
    y = op.outputs[0]
    _dtype(c, op)
    rank = len(c.shape(x))
    if not 1 <= rank <= PAD_MAX_DIMS:
        raise refuse(op, f"{rank} axes (1 to {PAD_MAX_DIMS})")
    statics = [
        static_array(op, "in_shape", list(c.shape(x))),
        static_array(op, "out_shape", list(c.shape(y))),
        static_array(op, "before", list(op.attrs["pads"][:rank])),
    ]
    ptrs = ", ".join(c.ptr(t, "void") for t in (x, value, y))
    names = ", ".join(name for name, _ in statics)
    return KernelCall(
        [f"exf_pad({ptrs}, {c.itemsize(x)}, {rank}, {names});"], [d for _, d in statics], ["exf_pad"]
    )


def _isnan(c: EmitContext, op: Op) -> KernelCall:
    x, y = op.inputs[0], op.outputs[0]
    if (c.graph.tensors[x].dtype, c.graph.tensors[y].dtype) != ("float32", "uint8"):
        raise refuse(op, "only float32 in, uint8 out")
    n = math.prod(c.shape(x))
    call = f"exf_isnan_f32({c.ptr(x)}, {c.ptr(y, 'uint8_t')}, {n});"
    return KernelCall([call], functions=["exf_isnan_f32"])


CMP = {"greater": "GT", "greater_equal": "GE", "less": "LT", "less_equal": "LE", "equal": "EQ"}


def _compare(c: EmitContext, op: Op) -> KernelCall:
    a, b = op.inputs
    y = op.outputs[0]
    cmp = f"EXF_CMP_{CMP[op.attrs['cmp']]}"
    if c.graph.tensors[a].dtype == "float32":
        loops, decls = broadcast_loops(c, op)
        call = f"exf_compare_f32({c.ptr(a)}, {c.ptr(b)}, {c.ptr(y, 'uint8_t')}, {cmp}, {loops});"
        return KernelCall([call], decls, ["exf_compare_f32"])
    shape, (sa, sb) = broadcast_layout(c, op)
    fields = {
        "shape": shape,
        "sa": sa,
        "sb": sb,
        "a_bytes": c.itemsize(a),
        "b_bytes": c.itemsize(b),
        "cmp": cmp,
    }
    ptrs = (c.ptr(a, "void"), c.ptr(b, "void"), c.ptr(y, "uint8_t"))
    return params_call(op, "exf_compare_q", "exf_compare_q_params_t", fields, *ptrs)


SELECT_KERNELS = {"max": _max, "maximum": _maximum, "pad": _pad, "isnan": _isnan, "compare": _compare}
