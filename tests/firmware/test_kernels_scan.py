"""exf_selective_scan_f32 and exf_selective_scan_q (firmware/kernels/scan.c, quant_scan.c) against the
op references (edgexf/ir/ops_scan.py, the chain's own references composed), bit for bit: random and odd
sizes (n past the integer fast loop's 64), edge values (exp's clamp, int16 state corners, saturating
terms), both paths of the integer kernel (dA's index by SMMLA or in int64), h' over h."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from firmware.kernel_helpers import assert_bits_equal, bind, params, ptr
from firmware.qdata import assert_same

from edgexf.ir.graph import Op
from edgexf.ir.ops import OPS

P = ctypes.c_void_p
SIZES = [(1, 1), (3, 5), (7, 8), (16, 16), (5, 33), (2, 40)]  # (E, N)


def _specs(arrays):
    return [(a.shape, str(a.dtype)) for a in arrays]


def _float_case(rng, e, n, edge):
    x = rng.standard_normal((1, e)).astype(np.float32)
    dt = np.abs(rng.standard_normal((1, e))).astype(np.float32) * 0.5
    A = -np.tile(np.arange(1, n + 1, dtype=np.float32), (e, 1))
    B, C = (rng.standard_normal((1, n)).astype(np.float32) for _ in range(2))
    D = rng.standard_normal(e).astype(np.float32)
    h = rng.standard_normal((1, e, n)).astype(np.float32)
    if edge:  # exp's clamp below -87, zeros, a large state
        dt[0, 0], x[0, -1], h[0, -1, -1] = 200.0, 0.0, 3e30
    return [x, dt, A, B, C, D, h]


@pytest.mark.parametrize("e,n", SIZES)
@pytest.mark.parametrize("edge", [False, True])
@pytest.mark.parametrize("in_place", [False, True])
def test_scan_f32_matches_reference(ck, e, n, edge, in_place):
    bind(ck.lib, {"exf_selective_scan_f32": [P] * 8})
    rng = np.random.default_rng(e * 100 + n)
    ins = _float_case(rng, e, n, edge)
    op = Op("selective_scan", "scan", [f"i{k}" for k in range(7)], ["h2", "y"], {})
    h2_ref, y_ref = OPS["selective_scan"].reference(op, ins, _specs(ins))
    x, dt, A, B, C, D, h = ins
    h = h.copy()
    h2 = h if in_place else np.empty_like(h)
    y = np.empty((1, e), np.float32)
    p = params("exf_scan_f32_params_t", A=A, D=D, e=e, n=n)
    ck.lib.exf_selective_scan_f32(ctypes.byref(p), ptr(x), ptr(dt), ptr(B), ptr(C), ptr(h), ptr(h2), ptr(y))
    assert_bits_equal(h2, h2_ref)
    assert_bits_equal(y, y_ref)


def _q_case(rng, e, n, dA_shift, w_shift, y_dtype):
    shapes = [(1, e), (1, e), (e, n), (1, n), (1, n), (e,)]  # x, dt, A, B, C, D
    ints = [rng.integers(-128, 128, s).astype(np.int8) for s in shapes]
    ints[0].flat[0], ints[1].flat[0], ints[3].flat[0] = -128, -128, 127  # the largest dt x B
    h = rng.integers(-32768, 32768, (1, e, n)).astype(np.int16)
    h.flat[:2] = (-32768, 32767)  # the state's corners
    table = rng.integers(0, 32768, 256).astype(np.int16)
    table[[0, 255]] = (0, 32767)

    def zp():
        return int(rng.integers(-128, 128))

    mult = int(rng.integers(2**30, 2**31))
    attrs = {
        "dA": {"a_zp": zp(), "b_zp": zp(), "mult": mult, "shift": dA_shift, "out_zp": zp()},
        "dBx": {"mult": int(rng.integers(2**30, 2**31)), "shift": w_shift},
        "y": {
            "ma": int(rng.integers(2**30, 2**31)),
            "mb": int(rng.integers(-(2**31), 2**31)),
            "shift": 40,
            "out_zp": 0 if y_dtype == "int16" else zp(),
            "dtype": y_dtype,
        },  # fmt: skip
        "zp": {k: zp() for k in ("x", "dt", "B", "C", "D")},
    }
    return [*ints, h, table], attrs


# dA's index on the SMMLA path (shift >= 18 with int8 zero points) or in int64 (below); w from 2^-24 to 2^21
# (w_shift 1: w saturates to int32, h' to int16), by SMMULR (shifts 17-32), SMMLA (33-53) or in int64; h' in
# int32 (rows with |w| <= 2^22) or int64; y's add by its high word (shifts 33-53) or in int64
SHIFTS = [(37, 21, 40), (20, 30, 30), (12, 1, 40), (37, 40, 56), (20, 55, 33)]


@pytest.mark.parametrize("e,n", [*SIZES, (3, 65)])
@pytest.mark.parametrize("dA_shift,w_shift,y_shift", SHIFTS)
@pytest.mark.parametrize("y_dtype", ["int8", "int16"])
def test_scan_q_matches_reference(qk, e, n, dA_shift, w_shift, y_shift, y_dtype):
    bind(qk.lib, {"exf_selective_scan_q": [P] * 8})
    rng = np.random.default_rng(e * 1000 + n * 10 + dA_shift + w_shift)
    ins, attrs = _q_case(rng, e, n, dA_shift, w_shift, y_dtype)
    attrs["y"]["shift"] = y_shift
    op = Op("q_selective_scan", "scan", [f"i{k}" for k in range(8)], ["h2", "y"], attrs)
    h2_ref, y_ref = OPS["q_selective_scan"].reference(op, ins, _specs(ins))
    x, dt, A, B, C, D, h, table = ins
    fields = {f"{k}_zp": v for k, v in attrs["zp"].items()}
    fields |= {"dA": attrs["dA"], "w_mult": attrs["dBx"]["mult"], "w_shift": attrs["dBx"]["shift"]}
    fields["y"] = {"a_zp": 0, "b_zp": 0, **{k: v for k, v in attrs["y"].items() if k != "dtype"}}
    y = np.empty((1, e), y_dtype)
    p = params("exf_scan_q_params_t", A=A, D=D, exp_table=table, y_bytes=y.itemsize, e=e, n=n, **fields)
    for in_place in (False, True):
        h_in = h.copy()
        h2 = h_in if in_place else np.empty_like(h)
        args = (ptr(x), ptr(dt), ptr(B), ptr(C), ptr(h_in), ptr(h2), ptr(y))
        qk.lib.exf_selective_scan_q(ctypes.byref(p), *args)
        assert_same(h2, h2_ref)
        assert_same(y, y_ref)
