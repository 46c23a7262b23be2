"""Which tensors are finite whenever the graph's inputs are: what lets the ONNX frontend fold the guard
that exporters put after a softmax, where(isnan(p), 0, p) (torch.onnx's dynamo exporter does so for
scaled_dot_product_attention, so for HuggingFace ViT attention).

The argument. Call an op finite-preserving when finite operands give finite results in exact
arithmetic, so that in float32 a non-finite result needs an overflow (a magnitude above 3.4e38):
  - sums, products, dot products, convolutions, data movement, max: finite in, finite out;
  - softmax: m = max_j x_j is finite, every x_j - m <= 0 so e_j = exp(x_j - m) lies in (0, 1] and the
    sum holds e_m = 1: the sum lies in [1, n], and e_j / sum in (0, 1];
  - layernorm with eps > 0: the variance plus eps is > 0; gelu, tanh, sigmoid, erf, relu, silu, softplus:
    bounded or below |x| + 1; exp: edgexf's exp clamps its argument to [-87, 88] (finite always);
  - div by a constant with no zero; where between finite operands.
sqrt, rsqrt and log (finite arguments outside their domain), and div by a computed tensor, are not.
A tensor is finite for finite inputs when every op on every path from the inputs to it is
finite-preserving and every constant it reads is finite (a -inf attention mask is not). Then isnan of
it is false for every finite input on which no intermediate value overflows float32; where it does
overflow (inputs of magnitude ~1e19 and up through a matmul), the original model has produced an
inf or NaN too, so folding the guard changes only outputs that are meaningless either way.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import Op, Tensor

MOVES = ("reshape", "transpose", "concat", "slice", "gather", "broadcast", "pad")
FINITE_PRESERVING = {
    *MOVES,
    *("linear", "matmul", "conv2d", "conv1d", "add", "sub", "mul", "mean", "sum", "cumsum"),
    *("softmax", "gelu", "relu", "tanh", "sigmoid", "erf", "exp", "silu", "softplus"),
    *("max", "maximum", "where"),
}


def finite_for_finite_inputs(tensors: dict[str, Tensor], ops: list[Op], name: str) -> bool:
    """Whether tensor `name` is finite for every finite input (barring float32 overflow; see above)."""
    producer = {o: op for op in ops for o in op.outputs}
    known: dict[str, bool] = {}

    def finite(n: str) -> bool:
        stack = [n]
        while stack:  # depth-first without recursion: graphs may be thousands of ops deep
            t = stack[-1]
            if t in known:
                stack.pop()
                continue
            tensor, op = tensors[t], producer.get(t)
            if tensor.is_const:
                known[t] = tensor.dtype != "float32" or bool(np.isfinite(tensor.data).all())
            elif op is None:
                known[t] = True  # a graph input (finite by assumption)
            elif not _preserving(tensors, op):
                known[t] = False
            else:
                todo = [i for i in _operands(op) if i not in known]
                if todo:
                    stack.extend(todo)
                    continue
                known[t] = all(known[i] for i in _operands(op))
            stack.pop()
        return known[n]

    return finite(name)


def _operands(op: Op) -> list[str]:
    """The inputs whose values reach the output (where's condition only chooses between them)."""
    return [i for i in (op.inputs[1:] if op.type == "where" else op.inputs) if i]


def _preserving(tensors: dict[str, Tensor], op: Op) -> bool:
    if op.type == "layernorm":
        return op.attrs["eps"] > 0
    if op.type == "div":
        d = tensors[op.inputs[1]]
        return d.is_const and bool(np.all(d.data != 0))
    return op.type in FINITE_PRESERVING
