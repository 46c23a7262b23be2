"""The integer kernel library (firmware/kernels/quant*.c): C (host gcc) == NumPy mirror
(edgexf/ir/kernels_q.py) bit for bit on random inputs and edge cases, and the mirror means what the
contract in edgexf_kernels.h says: exact round-half-up requantization, an exact integer square root,
and LayerNorm / softmax close to float64 on the dequantized input. (The Cortex-M7 build of these files
is checked with the others by test_kernels.py.)"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from firmware.qdata import INT32_MAX, assert_same, equal_rows, mult_shift, rng, s8
from hypothesis import given, settings
from hypothesis import strategies as st

from edgexf.compress.qmath import softmax_exp_table as exp_table
from edgexf.ir import kernels_q as q
from edgexf.resources import firmware_dir

KERNEL_DIR = firmware_dir() / "kernels"


# ---- requantize and the shared helpers ---------------------------------------------------------


def exact_round_half_up(acc: int, mult: int, shift: int) -> int:
    return math.floor(Fraction(acc * mult, 2**shift) + Fraction(1, 2))


def test_requantize_is_exact_round_half_up(qk):
    acc = rng.integers(-(2**30), 2**30, 3000) >> rng.integers(0, 30, 3000)  # |acc * mult| < 2^61
    mult = rng.integers(-(2**31), 2**31, 3000)
    shift = rng.integers(1, 63, 3000)
    edge = [(5, 1, 1), (-5, 1, 1), (1, 1, 1), (-1, 1, 1), (-3, 1, 1), (3, 1, 1), (2**30, INT32_MAX, 62),
            (-(2**30), INT32_MAX, 62), (2**30 + 1, INT32_MAX, 61), (12345, 0, 7), (-12345, 0, 62),
            (-(2**31), -(2**30), 62), (2**31 - 1, -(2**31), 1)]  # fmt: skip
    acc, mult, shift = (np.concatenate([v, [e[i] for e in edge]]) for i, v in enumerate((acc, mult, shift)))
    got = q.requantize(acc, mult, shift)
    want = [exact_round_half_up(int(a), int(m), int(s)) for a, m, s in zip(acc, mult, shift)]
    assert got.tolist() == want
    # ties go up: -2.5 -> -2, -1.5 -> -1, -0.5 -> 0, 0.5 -> 1, 2.5 -> 3
    assert q.requantize([-5, -3, -1, 1, 5], 1, 1).tolist() == [-2, -1, 0, 1, 3]
    assert q.requantize([-5, 5], 3, 1).tolist() == [-7, 8]  # -7.5 -> -7, 7.5 -> 8
    ties = np.array([-5, -3, -1, 1, 3, 5], np.int8)  # the C kernel too: x / 2
    assert qk.requant(ties, 0, 1, 1, 0, np.int8).tolist() == [-2, -1, 0, 1, 2, 3]


def test_clamp():
    v = [-(2**40), -32769, -32768, -129, -128, 0, 127, 128, 32767, 32768, 2**40]
    assert q.clamp(v, np.int8).tolist() == [-128] * 5 + [0] + [127] * 5
    assert q.clamp(v, np.int16).tolist() == [-32768] * 3 + [-129, -128, 0, 127, 128] + [32767] * 3
    assert q.clamp(v, "int8").dtype == np.int8
    with pytest.raises(ValueError):
        q.clamp(v, np.int32)


def isqrt_samples() -> np.ndarray:
    r = np.concatenate([rng.integers(0, 2**31, 3000), [0, 1, 2, 3, 2**15, 2**30, 2**31 - 1]])
    squares = r * r
    near = np.concatenate([squares, squares - 1, squares + 1, squares + 2 * r])  # (r+1)^2 - 1 = r^2 + 2r
    wide = rng.integers(0, 2**62, 3000) >> rng.integers(0, 62, 3000)
    w = np.concatenate([near, wide, [2**62 - 1, 2**60, 2**60 - 1, 2**61, 2**61 - 1]])
    return w[(w >= 0) & (w < 2**62)]


def test_isqrt_exact(qk):
    w = isqrt_samples()
    want = [math.isqrt(int(v)) for v in w]
    assert q.isqrt(w).tolist() == want
    assert qk.helper("isqrt64", w).tolist() == want
    top = np.array([2**64 - 1, 2**63, 2**62], np.uint64)  # the C helper covers all of uint64
    assert qk.helper("isqrt64", top).tolist() == [math.isqrt(int(v)) for v in top]
    with pytest.raises(ValueError):
        q.isqrt([2**62])


def test_bitlen_and_division_helpers(qk):
    v = np.concatenate([[0, 1, 2, 3, 4], 2 ** np.arange(63), 2 ** np.arange(1, 63) - 1, isqrt_samples()])
    want = [int(x).bit_length() for x in v]
    assert q.bitlen(v).tolist() == want and qk.helper("bitlen64", v).tolist() == want
    r = np.concatenate([rng.integers(2**30, 2**31, 5000), [2**30, 2**30 + 1, 2**31 - 1, 1518500250]])
    assert qk.helper("div_2p61", r).tolist() == [2**61 // int(x) for x in r]


# ---- dot products ------------------------------------------------------------------------------


def linear_case(rows: int, k: int, m: int, bias: bool, g=rng):
    x, w = s8(rows, k, g=g), s8(m, k, g=g)
    spread = math.sqrt(k) * 5500  # std of sum_i x_i w_i: uniform int8 has std 74
    b = g.integers(-2 * spread, 2 * spread, m).astype(np.int32) if bias else None
    mult, shift = mult_shift(40 / spread, m, g=g)  # outputs mostly in range, some saturated
    return x, w, b, mult, shift


# k 1-3: the narrow path (a low-rank factor, Mamba's dt_proj), one row and several
@pytest.mark.parametrize(
    "rows,k,m", [(1, 1, 1), (1, 2, 9), (3, 3, 5), (2, 1, 4), (3, 5, 7), (17, 64, 33), (5, 300, 2)]
)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("out_zp", [-128, 0, 5, 127])
def test_linear(qk, rows, k, m, bias, out_zp):
    x, w, b, mult, shift = linear_case(rows, k, m, bias)
    y = q.linear_s8(x, w, b, mult, shift, out_zp)
    assert_same(qk.linear(x, w, b, mult, shift, out_zp), y)
    acc = x.astype(np.int64) @ w.astype(np.int64).T + (0 if b is None else b)  # in int64, no float64 trick
    assert_same(y, q.clamp(q.requantize(acc, mult, shift) + out_zp, np.int8))


def test_linear_edge_multipliers_and_saturation(qk):
    x, w = np.full((2, 64), -128, np.int8), np.full((6, 64), -128, np.int8)
    x[1] = 127
    b = np.array([0, 2**20, 5, 7, -7, 0], np.int32)
    mult = np.array([0, INT32_MAX, INT32_MAX, 1, INT32_MAX, 2**30])
    shift = np.array([31, 62, 1, 1, 30, 45])
    for out_zp in (-128, 127, 0):
        y = q.linear_s8(x, w, b, mult, shift, out_zp)
        assert_same(qk.linear(x, w, b, mult, shift, out_zp), y)
    assert y[:, 0].tolist() == [0, 0]  # mult 0
    assert y[:, 2].tolist() == [127, -128]  # shift 1: both clamp ends
    assert y[0, 3] == 127 and y[1, 3] == -128
    for k in (1, 2, 3):  # the narrow path at the same edges
        y = q.linear_s8(x[:, :k], np.ascontiguousarray(w[:, :k]), b, mult, shift, 0)
        assert_same(
            qk.linear(np.ascontiguousarray(x[:, :k]), np.ascontiguousarray(w[:, :k]), b, mult, shift, 0), y
        )


def test_linear_mirror_keeps_leading_dims():
    x, w, b, mult, shift = linear_case(24, 6, 5, True)
    y = q.linear_s8(x.reshape(2, 3, 4, 6), w, b, mult, shift, 3)
    assert_same(y, q.linear_s8(x, w, b, mult, shift, 3).reshape(2, 3, 4, 5))


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 9), k=st.integers(1, 40), m=st.integers(1, 12), bias=st.booleans(),
       out_zp=st.integers(-128, 127), seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_linear_random_shapes(qk, rows, k, m, bias, out_zp, seed):
    x, w, b, mult, shift = linear_case(rows, k, m, bias, np.random.default_rng(seed))
    assert_same(qk.linear(x, w, b, mult, shift, out_zp), q.linear_s8(x, w, b, mult, shift, out_zp))


@pytest.mark.parametrize("sa,sb", [((1, 1, 1), (1, 1, 1)), ((3, 5, 7), (3, 7, 4)), ((4, 9, 16), (1, 16, 9)),
                                   ((1, 6, 8), (5, 8, 3))])  # fmt: skip
@pytest.mark.parametrize(
    "zps", [(0, 0, 0), (-128, 127, 127), (127, -128, 127), (-128, -128, -128), (3, -7, 11)]
)
def test_matmul(qk, sa, sb, zps):
    a, b = s8(*sa), s8(*sb)
    a_zp, b_zp, out_zp = zps
    acc = (a.astype(np.int64) - a_zp) @ (b.astype(np.int64) - b_zp)  # int64 matmul, no float64 trick
    mult, shift = mult_shift(100 / max(1, np.abs(acc).max()))  # calibrated to the data: some saturate
    y = q.matmul_s8(a, b, a_zp, b_zp, mult, shift, out_zp)
    assert_same(qk.matmul(a, b, a_zp, b_zp, mult, shift, out_zp), y)
    assert_same(y, q.clamp(q.requantize(acc, mult, shift) + out_zp, np.int8))
    for mult, shift in [(0, 5), (INT32_MAX, 62), (INT32_MAX, 1)]:
        y = q.matmul_s8(a, b, a_zp, b_zp, mult, shift, out_zp)
        assert_same(qk.matmul(a, b, a_zp, b_zp, mult, shift, out_zp), y)


def test_matmul_mirror_broadcasts_several_batch_dims(qk):
    a, b = s8(2, 1, 4, 5), s8(3, 5, 6)
    y = q.matmul_s8(a, b, 1, -2, 2**30, 40, 4)
    assert y.shape == (2, 3, 4, 6)
    assert_same(np.stack([qk.matmul(a[i], b, 1, -2, 2**30, 40, 4) for i in range(2)]), y)


@pytest.mark.parametrize(
    "n,c,h,w,o,kh,kw,stride,padding",
    [
        (1, 1, 1, 1, 1, 1, 1, (1, 1), (0, 0)),
        (1, 3, 8, 8, 4, 2, 2, (2, 2), (0, 0)),  # ViT patch embedding
        (2, 2, 7, 5, 3, 3, 3, (1, 1), (1, 1)),
        (1, 3, 9, 6, 2, 3, 2, (2, 3), (2, 1)),  # odd sizes, padding wider than the stride
        (1, 1, 4, 4, 1, 3, 3, (1, 1), (2, 2)),  # corner outputs with a single tap
    ],
)
@pytest.mark.parametrize(
    "in_zp,out_zp,bias", [(0, 0, True), (-128, 127, True), (127, -128, False), (9, -3, True)]
)
def test_conv2d(qk, n, c, h, w, o, kh, kw, stride, padding, in_zp, out_zp, bias):
    x, wt = s8(n, c, h, w), s8(o, c, kh, kw)
    # acc independently: torch's float64 conv of x - in_zp with zero padding (exact for these integers)
    xc, wc = torch.from_numpy(x.astype(np.float64) - in_zp), torch.from_numpy(wt.astype(np.float64))
    acc = F.conv2d(xc, wc, None, stride, padding).numpy().astype(np.int64)
    spread = np.maximum(1, np.abs(acc).max(axis=(0, 2, 3)))  # (o,)
    b = rng.integers(-spread // 4, spread // 4 + 1).astype(np.int32) if bias else None
    mult, shift = mult_shift(100 / spread, o)  # calibrated per channel: some outputs saturate
    y = q.conv2d_s8(x, wt, b, mult, shift, stride, padding, in_zp, out_zp)
    assert_same(qk.conv2d(x, wt, b, mult, shift, stride, padding, in_zp, out_zp), y)
    acc = acc + (0 if b is None else b[:, None, None])
    assert_same(y, q.clamp(q.requantize(acc, mult[:, None, None], shift[:, None, None]) + out_zp, np.int8))


@pytest.mark.parametrize(
    "c,o,k,stride,padding,dilation,groups",
    [
        (4, 4, (3, 3), (1, 1), (1, 1), (1, 1), 4),  # depthwise (TFLite's DEPTHWISE_CONV_2D)
        (6, 12, (3, 2), (2, 1), (1, 0, 2, 1), (1, 1), 3),  # channel multiplier 2, SAME-style asymmetric pads
        (3, 3, (2, 3), (3, 2), (0, 2, 1, 0), (2, 1), 3),  # dilated, stride above the kernel
    ],
)
def test_conv2d_grouped_dilated_asymmetric(qk, c, o, k, stride, padding, dilation, groups):
    x, wt = s8(2, c, 9, 8), s8(o, c // groups, *k)
    pt, pl, pb, pr = padding if len(padding) == 4 else (*padding, *padding)
    xc = F.pad(torch.from_numpy(x.astype(np.float64) + 5), (pl, pr, pt, pb))  # in_zp = -5: centred, 0-padded
    acc = F.conv2d(xc, torch.from_numpy(wt.astype(np.float64)), None, stride, 0, dilation, groups)
    acc = acc.numpy().astype(np.int64)
    spread = np.maximum(1, np.abs(acc).max(axis=(0, 2, 3)))
    mult, shift = mult_shift(100 / spread, o)
    y = q.conv2d_s8(x, wt, None, mult, shift, stride, padding, -5, 3, dilation, groups)
    assert_same(qk.conv2d(x, wt, None, mult, shift, stride, padding, -5, 3, dilation, groups), y)
    assert_same(y, q.clamp(q.requantize(acc, mult[:, None, None], shift[:, None, None]) + 3, np.int8))


def test_conv2d_padding_is_real_zero_and_leading_axes_fold(qk):
    """All-padding outputs are requantize(bias) whatever in_zp is; (2, n, ...) is (2n, ...)."""
    x, wt, b = s8(2, 1, 1, 2, 2), s8(1, 1, 3, 3), np.array([1000], np.int32)
    y = q.conv2d_s8(x, wt, b, [2**30], [33], 1, 3, -128, 2)
    assert y.shape == (2, 1, 1, 6, 6) and np.all(y[..., 0, 0] == 2 + round(1000 / 8))
    assert_same(
        qk.conv2d(x.reshape(2, 1, 2, 2), wt, b, [2**30], [33], (1, 1), (3, 3), -128, 2), y.reshape(2, 1, 6, 6)
    )


# ---- row reductions ----------------------------------------------------------------------------


@pytest.mark.parametrize("rows,n", [(1, 1), (3, 2), (8, 17), (20, 197)])
@pytest.mark.parametrize("scale", [0.01, 0.1, 0.5])
def test_softmax(qk, rows, n, scale):
    x = np.concatenate([s8(rows, n), equal_rows(n)])
    table = exp_table(scale)
    y = q.softmax_s8(x, table)
    assert_same(qk.softmax(x, table), y)
    in_place = x.copy()
    qk.softmax(in_place, table, out=in_place)
    assert_same(in_place, y)
    # means what it says: within 1.5/256 of float64 softmax (table entries round to 2^-16)
    z = scale * x.astype(np.float64)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    assert np.abs((y + 128.0) / 256 - p).max() <= 1.5 / 256
    assert np.all(y[-5:] == min(127, math.floor(256 / n + 0.5) - 128))  # equal rows: 1/n each, rounded


def test_softmax_rounds_half_up(qk):
    """y + 128 = round(256 e_i / sum) with ties up, checked with fractions; a table built for ties:
    sum = 2^17, so e = 256 gives 0.5 -> 1 and e = 65280 gives 127.5 -> 128."""
    table = exp_table(0.05)
    table[253:] = [256, 65280, 65536]
    x = np.concatenate([[[10, 9, 8], [8, 10, 9], [-128, -128, -128]], s8(50, 3) // 4 + 100]).astype(np.int8)
    y = q.softmax_s8(x, table)
    assert_same(qk.softmax(x, table), y)
    assert y[0].tolist() == [0, 0, -127] and y[1].tolist() == [-127, 0, 0]
    for row, out in zip(x.astype(int), y.astype(int)):
        e = [int(table[v - row.max() + 255]) for v in row]
        want = [math.floor(Fraction(256 * ei, sum(e)) + Fraction(1, 2)) - 128 for ei in e]
        assert out.tolist() == [min(127, w) for w in want]


@pytest.mark.parametrize("n", [1, 3, 50, 197, 16384])
def test_softmax_reciprocal_rounding(qk, n):
    """One reciprocal per row, R = floor(2^46 / sum): y + 128 is round(256 e_i / sum) (ties up) except
    where 256 e_i / sum is in [k + 1/2, k + 1/2 + 2^-22), checked with fractions; n = 16384 equal
    values puts sum at its limit 2^30, n = 1 at 2^16."""
    rng = np.random.default_rng(n)
    table = exp_table(0.07)
    x = np.concatenate([rng.integers(-128, 128, (6, n)), np.full((1, n), 5)]).astype(np.int8)
    y = q.softmax_s8(x, table)
    assert_same(qk.softmax(x, table), y)
    for row, out in zip(x.astype(int), y.astype(int)):
        e = np.asarray(table, np.int64)[row - row.max() + 255]
        total = int(e.sum())
        for ei in set(e.tolist()):
            exact = Fraction(256 * ei, total)
            want = min(127, math.floor(exact + Fraction(1, 2)) - 128)
            frac = exact - math.floor(exact)
            got = int(out[np.flatnonzero(e == ei)[0]])
            if Fraction(1, 2) <= frac < Fraction(1, 2) + Fraction(1, 2**22):
                assert got in (want, want - 1)
            else:
                assert got == want


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("rows,d", [(1, 1), (4, 7), (33, 64), (5, 97)])
@pytest.mark.parametrize("eps", [0.0, 1e-5, 0.1])
def test_layernorm(qk, dtype, rows, d, eps):
    """C == mirror, and the mirror is within a rounding step of float64 LayerNorm, quantized."""
    info = np.iinfo(dtype)
    x = np.concatenate([rng.integers(info.min, info.max + 1, (rows, d)) // rng.integers(1, 50, (rows, 1)),
                        equal_rows(d, dtype)]).astype(dtype)  # fmt: skip
    x[0, 0] = info.min
    in_scale, out_scale, out_zp = 0.02 * 128 / (info.max + 1), 0.05, int(rng.integers(-20, 20))
    gamma, beta = rng.uniform(-2, 2, d), rng.uniform(-2, 2, d)
    gshift = 20
    g = np.round(gamma / out_scale * 2**gshift).astype(np.int32)
    b = np.round(beta / out_scale * 2**gshift).astype(np.int32)
    eps_term = round(d * d * eps / in_scale**2)
    y = q.layernorm_q(x, g, b, eps_term, gshift, out_zp)
    assert_same(qk.layernorm(x, g, b, eps_term, gshift, out_zp), y)
    if dtype == np.int8:
        in_place = x.copy()
        qk.layernorm(in_place, g, b, eps_term, gshift, out_zp, out=in_place.view(np.int8))
        assert_same(in_place, y)
    # float64 LayerNorm of in_scale * x, with the row sums taken exactly (in integers): float64's own
    # variance of an all-equal row can be 1e-20 instead of 0, which eps == 0 turns into a huge output
    xi = x.astype(np.int64)
    total, total_sq = xi.sum(axis=-1, keepdims=True), (xi * xi).sum(axis=-1, keepdims=True)
    centered = in_scale * (xi - total / d)
    var = in_scale**2 * (d * total_sq - total * total) / d**2
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(var + eps > 0, centered / np.sqrt(var + eps), 0.0)
    want = np.clip((norm * gamma + beta) / out_scale + out_zp, -128, 127)
    assert np.abs(y - want).max() <= 1.5
    # equal rows: d*q_i - S == 0, so z == 0 (V == 0 too when eps == 0) and y = round(beta) + out_zp
    assert np.all(y[-5:] == np.clip(np.floor(b / 2**gshift + 0.5) + out_zp, -128, 127))


def test_layernorm_extremes(qk):
    """int16 at both ends, a single element per row, eps_term 0 and > 0, all-equal rows (V == 0)."""
    alt = np.tile(np.array([-32768, 32767], np.int16), 48)
    x16 = np.stack([alt, alt[::-1], np.full(96, -32768, np.int16), np.full(96, 32767, np.int16)])
    g = rng.integers(-(2**31), 2**31, 96).astype(np.int32)
    b = rng.integers(-(2**24), 2**24, 96).astype(np.int32)
    for eps_term, gshift, out_zp in [(0, 0, -128), (1, 40, 127), (2**40, 24, 0), (0, 30, 3)]:
        y = q.layernorm_q(x16, g, b, eps_term, gshift, out_zp)
        assert_same(qk.layernorm(x16, g, b, eps_term, gshift, out_zp), y)
        x1 = np.array([[-128], [127], [0]], np.int8)  # d == 1: V = eps_term
        y1 = q.layernorm_q(x1, g[:1], b[:1], eps_term, gshift, out_zp)
        assert_same(qk.layernorm(x1, g[:1], b[:1], eps_term, gshift, out_zp), y1)
    assert q.layernorm_q(x16[:1], g, b, 0, 0, -128).min() == -128  # saturates at both ends
    assert q.layernorm_q(x16[:1], g, b, 0, 0, 127).max() == 127
    with pytest.raises(ValueError):
        q.layernorm_q(x16, g, b, -(2**50), 0, 0)  # V < 0 breaks the contract


@pytest.mark.parametrize("shape,axis", [((1, 1, 1), 1), ((3, 7, 5), 1), ((2, 197, 64), 1), ((4, 9), 0),
                                        ((4, 9), 1), ((2, 3, 4, 5), (1, 2))])  # fmt: skip
@pytest.mark.parametrize("in_zp,out_zp", [(0, 0), (-128, -128), (127, 127), (-128, 127), (-5, 9)])
def test_mean(qk, shape, axis, in_zp, out_zp):
    x = s8(*shape)
    axes = (axis,) if isinstance(axis, int) else axis
    outer, n = math.prod(shape[: axes[0]]), math.prod(shape[axes[0] : axes[-1] + 1])
    for mult, shift in [mult_shift(1.0 / n), (0, 3), (INT32_MAX, 62), (INT32_MAX, 1)]:
        y = q.mean_q(x, tuple(a - len(shape) for a in axes), in_zp, mult, shift, out_zp)
        assert_same(qk.mean(x.reshape(outer, n, -1), in_zp, mult, shift, out_zp).reshape(y.shape), y)


# ---- elementwise -------------------------------------------------------------------------------


def test_lut_is_a_plain_lookup(qk):
    table = s8(256)
    x = np.concatenate([np.arange(-128, 128), s8(1000)]).astype(np.int8)
    y = q.lut_s8(x, table)
    assert y.dtype == np.int8 and y.tolist() == [table[v + 128] for v in x.tolist()]
    assert_same(qk.lut(x, table), y)
    qk.lut(x, table, out=x)
    assert_same(x, y)
    assert q.lut_s8(x.reshape(2, -1), table).shape == (2, 628)


@pytest.mark.parametrize("tx,ty", [(np.int8, np.int16), (np.int16, np.int8), (np.int8, np.int8),
                                   (np.int16, np.int16)])  # fmt: skip
def test_requant(qk, tx, ty):
    info = np.iinfo(tx)
    x = np.concatenate([rng.integers(info.min, info.max + 1, 5000), [info.min, info.max, 0, -1]]).astype(tx)
    for in_zp, out_zp in [(0, 0), (info.min, info.min), (info.max, info.max), (info.min, info.max), (-3, 7)]:
        for mult, shift in [mult_shift(1.0), mult_shift(300.0), mult_shift(1 / 300), (0, 9),
                            (INT32_MAX, 62), (INT32_MAX, 1), (-(2**30), 30)]:  # fmt: skip
            y = q.requant_q(x, in_zp, mult, shift, out_zp, ty)
            assert_same(qk.requant(x, in_zp, mult, shift, out_zp, ty), y)
    if np.dtype(ty).itemsize <= np.dtype(tx).itemsize:  # in place: y over x's first bytes
        y = q.requant_q(x, 5, 2**30, 31, -1, ty)
        out = x.view(ty)[: x.size]
        qk.requant(x, 5, 2**30, 31, -1, ty, out=out)
        assert_same(out, y)


# ---- source rules ------------------------------------------------------------------------------


def test_integer_kernels_use_no_float():
    for path in sorted(KERNEL_DIR.glob("quant*")):
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(), flags=re.S)
        assert not re.search(r"\b(float|double|__int128)\b", code), f"{path.name} uses floating point"
