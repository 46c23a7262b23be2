"""The int8 attention's Helium form (quant_attention_mve.c, which exf_attention_s8_dsp calls on Cortex-M55)
against the portable exf_attention_s8 in QEMU's mps3-an547: firmware/app/kernel_check.c's 200 random
attention cases (odd t, dh of every residue mod 4 and past 16, one to four heads, zero points at the
extremes, every score and output shift, saturated and one-hot exp tables, all-equal scores) and the
example ViTs' shapes, bit for bit, inside kernel_choice.attention_scratch (guard words after it).
The same run checks the other fast kernels on the M55 (their DSP forms or Helium hooks). About 10 s."""

from __future__ import annotations

import pytest

from edgexf.run import kernel_check
from edgexf.targets.boards import load_board

pytestmark = pytest.mark.qemu


def test_mve_attention_equals_portable_and_takes_over_a_mac_an_instruction():
    timings = [t for t in kernel_check.run(load_board("mps3-an547")) if t.kernel == kernel_check.ATTENTION]
    assert len(timings) == 4
    for t in timings:  # rows = tokens, k = heads, m = dh; two products of t x t x dh per head
        macs = 2 * t.rows * t.rows * t.k * t.m
        # measured: 1.40 (MNIST ViT, t 50, 4 x 16), 1.13 (t 50, 2 x 32), 1.66 (t 64, 8 x 16) MACs/instr,
        # 7.8-12x the portable kernel; 0.59 and 5x at t 17 (per-row costs: the weights, 1 / sum)
        assert macs / t.fast > (1.0 if t.rows >= 50 else 0.45), t
        assert t.portable >= (7 if t.rows >= 50 else 4) * t.fast, t
