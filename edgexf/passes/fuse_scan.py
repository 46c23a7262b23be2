"""Find Mamba's selective-scan step in an exported step graph and replace its elementwise chain by one
selective_scan (float32) or q_selective_scan (int8) op (edgexf/ir/ops_scan.py):

    dA  = exp(reshape(dt) * A)                    mul -> exp          (q_mul -> q_lut, fn "exp")
    h'  = dA * h + reshape(dt * x) * reshape(B)   mul, mul, mul -> add (q_mul ... -> q_add)
    y   = sum(h' * reshape(C), -1) + x * D        mul -> sum, mul -> add (q_mul -> q_mean, q_mul -> q_add)

    => h', y = selective_scan(x, dt, A, B, C, D, h)

A and D are constants; the reshapes are the step's unsqueezes ((1, E) -> (1, E, 1), (1, N) -> (1, 1, N));
either operand order of each mul and add is taken. This is the form edgexf.models.mamba's step exports
(torch.export, after the compile-time folding of A = -exp(A_log)). h' may be a graph's next state (its
other reader, h' * C, is in the chain). The integer chain is taken only in the types the quantization
pass gives it with an int16 state (int8 operands, int16 h, dA h, dt x B and h', per-tensor scales); an
int8 state (--state-dtype int8) stays unfused. Runs in the fusion stage, after quantization
(edgexf/pipeline.py, after passes/fuse.py): the float op rounds as the chain does; the int8 op keeps the
chain's scales (h' and y those of the chain's tensors, dA's int8 index the chain's) but computes in its
own, finer arithmetic (ir/ops_scan.py), so an int8 build with --no-fusion differs from a fused one.
mambapy's step() writes (dt B) x and C . h' as a matmul: another association, not matched.
"""

from __future__ import annotations

import math

import numpy as np

from edgexf.compress.qmath import pair_multipliers, scalar_multiplier
from edgexf.ir.graph import Graph, Op, Tensor
from edgexf.passes.chains import Chains, Match, chain_source, rewrite


def _through(m: Chains, t: str) -> tuple[str, list[Op]]:
    """t, or what a reshape read by nothing else made t from, and that reshape."""
    op = m.producer.get(t)
    if op is not None and op.type == "reshape" and len(m.users.get(t, [])) == 1 and t not in m.exits:
        return op.inputs[0], [op]
    return t, []


def _only(m: Chains, t: str, types: tuple[str, ...]) -> Op | None:
    """The one op reading t (t may also be a graph output or next state)."""
    users = {id(op): op for op in m.users.get(t, [])}
    op = next(iter(users.values())) if len(users) == 1 else None
    return op if op is not None and op.type in types else None


def _split(m: Chains, op: Op, known: str) -> tuple[str, int] | None:
    """The other operand of binary op (seen through a reshape) and the index of `known` in its inputs."""
    for i, t in enumerate(op.inputs):
        if _through(m, t)[0] == known and t != op.inputs[1 - i]:
            return op.inputs[1 - i], i
    return None


def _terms(op: Op, swap: bool, keys: tuple[str, ...]) -> dict:
    """An op's attributes with its operands exchanged when `swap` (a_* <-> b_*)."""
    at = {k: op.attrs[k] for k in keys}
    if swap:
        for a, b in (("a_zp", "b_zp"), ("ma", "mb")):
            if a in at:
                at[a], at[b] = at[b], at[a]
    return at


MUL_KEYS = ("a_zp", "b_zp", "mult", "shift", "out_zp", "dtype")
ADD_KEYS = ("a_zp", "b_zp", "ma", "mb", "shift", "out_zp", "dtype")


def _q15_form(m: Chains, inputs: list[str], dA: dict, index: str, y: str) -> tuple[dict, str] | None:
    """q_selective_scan's terms (ir/ops_scan.py) from the chain's tensors' scales: the exp's index as the
    chain requantizes it, its Q15 table (a new int16 constant), dt x B in Q15 of h, y's two terms."""
    x, dt, _, B, C, D, h = inputs
    q = {t: m.g.tensors[t].quant for t in (x, dt, B, C, D, h, index, y)}
    if any(p is None or p.axis is not None for p in q.values()) or m.shape(h)[-1] > 255:
        return None  # per-tensor scales only; n <= 255 keeps the kernel's sum of h' C in int32
    s = {t: float(p.scale) for t, p in q.items()}
    ia = np.arange(256) - 128 - q[index].zero_point
    table = np.clip(np.round(np.exp(s[index] * ia) * 32768.0), 0, 32767).astype(np.int16)
    name = m.name(f"{index}.exp_q15")
    m.pending[name] = Tensor(name, (256,), "int16", table)
    mult, shift = scalar_multiplier(s[dt] * s[x] * s[B] / s[h] * 32768.0)
    ma, mb, y_shift = pair_multipliers(s[h] * s[C] / s[y], s[x] * s[D] / s[y])
    attrs = {
        "dA": dA,  # dt first: the table's index, as the chain's q_mul makes it
        "dBx": {"mult": mult, "shift": shift},  # (dt - zp)(x - zp) -> Q15 of h's scale per code of B
        "y": {"ma": ma, "mb": mb, "shift": y_shift, "out_zp": q[y].zero_point, "dtype": m.g.tensors[y].dtype},
        "zp": {k: int(q[t].zero_point) for k, t in (("x", x), ("dt", dt), ("B", B), ("C", C), ("D", D))},
    }
    return attrs, name


