"""The Helium (MVE) batch matmul, conv, table lookup, multiply and add on QEMU's Cortex-M55 (mps3-an547):
mve_check.c (beside this file) runs exf_matmul_s8_dsp, exf_conv2d_s8_dsp (their MVE forms there:
quant_matmul_mve.c, quant_conv_mve.c), exf_lut_s8 and exf_mul_qq (quant_elementwise_mve.c) and exf_add_q
(quant_add_mve.c) against the portable kernels or the contract's int64 arithmetic, on 200 random cases
each (k of every residue mod 16 and k < 16, odd m and n, n past the 32-column chunk, broadcast batches,
every conv geometry and patch embeddings, extreme zero points, shifts on both requantization paths and
32 itself, lookups of 1-300 elements in place or not, multiplies and adds contiguous or broadcast along
either axis), inside the scratch sized for the DSP forms, and times the MNIST ViT's and the LMU's shapes.
Instruction counts are ratios within the one QEMU run."""

from __future__ import annotations

import pytest
from firmware.test_elementwise_speed import run_speed

pytestmark = pytest.mark.qemu

TIMED = {"matmul_s8_qk", "matmul_s8_av", "conv_s8_patch", "conv_s8_3x3", "lut_s8_gelu"}
TIMED |= {"mul_s8_outer", "add_s16_lmu"}


def test_mve_kernels_equal_portable_and_take_fewer_instructions(tmp_path):
    cases = run_speed("mve_check.c", tmp_path, "mps3-an547")
    assert set(cases) == TIMED, cases
    per_instr = {name: macs / new for name, (macs, _, new) in cases.items()}
    # measured: matmul 1.63 (k 16, requantized in registers) and 1.57 (k 50) MACs/instr (the M7's SMLAD
    # kernel: 0.6-0.75), 12-15x fewer instructions than portable; the patch conv 1.24 (28x), a padded
    # 3 x 3 conv 0.78 (17x: its patches cost about as much as its products); the lookup 3.2 elements/instr
    # (16x)
    for name in ("matmul_s8_qk", "matmul_s8_av"):
        assert per_instr[name] > 1.3 and cases[name][1] > 10 * cases[name][2], (name, cases[name])
    assert per_instr["conv_s8_patch"] > 1.0 and per_instr["conv_s8_3x3"] > 0.6, per_instr
    for name in ("conv_s8_patch", "conv_s8_3x3", "lut_s8_gelu"):
        assert cases[name][1] > 10 * cases[name][2], (name, cases[name])
    assert per_instr["lut_s8_gelu"] > 2.0, per_instr
    # the LMU's outer-product multiply and int16 state add: 7.6 and 7.9 instructions an element (the portable
    # kernels: 16.5 for this broadcast multiply, 12.2 for the int16 add), 7x fewer than the int64 reference
    for name in ("mul_s8_outer", "add_s16_lmu"):
        assert cases[name][1] > 5 * cases[name][2], (name, cases[name])


def test_a_wrong_byte_is_caught(tmp_path):
    with pytest.raises(AssertionError, match=r"MISMATCH matmul_s8_qk"):
        run_speed("mve_check.c", tmp_path, "mps3-an547", defines=("MVE_CHECK_SELFTEST",))
