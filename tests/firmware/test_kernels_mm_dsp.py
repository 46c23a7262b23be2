"""The DSP-path batch matmul and convolution (firmware/kernels/quant_matmul_dsp.c, quant_conv_dsp.c)
on the host (plain-C forms of SXTB16/SMLAD): the same bytes as the portable kernel and the NumPy mirror
(edgexf/ir/kernels_q.py) on random shapes (odd m, n, k of every residue mod 4, k = 1, broadcast
batches), zero points at the extremes, both requantization paths (shift < 32 and >= 32), saturation,
and inside the scratch kernel_choice sizes. QEMU runs (the real instructions) and the instruction
counts are in test_kernels_mm_speed.py."""

from __future__ import annotations

import numpy as np
import pytest
from firmware.qdata import INT32_MAX, assert_same, mult_shift, s8
from hypothesis import given, settings
from hypothesis import strategies as st

from edgexf.ir import kernels_q as q


def _matmul_case(qk, a, b, a_zp, b_zp, out_zp, scale=100):
    acc = (a.astype(np.int64) - a_zp) @ (b.astype(np.int64) - b_zp)
    mult, shift = mult_shift(scale / max(1, np.abs(acc).max()))
    for mult, shift in [(mult, shift), (0, 5), (INT32_MAX, 62), (INT32_MAX, 1), (1 << 30, 31), (1 << 30, 32)]:
        y = q.matmul_s8(a, b, a_zp, b_zp, mult, shift, out_zp)
        assert_same(qk.matmul(a, b, a_zp, b_zp, mult, shift, out_zp, dsp=True), y)
        assert_same(qk.matmul(a, b, a_zp, b_zp, mult, shift, out_zp), y)


@pytest.mark.parametrize(
    "sa,sb",
    [((1, 1, 1), (1, 1, 1)), ((3, 5, 7), (3, 7, 4)), ((4, 17, 16), (4, 16, 17)), ((4, 17, 17), (4, 17, 16)),
     ((4, 9, 16), (1, 16, 9)), ((1, 6, 8), (5, 8, 3)), ((2, 2, 4), (2, 4, 2))],
)  # fmt: skip
@pytest.mark.parametrize("zps", [(0, 0, 0), (-128, 127, 127), (127, -128, -128), (3, -7, 11)])
def test_matmul_dsp(qk, sa, sb, zps):
    _matmul_case(qk, s8(*sa), s8(*sb), *zps)


def test_matmul_dsp_edge_values(qk):
    """Every operand at -128 or 127 against the opposite zero point: |a - a_zp| = 255, the widest pair."""
    for a_val, a_zp in [(-128, 127), (127, -128)]:
        a, b = np.full((2, 5, 33), a_val, np.int8), np.full((2, 33, 3), a_val, np.int8)
        _matmul_case(qk, a, b, a_zp, a_zp, 0, scale=1)


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 3), m=st.integers(1, 9), k=st.integers(1, 23), n=st.integers(1, 9),
    bcast=st.sampled_from(["none", "a", "b"]), a_zp=st.integers(-128, 127), b_zp=st.integers(-128, 127),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_matmul_dsp_random_shapes(qk, batch, m, k, n, bcast, a_zp, b_zp, seed):
    g = np.random.default_rng(seed)
    a = g.integers(-128, 128, (1 if bcast == "a" else batch, m, k), dtype=np.int8)
    b = g.integers(-128, 128, (1 if bcast == "b" else batch, k, n), dtype=np.int8)
    _matmul_case(qk, a, b, a_zp, b_zp, int(g.integers(-128, 128)))
