"""Widen the int8 weights of the ops select_kernels marked `weights: "int16"` (exf_linear_s8_w16, the
fused _dsp kernels, exf_patch_embed_s8_w16 in firmware/kernels/), so code generation only prints them.

An (m, k) int8 weight matrix is written as a pair-row matrix (firmware/kernels/quant_pairs.h): outputs in
pairs, inputs in groups of four, and per pair and group 8 int16 = output 2p's {e0 e2} {e1 e3}, then
output 2p + 1's, zeros where m is odd or k is not a multiple of 4. The kernel then loads four weights
per instruction (LDRD) and multiplies them two at a time (SMLAD) with nothing to widen. The pass stores
that array in the weight tensor (`Tensor.stored`: what weights.c writes, and what the flash estimate
counts); the tensor's `data` keeps the int8 values the reference computes with.

The requantization terms become constants of the graph too, one (m, 2) int32 tensor per linear layer,
named in the op's `rq` attribute: per output the rounding term of requant_t's SMMLA path with the output
zero point folded in, 2^(shift - 33) + zp 2^(shift - 32), and shift - 32. A q_linear_q op's left shift of
its sums before requantizing (linear_q_pre_shift) is its `pre_shift` attribute, included in the terms.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import Graph, Tensor
from edgexf.ir.kernel_choice import WIDE_LINEARS, WIDE_SHIFTS, linear_q_pre_shift, uses_wide


def widen_weights(graph: Graph) -> Graph:
    """A new graph whose widened ops' weights carry their int16 pairs and whose requantization terms
    are constants named in each op's `rq` attribute (one per linear layer of the op: WIDE_LINEARS)."""
    g = graph.copy()
    for op in g.ops:
        if not uses_wide(op):
            continue
        pre_shift = linear_q_pre_shift(g, op) if op.type == "q_linear_q" else 0
        if pre_shift is None:
            raise ValueError(f"{op.describe()}: int16 weights, but its sums do not fit int32 when shifted")
        names = []
        for w, shift, zp_key in WIDE_LINEARS[op.type]:
            t = g.tensors[op.inputs[w]]
            # a patch embedding's (d, c, p, p) weight is widened as (d, c p p), its kernel's order
            t.stored = pack_pairs(t.data.reshape(t.shape[0], -1))
            terms = requant_terms(g.tensors[op.inputs[shift]].data + pre_shift, op.attrs[zp_key])
            name = g.fresh_name(_rq_name(op.inputs[w]))
            g.tensors[name] = Tensor(name, (t.shape[0], 2), "int32", data=terms.reshape(t.shape[0], 2))
            names.append(name)
        op.attrs["rq"] = names
        if op.type == "q_linear_q":
            op.attrs["pre_shift"] = pre_shift
    return g.verify()


def _rq_name(weight: str) -> str:
    """blocks.0.attn.qkv.weight.q -> blocks.0.attn.qkv.rq: named after the layer its weight is from."""
    base = weight.removesuffix(".q").removesuffix(".weight")
    return f"{base}.rq"


def pack_pairs(w: np.ndarray) -> np.ndarray:
    """(m, k) int8 -> the flat int16 pair-row matrix of ceil(m / 2) * ceil(k / 4) * 8 values."""
    m, k = w.shape
    pairs, groups = -(-m // 2), -(-k // 4)
    padded = np.zeros((2 * pairs, 4 * groups), np.int16)
    padded[:m, :k] = w
    # axes (pair, output in pair, group, half, word): element e of a group is word e % 2, half e // 2
    a = padded.reshape(pairs, 2, groups, 2, 2)
    return np.ascontiguousarray(a.transpose(0, 2, 1, 4, 3)).reshape(-1)


def requant_terms(shift: np.ndarray, zero_point: int) -> np.ndarray:
    """Per output (rounding term with the zero point, shift - 32), flat int32; shifts in WIDE_SHIFTS."""
    s = shift.astype(np.int64).reshape(-1)
    lo, hi = WIDE_SHIFTS
    if s.size and (s.min() < lo or s.max() > hi):
        raise ValueError(f"exf_linear_s8_w16 needs shifts in [{lo}, {hi}], not [{s.min()}, {s.max()}]")
    rounding = (1 << (s - 33)) + int(zero_point) * (1 << (s - 32))
    return np.stack([rounding, s - 32], axis=1).astype(np.int32).reshape(-1)
