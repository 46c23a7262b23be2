"""exf_conv_step_f32 and exf_conv_step_q (firmware/kernels/conv_step.c) against the op references
(edgexf/ir/ops_conv_step.py: the float chain's own references composed; the integer sum and rounding),
bit for bit on the host: odd channel counts, k = 2 to 5 (4: the unrolled loop), edge values (int16 state
corners, W at its zero point's far end, a bias near the int32 bound), both requantization paths, and the
next state written over the state. QEMU runs them in tests/test_scan_end_to_end.py (k = 2 and 4)."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from firmware.kernel_helpers import assert_bits_equal, bind, params, ptr
from firmware.qdata import assert_same

from edgexf.ir.graph import Op
from edgexf.ir.ops import OPS

P = ctypes.c_void_p
SIZES = [(1, 2), (7, 3), (16, 4), (33, 4), (5, 5)]  # (E, K)


def _specs(arrays):
    return [(a.shape, str(a.dtype)) for a in arrays]


@pytest.mark.parametrize("e,k", SIZES)
@pytest.mark.parametrize("in_place", [False, True])
def test_conv_step_f32_matches_reference(ck, e, k, in_place):
    bind(ck.lib, {"exf_conv_step_f32": [P] * 5})
    rng = np.random.default_rng(e * 10 + k)
    x = rng.standard_normal((1, e)).astype(np.float32)
    state = rng.standard_normal((1, e, k - 1)).astype(np.float32)
    w = rng.standard_normal((e, 1, k)).astype(np.float32)
    b = rng.standard_normal(e).astype(np.float32)
    state[0, 0, 0], x[0, -1] = 3e38, -0.0  # an overflow to inf in the sum, a signed zero
    ins = [x, state, w, b]
    op = Op("conv_step", "conv", ["x", "s", "w", "b"], ["s2", "y"], {})
    s2_ref, y_ref = OPS["conv_step"].reference(op, ins, _specs(ins))
    s_in = state.copy()
    s2 = s_in if in_place else np.empty_like(state)
    y = np.empty((1, e), np.float32)
    p = params("exf_conv_step_f32_params_t", W=w, bias=b, e=e, k=k)
    ck.lib.exf_conv_step_f32(ctypes.byref(p), ptr(x), ptr(s_in), ptr(s2), ptr(y))
    assert_bits_equal(s2, s2_ref)
    assert_bits_equal(y, y_ref)


# shift 45: requant_of's SMMLA path; 30 (with a small multiplier) and 56: the int64 one
@pytest.mark.parametrize("e,k", SIZES)
@pytest.mark.parametrize("shift,mult_bits", [(45, 31), (30, 13), (56, 31)])
def test_conv_step_q_matches_reference(qk, e, k, shift, mult_bits):
    bind(qk.lib, {"exf_conv_step_q": [P] * 5})
    rng = np.random.default_rng(e * 100 + k * 10 + shift)
    x = rng.integers(-32768, 32768, (1, e)).astype(np.int16)
    state = rng.integers(-32768, 32768, (1, e, k - 1)).astype(np.int16)
    w = rng.integers(-128, 128, (e, 1, k)).astype(np.int8)
    w_zp = int(rng.integers(-128, 128))
    state.flat[: k - 1], x[0, 0], w[0] = -32768, -32768, -128 if w_zp > 0 else 127  # the largest |sum|
    bound = 2**31 - 1 - k * 32768 * 255  # the pass's bound on |bias|
    b = rng.integers(-(2**20), 2**20, e).astype(np.int32)
    b[0] = -bound if w_zp > 0 else bound
    mult = int(rng.integers(2 ** (mult_bits - 1), 2**mult_bits))
    attrs = {"w_zp": w_zp, "mult": mult, "shift": shift, "out_zp": int(rng.integers(-128, 128))}
    ins = [x, state, w, b]
    op = Op("q_conv_step", "conv", ["x", "s", "w", "b"], ["s2", "y"], attrs)
    s2_ref, y_ref = OPS["q_conv_step"].reference(op, ins, _specs(ins))
    assert len(np.unique(y_ref)) > 2 or e < 7 or shift == 56  # not all saturated
    p = params("exf_conv_step_q_params_t", W=w, bias=b, e=e, k=k, **attrs)
    for in_place in (False, True):
        s_in = state.copy()
        s2 = s_in if in_place else np.empty_like(state)
        y = np.empty((1, e), np.int8)
        qk.lib.exf_conv_step_q(ctypes.byref(p), ptr(x), ptr(s_in), ptr(s2), ptr(y))
        assert_same(s2, s2_ref)
        assert_same(y, y_ref)
