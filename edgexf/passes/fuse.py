"""Operator integration: find a ViT's op chains and replace each by one row-at-a-time op.

    fuse(graph) -> (graph, {"attention": n, "token_mlp": n, "ln_linear": n, "patch_embed": n})

Works on float32 graphs and on the quantization pass's integer graphs alike (the integer chain's
parameters become the fused op's attributes). The chains, as edgexf's ViT and torch.export write them:

- token_mlp:   x -> layernorm -> linear -> gelu|relu (int8: lut) -> linear -> add(x, .)
- attention:   qkv -> reshape (1,T,3,H,dh) -> permute -> 3 slices -> reshapes; q @ transpose(k)
               [-> mul by a scalar (int8: lut)] -> softmax -> @ v -> transpose -> reshape (1,T,H*dh)
               (int8: its own arithmetic, not the chain's integers: edgexf/ir/kernels_q_attention.py)
- ln_linear:   layernorm -> linear (what is left after token_mlp: the qkv projection)
- patch_embed: conv2d (stride = kernel, no padding) -> flatten -> transpose [-> concat(cls, .)]
               [-> add(., pos)]

A chain whose intermediate tensors are read anywhere else, or that differs in any other way, is left
as it is: fusion is an optimization, never a requirement. See edgexf/ir/ops_fused.py for the ops.
"""

from __future__ import annotations

from edgexf.compress.attention_q import attention_terms, exp_table
from edgexf.ir.graph import Graph, Op, Tensor
from edgexf.ir.opdef import ConvGeometry
from edgexf.passes.chains import Chains, Match, chain_source, rewrite

KINDS = ("token_mlp", "attention", "ln_linear", "patch_embed")


def _swaps_last_two(perm: list[int]) -> bool:
    """k^T: [0, 1, 3, 2], or [0, 2, 1] on heads squeezed to (H, T, dh)."""
    n = len(perm)
    return n >= 3 and perm == [*range(n - 2), n - 1, n - 2]


def _q(op: Op) -> bool:
    return op.type.startswith("q_")


def _swap(add: dict, swap: bool) -> dict:
    """A q_add's attributes with its operands exchanged when `swap` (the sum is the same integers)."""
    keys = ("a_zp", "b_zp", "ma", "mb", "shift", "out_zp", "dtype")
    r = {k: add[k] for k in keys}
    if swap:
        r["a_zp"], r["b_zp"], r["ma"], r["mb"] = r["b_zp"], r["a_zp"], r["mb"], r["ma"]
    return r


def _token_mlp(m: Chains, add: Op) -> Match | None:
    if add.type not in ("add", "q_add") or add.inputs[0] == add.inputs[1]:
        return None
    for xi in (0, 1):
        x, y = add.inputs[xi], add.inputs[1 - xi]
        fc2 = m.made_by(y, ("linear", "q_linear"))
        act = fc2 and m.made_by(fc2.inputs[0], ("gelu", "relu", "q_lut"))
        fc1 = act and m.made_by(act.inputs[0], ("linear", "q_linear"))
        ln = fc1 and m.made_by(fc1.inputs[0], ("layernorm", "q_layernorm"))
        if not ln or ln.inputs[0] != x or m.shape(x) != m.shape(add.outputs[0]):
            continue
        chain = [ln, fc1, act, fc2, add]
        if _q(add):
            inputs = [x, *ln.inputs[1:], *fc1.inputs[1:], act.inputs[1], *fc2.inputs[1:]]
            attrs = {
                **_ln_attrs(ln),
                "fc1_zp": fc1.attrs["out_zp"],
                "act": act.attrs.get("fn", "lut"),
                "fc2_zp": fc2.attrs["out_zp"],
                "res": _swap(add.attrs, xi == 1),
            }
            kind = "q_token_mlp"
        else:
            name = "relu" if act.type == "relu" else f"gelu_{act.attrs['approximate']}"
            inputs = [x, *ln.inputs[1:], *fc1.inputs[1:], *fc2.inputs[1:]]
            attrs, kind = {"eps": ln.attrs["eps"], "act": name}, "token_mlp"
        return _match(m, Op(kind, f"{add.name}_mlp", inputs, [add.outputs[0]], attrs, _source(chain)), chain)
    return None


