"""Mark the int8 ops that have a fast DSP kernel to run it (edgexf/ir/kernel_choice.py), and choose
whether their linear weights are widened to int16 (`weights: "int16"`; passes/widen_weights.py then
writes them so)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgexf.ir.graph import Graph, Op
from edgexf.ir.kernel_choice import (
    DSP_OPS,
    WEIGHT_CHOICES,
    WIDE_LINEARS,
    WIDE_ONLY,
    WIDE_SHIFTS,
    conv_direct,
    conv_scratch,
    linear_q_pre_shift,
    wide_bytes,
)
from edgexf.ir.opdef import ConvGeometry

# exf_linear_s8_dsp widens whole groups of 4 input columns; a linear narrower than that (a low-rank
# factor of rank 1-3, Mamba's dt_proj of k 2) has no group, so with int8 weights the portable kernel is as
# fast (kernel_check, 1 row of k 2 to 64: 3,480 instructions, portable 3,440) and needs no scratch. With
# int16 weights it takes the zero-padded group and the SMMLA requantization: 1,760 there, for 16 B of
# flash per output pair instead of 4 (and the rq terms in place of the shifts).
_MIN_DSP_WIDTH = 4
# exf_conv2d_s8_dsp's im2col widens each patch once for the og output channels of its group: with one output
# channel per group it measured 1.7x slower than the portable kernel, og = 2 about even, og = 5 2.6x faster
# (mm_speed.c). One input channel per group with fewer outputs (depthwise) takes its direct path instead
# (kernel_choice.conv_direct, 4-7x faster than portable); a grouped conv with more input channels and fewer
# than this many outputs per group stays portable.
_MIN_CONV_CHANNELS = 4
# exf_conv2d_s8_dsp's scratch grows with the taps (kernel_choice.conv_scratch: im2col 280 B per 4 taps, 40 KB
# for a 3x3 conv of 64 channels) or, on its direct path (depthwise), with one input channel's padded plane:
# past this the arena would grow more than a conv is worth; such a conv stays portable.
_MAX_CONV_SCRATCH = 32 * 1024
# --dsp-weights auto widens while the model's constants, widened, take at most this share of the flash that
# may hold weights (the rest is for the code, the runtime and room to spare). On a board with external
# flash (--weights auto or external) that is the internal flash plus the external tier: weights placed
# outside leave the internal flash to the code, so counting the internal flash alone refused the widening
# for a reason that did not hold (edgexf/targets/placement.py weights_flash). The rule counts bytes only:
# QEMU does not model the QSPI flash's latency, and widened weights read from there double its traffic.
AUTO_FLASH_SHARE = 0.5


@dataclass(frozen=True)
class KernelSelection:
    dsp_ops: int  # ops on a DSP-extension kernel
    weights: str  # "int16" where some dsp op's weights are widened, else "int8"
    wide_ops: int  # ops whose weights are widened
    wide_extra_bytes: int  # flash the widening adds
    reason: str  # why the weights are as they are (for the compile summary)


def select_kernels(
    graph: Graph,
    kernels: str,
    dsp_weights: str = "auto",
    flash_bytes: int | None = None,
    flash_what: str = "",
    mve: bool = False,
) -> tuple[Graph, KernelSelection]:
    """kernels: 'dsp' or 'portable' (resolved). dsp_weights: 'int8', 'int16' (every op that allows it)
    or 'auto' (int16 while the widened constants take at most AUTO_FLASH_SHARE of flash_bytes, the flash
    that may hold weights: placement.weights_flash, described by flash_what). mve: the core has Helium,
    where the dsp kernels' int8 linear layers run VMLADAV.S8 on the int8 weights (quant_dot_mve.c), so
    'auto' widens only the ops whose one fast kernel takes int16 weights (WIDE_ONLY)."""
    if dsp_weights not in WEIGHT_CHOICES:
        raise ValueError(f"dsp weights must be one of {', '.join(WEIGHT_CHOICES)}, not {dsp_weights!r}")
    graph = graph.copy()  # the caller's graph keeps its attributes
    count = 0
    for op in graph.ops:
        op.attrs.pop("weights", None)
        if kernels == "dsp" and op.type in DSP_OPS + WIDE_ONLY and _wide_enough(graph, op):
            op.attrs["kernel"] = "dsp"
            count += 1
        else:
            op.attrs.pop("kernel", None)
    users = graph.consumers()
    widenable = [op for op in graph.ops if op.attrs.get("kernel") == "dsp" and _widenable(graph, op, users)]
    if mve and dsp_weights == "auto":  # int16 weights would halve VMLADAV's MACs and double their flash
        widenable = [op for op in widenable if op.type in WIDE_ONLY]
    extra = sum(_extra_bytes(graph, op) for op in widenable)
    constants = sum(t.nbytes for t in graph.constants())
    too_big = flash_bytes is not None and constants + extra > AUTO_FLASH_SHARE * flash_bytes
    share = f"{AUTO_FLASH_SHARE:.0%} of {flash_what or f'the {flash_bytes or 0:,} B flash'}"
    if not widenable or dsp_weights == "int8" or (dsp_weights == "auto" and too_big):
        if not widenable:
            reason = "no linear layer to widen"
        elif dsp_weights == "int8":
            reason = "--dsp-weights int8"
        else:
            reason = f"int16 weights would take {constants + extra:,} B, over {share}"
        return graph.verify(), KernelSelection(count - _portable_again(graph), "int8", 0, 0, reason)
    for op in widenable:
        op.attrs["weights"] = "int16"
    count -= _portable_again(graph)
    reason = "--dsp-weights int16" if dsp_weights == "int16" else "they fit the flash"
    if dsp_weights == "auto" and flash_bytes is not None:
        reason = f"they take {constants + extra:,} B, at most {share}"
    if mve and dsp_weights == "auto":
        reason += (
            "; Helium (MVE): linear layers keep int8 weights, only ops without an int8 fast kernel widen"
        )
    return graph.verify(), KernelSelection(count, "int16", len(widenable), extra, reason)


def _portable_again(graph: Graph) -> int:
    """Ops with no fast kernel but the int16-weight one (WIDE_ONLY, linears narrower than _MIN_DSP_WIDTH)
    and int8 weights go back to the portable kernel; returns how many."""
    back = [op for op in graph.ops if (op.type in WIDE_ONLY or _narrow(graph, op)) and _dsp_int8(op)]
    for op in back:
        op.attrs.pop("kernel")
    return len(back)


def _dsp_int8(op: Op) -> bool:
    return "kernel" in op.attrs and "weights" not in op.attrs


def _wide_enough(graph: Graph, op: Op) -> bool:
    if op.type == "q_conv2d":  # the scratch of the im2col block or of the direct path's plane
        x, w, geo = graph.tensors[op.inputs[0]].shape, graph.tensors[op.inputs[1]].shape, ConvGeometry.of(op)
        out_hw = geo.out_size(x[-2], x[-1], w[2], w[3])
        if w[0] // geo.groups < _MIN_CONV_CHANNELS and not conv_direct(tuple(w), geo.groups):
            return False
        return conv_scratch(tuple(w), geo.groups, out_hw, geo.stride, geo.dilation) <= _MAX_CONV_SCRATCH
    return True  # a linear narrower than _MIN_DSP_WIDTH: only with int16 weights (_portable_again)


def _narrow(graph: Graph, op: Op) -> bool:
    return op.type == "q_linear" and graph.tensors[op.inputs[1]].shape[-1] < _MIN_DSP_WIDTH


def _widenable(graph: Graph, op: Op, users: dict[str, list[Op]]) -> bool:
    """Every linear layer of the op has its shifts in WIDE_SHIFTS (for q_linear_q: after a pre-shift of
    its sums that keeps them in int32) and weights used by this op alone."""
    if op.type not in WIDE_LINEARS:
        return False
    lo, hi = WIDE_SHIFTS
    for w, shift, _ in WIDE_LINEARS[op.type]:
        s = graph.tensors[op.inputs[shift]]
        if len(users[op.inputs[w]]) != 1 or op.inputs[w] in graph.outputs or s.data is None:
            return False
        if op.type == "q_linear_q":  # exf_linear_q_w16 sums in int32 where exf_linear_q sums in int64
            return linear_q_pre_shift(graph, op) is not None
        if not np.all((s.data >= lo) & (s.data <= hi)):
            return False
    return True


def _extra_bytes(graph: Graph, op: Op) -> int:
    extra = 0
    for w, _, _ in WIDE_LINEARS[op.type]:
        t = graph.tensors[op.inputs[w]]
        m = t.shape[0]  # a patch embedding's (d, c, p, p) as (d, c p p)
        extra += wide_bytes(m, t.numel // m) - t.nbytes
    return extra
