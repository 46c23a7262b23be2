"""Rewrite the attention forms that exporters write into the one form edgexf's fusion pass reads.

edgexf/passes/fuse.py fuses multi-head attention written as edgexf's ViT and timm's eager code write it:

    qkv -> reshape (1,T,3,H,dh) -> transpose [2,0,3,1,4] -> 3 slices -> reshapes (1,H,T,dh)
    q @ transpose(k, [0,1,3,2]) [-> mul s] -> softmax -> @ v -> transpose [0,2,1,3] -> reshape (1,T,H*dh)

Exporters write the same computation in other shapes; each rule here turns one of them into the form
above, op for op, without changing what is computed beyond float rounding:

- scale_after_qk:   (q * a) @ (kT * b), (q * a) @ kT, q @ (kT * b)  =>  (q @ kT) * (a * b)
                    the split scale of torch's scaled_dot_product_attention export (sqrt(scale) on each
                    side) and timm's `q = q * scale` before QK^T, a and b scalar constants;
                    scores / c  =>  scores * (1 / c)   (HuggingFace's eager attention)
- transpose_by_reshapes:  reshape (merge leading axes) -> transpose (last two) -> reshape (split them
                    back)  =>  reshape -> one transpose of the last two axes (the dynamo exporter's k^T)
- zero_mask:        x + 0 (a constant of zeros, x's shape or broadcast to it)  =>  x
- packed_qkv:       three linears of one x (q, k, v projections, HuggingFace's query/key/value), each
                    -> reshape (1,T,H,dh) -> transpose [0,2,1,3] (k^T also [0,2,3,1], or a further
                    [0,1,3,2])  =>  one linear with the three weights stacked, split as above

A rule applies only when the tensors it removes are read by nothing else and are not graph outputs, so
a graph whose attention looks different in any other way is left as it is: it still runs, op by op.
The float results differ from the unrewritten graph's by rounding only (a scale applied after the dot
product instead of before it, a multiplication by 1/c for a division by c: a few ulps).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import Graph, Op, Tensor
from edgexf.passes.chains import Chains


class _View(Chains):
    """Chains (who makes and reads each tensor), and scalings by a constant."""

    def scalar(self, t: str) -> float | None:
        """A float32 constant of one value (an attention scale); None for anything else."""
        v = self.g.tensors[t].data if t else None
        return super().scalar(t) if v is not None and v.dtype == np.float32 else None

    def scaled(self, t: str) -> tuple[str, float | None, Op | None]:
        """(x, c, mul) when t = x * c for a scalar constant c, else (t, None, None)."""
        mul = self.made_by(t, "mul")
        if mul is not None and len(mul.inputs) == 2:
            for i in (0, 1):
                c = self.scalar(mul.inputs[1 - i])
                if c is not None and self.shape(mul.inputs[i]) == self.shape(t):
                    return mul.inputs[i], c, mul
        return t, None, None


def _scale_after_qk(g: Graph, v: _View, mm: Op) -> bool:
    if mm.type != "matmul" or v.g.tensors[mm.outputs[0]].dtype != "float32":
        return False
    reader = v.sole_user(mm.outputs[0])
    if reader is None or reader.type != "softmax":  # attention scores only
        return False
    a, ca, mul_a = v.scaled(mm.inputs[0])
    b, cb, mul_b = v.scaled(mm.inputs[1])
    if mul_a is None and mul_b is None:
        return False
    scale = np.float32((1.0 if ca is None else ca) * (1.0 if cb is None else cb))
    scores = _new_tensor(g, f"{mm.outputs[0]}.unscaled", v.shape(mm.outputs[0]))
    const = _new_const(g, f"{mm.name}.scale", np.array(scale, np.float32)).name
    product = Op("matmul", mm.name, [a, b], [scores], dict(mm.attrs), mm.source)
    mul = Op("mul", g.fresh_name(f"{mm.name}_scale"), [scores, const], list(mm.outputs), {}, mm.source)
    _swap(g, [op for op in (mul_a, mul_b) if op is not None] + [mm], [product, mul])
    return True


def _div_to_mul(g: Graph, v: _View, div: Op) -> bool:
    """scores / c => scores * (1/c), c a scalar constant (what the attention op multiplies by)."""
    if div.type != "div" or len(div.inputs) != 2:
        return False
    c = v.scalar(div.inputs[1])
    if c is None or c == 0 or v.shape(div.inputs[0]) != v.shape(div.outputs[0]):
        return False
    sm = v.sole_user(div.outputs[0])
    if (
        sm is None
        or sm.type != "softmax"
        or v.producer.get(div.inputs[0], Op("", "", [], [])).type != "matmul"
    ):
        return False
    const = _new_const(
        g, f"{div.name}.reciprocal", np.array(np.float32(1.0) / np.float32(c), np.float32)
    ).name
    _swap(g, [div], [Op("mul", div.name, [div.inputs[0], const], list(div.outputs), {}, div.source)])
    return True


def _transpose_by_reshapes(g: Graph, v: _View, tr: Op) -> bool:
    """reshape (merge batch axes) -> transpose (last two) -> reshape (split them)  =>  reshape to the
    final batch axes -> transpose of the last two: the first reshape takes the last one's batch axes."""
    if tr.type != "transpose":
        return False
    r1, r2 = v.made_by(tr.inputs[0], "reshape"), v.sole_user(tr.outputs[0])
    if r1 is None or r2 is None or r2.type != "reshape":
        return False
    x, mid, y = v.shape(r1.inputs[0]), v.shape(tr.inputs[0]), v.shape(r2.outputs[0])
    n = len(mid)
    if n < 2 or tr.attrs["perm"] != [*range(n - 2), n - 1, n - 2] or len(x) < 2 or len(y) < 2:
        return False
    if x[-2:] != mid[-2:] or y[-2:] != (x[-1], x[-2]) or np.prod(x[:-2]) != np.prod(y[:-2]):
        return False
    view = (*y[:-2], *x[-2:])
    perm = [*range(len(y) - 2), len(y) - 1, len(y) - 2]
    source = r1.outputs[0]
    if view == x:  # the first reshape has nothing left to do
        source, gone = r1.inputs[0], [r1, tr, r2]
    else:
        r1.attrs = {"shape": view}
        g.tensors[r1.outputs[0]].shape = view
        gone = [tr, r2]
    _swap(g, gone, [Op("transpose", tr.name, [source], list(r2.outputs), {"perm": perm}, tr.source)])
    return True


