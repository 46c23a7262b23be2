"""exf_mul_qq (int8 or int16 operands, a recurrent state times an activation) against its NumPy mirror
kernels_q.mul_q, bit for bit, broadcasting included."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from firmware.kernel_helpers import bind, broadcast_pair, ptr
from firmware.qdata import INT32_MAX, assert_same, draw_int
from firmware.qkernels import mul_params
from hypothesis import given, settings
from hypothesis import strategies as st

from edgexf.ir import kernels_q as q

P, I32 = ctypes.c_void_p, ctypes.c_int32
TYPES = [(np.int16, np.int8), (np.int8, np.int16), (np.int16, np.int16)]


def _mul_qq(qk, a, b, a_zp, b_zp, mult, shift, out_zp, out_dtype, out=None) -> np.ndarray:
    bind(qk.lib, {"exf_mul_qq": [P] * 4})
    y, sh, sa, sb = qk._broadcast(a, b, out_dtype, out)
    p = mul_params(a, b, y, sh, sa, sb, a_zp, b_zp, mult, shift, out_zp)
    qk.lib.exf_mul_qq(ctypes.byref(p), ptr(a), ptr(b), ptr(y))
    return y


@pytest.mark.parametrize("ty", [np.int8, np.int16])
@pytest.mark.parametrize("ta,tb", TYPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mul_qq_broadcasting(qk, data, ta, tb, ty):
    sa, sb = broadcast_pair(data.draw)
    a, b = draw_int(data.draw, ta, sa), draw_int(data.draw, tb, sb)
    a_zp, b_zp, out_zp = (data.draw(st.integers(-128, 127)) for _ in range(3))
    mult = data.draw(st.sampled_from([0, 1, 2**30, INT32_MAX, -(2**30)]))
    shift = data.draw(st.integers(1, 62))
    y = q.mul_q(a, b, a_zp, b_zp, mult, shift, out_zp, ty)
    assert_same(_mul_qq(qk, a, b, a_zp, b_zp, mult, shift, out_zp, ty), y)


def test_mul_qq_extremes_and_in_place(qk):
    """int16 x int16 at the corners (|p| up to 2^32 with the zero points) and y written over a."""
    a = np.array([-32768, 32767, 0, -1, 12345, -32768], np.int16)
    b = np.array([-32768, 32767, -32768, 32767, -7, 32767], np.int16)
    for mult, shift in [(INT32_MAX, 62), (2**30, 31), (1, 1), (-(2**30), 40)]:
        y = q.mul_q(a, b, -5, 9, mult, shift, 3, np.int16)
        assert_same(_mul_qq(qk, a, b, -5, 9, mult, shift, 3, np.int16), y)
    y = q.mul_q(a, b, 0, 0, 2**30, 45, -2, np.int8)
    a_in = a.copy()
    _mul_qq(qk, a_in, b, 0, 0, 2**30, 45, -2, np.int8, out=a_in.view(np.int8)[: a.size])
    assert_same(a_in.view(np.int8)[: a.size], y)
