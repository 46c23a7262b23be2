"""LayerNorm and GELU as the TFLite converter (litert-torch) writes them, for recognize.py.

    m = mean(x); d = x - m; r = rsqrt(mean(d * d) + eps)           (d * d: TFLite's SQUARED_DIFFERENCE)
    y = x * r + (c - m * r)          =>  layernorm(x) [+ c]      (c a scalar: beta folded by the converter)
    u = x * (b + a * x * x); y = x * sigmoid(u),  a = 0.0713548, b = 1.5957691      =>  gelu(x, "tanh")
        (sigmoid(2z) = (1 + tanh z) / 2 with z = sqrt(2/pi) (x + 0.044715 x^3): tanh GELU exactly)

Per-row values (means, r) travel through reshapes between (1, T, 1), (T,) and back, and x through
reshapes between (T, D) and (1, T, D); those reshapes are part of the chain. Each rule checks at the end
that every tensor of its chain but the last is read only inside the chain and is no graph output.
In a pre-quantized file the chain's intermediate int8 tensors go with it: the fused op keeps the file's
parameters of x and y, and rounds once where TFLite rounded at every step (benchmarks/tflite_agreement.py
measures the difference from tflite-micro).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import Op
from edgexf.passes.chains import Chains, affine_after, source

GELU_A, GELU_B = 0.0713548162726, 1.5957691216  # 2 sqrt(2/pi) * 0.044715, 2 sqrt(2/pi)


def _origin(m: Chains, t: str, ops: list[Op]) -> str:
    """The tensor t is a reshape of (through any number of reshapes); the reshapes go into ops."""
    while (op := m.producer.get(t)) is not None and op.type == "reshape":
        ops.append(op)
        t = op.inputs[0]
    return t


def _end(m: Chains, t: str, ops: list[Op]) -> tuple[str, Op | None]:
    """Follow t through reshapes that are its only reader: (last tensor, the non-reshape op reading it)."""
    while (op := m.sole_user(t)) is not None and op.type == "reshape":
        ops.append(op)
        t = op.outputs[0]
    return t, m.sole_user(t)


def _closed(m: Chains, chain: list[Op], y: str) -> bool:
    """Every tensor the chain writes, except y, is read only by the chain and is no graph output."""
    ids = {id(op) for op in chain}
    if len(ids) != len(chain):
        return False
    for op in chain:
        for t in op.outputs:
            if t != y and (t in m.exits or any(id(u) not in ids for u in m.users.get(t, []))):
                return False
    return True


def _row_mean(m: Chains, t: str, ops: list[Op]) -> tuple[str, Op] | None:
    """(x, mean op) when t is, through reshapes, mean(x) over x's last axis."""
    op = m.producer.get(_origin(m, t, ops))
    if op is None or op.type != "mean":
        return None
    rank = len(m.shape(op.inputs[0]))
    return (op.inputs[0], op) if op.attrs["axis"] % rank == rank - 1 else None


def _per_row(m: Chains, t: str, x: str) -> bool:
    """t holds one value per row of x, shaped to broadcast against x."""
    return m.shape(t) == m.shape(x)[:-1] + (1,)


