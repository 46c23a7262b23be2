"""Recognize layers that an exporter wrote out op by op, and put back the one IR op each stands for.

    mean(x) -> d = sub(x, .) -> mul(d, d) -> mean -> add eps -> sqrt -> div(d, .)     =>  layernorm(x)
                                                 (or -> rsqrt -> mul(d, .))
                                      [-> mul gamma] [-> add beta]                    (gamma, beta kept)
    div(x, 1.4142135) | mul(x, 0.70710677) -> erf -> add 1 -> mul x -> mul 0.5       =>  gelu(x, "none")
                                   (mul 0.5 and mul x in either order or association)
    x * x * x -> mul 0.044715 -> add x -> mul 0.7978846 -> tanh -> add 1 -> ... 0.5 x =>  gelu(x, "tanh")
    linear(x, W) -> add(., b)    (b constant, one per output column)                  =>  linear(x, W, b)

These are the forms torch.onnx.export writes at opset 13 (LayerNorm, GELU) and for nn.Linear (MatMul +
Add). A chain is replaced only when its intermediate tensors are read by nothing else and are not graph
outputs; anything else is left as it is. Means and variances may be kept dims (keepdims) or reshaped back.
The fused ops round differently from the chains (a few ulps), as the original framework's fused kernels do.
"""

from __future__ import annotations

from edgexf.ir.graph import Graph, Op
from edgexf.passes.chains import Chains, Match, affine_after, rewrite, source
from edgexf.passes.recognize_tflite import TFLITE_RULES

SQRT_2, SQRT_HALF, SQRT_2_OVER_PI, GELU_C = 1.4142135, 0.70710677, 0.7978846, 0.044715


def _mean_last(m: Chains, t: str) -> tuple[str, list[Op]] | None:
    """(x, ops) when t is mean(x) over the last axis with the axis kept (keepdims, or a reshape)."""
    op, chain = m.producer.get(t), []
    if op is not None and op.type == "reshape":
        chain, op = [op], m.made_by(op.inputs[0], "mean")
        if op is None or op.attrs.get("keepdims"):
            return None
    if op is None or op.type != "mean":
        return None
    x = op.inputs[0]
    if op.attrs["axis"] % len(m.shape(x)) != len(m.shape(x)) - 1:
        return None
    if m.shape(chain[0].outputs[0] if chain else op.outputs[0]) != m.shape(x)[:-1] + (1,):
        return None
    return x, [op, *chain]


def _mean_end(m: Chains, t: str) -> str:
    """Where a mean over t's last axis ends: the mean's output, or the reshape restoring the axis."""
    mean = m.sole_user(t, "mean")
    if mean is None or mean.attrs.get("keepdims"):
        return mean.outputs[0] if mean else t
    reshape = m.sole_user(mean.outputs[0], "reshape")
    return reshape.outputs[0] if reshape else t


def _layernorm(m: Chains, sub: Op) -> tuple[Op, list[Op], dict] | None:
    if sub.type != "sub":
        return None
    x, d = sub.inputs[0], sub.outputs[0]
    found = _mean_last(m, sub.inputs[1])
    if found is None or found[0] != x or m.sole_user(sub.inputs[1]) is not sub or m.shape(d) != m.shape(x):
        return None
    chain = [*found[1], sub]
    users = {id(op): op for op in m.users[d]}
    if d in m.exits or len(users) != 2:
        return None
    sq = next((op for op in users.values() if op.type == "mul" and op.inputs == [d, d]), None)
    var = sq and _mean_last(m, _mean_end(m, sq.outputs[0]))
    if not var or var[0] != sq.outputs[0]:
        return None
    add = m.sole_user(var[1][-1].outputs[0], "add")
    eps = add and m.other(add, var[1][-1].outputs[0])
    if add is None or m.scalar(eps) is None:
        return None
    root = m.sole_user(add.outputs[0])
    norm = next(iter(op for op in users.values() if op is not sq), None)
    if root is None or norm is None or m.sole_user(root.outputs[0]) is not norm:
        return None
    if root.type == "sqrt" and norm.type == "div" and norm.inputs == [d, root.outputs[0]]:
        pass
    elif not (root.type == "rsqrt" and norm.type == "mul" and m.other(norm, d) == root.outputs[0]):
        return None
    chain += [sq, *var[1], add, root, norm]
    y, params = affine_after(m, norm.outputs[0], m.shape(x)[-1], chain)
    attrs = {"eps": float(m.scalar(eps))}
    return Op("layernorm", sub.name, [x, "", ""], [y], attrs, source(chain)), chain, params


