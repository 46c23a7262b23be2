"""mm_speed.c in QEMU (stm32f746, the real SMLAD and VMLA.F32): exf_matmul_s8_dsp and exf_conv2d_s8_dsp
give the portable kernels' bytes (the conv also on 60 random geometries: groups, depthwise, strides,
asymmetric padding, dilation, inside the scratch it declares), exf_linear_f32, exf_matmul_f32 and
exf_conv2d_f32 (VMLA, the product rounded before the sum) the plain `acc += a * b` loop's floats bit for
bit, and each takes several times fewer instructions, asserted as ratios within the one run."""

from __future__ import annotations

import pytest
from firmware.test_elementwise_speed import run_speed


@pytest.mark.qemu
def test_matmul_conv_and_float_dot_kernels_in_qemu(tmp_path):
    cases = run_speed("mm_speed.c", tmp_path)
    assert len(cases) == 13, cases
    mpi = {name: macs / new for name, (macs, _, new) in cases.items()}
    # measured: portable int8 matmul 0.10-0.11 MACs/instr, DSP 0.6-0.75; CMSIS-NN's is 0.16-0.23
    for name in ("matmul_s8_qk", "matmul_s8_av"):
        macs, ref, new = cases[name]
        assert ref >= 4 * new and mpi[name] > 0.5, (name, cases[name])
    # the patch embedding: portable about 21 instructions per MAC, DSP 0.43 MACs/instr
    assert cases["conv_s8_patch"][1] >= 6 * cases["conv_s8_patch"][2], cases["conv_s8_patch"]
    assert cases["conv_s8_3x3"][1] > 2 * cases["conv_s8_3x3"][2], cases["conv_s8_3x3"]
    # depthwise and channel multiplier 2: the direct path (no im2col), 3.6-3.9x measured (was 0.6x)
    for name in ("conv_s8_dw", "conv_s8_mult2"):
        assert cases[name][1] > 3 * cases[name][2], (name, cases[name])
    # float32: VMUL + VADD per MAC in the loop before (at most 0.5 MACs/instr), VMLA and VLDM now
    assert mpi["linear_f32_vit"] > 0.7 and mpi["matmul_f32_qk"] > 0.5, mpi
    for name in ("linear_f32_vit", "linear_f32_odd", "matmul_f32_qk", "matmul_f32_odd", "conv_f32_patch"):
        assert cases[name][1] > 1.5 * cases[name][2], (name, cases[name])