def _zero_mask(g: Graph, v: _View, add: Op) -> bool:
    if add.type != "add" or len(add.inputs) != 2 or add.outputs[0] in v.exits:
        return False
    for i in (0, 1):
        mask = v.g.tensors[add.inputs[1 - i]]
        x = add.inputs[i]
        if (
            mask.is_const
            and mask.dtype == "float32"
            and not mask.data.any()
            and v.shape(x) == v.shape(add.outputs[0])
        ):
            _rename_reads(g, add.outputs[0], x)
            g.ops.remove(add)
            return True
    return False


def _heads(v: _View, t: str, want: list[int]) -> tuple[Op, list[Op]] | None:
    """(linear, ops) when t = transpose(reshape(linear(x) to (1,T,H,dh)), perm) with perm one of the
    ways to reach `want` ([0,2,1,3] for q and v, [0,2,3,1] for k^T), possibly as two transposes."""
    ops, perm = [], [0, 1, 2, 3]
    while (tr := v.made_by(t, "transpose")) is not None and len(tr.attrs["perm"]) == 4:
        perm = [tr.attrs["perm"][p] for p in perm]
        ops.insert(0, tr)
        t = tr.inputs[0]
    rs = v.made_by(t, "reshape")
    lin = rs and v.made_by(rs.inputs[0], "linear")
    if lin is None or perm != want or not ops or len(v.shape(rs.outputs[0])) != 4:
        return None
    return lin, [lin, rs, *ops]


