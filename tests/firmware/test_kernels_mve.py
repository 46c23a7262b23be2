"""The Helium (MVE) kernels on QEMU's Cortex-M55 (mps3-an547): the kernel check (firmware/app/kernel_check.c)
built for that core, where the dsp int8 linear helper runs its MVE form (quant_dot_mve.c), gives the
portable kernels' bytes on 300 random shapes (rows 1-13, k 1-70 so every k % 16 tail and k < 16,
m 1-20 so every m % 4 tail, half of them with every shift in [32, 53] for the vector requantization,
shift 32 included) and on the example ViTs' shapes; the other fast kernels (attention, int16 weights,
patch embedding) are checked there too. Timings are ratios within the one QEMU run."""

from __future__ import annotations

import pytest

from edgexf.errors import RunError
from edgexf.run import kernel_check
from edgexf.targets.boards import load_board

pytestmark = pytest.mark.qemu


def test_mve_linear_equals_portable_and_does_more_than_two_macs_per_instruction():
    timings = kernel_check.run(load_board("mps3-an547"))
    linear = [t for t in timings if t.kernel == "exf_linear_s8_dsp"]
    assert len(linear) >= 10
    for t in linear:
        if t.rows >= 17 and t.k >= 64:  # the ViTs' layers: 2.1-4.4 measured (SMLAD on the M7: under 1)
            assert t.portable >= 7 * t.fast, t
            assert t.macs / t.fast > (3.0 if t.k >= 128 else 2.0), t
        elif t.k >= 4:
            assert t.portable >= 2.5 * t.fast, t
        else:  # Mamba's rank-2 dt_proj: the portable kernel unrolls k < 4 with its inputs in registers
            assert t.portable >= 1.5 * t.fast, t  # 2,406 against 1,375 measured


def test_a_wrong_byte_is_caught_on_the_m55():
    with pytest.raises(RunError, match=r"(?s)a fast kernel.*MISMATCH exf_linear_s8_dsp 17 32 96 at element"):
        kernel_check.run(load_board("mps3-an547"), defines=("KERNEL_CHECK_SELFTEST",))
