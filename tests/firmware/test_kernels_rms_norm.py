"""exf_rms_norm_q (firmware/kernels/quant_rms_norm.c) against the q_rms_norm reference
(edgexf/ir/ops_rms_norm.py: the chain's q_mul, q_mean, q_lut and q_mul references composed), bit for bit on
the host: x int8 and int16, odd widths, several rows, edge values, the multiplies on quant_mul.h's hi path
or in int64. QEMU runs it in tests/test_scan_end_to_end.py."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from firmware.kernel_helpers import bind, params, ptr
from firmware.qdata import assert_same

from edgexf.ir.graph import Op
from edgexf.ir.ops import OPS

P = ctypes.c_void_p


def _terms(rng, a_zp: int, shift: int) -> dict:
    return {"a_zp": a_zp, "b_zp": int(rng.integers(-128, 128)), "mult": int(rng.integers(2**30, 2**31)),
            "shift": shift, "out_zp": int(rng.integers(-128, 128))}  # fmt: skip


# shift 0: the example models' shifts (each multiply on the hi path); 12 lower: the int64 formulas
@pytest.mark.parametrize("rows,d", [(1, 1), (1, 32), (3, 17)])
@pytest.mark.parametrize("x_dtype", ["int8", "int16"])
@pytest.mark.parametrize("lower", [0, 12])
def test_rms_norm_q_matches_reference(qk, rows, d, x_dtype, lower):
    bind(qk.lib, {"exf_rms_norm_q": [P] * 3})
    rng = np.random.default_rng(rows * 100 + d + lower)
    info = np.iinfo(x_dtype)
    x = rng.integers(info.min, info.max + 1, (rows, d)).astype(x_dtype)
    x[0, 0] = info.min
    w = rng.integers(-128, 128, d).astype(np.int8)
    table = rng.integers(-128, 128, 256).astype(np.int8)
    wide = 16 if x_dtype == "int16" else 0  # an int16 x: the products' scale
    zp = 0 if x_dtype == "int16" else int(rng.integers(-128, 128))
    attrs = {
        "sq": {**_terms(rng, zp, 37 + wide - lower), "b_zp": zp},
        "mean": {
            "in_zp": -128,
            "mult": int(rng.integers(2**30, 2**31)),
            "shift": 34 + (d > 8) * 4,
            "out_zp": -128,
        },
        "norm": _terms(rng, zp, 37 + wide // 2 - lower),
        "scale": _terms(rng, int(rng.integers(-128, 128)), 38 - lower),
    }
    ins = [x, w, table]
    op = Op("q_rms_norm", "norm", ["x", "w", "t"], ["y"], attrs)
    (y_ref,) = OPS["q_rms_norm"].reference(op, ins, [(a.shape, str(a.dtype)) for a in ins])
    assert len(np.unique(y_ref)) > 2 or d < 17 or lower  # not all on the clamp
    fields = {f"mean_{k}": v for k, v in attrs["mean"].items()}
    fields |= {k: attrs[k] for k in ("sq", "norm", "scale")}
    p = params("exf_rms_norm_q_params_t", w=w, table=table, x_bytes=x.itemsize, rows=rows, d=d, **fields)
    y = np.empty((rows, d), np.int8)
    qk.lib.exf_rms_norm_q(ctypes.byref(p), ptr(x), ptr(y))
    assert_same(y, y_ref)
