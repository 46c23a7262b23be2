"""The integer LayerNorm without gamma and beta (firmware/kernels/quant_norm_plain.c, the fused kernels'
LayerNorm once the quantizer folded gamma and beta into the next linear layer): the host build against
the NumPy mirror (edgexf/ir/kernels_q.py layernorm_plain_q) bit for bit, and the mirror against the real
LayerNorm within the contract's bound. The board builds (the SMLAWB loop, Helium) are compared with this
portable code in QEMU by firmware/app/kernel_check.c (tests/firmware/test_kernels.py, test_m55*.py).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from firmware.kernel_helpers import KERNEL_DIR
from firmware.qdata import assert_same
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edgexf.ir import kernels_q as q

V_LIMIT = 2**55
D_MAX = 2**15  # the plain kernel's limit


def _v(x: np.ndarray, eps_term: int) -> np.ndarray:
    xi = x.astype(np.int64)
    s = xi.sum(axis=-1)
    return xi.shape[-1] * (xi * xi).sum(axis=-1) - s * s + eps_term


def check(qk, x, eps_term: int, mult: int, mshift: int, out_zp: int) -> np.ndarray:
    """C == mirror on x (rows, d), and in place for int8."""
    x = np.ascontiguousarray(x)
    assert np.all(_v(x, eps_term) < V_LIMIT)
    want = q.layernorm_plain_q(x, eps_term, mult, mshift, out_zp)
    assert_same(qk.layernorm_plain(x, eps_term, mult, mshift, out_zp), want)
    if x.dtype == np.int8:
        buf = x.copy()
        qk.layernorm_plain(buf, eps_term, mult, mshift, out_zp, out=buf)
        assert_same(buf, want)
    return want


def _mult(real: float) -> tuple[int, int]:
    """mult / 2^mshift = real, mult in [2^30, 2^31) (as the quantizer's scalar_multiplier)."""
    m, e = math.frexp(real)
    mult = min(round(m * 2**31), 2**31 - 1)
    return mult, 31 - e


def test_seed_table_is_the_c_table():
    """quant_norm_plain.c's RSQRT_SEED holds the mirror's numbers (the bit-exact tests only reach the
    entries their rows index)."""
    text = (KERNEL_DIR / "quant_norm_plain.c").read_text()
    body = re.search(r"RSQRT_SEED\[192\] = \{(.*?)\};", text, re.S).group(1)
    assert [int(v) for v in re.findall(r"\d+", body)] == q.RSQRT_SEED.tolist()


def test_reciprocal_square_root_bound():
    """rsqrt_2p46 over [2^30, 2^32) (every seed interval at both ends, dense random W): at most the true
    2^46 / sqrt(W) plus 2^-30 of it (the fixed point's last bits), and below it by less than 2^-15.4 of it
    (Newton's step from the seed's 2^-8 ends low), as edgexf_kernels.h says."""
    g = np.random.default_rng(1)
    ends = np.arange(64, 256, dtype=np.uint64) << np.uint64(24)
    w = np.concatenate([ends, ends + np.uint64(2**24 - 1), g.integers(2**30, 2**32, 200000, dtype=np.uint64)])
    got = q.rsqrt_2p46(w).astype(np.float64)
    exact = 2.0**46 / np.sqrt(w.astype(np.float64))
    rel = (exact - got) / exact
    assert rel.min() > -(2**-30) and rel.max() < 2**-15.4


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("d", [1, 2, 3, 5, 7, 15, 16, 17, 63, 64, 65, 100, 333])
def test_hard_rows(qk, dtype, d):
    """Odd d and tails of 4 and 16; constant rows (V == 0 with eps_term 0, V = eps_term), rows at both
    ends of the type (saturated outputs), one outlier, narrow rows (the slope's 2^22 ceiling), random rows;
    slopes from 0 (n >= 64) through every shift to the ceiling (n <= 38); out_zp at both ends."""
    g = np.random.default_rng(d)
    info = np.iinfo(dtype)
    rows = [np.full(d, 7), np.full(d, info.min), np.resize([info.min, info.max], d),
            np.where(np.arange(d) == d // 2, info.max, info.min), g.integers(info.min, info.max + 1, d),
            g.integers(-3, 4, d), 100 + g.integers(0, 2, d)]  # fmt: skip
    x = np.stack(rows).astype(dtype)
    for mshift in (1, 8, 16, 20, 24, 30, 40, 62):
        for eps_term in (0, 1, 2**20):
            mult = int(g.integers(2**30, 2**31))
            check(qk, x, eps_term, mult, mshift, int(g.choice([-128, 127, int(g.integers(-128, 128))])))
    check(qk, x, 0, 2**30, 1, 0)
    check(qk, x, 2**50, 2**31 - 1, 62, -5)


@pytest.mark.parametrize("dtype,d", [(np.int8, 4096), (np.int8, D_MAX), (np.int16, 4096), (np.int16, D_MAX)])
def test_extreme_values_and_large_d(qk, dtype, d):
    """d up to the 2^15 limit at both types' extremes (|S| up to 2^30, V close to 2^55 for int16)."""
    g = np.random.default_rng(d)
    info = np.iinfo(dtype)
    rows = [np.resize(np.array([info.min, info.max], dtype), d), np.full(d, info.max, dtype),
            np.full(d, info.min, dtype), g.integers(info.min, info.max + 1, d).astype(dtype)]  # fmt: skip
    x = np.stack([r for r in rows if _v(r, 2**50) < V_LIMIT])
    for eps_term, (mult, mshift), out_zp in [(0, _mult(d / 0.05), 0), (2**50, _mult(d / 3.0), -128),
                                             (1, _mult(d * 1000.0), 127)]:  # fmt: skip
        check(qk, x, eps_term, mult, mshift, out_zp)


@st.composite
def plain_cases(draw):
    dtype = draw(st.sampled_from([np.int8, np.int16]))
    info = np.iinfo(dtype)
    d = draw(st.one_of(st.integers(1, 80), st.integers(81, 3000)))
    rows = draw(st.integers(1, 3))
    g = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = min(draw(st.sampled_from([0, 1, 2, 5, 40, 1000, 40000])), info.max)
    centre = int(g.integers(info.min + spread, info.max - spread + 1))
    x = np.clip(centre + g.integers(-spread, spread + 1, (rows, d)), info.min, info.max).astype(dtype)
    eps_term = draw(st.sampled_from([0, 1, 3, 1000, 2**20, 2**40, 2**50]) | st.integers(0, 2**50))
    mult = draw(st.integers(2**30, 2**31 - 1))
    return x, eps_term, mult, draw(st.integers(1, 62)), draw(st.integers(-128, 127))


@settings(max_examples=300, deadline=None)
@given(plain_cases())
def test_random_rows(qk, case):
    x, eps_term, mult, mshift, out_zp = case
    assume(np.all(_v(x, eps_term) < V_LIMIT))
    check(qk, x, eps_term, mult, mshift, out_zp)


def test_mirror_is_the_layernorm_within_its_bound():
    """The integers against round(out_zp + (x - mean) / sqrt(var + eps) / s) in float64: within 0.51
    codes wherever the slope d / (sqrt(V) s) is below the ceiling of 64 (edgexf_kernels.h), over random
    rows of both types, scales and eps."""
    g = np.random.default_rng(5)
    worst = 0.0
    for dtype, d in [(np.int8, 64), (np.int8, 7), (np.int8, 384), (np.int16, 64), (np.int16, 1000)]:
        info = np.iinfo(dtype)
        spread = g.integers(1, info.max, (200, 1))
        x = np.clip(g.integers(-(2**20), 2**20, (200, d)) * spread // 2**20 + g.integers(-20, 20, (200, 1)),
                    info.min, info.max).astype(dtype)  # fmt: skip
        for s_out, eps_term, out_zp in [(0.05, 0, 0), (8.0 / 127, 5, -3), (0.01, 1000, 100)]:
            mult, mshift = _mult(d / s_out)
            y = q.layernorm_plain_q(x, eps_term, mult, mshift, out_zp).astype(np.float64)
            xf = x.astype(np.float64)
            var = _v(x, eps_term).astype(np.float64)[:, None] / d**2
            ideal = out_zp + (xf - xf.mean(axis=-1, keepdims=True)) / np.sqrt(var) / s_out
            slope_ok = (d / (np.sqrt(var * d * d) * s_out) < 64) & (np.abs(ideal) < 127.4)
            err = np.abs(y - ideal)[np.broadcast_to(slope_ok, y.shape)]
            worst = max(worst, float(err.max(initial=0.0)))
    assert worst <= 0.51