def _attention(m: Chains, sm: Op) -> Match | None:
    if sm.type not in ("softmax", "q_softmax"):
        return None
    scale = m.made_by(sm.inputs[0], ("mul", "q_lut"))
    if scale is not None and scale.type == "mul":
        consts = [i for i in scale.inputs if m.constant(i) and m.g.tensors[i].numel == 1]
        if len(consts) != 1:
            return None
    mm1 = m.made_by(scale.inputs[0] if scale else sm.inputs[0], ("matmul", "q_matmul"))
    mm2 = m.sole_user(sm.outputs[0], ("matmul", "q_matmul"))
    if mm1 is None or mm2 is None or m.up(mm2.inputs[0]) != sm.outputs[0]:
        return None
    kt = m.made_by(mm1.inputs[1], ("transpose",))
    tr = m.sole_user(mm2.outputs[0], ("transpose",))
    out = tr and m.sole_user(tr.outputs[0], ("reshape",))
    if kt is None or out is None or not _swaps_last_two(kt.attrs["perm"]) or tr.attrs["perm"] != [0, 2, 1, 3]:
        return None
    heads = []  # q, k, v: each reshape <- slice <- one permute
    for name in (mm1.inputs[0], kt.inputs[0], mm2.inputs[1]):
        rs = m.made_by(name, ("reshape",))
        sl = rs and m.made_by(rs.inputs[0], ("slice",))
        heads.append((rs, sl))
    if any(rs is None or sl is None for rs, sl in heads):
        return None
    perm = m.producer.get(heads[0][1].inputs[0])
    if perm is None or perm.type != "transpose" or perm.attrs["perm"] != [2, 0, 3, 1, 4]:
        return None
    if any(sl.inputs[0] != perm.outputs[0] or sl.attrs["start"] != i for i, (_, sl) in enumerate(heads)):
        return None
    if len(m.users[perm.outputs[0]]) != 3:
        return None
    split = m.made_by(perm.inputs[0], ("reshape",))
    if split is None:
        return None
    qkv = split.inputs[0]
    t, three, h, dh = m.shape(split.outputs[0])[1:]
    y = out.outputs[0]
    if m.shape(qkv) != (1, t, 3 * h * dh) or three != 3 or m.shape(y) not in ((1, t, h * dh), (t, h * dh)):
        return None
    chain = [split, perm, *[op for pair in heads for op in reversed(pair)], kt, mm1]
    chain += ([scale] if scale else []) + [sm, mm2, tr]
    chain.append(out)
    tail = []  # (T, D), as TFLite's FULLY_CONNECTED reads it: the op writes (1, T, D), a reshape stays
    if m.shape(y) != (1, t, h * dh):
        y = m.tensor(f"{y}.tokens", (1, t, h * dh), like=y)
        tail = [Op("reshape", out.name, [y], list(out.outputs), dict(out.attrs), out.source)]
    if _q(sm):
        terms = _q_attention_terms(m, mm1, scale, mm2, y, t)
        if terms is None:
            return None
        inputs, attrs, kind = [qkv, terms.pop("table")], {"heads": h, **terms}, "q_attention"
    else:
        s = next(i for i in scale.inputs if m.constant(i)) if scale else ""
        inputs, attrs, kind = [qkv, s], {"heads": h}, "attention"
    return _match(m, Op(kind, f"{sm.name}_attention", inputs, [y], attrs, _source(chain)), chain, tail)


def _q_attention_terms(m: Chains, mm1: Op, scale: Op | None, mm2: Op, y: str, t: int) -> dict | None:
    """q_attention's attributes and exp table (edgexf/compress/attention_q.py): the int8 chain's zero
    points, its scales folded into one score multiplier and one output multiplier. None (the chain
    stays unfused) where the scale between the matmul and the softmax is a table of something other
    than a product by a constant, or the kernels cannot take the scales."""
    c = 1.0 if scale is None else scale.attrs.get("scalar")
    q, k, v = (
        m.g.tensors[mm1.inputs[0]].quant,
        m.g.tensors[mm1.inputs[1]].quant,
        m.g.tensors[mm2.inputs[1]].quant,
    )
    out = (m.pending.get(y) or m.g.tensors[y]).quant  # y: the match's own (T, D) tensor where it reshapes
    if c is None or c <= 0 or None in (q, k, v, out):
        return None
    terms = attention_terms(t, q.scale * k.scale * c, v.scale, out.scale)
    if terms is None:
        return None
    at1, at2 = mm1.attrs, mm2.attrs
    table = f"attention_exp_t{t}"  # one table for every attention over rows of t
    if table not in m.g.tensors and table not in m.pending:
        data = exp_table(t)[0]
        m.pending[table] = Tensor(table, data.shape, "int16", data)
    return {
        "q_zp": at1["a_zp"],
        "k_zp": at1["b_zp"],
        "v_zp": at2["b_zp"],
        "exp": terms["exp"],
        "av": (*terms["av"], at2["out_zp"]),
        "table": table,
    }


