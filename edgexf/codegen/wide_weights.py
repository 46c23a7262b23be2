"""Weights widened to int16 at code generation, for exf_linear_s8_w16 (firmware/kernels/quant_dot_w16.c).

An (m, k) int8 weight matrix becomes a pair-row matrix (firmware/kernels/quant_pairs.h): outputs in
pairs, inputs in groups of four, and per pair and group 8 int16 = output 2p's {e0 e2} {e1 e3}, then
output 2p + 1's, zeros where m is odd or k is not a multiple of 4. The kernel then loads four weights
per instruction (LDRD) and multiplies them two at a time (SMLAD) with nothing to widen.

The requantization terms are worked out here too, per output: the rounding term of requant_t's SMMLA
path with the output zero point folded in, 2^(shift - 33) + zp 2^(shift - 32), and shift - 32.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.graph import Graph, Op
from edgexf.ir.kernel_choice import WIDE_LINEARS, WIDE_SHIFTS, uses_wide


def pack_pairs(w: np.ndarray) -> np.ndarray:
    """(m, k) int8 -> the flat int16 pair-row matrix of ceil(m / 2) * ceil(k / 4) * 8 values (a patch
    embedding's (d, c, p, p) weight is passed as (d, c p p), exf_patch_embed_s8_w16's order)."""
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


def widened_tensors(graph: Graph) -> set[str]:
    """The weight tensors that code generation writes widened (each used by its wide op alone)."""
    names = set()
    for op in graph.ops:
        if uses_wide(op):
            names.update(op.inputs[w] for w, _, _ in WIDE_LINEARS[op.type])
    return names


def rq_bytes(graph: Graph) -> int:
    """Flash of every rq_static array: 8 bytes per output of each widened linear layer. model.c keeps
    them as static arrays, in the internal flash whatever the weights' placement."""
    return sum(
        8 * graph.tensors[op.inputs[shift]].numel
        for op in graph.ops
        if uses_wide(op)
        for _, shift, _ in WIDE_LINEARS[op.type]
    )


def rq_static(graph: Graph, op: Op, layer: int, cname: str, pre_shift: int = 0) -> str:
    """The C declaration of the requantization terms of the op's linear layer number `layer`; pre_shift:
    exf_linear_q_w16's left shift of the sums, which the shifts then include."""
    _, shift, zp_key = WIDE_LINEARS[op.type][layer]
    terms = requant_terms(graph.tensors[op.inputs[shift]].data + pre_shift, op.attrs[zp_key])
    return f"static const int32_t {cname}[{terms.size}] = {{{', '.join(str(int(v)) for v in terms)}}};"
