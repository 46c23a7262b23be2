"""The integer LayerNorm's arithmetic (firmware/kernels/quant_norm.c, quant_common.h).

- Its helpers over their whole contracts, by a C shim built with host gcc: the 32-bit square root on every
  n in [2^28, 2^30), floor(2^61 / r) on every r in [2^30, 2^31) (each checked for the defining inequality
  in C), the 64-bit square root on every 13th r in [2^30, 2^31) at r^2 - 1, r^2, r^2 + r, r^2 + 2r, and all
  of them against Python's math.isqrt and // on random and edge inputs.
- exf_layernorm_s8 / _s16 == the NumPy mirror (edgexf/ir/kernels_q.py) bit for bit on hard rows: V == 0,
  V at every power-of-two edge of the 2^60..2^62 scaling (r == 2^30, so inv == 2^31), extreme q for int8
  and int16, d up to the 32-bit path's limit (32768) and beyond it (the int64 path), every gshift of the
  contract (the four output paths), eps_term extremes, saturation, and random rows (hypothesis).
"""

from __future__ import annotations

import ctypes
import math
import threading

import numpy as np
import pytest
from firmware.kernel_helpers import build_shim_library, ptr
from firmware.qdata import assert_same
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edgexf.ir import kernels_q as q

FAST_D_MAX = 32768  # EXFQ_LN_FAST_D_MAX in quant_norm.c
V_LIMIT = 2**55  # the contract: 0 <= V < 2^55

