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

from edgexf.ir.graph import Graph, Op
from edgexf.passes.chains import Chains, Match, rewrite


def _scalar(v: Chains, t: str) -> float | None:
    """A float32 constant of one value (an attention scale); None for anything else."""
    value = v.g.tensors[t].data if t else None
    return v.scalar(t) if value is not None and value.dtype == np.float32 else None


def _scaled(v: Chains, t: str) -> tuple[str, float | None, Op | None]:
    """(x, c, mul) when t = x * c for a scalar constant c, else (t, None, None)."""
    mul = v.made_by(t, "mul")
    if mul is not None and len(mul.inputs) == 2:
        for i in (0, 1):
            c = _scalar(v, mul.inputs[1 - i])
            if c is not None and v.shape(mul.inputs[i]) == v.shape(t):
                return mul.inputs[i], c, mul
    return t, None, None


def _scale_after_qk(v: Chains, mm: Op) -> Match | None:
    if mm.type != "matmul" or v.g.tensors[mm.outputs[0]].dtype != "float32":
        return None
    reader = v.sole_user(mm.outputs[0])
    if reader is None or reader.type != "softmax":  # attention scores only
        return None
    a, ca, mul_a = _scaled(v, mm.inputs[0])
    b, cb, mul_b = _scaled(v, mm.inputs[1])
    if mul_a is None and mul_b is None:
        return None
    scale = np.float32((1.0 if ca is None else ca) * (1.0 if cb is None else cb))
    scores = v.tensor(f"{mm.outputs[0]}.unscaled", v.shape(mm.outputs[0]))
    const = v.tensor(f"{mm.name}.scale", (), np.array(scale, np.float32))
    product = Op("matmul", mm.name, [a, b], [scores], dict(mm.attrs), mm.source)
    mul = Op("mul", v.name(f"{mm.name}_scale"), [scores, const], list(mm.outputs), {}, mm.source)
    return Match([op for op in (mul_a, mul_b) if op is not None] + [mm], [product, mul])


def _div_to_mul(v: Chains, div: Op) -> Match | None:
    """scores / c => scores * (1/c), c a scalar constant (what the attention op multiplies by)."""
    if div.type != "div" or len(div.inputs) != 2:
        return None
    c = _scalar(v, div.inputs[1])
    if c is None or c == 0 or v.shape(div.inputs[0]) != v.shape(div.outputs[0]):
        return None
    sm = v.sole_user(div.outputs[0])
    if (
        sm is None
        or sm.type != "softmax"
        or v.producer.get(div.inputs[0], Op("", "", [], [])).type != "matmul"
    ):
        return None
    const = v.tensor(f"{div.name}.reciprocal", (), np.array(np.float32(1.0) / np.float32(c), np.float32))
    return Match([div], [Op("mul", div.name, [div.inputs[0], const], list(div.outputs), {}, div.source)])


def _transpose_by_reshapes(v: Chains, tr: Op) -> Match | None:
    """reshape (merge batch axes) -> transpose (last two) -> reshape (split them)  =>  reshape to the
    final batch axes -> transpose of the last two: the first reshape takes the last one's batch axes."""
    if tr.type != "transpose":
        return None
    r1, r2 = v.made_by(tr.inputs[0], "reshape"), v.sole_user(tr.outputs[0])
    if r1 is None or r2 is None or r2.type != "reshape":
        return None
    x, mid, y = v.shape(r1.inputs[0]), v.shape(tr.inputs[0]), v.shape(r2.outputs[0])
    n = len(mid)
    if n < 2 or tr.attrs["perm"] != [*range(n - 2), n - 1, n - 2] or len(x) < 2 or len(y) < 2:
        return None
    if x[-2:] != mid[-2:] or y[-2:] != (x[-1], x[-2]) or np.prod(x[:-2]) != np.prod(y[:-2]):
        return None
    view = (*y[:-2], *x[-2:])
    perm = [*range(len(y) - 2), len(y) - 1, len(y) - 2]
    new = [Op("transpose", tr.name, [r1.outputs[0]], list(r2.outputs), {"perm": perm}, tr.source)]
    if view == x:  # the first reshape has nothing left to do
        new[0].inputs = [r1.inputs[0]]
    else:  # it reshapes to the final batch axes (its only reader is tr, so it may move down to r2)
        v.reshaped(r1.outputs[0], view)
        new.insert(0, Op("reshape", r1.name, list(r1.inputs), list(r1.outputs), {"shape": view}, r1.source))
    return Match([r1, tr, r2], new)


