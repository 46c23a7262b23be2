"""Mamba's recognized selective scan (passes/fuse_scan.py, firmware/kernels/scan.c and quant_scan.c) and
conv step (passes/fuse_conv_step.py, conv_step.c) in whole models of odd sizes (tests/data/odd_mamba.py:
d_inner 15, d_state 5, or 65 past the integer scan's fast loop; d_conv 2, or 4 with d_state 65, the conv's
unrolled loop), float32 and int8, built for stm32f746 and run in QEMU: every output bit-exact with the IR
reference (whose fused ops compose the chains' own references), both fused in both blocks, and in int8 the
output gate (passes/fuse_gate.py, quant_gate.c) and the RMSNorms (passes/fuse_rms_norm.py, quant_rms_norm.c)
too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgexf.pipeline import QuantOptions, compile_model
from edgexf.run.build_dir import run_build

pytestmark = [pytest.mark.slow, pytest.mark.qemu]

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize("builder, int8", [("mamba_n5", False), ("mamba_n5", True), ("mamba_n65", True)])
def test_fused_scan_is_bit_exact_in_qemu(tmp_path, builder, int8):
    rng = np.random.default_rng(0)
    for name, n in (("test", 6), ("calib", 32)):
        np.savez(tmp_path / f"{name}.npz", x=rng.standard_normal((n, 9, 3)).astype(np.float32))
    quant = QuantOptions(tmp_path / "calib.npz", state_dtype="int16", method="percentile") if int8 else None
    out = tmp_path / "build"
    report = compile_model(
        f"{DATA / 'odd_mamba.py'}:{builder}", "stm32f746", out, test_data=tmp_path / "test.npz", quant=quant,
        log=lambda s: None,
    )  # fmt: skip
    code = (out / "model" / "model.c").read_text()
    for kernel in ("exf_selective_scan", "exf_conv_step"):
        assert code.count(f"{kernel}_{'q' if int8 else 'f32'}(&") == 2
    assert code.count("exf_gate_q(&") == (2 if int8 else 0)
    assert code.count("exf_rms_norm_q(&") == (3 if int8 else 0)
    assert json.loads((out / "report.json").read_text())["macs"] == report["macs"]
    run = run_build(out, emulate=True, check=True)
    assert run.agreement.ok and run.agreement.bit_exact_with_reference == run.agreement.samples
