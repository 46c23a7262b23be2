"""exf_gate_q (firmware/kernels/quant_gate.c) against the q_gate reference (edgexf/ir/ops_gate.py: the chain's
q_requant, q_lut and q_mul references composed), bit for bit on the host: a int8 and int16, odd lengths,
edge values (z and a at their extremes, zero points at both ends), each step on its SMMLA form or in
int64, y over a. QEMU runs it in tests/test_scan_end_to_end.py."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from firmware.kernel_helpers import bind, params, ptr
from firmware.qdata import assert_same

from edgexf.ir.graph import Op
from edgexf.ir.ops import OPS

P = ctypes.c_void_p


# (requant shift, mul shift): 38 and 39 take both SMMLA forms (as the example models); 20: the requant in
# int64; 12: the multiply in int64 (and a small multiplier keeps the results off the clamp)
@pytest.mark.parametrize("n", [1, 7, 64])
@pytest.mark.parametrize("a_dtype", ["int8", "int16"])
@pytest.mark.parametrize("z_shift,mul_shift", [(38, 39), (20, 39), (38, 12)])
def test_gate_q_matches_reference(qk, n, a_dtype, z_shift, mul_shift):
    bind(qk.lib, {"exf_gate_q": [P] * 4})
    rng = np.random.default_rng(n * 100 + z_shift + mul_shift)
    info = np.iinfo(a_dtype)
    a = rng.integers(info.min, info.max + 1, n).astype(a_dtype)
    z = rng.integers(-32768, 32768, n).astype(np.int16)
    a[0], z[0] = info.min, -32768
    a[-1], z[-1] = info.max, 32767
    table = rng.integers(-128, 128, 256).astype(np.int8)
    z_mult = int(rng.integers(2**30, 2**31)) if z_shift > 30 else int(rng.integers(2**4, 2**5))
    mul_mult = int(rng.integers(2**30, 2**31)) if mul_shift > 30 else 1
    if a_dtype == "int16" and mul_shift > 30:
        mul_shift += 8  # an int16 operand: keep the products' scale
    a_zp = 0 if a_dtype == "int16" else int(rng.integers(-128, 128))
    attrs = {
        "z": {"in_zp": 0, "mult": z_mult, "shift": z_shift, "out_zp": int(rng.integers(-128, 128))},
        "mul": {"a_zp": a_zp, "b_zp": int(rng.integers(-128, 128)), "mult": mul_mult, "shift": mul_shift,
                "out_zp": int(rng.integers(-128, 128))},
    }  # fmt: skip
    ins = [a, z, table]
    op = Op("q_gate", "gate", ["a", "z", "t"], ["y"], attrs)
    (y_ref,) = OPS["q_gate"].reference(op, ins, [(x.shape, str(x.dtype)) for x in ins])
    assert len(np.unique(y_ref)) > 2 or n < 7  # not all on the clamp
    fields = {f"z_{k}": v for k, v in attrs["z"].items()}
    p = params("exf_gate_q_params_t", table=table, mul=attrs["mul"], a_bytes=a.itemsize, n=n, **fields)
    for in_place in (False, True):
        a_in = a.copy()
        y = a_in.view(np.int8)[:n] if in_place else np.empty(n, np.int8)
        qk.lib.exf_gate_q(ctypes.byref(p), ptr(a_in), ptr(z), ptr(y))
        assert_same(y, y_ref)
