"""The DSP-path batch matmul and convolution (firmware/kernels/quant_matmul_dsp.c, quant_conv_dsp.c)
on the host (plain-C forms of SXTB16/SMLAD): the same bytes as the portable kernel and the NumPy mirror
(edgexf/ir/kernels_q.py) on random shapes (odd m, n, k of every residue mod 4, k = 1, broadcast
batches), zero points at the extremes, both requantization paths (shift < 32 and >= 32), saturation,
and inside the scratch kernel_choice sizes. QEMU runs (the real instructions) and the instruction
counts are in test_kernels_mm_speed.py."""

from __future__ import annotations

import re

import numpy as np
import pytest
from firmware.qdata import INT32_MAX, assert_same, mult_shift, s8
from hypothesis import given, settings
from hypothesis import strategies as st

from edgexf.ir import kernel_choice
from edgexf.ir import kernels_q as q
from edgexf.resources import firmware_dir


def test_conv_constants_agree_with_the_header():
    """kernel_choice.conv_scratch sizes what exf_conv2d_s8_dsp takes from these."""
    header = (firmware_dir() / "kernels" / "edgexf_kernels.h").read_text()
    for name in ("CONV_BLOCK", "CONV_SMALL_GROUPS", "CONV_DIRECT_OG"):
        assert int(re.search(rf"#define EXF_{name} (\d+)", header)[1]) == getattr(kernel_choice, name), name


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


def _conv_case(qk, x, wt, b, stride, padding, dilation, groups, in_zp, out_zp):
    # a scale from the weights' bound (some outputs saturate, most do not)
    spread = np.maximum(1, np.abs(wt.astype(np.int64)).reshape(wt.shape[0], -1).sum(axis=1) * 128 // 4)
    mult, shift = mult_shift(100 / spread, wt.shape[0])
    o = wt.shape[0]
    cases = [(mult, shift), ([INT32_MAX] * o, [62] * o), ([1 << 30] * o, [31] * o), ([1 << 30] * o, [33] * o)]
    for mult, shift in cases:
        y = q.conv2d_s8(x, wt, b, mult, shift, stride, padding, in_zp, out_zp, dilation, groups)
        got = qk.conv2d(x, wt, b, mult, shift, stride, padding, in_zp, out_zp, dilation, groups, dsp=True)
        assert_same(got, y)


@pytest.mark.parametrize(
    "n,c,h,w,o,k,stride,padding,dilation,groups",
    [
        (1, 1, 28, 28, 64, (4, 4), (4, 4), (0, 0), (1, 1), 1),  # the MNIST ViT's patch embedding
        (1, 3, 8, 8, 5, (4, 4), (4, 4), (0, 0), (1, 1), 1),  # patches of 3 channels, odd o
        (1, 1, 12, 12, 4, (3, 3), (3, 3), (0, 0), (1, 1), 1),  # patch 3: tap by tap
        (2, 2, 7, 5, 3, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # padding, 35 positions (blocks + a tail)
        (1, 3, 9, 6, 2, (3, 2), (2, 3), (2, 1), (1, 1), 1),  # padding wider than the stride
        (1, 4, 9, 9, 4, (3, 3), (1, 1), (1, 1), (1, 1), 4),  # depthwise (direct path, two outputs at a time)
        (1, 5, 10, 7, 5, (3, 3), (2, 2), (1, 1), (1, 1), 5),  # depthwise, stride 2 (one at a time)
        (1, 3, 6, 9, 6, (3, 4), (1, 1), (1, 2), (1, 1), 3),  # channel multiplier 2, kw = 4
        (1, 4, 9, 9, 4, (3, 3), (1, 1), (2, 2), (2, 2), 4),  # dilated depthwise: tap by tap
        (2, 6, 9, 8, 12, (3, 2), (2, 1), (1, 0, 2, 1), (1, 1), 3),  # channel multiplier 2, asymmetric pads
        (1, 3, 9, 8, 3, (2, 3), (3, 2), (0, 2, 1, 0), (2, 1), 3),  # dilated, stride above the kernel
        (1, 2, 9, 16, 4, (1, 8), (1, 1), (0, 3), (1, 1), 1),  # kw = 8 partly in the padding
        (1, 1, 1, 1, 1, (1, 1), (1, 1), (0, 0), (1, 1), 1),
    ],
)
@pytest.mark.parametrize(
    "in_zp,out_zp,bias", [(0, 0, True), (-128, 127, True), (127, -128, False), (9, -3, True)]
)
def test_conv2d_dsp(qk, n, c, h, w, o, k, stride, padding, dilation, groups, in_zp, out_zp, bias):
    x, wt = s8(n, c, h, w), s8(o, c // groups, *k)
    b = np.random.default_rng(1).integers(-3000, 3000, o).astype(np.int32) if bias else None
    _conv_case(qk, x, wt, b, stride, padding, dilation, groups, in_zp, out_zp)


@settings(max_examples=30, deadline=None)
@given(
    c_g=st.integers(1, 3), groups=st.integers(1, 3), og=st.integers(1, 5), h=st.integers(1, 11),
    w=st.integers(1, 11), kh=st.integers(1, 4), kw=st.integers(1, 8), sh=st.integers(1, 3),
    sw=st.integers(1, 4), pad=st.integers(0, 2), dil=st.integers(1, 2), in_zp=st.integers(-128, 127),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_conv2d_dsp_random_shapes(qk, c_g, groups, og, h, w, kh, kw, sh, sw, pad, dil, in_zp, seed):
    if h + 2 * pad < dil * (kh - 1) + 1 or w + 2 * pad < dil * (kw - 1) + 1:
        return  # no output
    g = np.random.default_rng(seed)
    x = g.integers(-128, 128, (1, c_g * groups, h, w), dtype=np.int8)
    wt = g.integers(-128, 128, (og * groups, c_g, kh, kw), dtype=np.int8)
    b = g.integers(-5000, 5000, og * groups).astype(np.int32)
    _conv_case(qk, x, wt, b, (sh, sw), (pad, pad), (dil, dil), groups, in_zp, int(g.integers(-128, 128)))
