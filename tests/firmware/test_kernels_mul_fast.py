"""The multiply's fast path (quant_mul.h: the int32 product requantized by SMMLA, with a pre-shift below
shift 33) and its int64 fallback, against the NumPy mirror kernels_q.mul_q bit for bit: every element-size
combination, same shape (the specialized contiguous loops) and broadcast (the strided loop), shifts around
the path boundaries, zero points at their extremes and multipliers near +-2^31."""

from __future__ import annotations

import ctypes
import itertools

import numpy as np
import pytest
from firmware.kernel_helpers import bind
from firmware.qdata import INT32_MAX, assert_same
from firmware.test_kernels_mul_qq import _mul_qq

from edgexf.ir import kernels_q as q

I32 = ctypes.c_int32
HI, WIDE = 0, 1
SIZES = list(itertools.product([np.int8, np.int16], repeat=3))  # (a, b, y)
SHIFTS = [17, 20, 26, 31, 32, 33, 40, 53, 54, 60, 62]
MULTS = [INT32_MAX, INT32_MAX - 1, 2**30, 1, 0, -1, -(2**30), -(2**31) + 1, -(2**31)]


def _path(qk, a_dtype, b_dtype, a_zp, b_zp, mult, shift, out_zp) -> tuple[int, int]:
    """(path, ls) as exfq_mul_prepare chooses them"""
    bind(qk.lib, {"mul_path": [I32] * 7 + [ctypes.c_void_p]})
    out = np.zeros(2, np.int32)
    size = lambda t: np.dtype(t).itemsize  # noqa: E731
    qk.lib.mul_path(size(a_dtype), size(b_dtype), a_zp, b_zp, mult, shift, out_zp, out.ctypes.data)
    return int(out[0]), int(out[1])


def _operand(dtype, shape, seed) -> np.ndarray:
    """random values of dtype, the type's extremes first (the largest |x - zp|)"""
    info = np.iinfo(dtype)
    x = np.random.default_rng(seed).integers(info.min, info.max + 1, shape).astype(dtype)
    x.flat[:4] = [info.min, info.max, info.min, info.max]
    x.flat[4:8] = [info.max, info.min, 0, -1]
    return x


def _zps(dtype) -> list[int]:
    info = np.iinfo(dtype)
    return [0, info.min, info.max, 7]


def _check(qk, a, b, a_zp, b_zp, mult, shift, out_zp, ty) -> None:
    want = q.mul_q(a, b, a_zp, b_zp, mult, shift, out_zp, ty)
    assert_same(_mul_qq(qk, a, b, a_zp, b_zp, mult, shift, out_zp, ty), want)
    if a.dtype == b.dtype == np.int8:
        assert_same(qk.mul(a, b, a_zp, b_zp, mult, shift, out_zp, ty), want)


@pytest.mark.parametrize("ta,tb,ty", SIZES)
def test_mul_fast_paths_bit_exact(qk, ta, tb, ty):
    """same shape, a row broadcast and a column broadcast, over the shift, multiplier and zero point grid"""
    a = _operand(ta, (3, 40), 1)
    layouts = [_operand(tb, (3, 40), 2), _operand(tb, (40,), 3), _operand(tb, (3, 1), 4)]
    seen = set()
    for shift, mult in itertools.product(SHIFTS, MULTS):
        for a_zp, b_zp, out_zp in [(0, 0, 0), *zip(_zps(ta), _zps(tb)[::-1], _zps(ty))]:
            path = _path(qk, ta, tb, a_zp, b_zp, mult, shift, out_zp)
            seen.add((path[0], path[1] > 0))
            for b in layouts:
                _check(qk, a, b, a_zp, b_zp, mult, shift, out_zp, ty)
    assert (HI, False) in seen and (WIDE, False) in seen, seen  # ls 0 on the hi path; the int64 fallback
    if ta == tb == np.int8:
        assert (HI, True) in seen, seen  # the pre-shift below shift 33


def test_mul_fast_path_choice(qk):
    """the common cases take the hi path; int16 x int16 with far zero points, shifts too small for the
    pre-shift and out_zp 2^rs beyond int32 the int64 one"""
    assert _path(qk, np.int8, np.int8, -128, 127, INT32_MAX, 33, 127) == (HI, 0)
    assert _path(qk, np.int8, np.int8, -128, -128, -(2**31), 62, 0) == (HI, 0)
    assert _path(qk, np.int8, np.int8, -128, -128, -(2**31), 56, -128) == (HI, 0)  # bias -2^31 + 2^23
    assert _path(qk, np.int8, np.int8, -128, -128, -(2**31), 57, -128)[0] == WIDE  # bias -2^32 + 2^24
    assert _path(qk, np.int8, np.int8, 5, -3, 2**30, 32, 0) == (HI, 1)
    assert _path(qk, np.int8, np.int8, 127, 127, INT32_MAX, 18, 0) == (HI, 15)  # 255^2 2^15 < 2^31
    assert _path(qk, np.int8, np.int8, 127, 127, INT32_MAX, 17, 0)[0] == WIDE  # 255^2 2^16 >= 2^31
    assert _path(qk, np.int16, np.int8, 0, -128, INT32_MAX, 40, 0) == (HI, 0)
    assert _path(qk, np.int16, np.int16, 0, 0, INT32_MAX, 40, 0) == (HI, 0)
    assert _path(qk, np.int16, np.int16, -5, 9, INT32_MAX, 40, 0) == (HI, 0)  # |p| <= 32772 32777 < 2^31
    assert _path(qk, np.int16, np.int16, -32768, 0, INT32_MAX, 40, 0) == (HI, 0)  # 65535 32768 < 2^31
    assert _path(qk, np.int16, np.int16, -32768, 1, INT32_MAX, 40, 0)[0] == WIDE  # 65535 32769 >= 2^31
    assert _path(qk, np.int8, np.int8, 0, 0, INT32_MAX, 60, -32768)[0] == WIDE  # out_zp 2^28 overflows
    assert _path(qk, np.int8, np.int8, 0, 0, INT32_MAX, 40, -32768) == (HI, 0)


def test_mul_fast_int16_product_boundary(qk):
    """int16 x int16 with |p| just below 2^31 (hi) and just above (int64)"""
    a = _operand(np.int16, (500,), 5)
    b = _operand(np.int16, (500,), 6)
    for b_zp in (0, 1):
        for mult, shift in [(INT32_MAX, 46), (-(2**31), 40), (2**30 + 1, 33), (1518500250, 32)]:
            _check(qk, a, b, -32768, b_zp, mult, shift, 0, np.int16)
            _check(qk, a, b, -32768, b_zp, mult, shift, -3, np.int8)


def test_mul_fast_boundaries_exhaustive_int8(qk):
    """every int8 pair at the pre-shift's and the bias's limits"""
    v = np.arange(-128, 128, dtype=np.int8)
    a, b = np.repeat(v, 256), np.tile(v, 256)
    for a_zp, b_zp, mult, shift, out_zp, ty in [
        (127, 127, INT32_MAX, 18, 0, np.int8),
        (-128, 127, -(2**31), 18, 0, np.int16),
        (-128, 127, -(2**31), 17, 0, np.int16),
        (127, -128, -(2**31), 33, 127, np.int8),
        (0, 0, INT32_MAX, 62, 0, np.int16),
        (-128, 127, INT32_MAX, 56, -128, np.int16),
        (-128, -128, 2**30 + 12345, 47, -32768, np.int16),
        (3, -7, 1518500250, 53, -7, np.int8),
    ]:
        _check(qk, a, b, a_zp, b_zp, mult, shift, out_zp, ty)
