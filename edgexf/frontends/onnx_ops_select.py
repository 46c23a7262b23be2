"""The ONNX ops that select or test values (merged into ONNX_OPS): Max -> maximum, Pad -> pad (constant
mode), IsNaN -> isnan or, where it cannot be true, a constant (ReduceMax is with the reductions in
onnx_ops_nn.py).

IsNaN is what torch.onnx's dynamo exporter puts after the softmax of scaled_dot_product_attention:
Softmax -> IsNaN -> Where(isnan, 0, p), which zeroes the rows of a fully masked query. When the softmax
input is finite for every finite model input (no -inf mask; edgexf/ir/finite.py states the argument),
IsNaN is a constant False here and Where, seeing a constant condition, passes p through: the guard
costs nothing and the attention stays one softmax. Otherwise both are real ops (isnan, where). The one
difference the fold makes: a model input holding NaN or inf gives NaN probabilities where the guarded
original gives 0 (the rest of such a model's outputs are NaN in both, through the residual stream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from edgexf.frontends.onnx_import import ints
from edgexf.ir.finite import finite_for_finite_inputs

if TYPE_CHECKING:
    from edgexf.frontends.onnx_import import OnnxConverter as C


def _isnan(c: C, n) -> str | np.ndarray:
    x = c.x(0)
    p = _softmax_input(c, x)
    if p is not None and finite_for_finite_inputs(c.b.tensors, c.b.ops, p):
        return np.zeros(c.shape(x), dtype=bool)
    return c.op("isnan", [x])


def _softmax_input(c: C, x: str) -> str | None:
    """The input of the softmax that x is (through reshapes and transposes: a softmax on another axis),
    or None. Only a softmax's guard folds: an IsNaN elsewhere may be there for NaN model inputs (missing
    sensor values), which the finite-input argument assumes away."""
    producer = {o: op for op in c.b.ops for o in op.outputs}
    op = producer.get(x)
    while op is not None and op.type in ("reshape", "transpose"):
        op = producer.get(op.inputs[0])
    return op.inputs[0] if op is not None and op.type == "softmax" else None


def _max(c: C, n) -> str:
    """Variadic Max (broadcasting): a chain of maximum ops, left to right."""
    y = c.x(0)
    for i in range(1, c.n_inputs()):
        y = c.op("maximum", [y, c.x(i)])
    return y


def _pad(c: C, n) -> str:
    from edgexf.frontends.onnx_ops import slice_of

    mode = c.attr("mode", "constant")
    if mode != "constant":
        raise c.refuse(f"mode={mode!r} (only 'constant')")
    x = c.x(0)
    rank = len(c.shape(x))
    pads = ints(c.const_required(1, "pads"))
    axes = [c.axis(a, rank) for a in ints(c.const_required(3, "axes"))] if c.has(3) else list(range(rank))
    if len(pads) != 2 * len(axes) or len(set(axes)) != len(axes):
        raise c.refuse(f"pads {pads} for axes {axes}")
    value = c.const(2) if c.has(2) else np.zeros((), np.float32)
    if value is None or value.size != 1 or value.dtype != np.float32:
        raise c.refuse("a computed, non-scalar or non-float32 constant_value (only a float32 constant)")
    before, after = [0] * rank, [0] * rank
    for axis, lo, hi in zip(axes, pads[: len(axes)], pads[len(axes) :]):
        if lo < 0 or hi < 0:  # a negative pad crops
            x = slice_of(c, x, axis, max(-lo, 0), c.shape(x)[axis] - max(-hi, 0))
        before[axis], after[axis] = max(lo, 0), max(hi, 0)
    if not any(before + after):
        return x
    v = c.b.add_const(f"{c.name()}.value", value.reshape(()))
    return c.op("pad", [x, v], {"pads": tuple(before + after)})


SELECT_ONNX_OPS: dict[str, Any] = {"IsNaN": _isnan, "Max": _max, "Pad": _pad}
SELECT_ATTRS = {"Pad": {"mode"}}