SHIM_C = r"""
#include "quant_common.h"
void map_isqrt_2p28(const uint32_t *x, uint32_t *y, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] = exfq_isqrt_2p28(x[i]);
}
void map_isqrt_2p60(const uint64_t *x, uint64_t *y, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] = exfq_isqrt_2p60(x[i]);
}
void map_clz32(const uint32_t *x, int32_t *y, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] = exfq_clz32(x[i]);
}
/* how many n in [lo, hi) break x*x <= n < (x+1)^2 */
int64_t bad_isqrt_2p28(uint32_t lo, uint32_t hi) {
    int64_t bad = 0;
    for (uint32_t n = lo; n < hi; n++) {
        uint64_t x = exfq_isqrt_2p28(n);
        bad += !(x * x <= n && (x + 1) * (x + 1) > n);
    }
    return bad;
}
/* r in [lo, hi) by step: w = r^2 - 1, r^2, r^2 + r, r^2 + 2r where in [2^60, 2^62) */
int64_t bad_isqrt_2p60(uint32_t lo, uint32_t hi, uint32_t step) {
    int64_t bad = 0;
    for (uint64_t r = lo; r < hi; r += step) {
        const uint64_t ws[4] = {r * r - 1, r * r, r * r + r, r * r + 2 * r};
        for (int32_t j = 0; j < 4; j++) {
            const uint64_t w = ws[j];
            if (w < ((uint64_t)1 << 60) || w >= ((uint64_t)1 << 62)) continue;
            const uint64_t x = exfq_isqrt_2p60(w);
            bad += !(x * x <= w && (x + 1) * (x + 1) > w);
        }
    }
    return bad;
}
/* how many r in [lo, hi) break q r <= 2^61 < (q + 1) r */
int64_t bad_div_2p61(uint32_t lo, uint32_t hi) {
    int64_t bad = 0;
    for (uint64_t r = lo; r < hi; r++) {
        const uint64_t q = (uint64_t)exfq_div_2p61(r);
        bad += !(q * r <= ((uint64_t)1 << 61) && (q + 1) * r > ((uint64_t)1 << 61));
    }
    return bad;
}
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory) -> ctypes.CDLL:
    flags = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"]
    dll = build_shim_library(tmp_path_factory.mktemp("qnorm"), SHIM_C, flags, kernels=False)
    for name in ("map_isqrt_2p28", "map_isqrt_2p60", "map_clz32"):
        getattr(dll, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32]
    u32, i64 = ctypes.c_uint32, ctypes.c_int64
    dll.bad_isqrt_2p28.argtypes, dll.bad_isqrt_2p28.restype = [u32, u32], i64
    dll.bad_isqrt_2p60.argtypes, dll.bad_isqrt_2p60.restype = [u32, u32, u32], i64
    dll.bad_div_2p61.argtypes, dll.bad_div_2p61.restype = [u32, u32], i64
    return dll


def _map(dll, fn: str, x, in_dtype, out_dtype) -> list[int]:
    x = np.require(x, in_dtype, "C")
    y = np.empty(x.shape, out_dtype)
    getattr(dll, fn)(ptr(x), ptr(y), x.size)
    return y.tolist()


# ---- the helpers -------------------------------------------------------------------------------


def test_square_root_and_division_are_exact_over_their_whole_range(shim):
    """Every input of the 32-bit square root and of the division, dense near-squares for the 64-bit root
    (each C loop runs in its own thread: ctypes lets go of the GIL)."""
    jobs = {
        "isqrt_2p28": lambda: shim.bad_isqrt_2p28(2**28, 2**30),
        "div_2p61": lambda: shim.bad_div_2p61(2**30, 2**31),
        "isqrt_2p60": lambda: shim.bad_isqrt_2p60(2**30, 2**31, 13),
    }
    bad: dict[str, int] = {}
    threads = [threading.Thread(target=lambda k=k, f=f: bad.__setitem__(k, f())) for k, f in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == {name: 0 for name in jobs}


def test_helpers_equal_python(shim, qk):
    g = np.random.default_rng(7)
    n = np.concatenate([g.integers(2**28, 2**30, 20000), [2**28, 2**28 + 1, 2**30 - 1, 2**29, 2**29 - 1]])
    n = np.concatenate([n, [s * s + e for s in (16384, 20000, 23170, 32767) for e in (-1, 0, 1)]])
    n = n[(n >= 2**28) & (n < 2**30)]
    assert _map(shim, "map_isqrt_2p28", n, np.uint32, np.uint32) == [math.isqrt(int(v)) for v in n]

    r = np.concatenate(
        [g.integers(2**30, 2**31, 20000), [2**30, 2**30 + 1, 2**31 - 1, 3037000499, 1518500249]]
    )
    r = r[(r >= 2**30) & (r < 2**31)]
    near = np.concatenate([r * r - 1, r * r, r * r + 1, r * r + 2 * r, g.integers(2**60, 2**62, 20000)])
    w = near[(near >= 2**60) & (near < 2**62)]
    want = [math.isqrt(int(v)) for v in w]
    assert _map(shim, "map_isqrt_2p60", w, np.uint64, np.uint64) == want
    # exfq_isqrt64 (any uint64) and the division and bit length, through conftest's shim
    wide = [0, 1, 2, 3, 4, 2**32 - 1, 2**32, 2**60 - 1, 2**62 - 1, 2**62, 2**63, 2**64 - 1, (2**32 - 1) ** 2,
            (2**32 - 1) ** 2 - 1, (2**31) ** 2 - 1]  # fmt: skip
    shifted = g.integers(0, 2**63, 5000, dtype=np.uint64) >> g.integers(0, 63, 5000).astype(np.uint64)
    wide += [int(v) for v in shifted]
    wide += [int(v) * 2 + 1 for v in g.integers(2**62, 2**63, 2000, dtype=np.uint64)]  # 2^63 and above
    wide_arr = np.array(wide, np.uint64)
    assert qk.helper("isqrt64", wide_arr).tolist() == [math.isqrt(v) for v in wide]
    assert qk.helper("bitlen64", wide_arr).tolist() == [v.bit_length() for v in wide]
    assert qk.helper("div_2p61", r).tolist() == [2**61 // int(v) for v in r]
    pow2 = [2**j + e for j in range(32) for e in (-1, 0, 1) if 0 < 2**j + e < 2**32]
    assert _map(shim, "map_clz32", pow2, np.uint32, np.int32) == [32 - v.bit_length() for v in pow2]


# ---- LayerNorm: C == mirror on hard rows -------------------------------------------------------


def _params(d: int, g, gshift: int = 20, big: bool = False):
    hi = 2**31 if big else 2**27
    gamma = g.integers(-hi, hi, d).astype(np.int32)
    beta = g.integers(-hi, hi, d).astype(np.int32) if big else g.integers(-(2**24), 2**24, d).astype(np.int32)
    return gamma, beta


def _v(x: np.ndarray, eps_term: int) -> np.ndarray:
    xi = x.astype(np.int64)
    d = xi.shape[-1]
    s = xi.sum(axis=-1)
    return d * (xi * xi).sum(axis=-1) - s * s + eps_term


def check(qk, x, gamma, beta, eps_term: int, gshift: int, out_zp: int, in_place: bool = False) -> np.ndarray:
    """C == mirror on x (rows, d); the rows must keep V < 2^55."""
    x = np.ascontiguousarray(x)
    assert np.all(_v(x, eps_term) < V_LIMIT)
    want = q.layernorm_q(x, gamma, beta, eps_term, gshift, out_zp)
    assert_same(qk.layernorm(x, gamma, beta, eps_term, gshift, out_zp), want)
    if in_place and x.dtype == np.int8:
        buf = x.copy()
        qk.layernorm(buf, gamma, beta, eps_term, gshift, out_zp, out=buf)
        assert_same(buf, want)
    return want


def _v_targets() -> list[int]:
    """V = 1..8 and 2^j - 1, 2^j, 2^j + 1 up to 2^55 - 1: both parities of bitlen(V) (W = V 4^k lands at
    2^60, just under 2^61, 2^61, just under 2^62), and V = 4^j makes r = 2^30 and inv = 2^31."""
    vs = set(range(1, 9))
    for j in range(1, 56):
        vs |= {2**j - 1, 2**j, 2**j + 1}
    vs |= (
        {3 * 2**j for j in range(53)}
        | {(2**j + 1) ** 2 for j in range(27)}
        | {(2**j - 1) ** 2 for j in range(1, 28)}
    )
    return sorted(v for v in vs if 0 < v < V_LIMIT)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("d", [1, 2, 64, 1000])
def test_v_at_every_scaling_edge(qk, dtype, d):
    """A row q = (a, 0, ..., 0) has V = (d - 1) a^2 + eps_term: a as large as V allows, eps_term the rest,
    so z_0 and z_i != 0 walk both the s < 33 (scaled t) and s >= 33 paths. Plus all-equal rows (V =
    eps_term, z = 0) and V == 0."""
    g = np.random.default_rng(d)
    info = np.iinfo(dtype)
    gamma, beta = _params(d, g)
    for v in _v_targets() + [0]:
        a = min(math.isqrt(v // (d - 1)), info.max) if d > 1 else 0
        eps_term = v - (d - 1) * a * a
        x = np.zeros((3, d), dtype)
        x[0, 0], x[1, 0] = a, -a
        x[2] = info.min  # all equal: V = eps_term
        for sign_row in (x, x[:, ::-1]):
            check(qk, sign_row, gamma, beta, eps_term, 20, int(g.integers(-128, 128)), in_place=True)


@pytest.mark.parametrize(
    "dtype,d",
    [(np.int8, 1024), (np.int8, 4096), (np.int8, FAST_D_MAX), (np.int16, 1024), (np.int16, 4096),
     (np.int16, 5792), (np.int16, FAST_D_MAX), (np.int16, FAST_D_MAX + 1), (np.int16, 40000),
     (np.int8, 40000)],
)  # fmt: skip
def test_extreme_values_and_large_d(qk, dtype, d):
    """Max |q| for int8 and int16: alternating ends (the largest V a row of d can have, where it stays
    below 2^55), one outlier at one end and the rest at the other (|d q - S| = (d - 1) (max - min), the
    largest t: 2^31 - 2^16 at int16 and d = 2^15; above 2^31 at d = 40000, the int64 path), random rows."""
    g = np.random.default_rng(d)
    info = np.iinfo(dtype)
    gamma, beta = _params(d, g, big=True)
    rows = [np.resize(np.array([info.min, info.max], dtype), d), np.full(d, info.max, dtype),
            g.integers(info.min, info.max + 1, d).astype(dtype)]  # fmt: skip
    out1 = np.full(d, info.max, dtype)
    out1[d // 3] = info.min
    out2 = np.full(d, info.min, dtype)
    out2[-1] = info.max
    rows += [out1, out2]
    x = np.stack([r for r in rows if _v(r, 2**50) < V_LIMIT])
    for eps_term, gshift, out_zp in [(0, 20, 0), (2**50, 0, -128), (1, 40, 127), (12345, 16, 5), (0, 17, -3)]:
        check(qk, x, gamma, beta, eps_term, gshift, out_zp, in_place=True)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_every_gshift_and_saturation(qk, dtype):
    """gshift 0..40: output shift 16..56 (below 32, 32, 33..54, 55..56 are separate loops in C), extreme
    gamma and beta (int32 ends), out_zp at both ends, eps_term from 0 to 2^50."""
    g = np.random.default_rng(3)
    info = np.iinfo(dtype)
    d = 96
    spread = g.integers(info.min, info.max + 1, (6, d)) // g.integers(1, 300, (6, 1))
    x = np.concatenate([spread, np.resize([info.min, info.max], (1, d)), np.full((1, d), 7)]).astype(dtype)
    x[0, :3] = (info.min, info.max, 0)
    gamma = g.integers(-(2**31), 2**31, d).astype(np.int32)
    beta = g.integers(-(2**31), 2**31, d).astype(np.int32)
    gamma[:4] = (-(2**31), 2**31 - 1, 0, 1)
    beta[:4] = (2**31 - 1, -(2**31), 0, -1)
    small_g, small_b = (gamma >> 12).astype(np.int32), (beta >> 20).astype(np.int32)
    for gshift in range(41):
        for eps_term in (0, 1, 2**50):
            for out_zp in (-128, 0, 127):
                check(qk, x, gamma, beta, eps_term, gshift, out_zp)
            check(qk, x, small_g, small_b, eps_term, gshift, int(g.integers(-128, 128)))


@st.composite
def layernorm_cases(draw):
    dtype = draw(st.sampled_from([np.int8, np.int16]))
    info = np.iinfo(dtype)
    d = draw(st.one_of(st.integers(1, 80), st.integers(81, 3000)))
    rows = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    g = np.random.default_rng(seed)
    # narrow rows: small V, large k
    spread = min(draw(st.sampled_from([0, 1, 2, 5, 40, 1000, 40000])), info.max)
    centre = int(g.integers(info.min + spread, info.max - spread + 1))
    x = np.clip(centre + g.integers(-spread, spread + 1, (rows, d)), info.min, info.max).astype(dtype)
    eps_term = draw(st.sampled_from([0, 1, 2, 3, 1000, 2**20, 2**40, 2**50]) | st.integers(0, 2**50))
    gshift = draw(st.integers(0, 40))
    out_zp = draw(st.integers(-128, 127))
    mag = draw(st.integers(0, 31))
    gamma = (g.integers(-(2**31), 2**31, d) >> (31 - mag)).astype(np.int32)
    beta = (g.integers(-(2**31), 2**31, d) >> draw(st.integers(0, 31))).astype(np.int32)
    return x, gamma, beta, eps_term, gshift, out_zp


@settings(max_examples=400, deadline=None)
@given(layernorm_cases())
def test_random_rows(qk, case):
    x, gamma, beta, eps_term, gshift, out_zp = case
    assume(np.all(_v(x, eps_term) < V_LIMIT))
    check(qk, x, gamma, beta, eps_term, gshift, out_zp, in_place=True)
