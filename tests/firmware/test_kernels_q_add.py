"""The integer add and multiply kernels (exf_add_q, exf_mul_q, exf_mul_qq, and the fused kernels'
residual add) against their NumPy mirror (edgexf/ir/kernels_q.py), bit for bit: broadcasting, every
element-size combination, every shift path, in place."""

from __future__ import annotations

import numpy as np
import pytest
from firmware.kernel_helpers import broadcast_pair
from firmware.qdata import INT32_MAX, assert_same, draw_int, rng, s8
from hypothesis import given, settings
from hypothesis import strategies as st

from edgexf.ir import kernels_q as q

INT_TYPES = st.sampled_from([np.int8, np.int16])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), ta=INT_TYPES, tb=INT_TYPES, ty=INT_TYPES)
def test_add_broadcasting(qk, data, ta, tb, ty):
    sa, sb = broadcast_pair(data.draw)
    a, b = draw_int(data.draw, ta, sa), draw_int(data.draw, tb, sb)
    zp = st.sampled_from([-32768, -128, -1, 0, 127, 32767])
    a_zp, b_zp, out_zp = data.draw(zp), data.draw(zp), data.draw(zp)
    ma, mb = data.draw(st.integers(-(2**31), 2**31 - 1)), data.draw(st.integers(-(2**31), 2**31 - 1))
    shift = data.draw(st.integers(1, 62))
    y = q.add_q(a, b, a_zp, b_zp, ma, mb, shift, out_zp, ty)
    assert_same(qk.add(a, b, a_zp, b_zp, ma, mb, shift, out_zp, ty), y)


def test_add_mul_realistic_and_in_place(qk):
    """a*0.5 - b*0.25 (mb < 0 subtracts), int8 and int16; y written over a, then over b."""
    a, b, row = s8(2, 3, 4, 5), s8(2, 3, 4, 5), s8(5)
    args = (3, -4, 2**30, -(2**29), 31, -2)
    y = q.add_q(a, b, *args, np.int8)
    assert y.min() < 0 < y.max()
    qk.add(a, b, *args, np.int8, out=a)
    assert_same(a, y)
    y = q.add_q(row, b, *args, np.int8)
    qk.add(row, b, *args, np.int8, out=b)
    assert_same(b, y)
    a16 = np.array([-32768, 32767, -1, 0, 1], np.int16)
    for ty in (np.int8, np.int16):
        y = q.add_q(a16, a16[::-1].copy(), 0, 0, 2**30, 2**30, 30, 0, ty)
        assert_same(qk.add(a16, a16[::-1].copy(), 0, 0, 2**30, 2**30, 30, 0, ty), y)
    assert q.add_q(a16, 0, 0, 0, 1, 0, 1, 0, np.int16).tolist() == [-16384, 16384, 0, 0, 1]  # ties up
    y = q.mul_q(a, row[:4, None], -128, 127, 2**30, 37, 1, np.int8)  # mul, in place too
    qk.mul(a, row[:4, None], -128, 127, 2**30, 37, 1, np.int8, out=a)
    assert_same(a, y)


def extreme_ints(dtype, shape) -> np.ndarray:
    """Random values of dtype with its extremes and -1, 0, 1 first."""
    info, n = np.iinfo(dtype), int(np.prod(shape))
    edge = [info.min, info.min + 1, -1, 0, 1, info.max - 1, info.max][:n]
    rest = rng.integers(info.min, info.max + 1, n - len(edge))
    return np.concatenate([edge, rest]).astype(dtype).reshape(shape)


INTS = (np.int8, np.int16)
ADD_SIZES = [(ta, tb, ty) for ta in INTS for tb in INTS for ty in INTS]
ADD_SHIFTS = (1, 9, 17, 30, 31, 32, 33, 45, 62)  # lo or wide below 32, hi from 32
ADD_MULTS = ((INT32_MAX, -(2**31)), (-(2**31), INT32_MAX), (2**31 - 7, 2**31 - 3), (2**30, -(2**29)),
             (1518500250, 3))  # fmt: skip
ADD_SHAPES = (((67,), (67,)), ((2, 3, 4, 5), (2, 3, 4, 5)), ((5, 1, 13), (13,)), ((5, 13), (5, 1)),
              ((1, 9), (4, 1)), ((3, 4, 5, 6), (3, 1, 5, 1)), ((4,), ()))  # fmt: skip


@pytest.mark.parametrize("ta,tb,ty", ADD_SIZES)
def test_add_every_specialization(qk, ta, tb, ty):
    """exf_add_q and the fused kernels' residual add (quant_add.h) == mirror, bit for bit, in every
    element-size combination and on each path (hi: shift >= 32; lo: below, the result bounded; wide: the
    rest), with zero points at the types' extremes, multipliers near +-2^31, same shape (contiguous rows)
    and broadcast (strided rows)."""
    ext = {np.int8: (-128, 127), np.int16: (-32768, 32767)}
    zps = [(ext[ta][0], ext[tb][1], ext[ty][0]), (ext[ta][1], ext[tb][0], ext[ty][1]), (0, 0, 0)]
    paths = set()
    for shift in ADD_SHIFTS:
        for ma, mb in ADD_MULTS:
            for a_zp, b_zp, out_zp in zps:
                args = (a_zp, b_zp, ma, mb, shift, out_zp, ty)
                for sa, sb in ADD_SHAPES:
                    a, b = extreme_ints(ta, sa), extreme_ints(tb, sb)
                    assert_same(qk.add(a, b, *args), q.add_q(a, b, *args))
                a, b = extreme_ints(ta, (64,)), extreme_ints(tb, (64,))
                y, path = qk.add_row(a, b, *args)
                assert_same(y, q.add_q(a, b, *args))
                paths.add(path)
                y, _ = qk.add_row(a, b, *args, step=(2, 0))
                assert_same(y, q.add_q(a[::2], b[0], *args))
    assert paths == {0, 1, 2}  # hi, lo, wide


def test_add_same_shape_in_place_int16(qk):
    """y over a, int16, contiguous: each element read before it is written."""
    a, b = extreme_ints(np.int16, (3, 50, 64)), extreme_ints(np.int8, (3, 50, 64))
    for args in [(0, -3, 2**30, 1518500250, 32, 5, np.int16), (0, 7, 1518500250, -(2**30), 31, -2, np.int16)]:
        y = q.add_q(a, b, *args)
        out = a.copy()
        qk.add(out, b, *args, out=out)
        assert_same(out, y)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), ty=INT_TYPES)
def test_mul_broadcasting(qk, data, ty):
    sa, sb = broadcast_pair(data.draw)
    a, b = draw_int(data.draw, np.int8, sa), draw_int(data.draw, np.int8, sb)
    a_zp, b_zp, out_zp = (data.draw(st.integers(-128, 127)) for _ in range(3))
    mult = data.draw(st.sampled_from([0, 1, 2**30, INT32_MAX, -(2**30)]))
    shift = data.draw(st.integers(1, 62))
    y = q.mul_q(a, b, a_zp, b_zp, mult, shift, out_zp, ty)
    assert_same(qk.mul(a, b, a_zp, b_zp, mult, shift, out_zp, ty), y)