def _scaled_norm(m: Chains, root: Op) -> tuple[Op, list[Op], dict] | None:
    if root.type != "rsqrt":
        return None
    chain: list[Op] = [root]
    add = m.producer.get(root.inputs[0])
    if add is None or add.type != "add":
        return None
    eps = next((t for t in add.inputs if m.scalar(t) is not None), None)
    if eps is None:
        return None
    var = _row_mean(m, m.other(add, eps), chain)
    sq = var and m.producer.get(var[0])
    if sq is None or sq.type != "mul" or sq.inputs[0] != sq.inputs[1]:
        return None
    d = m.producer.get(sq.inputs[0])
    if d is None or d.type != "sub" or not _per_row(m, d.inputs[1], d.inputs[0]):
        return None
    x = d.inputs[0]
    mean = _row_mean(m, d.inputs[1], chain)
    if mean is None or mean[0] != x:
        return None
    chain += [add, var[1], sq, d, mean[1]]
    readers = {id(op): op for op in m.users.get(root.outputs[0], [])}.values()
    if len(readers) != 2:
        return None
    scale = shift = None
    for op in readers:
        r, mul = root.outputs[0], op
        if op.type == "reshape":
            chain.append(op)
            r, mul = _end(m, op.outputs[0], chain)
        if mul is None or mul.type != "mul":
            return None
        other = m.other(mul, r)
        if other == x and _per_row(m, r, x):
            scale = mul
        elif other is not None and _origin(m, other, chain) == mean[1].outputs[0]:
            shift = mul
        chain.append(mul)
    sub = shift and m.sole_user(shift.outputs[0], "sub")
    c = sub and sub.inputs[0]
    if scale is None or sub is None or sub.inputs[1] != shift.outputs[0] or m.scalar(c) is None:
        return None
    b, final = _end(m, sub.outputs[0], chain)
    if final is None or final.type != "add" or m.other(final, b) != scale.outputs[0] or not _per_row(m, b, x):
        return None
    chain += [sub, final]
    y, n = final.outputs[0], m.shape(x)[-1]
    if m.shape(y) != m.shape(x):
        return None
    y, params = affine_after(m, y, n, chain)
    if m.scalar(c) != 0.0:  # the converter's beta, when it did not fold it into the next layer
        if params:
            return None
        params = {"gamma": np.ones(n, np.float32), "beta": np.full(n, m.scalar(c), np.float32)}
    chain = _unique(chain)
    if not _closed(m, chain, y):
        return None
    op = Op("layernorm", root.name, [x, "", ""], [y], {"eps": float(m.scalar(eps))}, source(chain))
    return op, chain, params


def _scaled_by(m: Chains, t: str, value: float, chain: list[Op]) -> str | None:
    """x when t is (through reshapes) x * value; the ops go into chain."""
    mul = m.producer.get(_origin(m, t, chain))
    if mul is None or mul.type != "mul":
        return None
    c = next((i for i in mul.inputs if m.equals(i, value, 1e-5)), None)
    if c is None:
        return None
    chain.append(mul)
    return _origin(m, m.other(mul, c), [])


def _cube_part(m: Chains, t: str, chain: list[Op]) -> str | None:
    """x when t is (through reshapes) b + (x * a) * x, in any operand order."""
    add = m.producer.get(_origin(m, t, chain))
    b = (
        next((i for i in add.inputs if m.equals(i, GELU_B, 1e-5)), None)
        if add and add.type == "add"
        else None
    )
    sq = m.producer.get(_origin(m, m.other(add, b), chain)) if b else None
    if sq is None or sq.type != "mul" or len(sq.inputs) != 2:
        return None
    for i in (0, 1):
        found: list[Op] = []
        x = _scaled_by(m, sq.inputs[i], GELU_A, found)
        if x is not None and _origin(m, sq.inputs[1 - i], []) == x:
            chain += [add, sq, *found]
            return x
    return None


def _sigmoid_gelu(m: Chains, sig: Op) -> tuple[Op, list[Op], dict] | None:
    if sig.type != "sigmoid":
        return None
    chain: list[Op] = [sig]
    u = m.producer.get(_origin(m, sig.inputs[0], chain))
    if u is None or u.type != "mul" or len(u.inputs) != 2:
        return None
    for i in (0, 1):  # u = w * x, w = b + (x * a) * x
        found: list[Op] = []
        x = _cube_part(m, u.inputs[i], found)
        if x is not None and _origin(m, u.inputs[1 - i], []) == x:
            chain += found
            break
    else:
        return None
    s, last = _end(m, sig.outputs[0], chain)
    if last is None or last.type != "mul" or _origin(m, m.other(last, s), []) != x:
        return None
    chain = _unique([*chain, u, last])
    y = last.outputs[0]
    reshaped_only = y not in m.exits and all(r.type == "reshape" for r in m.users.get(y, []))
    if not _closed(m, chain, y) or (m.shape(y) != m.shape(x) and not reshaped_only):
        return None
    if m.shape(y) != m.shape(x):
        m.reshaped(y, m.shape(x))  # read by reshapes only: it may take x's shape
    return Op("gelu", sig.name, [x], [y], {"approximate": "tanh"}, source(chain)), chain, {}


def _unique(chain: list[Op]) -> list[Op]:
    return list({id(op): op for op in chain}.values())


TFLITE_RULES = (_scaled_norm, _sigmoid_gelu)
