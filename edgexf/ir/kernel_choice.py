"""Which C kernel an op runs: the portable one, or the fast one for cores with the DSP extension.

The choice is an op attribute (`kernel: "dsp"`, set by edgexf/passes/select_kernels.py), because it
changes the op's working memory: a fast int8 kernel widens EXF_DSP_BLOCK_ROWS rows of its input to
int16 pairs in scratch, so the memory planner must know. Both kernels give the same integers: the
reference ignores the attribute.

A dsp linear layer's weights are int8 in flash and widened as they are used (exf_linear_s8_dsp), or
widened to int16 pairs at code generation (`weights: "int16"`, exf_linear_s8_w16): twice their flash,
about 1.3x fewer instructions. The second needs every requantization shift of the layer in WIDE_SHIFTS.

Helium (MVE: Cortex-M55, M85) is not a kernel set of its own: a core with MVE has the DSP extension too,
so 'auto' picks 'dsp' there, and the dsp kernels run their MVE forms where the compiler targets such a
core (-mcpu=cortex-m55 defines __ARM_FEATURE_MVE): the int8 linear helper (exfq_linear_s8_dsp,
quant_dot_mve.c), the batch matmul and conv (quant_matmul_mve.c, quant_conv_mve.c, in the scratch planned
for the DSP forms: b transposed, a block of int8 patches), the int8 attention (quant_attention_mve.c, in
attention_scratch: int16 values, two rows of scores and weights), and, in the portable kernels themselves,
the table lookup, the int8 multiply and the same-size adds (quant_elementwise_mve.c, quant_add_mve.c). The
choice is the board's core, as for the DSP kernels; the graph and the reference are the same integers. The
MVE linear form needs no scratch (VMLADAV.S8 takes the int8 operands as they are), so the dsp scratch
planned for it is an upper bound, and it takes int8 weights: --dsp-weights auto widens only the ops whose
one fast kernel takes int16 weights there (passes/select_kernels.py, mve).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.cores import has_dsp
from edgexf.ir.graph import Op

# firmware/kernels/edgexf_kernels.h EXF_DSP_BLOCK_ROWS (tests/firmware checks they agree)
DSP_BLOCK_ROWS = 6
# edgexf_kernels.h EXF_CONV_BLOCK, _SMALL_GROUPS, _DIRECT_OG (tests/firmware checks they agree):
CONV_BLOCK = 32  # output positions per im2col block of exf_conv2d_s8_dsp
CONV_SMALL_GROUPS = 8  # a patch of at most this many groups of 4 taps: blocks of 2 CONV_BLOCK positions
CONV_DIRECT_OG = 4  # one input channel and fewer output channels per group: the direct path, no im2col
# the int8 ops with a _dsp kernel
DSP_OPS = ("q_linear", "q_ln_linear", "q_token_mlp", "q_attention", "q_matmul", "q_conv2d")
# int8 ops whose only fast kernel takes int16 weights (exf_linear_q_w16, exf_patch_embed_s8_w16):
# portable unless widened
WIDE_ONLY = ("q_linear_q", "q_patch_embed")
CHOICES = ("auto", "portable", "dsp")
WEIGHT_CHOICES = ("auto", "int8", "int16")  # --dsp-weights
WIDE_SHIFTS = (33, 53)  # exf_linear_s8_w16's requantization (SMMLA) covers these shifts
# Per op type with a widenable dsp kernel, its linear layers: (weight input, shift input, out zp attribute)
WIDE_LINEARS = {
    "q_linear": ((1, 4, "out_zp"),),
    "q_linear_q": ((1, 4, "out_zp"),),
    "q_ln_linear": ((3, 6, "out_zp"),),
    "q_token_mlp": ((3, 6, "fc1_zp"), (8, 11, "fc2_zp")),
    "q_patch_embed": ((1, 4, "conv_zp"),),  # W (d, c, p, p): widened as (d, c p p)
}


def uses_dsp(op: Op) -> bool:
    return op.attrs.get("kernel") == "dsp"


def linear_q_pre_shift(graph, op: Op) -> int | None:
    """exf_linear_q_w16's left shift of the sums before requantizing (a q_linear_q op): 0 where every
    shift is in WIDE_SHIFTS; for shifts below (an int16 output's, often 31-32) the shift that brings the
    smallest to 33, where every shifted sum stays in int32 and the largest shift still in range (the
    sums' bound: |bias| + sum |w| max|x|, max|x| = 2^15 for int16 x, 2^7 for int8). None: no such shift,
    the op keeps the portable kernel (whose sums are int64)."""
    x, w, b, _, shift = (graph.tensors[n] if n else None for n in op.inputs)
    shifts = shift.data.astype(np.int64).reshape(-1)
    ls = max(0, WIDE_SHIFTS[0] - int(shifts.min()))
    if int(shifts.max()) + ls > WIDE_SHIFTS[1]:
        return None
    x_max = 1 << 15 if x.dtype == "int16" else 1 << 7
    bound = np.abs(w.data.astype(np.int64)).sum(axis=1) * x_max
    if b is not None:
        bound = bound + np.abs(b.data.astype(np.int64))
    return ls if bool(np.all(bound << ls < 1 << 31)) else None


def uses_wide(op: Op) -> bool:
    """The op's linear weights are widened to int16 at code generation (exf_linear_s8_w16)."""
    return op.attrs.get("weights") == "int16"


def wide_scratch(k: int, m: int) -> int:
    """Scratch of exf_linear_s8_w16 (firmware/kernels/quant_dot_w16.c): two widened rows of k and the
    sums of two rows by m outputs, k and m rounded up to 4 and 2."""
    return 16 * (-(-k // 4)) + 16 * (-(-m // 2))


def patch_scratch(k: int, nw: int, d: int, y_bytes: int) -> int:
    """Scratch of exf_patch_embed_s8_w16 (firmware/kernels/quant_patch_dsp.c): a patch row of nw tokens
    of d elements of y_bytes, 8-aligned, two patches of k = c p p taps widened, the sums of two patches
    by d outputs, and one patch's taps gathered (k rounded up to 4)."""
    return _align8(nw * d * y_bytes) + wide_scratch(k, d) + 4 * (-(-k // 4))


def wide_bytes(m: int, k: int) -> int:
    """Flash of an (m, k) weight matrix widened (passes/widen_weights.py) plus its requantization terms."""
    return 16 * (-(-m // 2)) * (-(-k // 4)) + 8 * m


def widened_bytes(k: int, rows: int = DSP_BLOCK_ROWS) -> int:
    """Scratch of the int16 widening of a block of rows of k int8 (only whole groups of 4): a block is
    DSP_BLOCK_ROWS rows, or all of them where there are fewer (a recurrent model's one-row step)."""
    return min(rows, DSP_BLOCK_ROWS) * (k // 4) * 8


def block_scratch(op: Op, row_bytes: int, linears: list[tuple[int, int]], rows: int = DSP_BLOCK_ROWS) -> int:
    """Scratch of a fused dsp op: a block of its own row buffers (row_bytes per row; the block is
    DSP_BLOCK_ROWS rows, or all `rows` where there are fewer), 8-aligned, then the larger scratch of its
    linear kernels, linears = [(k, m), ...]: exf_linear_s8_w16's, or the widening of a block of rows."""
    block = min(rows, DSP_BLOCK_ROWS)
    if uses_wide(op):
        return _align8(block * row_bytes) + max(wide_scratch(k, m) for k, m in linears)
    return _align8(block * row_bytes) + max(widened_bytes(k, block) for k, _ in linears)


def attention_scratch(t: int, dh: int) -> int:
    """Scratch of exf_attention_s8_dsp (firmware/kernels/quant_attention_dsp.c): one head's keys
    (t2 x dh) and values (dh2 x t, transposed) widened to int16, dh and t padded to multiples of 4,
    two query rows, two rows of int16 weights and two rows of int32 sums; t2, dh2 = t, dh rounded up to
    even: 8 (t2 gd + dh2 gt + 2 gd + 2 gt + max(t2, dh2)) bytes, gd = ceil(dh / 4), gt = ceil(t / 4)."""
    gd, gt = -(-dh // 4), -(-t // 4)
    t2, dh2 = t + t % 2, dh + dh % 2
    return 8 * (t2 * gd + dh2 * gt + 2 * gd + 2 * gt + max(t2, dh2))


def matmul_scratch(m: int, k: int, n: int) -> int:
    """Scratch of exf_matmul_s8_dsp (firmware/kernels/quant_matmul_dsp.c): one batch of a (m rows) and
    of b (n columns) as pair-row matrices (k padded to 4, m and n to even), then the int32 sums of a row
    pair: 8 ceil(k / 4) (m2 + n2) + 8 n2 bytes."""
    m2, n2 = m + m % 2, n + n % 2
    return 8 * (-(-k // 4)) * (m2 + n2) + 8 * n2


def conv_direct(w_shape: tuple[int, ...], groups: int) -> bool:
    """exf_conv2d_s8_dsp takes its direct path (depthwise, channel multiplier below CONV_DIRECT_OG):
    one input channel per group, w (o, 1, kh, kw)."""
    return w_shape[1] == 1 and w_shape[0] // groups < CONV_DIRECT_OG


def conv_scratch(w_shape: tuple[int, ...], groups: int, out_hw: tuple[int, int], stride, dilation) -> int:
    """Scratch of exf_conv2d_s8_dsp (firmware/kernels/quant_conv_dsp.c), w (o, c / groups, kh, kw).
    im2col: a weight row pair, a block of patches (2 CONV_BLOCK positions for at most CONV_SMALL_GROUPS
    groups of taps, else CONV_BLOCK), one patch as int16, the sums of a row pair by the block.
    Direct path (conv_direct): the plane of an input channel's rows the outputs read, padding
    included, 4 bytes past it, and the kernel widened (8 bytes per row and group of 4 taps)."""
    _, cg, kh, kw = w_shape
    if conv_direct(w_shape, groups):
        (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
        plane = ((oh - 1) * sh + (kh - 1) * dh + 1) * ((ow - 1) * sw + (kw - 1) * dw + 1)
        return (plane + 4 + 3) // 4 * 4 + 8 * kh * (-(-kw // 4))
    g = -(-(cg * kh * kw) // 4)
    block = 2 * CONV_BLOCK if g <= CONV_SMALL_GROUPS else CONV_BLOCK
    return 8 * g * (block + 3) + 8 * block


def _align8(n: int) -> int:
    return (n + 7) // 8 * 8


def resolve(choice: str, core: str) -> str:
    """'auto' is 'dsp' on a core with the DSP extension, else 'portable'."""
    if choice not in CHOICES:
        raise ValueError(f"kernels must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "auto":
        return "dsp" if has_dsp(core) else "portable"
    return choice