def _ln_linear(m: Chains, ln: Op) -> Match | None:
    if ln.type not in ("layernorm", "q_layernorm"):
        return None
    lin = m.sole_user(ln.outputs[0], ("linear", "q_linear"))
    if lin is None or lin.inputs[0] != ln.outputs[0]:
        return None
    if _q(ln):
        at = _ln_attrs(ln) | lin.attrs
        op = Op("q_ln_linear", f"{lin.name}_ln", [*ln.inputs, *lin.inputs[1:]], lin.outputs, at)
    else:
        op = Op("ln_linear", f"{lin.name}_ln", [*ln.inputs, *lin.inputs[1:]], lin.outputs, dict(ln.attrs))
    op.source = _source([ln, lin])
    return _match(m, op, [ln, lin])


def _ln_attrs(ln: Op) -> dict:
    """A q_layernorm's attributes as a fused op's: eps_term, ln_zp, and gshift (with gamma and beta) or
    ln_mult and ln_mshift (without: folded into the next linear layer)."""
    at = ln.attrs
    if "mult" in at:
        form = {"ln_mult": at["mult"], "ln_mshift": at["mshift"]}
    else:
        form = {"gshift": at["gshift"]}
    return {"eps_term": at["eps_term"], **form, "ln_zp": at["out_zp"]}


def _patch_embed(m: Chains, conv: Op) -> Match | None:
    if conv.type not in ("conv2d", "q_conv2d"):
        return None
    geo, k = ConvGeometry.of(conv), m.shape(conv.inputs[1])[2:]
    (sh, sw), x_shape = geo.stride, m.shape(conv.inputs[0])
    if sh != sw or (sh, sw) != tuple(k) or not geo.plain or any(geo.pads) or x_shape[0] != 1:
        return None
    if x_shape[2] % sh or x_shape[3] % sh:
        return None
    flat = m.sole_user(conv.outputs[0], ("reshape",))
    tr = flat and m.sole_user(flat.outputs[0], ("transpose",))
    if tr is None or tr.attrs["perm"] != [0, 2, 1]:
        return None
    chain, last, cls, pos, pos_add = [conv, flat, tr], tr, "", "", None
    cat = m.sole_user(tr.outputs[0], ("concat",))
    if cat is not None and cat.inputs[1:] == [tr.outputs[0]] and m.constant(cat.inputs[0]):
        if cat.attrs["axis"] % 3 == 1 and m.shape(cat.inputs[0]) == (1, 1, m.shape(tr.outputs[0])[2]):
            chain, last, cls = chain + [cat], cat, cat.inputs[0]
    add = m.sole_user(last.outputs[0], ("add", "q_add"))
    if add is not None:
        other = add.inputs[1 - add.inputs.index(last.outputs[0])]
        if m.constant(other) and m.shape(other) == m.shape(add.outputs[0]):
            chain, last, pos, pos_add = chain + [add], add, other, add
    if _q(conv):
        attrs = {"patch": sh, "cls": bool(cls), "in_zp": conv.attrs["in_zp"], "conv_zp": conv.attrs["out_zp"]}
        if pos_add is not None:
            attrs["pos_add"] = _swap(pos_add.attrs, pos_add.inputs[0] == pos)
        attrs["dtype"] = m.g.tensors[last.outputs[0]].dtype
        inputs, kind = [*conv.inputs, cls, pos], "q_patch_embed"
    else:
        attrs, inputs, kind = {"patch": sh, "cls": bool(cls)}, [*conv.inputs, cls, pos], "patch_embed"
    fused = Op(kind, f"{conv.name}_patches", inputs, [last.outputs[0]], attrs, _source(chain))
    return _match(m, fused, chain)


def _source(chain: list[Op]) -> str:
    return chain_source("fused", chain)


def _match(m: Chains, fused: Op, chain: list[Op], tail: list[Op] = ()) -> Match:
    """The fused op (and any op after it) for the chain and the squeezing reshapes between its ops."""
    return Match(m.with_skipped(chain, fused.inputs), [fused, *tail])


_RULES = {
    "token_mlp": _token_mlp,
    "attention": _attention,
    "ln_linear": _ln_linear,
    "patch_embed": _patch_embed,
}


def fuse(graph: Graph, kinds: tuple[str, ...] = KINDS) -> tuple[Graph, dict[str, int]]:
    """Replace every chain of the given kinds, kind after kind; returns the new graph (verified) and
    counts per kind. Converters' squeezing reshapes are seen through (edgexf/passes/chains.py)."""
    counts = {}
    for kind in kinds:
        graph, counts[kind] = rewrite(graph, [_RULES[kind]], squeezed=True)
    return graph, counts
