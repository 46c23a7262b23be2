"""The causal depthwise conv1d of Mamba's step (Gu and Dao 2023, section 3.4: x = SiLU(conv1d(x))) on the
conv state, one op for the chain that passes/fuse_conv_step.py finds in the exported step graph:

    window = cat(state, x)           state (E, K-1), x (E,)             (E, K): the last K inputs
    y      = sum_k window W + bias   W (E, K) (any shape of E K values) (E,)
    state' = window[:, 1:]                                              (E, K-1), the next state

inputs [x, state, W, bias] (leading 1s allowed), outputs [state', y]. The kernel reads a channel's window
before it writes that channel's next state, so state' may lie over state.

The float32 reference is the chain's own references composed (mul, then sum from 0.0 in index order, then
the bias add), so a fused graph gives the unfused one's numbers bit for bit. The integer form (int16 state
and x with one scale and zero point 0, int8 W with its zero point) is its own arithmetic, made from the
chain's scales by the pass: one int32 sum acc = bias32 + sum_k window_k (W_k - W_zp), where bias32 is the
bias in the sum's units (s_state s_W), then y = clamp8(requantize(acc) + y_zp), one rounding with y the
chain's scale. The chain rounded each product to int8, their sum, then the add (three roundings; on the
example models' scales a product's step is 0.6 of y's).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir import kernels_math_ref as KM
from edgexf.ir import kernels_q as KQ
from edgexf.ir import kernels_ref as K
from edgexf.ir.graph import GraphError, Op
from edgexf.ir.opdef import ITEMSIZE, OpDef, Spec, lead


def _dims(op: Op, s: list[Spec | None]) -> tuple[int, int]:
    """(E, K) from the state (..., E, K-1), after checking every operand's element count."""
    if len(s) < 4 or any(spec is None for spec in s[:4]):
        raise GraphError(f"{op.describe()}: takes x, state, W and bias, all present")
    st = s[1][0]
    if len(st) < 2:
        raise GraphError(f"{op.describe()}: the state {list(st)} must be (..., E, K-1)")
    e, k = st[-2], st[-1] + 1
    for i, count in {0: e, 2: e * k, 3: e}.items():
        if int(np.prod(s[i][0])) != count:
            shape = list(s[i][0])
            raise GraphError(f"{op.describe()}: input {i} {shape} should hold {count} values (E={e}, K={k})")
    return e, k


def _infer(op: Op, s):
    _dims(op, s)
    st = s[1][0]
    y_shape = tuple(op.attrs.get("y_shape", st[:-1]))
    if op.type == "conv_step":
        if any(spec[1] != "float32" for spec in s[:4]):
            raise GraphError(f"{op.describe()}: float32 operands only")
        return [(st, "float32"), (y_shape, "float32")]
    got = [spec[1] for spec in s[:4]]
    if got != ["int16", "int16", "int8", "int32"]:
        raise GraphError(f"{op.describe()}: takes x and state int16, W int8, bias int32, not {got}")
    return [(st, "int16"), (y_shape, "int8")]


def _ref(op: Op, a, s):
    e, k = _dims(op, s)
    x, st, w, b = a[:4]
    x = x.reshape(lead(x, len(s[0][0])) + (e, 1))
    st = st.reshape(lead(st, len(s[1][0])) + (e, k - 1))
    common = np.broadcast_shapes(x.shape[:-2], st.shape[:-2])  # either may carry data-set axes
    parts = [np.broadcast_to(v, common + v.shape[-2:]) for v in (st, x)]
    window = np.concatenate(parts, axis=-1)  # (..., E, K)
    if op.type == "conv_step":
        y = K.add_f32(KM.sum_f32(K.mul_f32(window, w.reshape(e, k)), -1), b.reshape(e))
    else:
        at = op.attrs
        acc = (window.astype(np.int64) * (w.reshape(e, k).astype(np.int64) - at["w_zp"])).sum(-1)
        acc = acc + b.reshape(e).astype(np.int64)
        y = KQ.clamp(KQ.requantize(acc, at["mult"], at["shift"]) + at["out_zp"], np.int8)
    outs = _infer(op, s)
    nxt = np.ascontiguousarray(window[..., 1:])
    return [nxt.reshape(lead(nxt, 2) + outs[0][0]), y.reshape(lead(y, 1) + outs[1][0])]


def _alias(op, ins, outs):
    """state' may be written over state (a channel's window is read before its next state is written)."""
    st = ins[1] if len(ins) > 1 else None
    same = st is not None and st[0] == outs[0][0] and ITEMSIZE[st[1]] == ITEMSIZE[outs[0][1]]
    return [(1, 0)] if same else []


def _macs(op, i, o):
    st = o[0][0]
    return int(np.prod(st[:-1])) * (st[-1] + 1)  # K products per channel


CONV_STEP_OPS: dict[str, OpDef] = {
    "conv_step": OpDef(
        _infer,
        _ref,
        _macs,
        "Mamba's causal depthwise conv on its state: y = sum_k cat(state, x) W + bias, state' = the last "
        "K-1; inputs x, state, W, bias",
        alias=_alias,
    ),
    "q_conv_step": OpDef(
        _infer,
        _ref,
        _macs,
        "conv_step in integers: one int32 sum with the bias in its units, one requantization",
        alias=_alias,
    ),
}