def scan_rule(m: Chains, exp: Op) -> Match | None:
    q = exp.type == "q_lut"
    if not (exp.type == "exp" or (q and exp.attrs.get("fn") == "exp")):
        return None
    MUL, ADD, SUM = ("q_mul", "q_add", "q_mean") if q else ("mul", "add", "sum")
    g = m.g
    # dA = exp(dt * A)
    mul_a = m.made_by(exp.inputs[0], (MUL,))
    if mul_a is None:
        return None
    ai = next((i for i, t in enumerate(mul_a.inputs) if m.constant(t) and len(m.shape(t)) == 2), None)
    if ai is None:
        return None
    A = mul_a.inputs[ai]
    dt, dt_reshape = _through(m, mul_a.inputs[1 - ai])
    e, n = m.shape(A)
    # h' = dA * h + dBx
    mul_h = m.sole_user(exp.outputs[0], MUL)
    found = mul_h and _split(m, mul_h, exp.outputs[0])
    if not found:
        return None
    h, dA_at = found
    add_h = m.sole_user(mul_h.outputs[0], ADD)
    found = add_h and _split(m, add_h, mul_h.outputs[0])
    if not found or m.shape(h)[-2:] != (e, n) or m.shape(add_h.outputs[0]) != m.shape(h):
        return None
    dbx, dah_at = found
    mul_b = m.made_by(dbx, (MUL,))
    if mul_b is None:
        return None
    # dt x (seen through its reshape) times B (through its own)
    parts = [_through(m, t) for t in mul_b.inputs]
    made = [m.made_by(t, (MUL,)) for t, _ in parts]
    mul_x = next((i for i, p in enumerate(made) if p is not None and dt in p.inputs), None)
    if mul_x is None:
        return None
    dtx_op = m.producer[parts[mul_x][0]]
    x = dtx_op.inputs[1 - dtx_op.inputs.index(dt)] if dtx_op.inputs.count(dt) == 1 else None
    B, b_reshape = parts[1 - mul_x]
    if x is None or m.g.tensors[B].is_const:
        return None
    # y = sum(h' * C) + x * D
    h2 = add_h.outputs[0]
    mul_c = _only(m, h2, (MUL,))
    found = mul_c and _split(m, mul_c, h2)
    if not found:
        return None
    c_in, hc_at = found
    C, c_reshape = _through(m, c_in)
    total = m.sole_user(mul_c.outputs[0], SUM)
    rank = len(m.shape(h2))
    if total is None or total.attrs["axis"] % rank != rank - 1 or total.attrs.get("keepdims"):
        return None
    add_y = m.sole_user(total.outputs[0], ADD)
    found = add_y and _split(m, add_y, total.outputs[0])
    if not found:
        return None
    dx, y_at = found
    mul_d = m.made_by(dx, (MUL,))
    if mul_d is None or x not in mul_d.inputs or mul_d.inputs[0] == mul_d.inputs[1]:
        return None
    D = mul_d.inputs[1 - mul_d.inputs.index(x)]
    sizes = {x: e, dt: e, B: n, C: n, D: e}
    if not m.constant(D) or any(math.prod(m.shape(t)) != k for t, k in sizes.items()):
        return None
    chain = [*dt_reshape, mul_a, exp, mul_h, dtx_op, *parts[mul_x][1], *b_reshape, mul_b, add_h]
    chain += [*c_reshape, mul_c, total, mul_d, add_y]
    inputs = [x, dt, A, B, C, D, h]
    if q:
        types = [g.tensors[t].dtype for t in (*inputs, mul_h.outputs[0], mul_b.outputs[0], h2)]
        if types != ["int8"] * 6 + ["int16"] * 4:
            return None
        found = _q15_form(m, inputs, _terms(mul_a, ai == 0, MUL_KEYS), mul_a.outputs[0], add_y.outputs[0])
        if found is None:
            return None
        attrs, table = found
        inputs.append(table)
    else:
        attrs = {}
    attrs["y_shape"] = list(m.shape(add_y.outputs[0]))
    kind = "q_selective_scan" if q else "selective_scan"
    op = Op(kind, f"{exp.name}_scan", inputs, [h2, add_y.outputs[0]], attrs, chain_source("fused", chain))
    return Match(chain, [op])


def fuse_scans(graph: Graph) -> tuple[Graph, int]:
    """Replace every selective-scan chain; returns the new graph (verified) and how many were found."""
    return rewrite(graph, [scan_rule])
