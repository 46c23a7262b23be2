"""The Helium (MVE) batch matmul, conv and table lookup on QEMU's Cortex-M55 (mps3-an547): mve_check.c
(beside this file) runs exf_matmul_s8_dsp, exf_conv2d_s8_dsp (their MVE forms there: quant_matmul_mve.c,
quant_conv_mve.c) and exf_lut_s8 (quant_elementwise_mve.c) against the portable kernels on 200 random
shapes each (tails of k mod 16, odd m and n, n past the 32-column chunk, broadcast batches, every conv
geometry, extreme zero points, shifts on both requantization paths), inside the DSP forms' scratch, and
times the MNIST ViT's shapes. Instruction counts are ratios within the one QEMU run."""

from __future__ import annotations

import pytest
from firmware.test_elementwise_speed import run_speed

pytestmark = pytest.mark.qemu


def test_mve_matmul_conv_lut_equal_portable_and_are_faster(tmp_path):
    cases = run_speed("mve_check.c", tmp_path, "mps3-an547")
    assert set(cases) == {"matmul_s8_qk", "matmul_s8_av", "conv_s8_patch", "conv_s8_3x3", "lut_s8_gelu"}, cases
    mpi = {name: macs / new for name, (macs, _, new) in cases.items()}
    print(mpi)