def _packed_qkv(g: Graph, v: _View, sm: Op) -> bool:
    if sm.type != "softmax":
        return False
    scores = sm.inputs[0]
    scale = v.made_by(scores, "mul")
    mm1 = v.made_by(scale.inputs[0] if scale else scores, "matmul")
    mm2 = v.sole_user(sm.outputs[0])
    if mm1 is None or mm2 is None or mm2.type != "matmul" or mm2.inputs[0] != sm.outputs[0]:
        return False
    q, kt, val = _heads(v, mm1.inputs[0], [0, 2, 1, 3]), _heads(v, mm1.inputs[1], [0, 2, 3, 1]), None
    val = _heads(v, mm2.inputs[1], [0, 2, 1, 3])
    if q is None or kt is None or val is None:
        return False
    lins = [q[0], kt[0], val[0]]
    x = lins[0].inputs[0]
    shapes = {v.shape(ops[1].outputs[0]) for _, ops in (q, kt, val)}  # the reshapes to (1,T,H,dh)
    if any(lin.inputs[0] != x for lin in lins) or len(shapes) != 1 or len({id(op) for op in lins}) != 3:
        return False
    ((one, t, h, dh),) = shapes
    if one != 1 or v.shape(x)[:-1] != (1, t):
        return False
    weights = [g.tensors[lin.inputs[1]] for lin in lins]
    biases = [g.tensors[lin.inputs[2]] if len(lin.inputs) > 2 and lin.inputs[2] else None for lin in lins]
    if not all(w.is_const and w.dtype == "float32" for w in weights):
        return False
    if any(b is not None and not (b.is_const and b.dtype == "float32") for b in biases):
        return False
    name = lins[0].name
    w = _new_const(g, f"{name}.qkv_weight", np.concatenate([w.data for w in weights], axis=0))
    bias = ""
    if any(b is not None for b in biases):
        n = h * dh
        parts = [b.data.reshape(n) if b is not None else np.zeros(n, np.float32) for b in biases]
        bias = _new_const(g, f"{name}.qkv_bias", np.concatenate(parts)).name
    packed = _new_tensor(g, f"{name}.qkv", (1, t, 3 * h * dh))
    split = _new_tensor(g, f"{name}.qkv_split", (1, t, 3, h, dh))
    heads = _new_tensor(g, f"{name}.qkv_heads", (3, 1, h, t, dh))
    src = lins[0].source
    new = [
        Op("linear", g.fresh_name(f"{name}_qkv"), [x, w.name, bias], [packed], {}, src),
        Op(
            "reshape",
            g.fresh_name(f"{name}_qkv_split"),
            [packed],
            [split],
            {"shape": (1, t, 3, h, dh)},
            src,
        ),
        Op(
            "transpose",
            g.fresh_name(f"{name}_qkv_heads"),
            [split],
            [heads],
            {"perm": [2, 0, 3, 1, 4]},
            src,
        ),
    ]
    outs = [mm1.inputs[0], _new_tensor(g, f"{name}.k", (1, h, t, dh)), mm2.inputs[1]]
    for i, out in enumerate(outs):
        part = _new_tensor(g, f"{name}.qkv_{i}", (1, 1, h, t, dh))
        new.append(
            Op(
                "slice",
                g.fresh_name(f"{name}_qkv_{i}"),
                [heads],
                [part],
                {"axis": -5, "start": i, "end": i + 1},
                src,
            )
        )
        new.append(
            Op(
                "reshape",
                g.fresh_name(f"{name}_qkv_{i}_heads"),
                [part],
                [out],
                {"shape": (1, h, t, dh)},
                src,
            )
        )
    new.append(
        Op(
            "transpose",
            g.fresh_name(f"{name}_kt"),
            [outs[1]],
            [mm1.inputs[1]],
            {"perm": [0, 1, 3, 2]},
            src,
        )
    )
    gone = [*q[1], *kt[1], *val[1]]
    first = next(i for i, op in enumerate(g.ops) if any(op is o for o in gone))  # ops before it stay
    g.ops = [op for op in g.ops if all(op is not o for o in gone)]
    g.ops[first:first] = new
    _drop_unused(g)
    return True


_RULES = (_scale_after_qk, _div_to_mul, _transpose_by_reshapes, _zero_mask, _packed_qkv)


def canonical_attention(graph: Graph) -> Graph:
    """Apply the rules above until none applies; returns the new graph, verified."""
    g = graph.copy()
    while True:
        v = _View(g)  # rebuilt after each rewrite
        if not any(rule(g, v, op) for op in list(g.ops) for rule in _RULES):
            return g.verify()


def _swap(g: Graph, old: list[Op], new: list[Op]) -> None:
    """Put `new` where the last of `old` was (its inputs are all defined by then) and drop `old`."""
    last = max(range(len(g.ops)), key=lambda i: -1 if all(g.ops[i] is not o for o in old) else i)
    g.ops[last : last + 1] = new
    g.ops = [op for op in g.ops if all(op is not o for o in old)]
    _drop_unused(g)


def _rename_reads(g: Graph, old: str, new: str) -> None:
    for op in g.ops:
        op.inputs = [new if t == old else t for t in op.inputs]


def _drop_unused(g: Graph) -> None:
    used = set(g.entry_tensors()) | set(g.exit_tensors())
    used |= {n for op in g.ops for n in (*op.inputs, *op.outputs) if n}
    for name in [n for n in g.tensors if n not in used]:
        del g.tensors[name]


def _new_tensor(g: Graph, base: str, shape: tuple[int, ...]) -> str:
    name = g.fresh_name(base)
    g.tensors[name] = Tensor(name, tuple(shape), "float32")
    return name


def _new_const(g: Graph, base: str, value: np.ndarray) -> Tensor:
    name = g.fresh_name(base)
    g.tensors[name] = Tensor(name, value.shape, "float32", np.ascontiguousarray(value, np.float32))
    return g.tensors[name]
