"""exf_selective_scan_f32 and exf_selective_scan_q (firmware/kernels/scan.c, quant_scan.c) against the
op references (edgexf/ir/ops_scan.py, the chain's own references composed), bit for bit: random and odd
sizes (n past the fast loop's 32), edge values (exp's clamp, int16 state corners, saturating terms),
every path of the integer kernel (multiplies hi or int64, the add hi, lo or int64), h' over h."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from firmware.kernel_helpers import assert_bits_equal, bind, params, ptr
from firmware.qdata import assert_same

from edgexf.ir.graph import Op
from edgexf.ir.ops import OPS
from edgexf.ir.ops_scan import ADDS, MULS

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


def _mul(rng, shift, zp=True):
    z = (lambda: int(rng.integers(-128, 128))) if zp else (lambda: 0)
    return {"a_zp": z(), "b_zp": z(), "mult": int(rng.integers(2**30, 2**31)), "shift": shift, "out_zp": z()}


def _add(rng, shift, dtype):
    return {
        "a_zp": 0 if dtype == "int16" else int(rng.integers(-128, 128)),
        "b_zp": 0 if dtype == "int16" else int(rng.integers(-128, 128)),
        "ma": int(rng.integers(2**30, 2**31)),
        "mb": int(rng.integers(-(2**31), 2**31)),
        "shift": shift,
        "out_zp": 0,
        "dtype": dtype,
    }


# The terms' shifts by role (dA, dAh, dtx, dBx, hC, Dx; the two adds; the sum): Mamba MNIST's (fast loop,
# the add's lo path), all multiplies >= 33 with the adds >= 32 (fast loop, hi), and small shifts (int64)
PATHS = {
    "model": ((37, 38, 38, 29, 44, 38), (31, 23), 32),
    "hi": ((40, 36, 38, 34, 45, 38), (33, 35), 36),
    "int64": ((20, 12, 8, 9, 16, 10), (14, 12), 12),
}


def _q_case(rng, e, n, path, y_dtype):
    shapes = [(1, e), (1, e), (e, n), (1, n), (1, n), (e,)]  # x, dt, A, B, C, D
    ints = [rng.integers(-128, 128, s).astype(np.int8) for s in shapes]
    h = rng.integers(-32768, 32768, (1, e, n)).astype(np.int16)
    h.flat[:2] = (-32768, 32767)  # the state's corners
    table = rng.integers(-128, 128, 256).astype(np.int8)
    muls, adds, sum_shift = PATHS[path]
    attrs = {k: _mul(rng, s, zp=k != "dAh") for k, s in zip(MULS, muls)}
    attrs |= {"h": _add(rng, adds[0], "int16"), "y": _add(rng, adds[1], y_dtype)}
    zp, mult = (int(rng.integers(-128, 128)) for _ in range(2)), int(rng.integers(2**30, 2**31))
    attrs["sum"] = {"in_zp": next(zp), "mult": mult, "shift": sum_shift, "out_zp": next(zp)}
    return [*ints, h, table], attrs


@pytest.mark.parametrize("e,n", SIZES)
@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("y_dtype", ["int8", "int16"])
def test_scan_q_matches_reference(qk, e, n, path, y_dtype):
    bind(qk.lib, {"exf_selective_scan_q": [P] * 8})
    rng = np.random.default_rng(e * 1000 + n * 10 + len(path))
    ins, attrs = _q_case(rng, e, n, path, y_dtype)
    op = Op("q_selective_scan", "scan", [f"i{k}" for k in range(8)], ["h2", "y"], attrs)
    h2_ref, y_ref = OPS["q_selective_scan"].reference(op, ins, _specs(ins))
    x, dt, A, B, C, D, h, table = ins
    fields = {k: {f: v for f, v in attrs[k].items() if f != "dtype"} for k in (*MULS, *ADDS)}
    fields |= {f"sum_{k}": v for k, v in attrs["sum"].items()}
    y = np.empty((1, e), y_dtype)
    p = params("exf_scan_q_params_t", A=A, D=D, exp_table=table, y_bytes=y.itemsize, e=e, n=n, **fields)
    for in_place in (False, True):
        h_in = h.copy()
        h2 = h_in if in_place else np.empty_like(h)
        args = (ptr(x), ptr(dt), ptr(B), ptr(C), ptr(h_in), ptr(h2), ptr(y))
        qk.lib.exf_selective_scan_q(ctypes.byref(p), *args)
        assert_same(h2, h2_ref)
        assert_same(y, y_ref)