def _gelu_tail(m: Chains, p: str, x: str) -> tuple[str, list[Op]] | None:
    """From p = 1 + f(x): the ops making 0.5 * x * p in any order or association, and their output."""
    m1 = m.sole_user(p, "mul")
    o = m1 and m.other(m1, p)
    if m1 is None or o is None:
        return None
    if o == x or m.equals(o, 0.5):  # (x * p) * 0.5 or (0.5 * p) * x
        m2 = m.sole_user(m1.outputs[0], "mul")
        last = m2 and m.other(m2, m1.outputs[0])
        if last is not None and (m.equals(last, 0.5) if o == x else last == x):
            return m2.outputs[0], [m1, m2]
        return None
    h = m.made_by(o, "mul")
    if h is not None and x in h.inputs and m.equals(m.other(h, x), 0.5):
        return m1.outputs[0], [h, m1]
    return None


def _plus_one(m: Chains, t: str) -> Op | None:
    add = m.sole_user(t, "add")
    return add if add is not None and m.equals(m.other(add, t), 1.0) else None


def _gelu(m: Chains, op: Op) -> tuple[Op, list[Op], dict] | None:
    if op.type == "erf":
        pre = m.made_by(op.inputs[0], "div") or m.made_by(op.inputs[0], "mul")
        if pre is None:
            return None
        x = pre.inputs[0]
        if pre.type == "div" and not m.equals(pre.inputs[1], SQRT_2):
            return None
        if pre.type == "mul":
            x = next((i for i in pre.inputs if m.equals(m.other(pre, i), SQRT_HALF)), None)
        chain, approximate = [pre, op], "none"
    elif op.type == "tanh":
        outer = m.made_by(op.inputs[0], "mul")
        k = outer and next((i for i in outer.inputs if m.equals(i, SQRT_2_OVER_PI)), None)
        inner = k and m.made_by(m.other(outer, k), "add")
        found = inner and next((r for t in inner.inputs if (r := _cube_term(m, m.other(inner, t), t))), None)
        if found is None:
            return None
        x, chain, approximate = found[0], [*found[1], inner, outer, op], "tanh"
    else:
        return None
    one = x and _plus_one(m, op.outputs[0])
    tail = one and _gelu_tail(m, one.outputs[0], x)
    if tail is None or m.shape(tail[0]) != m.shape(x):
        return None
    chain += [one, *tail[1]]
    return Op("gelu", op.name, [x], [tail[0]], {"approximate": approximate}, source(chain)), chain, {}


def _cube_term(m: Chains, t: str, x: str) -> tuple[str, list[Op]] | None:
    """(x, ops) when t = 0.044715 * (x * x * x)."""
    scale = m.made_by(t, "mul")
    c = scale and next((i for i in scale.inputs if m.equals(i, GELU_C)), None)
    cube = c and m.made_by(m.other(scale, c), "mul")
    if cube is None or x not in cube.inputs:
        return None
    sq = m.made_by(m.other(cube, x), "mul")
    if sq is None or sq.inputs != [x, x]:
        return None
    return x, [sq, cube, scale]


def _linear_bias(m: Chains, op: Op) -> tuple[Op, list[Op], dict] | None:
    if op.type != "linear" or (len(op.inputs) > 2 and op.inputs[2]):
        return None
    add = m.sole_user(op.outputs[0], "add")
    b = add and m.other(add, op.outputs[0])
    n = m.shape(op.outputs[0])[-1]
    if add is None or b == op.outputs[0] or not m.g.tensors[b].is_const or m.g.tensors[b].dtype != "float32":
        return None
    value = m.g.tensors[b].data
    if value.size != n or value.shape[-1:] != (n,) or m.shape(add.outputs[0]) != m.shape(op.outputs[0]):
        return None
    fused = Op("linear", op.name, [op.inputs[0], op.inputs[1], ""], add.outputs, dict(op.attrs), op.source)
    return fused, [op, add], {"bias": b if value.shape == (n,) else value.reshape(n)}


_SLOTS = {"gamma": 1, "beta": 2, "bias": 2}


def _rule(find):
    """A recognizer, (op, chain, layer parameters) or None, as a rewrite rule: the op reads each
    parameter in its slot, a constant of the graph by name, or new values named after the op."""

    def rule(m: Chains, at: Op) -> Match | None:
        found = find(m, at)
        if found is None:
            return None
        op, chain, params = found
        for key, value in params.items():  # a name: the model's own constant, already of shape (n,)
            op.inputs[_SLOTS[key]] = (
                value if isinstance(value, str) else m.tensor(f"{op.name}.{key}", value.shape, value)
            )
        return Match(chain, [op])

    return rule


_RULES = tuple(_rule(find) for find in (_layernorm, _gelu, _linear_bias, *TFLITE_RULES))


def recognize_patterns(graph: Graph) -> Graph:
    """Replace every chain above by its op; returns the new graph, verified."""
    return rewrite(graph, _RULES)[0]