def _zero_mask(v: Chains, add: Op) -> Match | None:
    if add.type != "add" or len(add.inputs) != 2 or add.outputs[0] in v.exits:
        return None
    for i in (0, 1):
        mask = v.g.tensors[add.inputs[1 - i]]
        x = add.inputs[i]
        if (
            mask.is_const
            and mask.dtype == "float32"
            and not mask.data.any()
            and v.shape(x) == v.shape(add.outputs[0])
        ):
            return Match([add], [], renames={add.outputs[0]: x})
    return None


def _heads(v: Chains, t: str, want: list[int]) -> tuple[Op, list[Op]] | None:
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


def _packed_qkv(v: Chains, sm: Op) -> Match | None:
    if sm.type != "softmax":
        return None
    scores = sm.inputs[0]
    scale = v.made_by(scores, "mul")
    mm1 = v.made_by(scale.inputs[0] if scale else scores, "matmul")
    mm2 = v.sole_user(sm.outputs[0])
    if mm1 is None or mm2 is None or mm2.type != "matmul" or mm2.inputs[0] != sm.outputs[0]:
        return None
    q, kt, val = _heads(v, mm1.inputs[0], [0, 2, 1, 3]), _heads(v, mm1.inputs[1], [0, 2, 3, 1]), None
    val = _heads(v, mm2.inputs[1], [0, 2, 1, 3])
    if q is None or kt is None or val is None:
        return None
    lins = [q[0], kt[0], val[0]]
    x = lins[0].inputs[0]
    shapes = {v.shape(ops[1].outputs[0]) for _, ops in (q, kt, val)}  # the reshapes to (1,T,H,dh)
    if any(lin.inputs[0] != x for lin in lins) or len(shapes) != 1 or len({id(op) for op in lins}) != 3:
        return None
    ((one, t, h, dh),) = shapes
    if one != 1 or v.shape(x)[:-1] != (1, t):
        return None
    weights = [v.g.tensors[lin.inputs[1]] for lin in lins]
    biases = [v.g.tensors[lin.inputs[2]] if len(lin.inputs) > 2 and lin.inputs[2] else None for lin in lins]
    if not all(w.is_const and w.dtype == "float32" for w in weights):
        return None
    if any(b is not None and not (b.is_const and b.dtype == "float32") for b in biases):
        return None
    name = lins[0].name
    stacked = np.concatenate([w.data for w in weights], axis=0)
    w = v.tensor(f"{name}.qkv_weight", stacked.shape, stacked)
    bias = ""
    if any(b is not None for b in biases):
        n = h * dh
        parts = [b.data.reshape(n) if b is not None else np.zeros(n, np.float32) for b in biases]
        bias = v.tensor(f"{name}.qkv_bias", (3 * n,), np.concatenate(parts))
    packed = v.tensor(f"{name}.qkv", (1, t, 3 * h * dh))
    split = v.tensor(f"{name}.qkv_split", (1, t, 3, h, dh))
    heads = v.tensor(f"{name}.qkv_heads", (3, 1, h, t, dh))
    src = lins[0].source
    new = [
        Op("linear", v.name(f"{name}_qkv"), [x, w, bias], [packed], {}, src),
        Op(
            "reshape",
            v.name(f"{name}_qkv_split"),
            [packed],
            [split],
            {"shape": (1, t, 3, h, dh)},
            src,
        ),
        Op(
            "transpose",
            v.name(f"{name}_qkv_heads"),
            [split],
            [heads],
            {"perm": [2, 0, 3, 1, 4]},
            src,
        ),
    ]
    outs = [mm1.inputs[0], v.tensor(f"{name}.k", (1, h, t, dh)), mm2.inputs[1]]
    for i, out in enumerate(outs):
        part = v.tensor(f"{name}.qkv_{i}", (1, 1, h, t, dh))
        new.append(
            Op(
                "slice",
                v.name(f"{name}_qkv_{i}"),
                [heads],
                [part],
                {"axis": -5, "start": i, "end": i + 1},
                src,
            )
        )
        new.append(
            Op(
                "reshape",
                v.name(f"{name}_qkv_{i}_heads"),
                [part],
                [out],
                {"shape": (1, h, t, dh)},
                src,
            )
        )
    new.append(
        Op(
            "transpose",
            v.name(f"{name}_kt"),
            [outs[1]],
            [mm1.inputs[1]],
            {"perm": [0, 1, 3, 2]},
            src,
        )
    )
    gone = [*q[1], *kt[1], *val[1]]
    return Match(gone, new, first=True)  # where the first linear was: q, k or v are read after it


_RULES = (_scale_after_qk, _div_to_mul, _transpose_by_reshapes, _zero_mask, _packed_qkv)


def canonical_attention(graph: Graph) -> Graph:
    """Apply the rules above until none applies; returns the new graph, verified."""
    return rewrite(graph, _RULES)[0]
