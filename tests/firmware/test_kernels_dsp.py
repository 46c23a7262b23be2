"""The fast int8 kernels (firmware/kernels/*_dsp.c) against the portable ones: the same bytes on
random shapes (odd sizes, tails of rows and columns, both requantization paths) and on the example
ViTs' shapes, on the host (plain-C forms of SXTB16/SMLAD) and in QEMU (the real instructions)."""

from __future__ import annotations

import re

import pytest

from edgexf.errors import RunError
from edgexf.ir.kernel_choice import DSP_BLOCK_ROWS, resolve
from edgexf.resources import firmware_dir
from edgexf.targets import kernel_check
from edgexf.targets.boards import load_board


def test_block_rows_agree_with_the_header():
    header = (firmware_dir() / "kernels" / "edgexf_kernels.h").read_text()
    assert int(re.search(r"#define EXF_DSP_BLOCK_ROWS (\d+)", header)[1]) == DSP_BLOCK_ROWS


def test_fast_equals_portable_on_the_host():
    timings = kernel_check.run(None)
    assert {t.kernel for t in timings} == {"exf_linear_s8_dsp"}


@pytest.mark.qemu
def test_fast_equals_portable_in_qemu_and_takes_at_least_3x_fewer_instructions():
    timings = kernel_check.run(load_board("stm32f746"))
    assert len(timings) >= 10
    for t in timings:
        if t.rows >= DSP_BLOCK_ROWS:  # a single row has no weight reuse: only the SIMD gain
            assert t.portable >= 3 * t.fast, t
            assert t.macs / t.fast > 0.55, t  # MACs per instruction (portable: about 0.18)


@pytest.mark.qemu
def test_a_wrong_byte_is_caught():
    with pytest.raises(RunError, match=r"(?s)a fast kernel.*MISMATCH exf_linear_s8_dsp 17 32 96 at element"):
        kernel_check.run(load_board("stm32f746"), defines=("KERNEL_CHECK_SELFTEST",))


def test_auto_picks_dsp_only_on_cores_that_have_it():
    assert resolve("auto", "cortex-m7") == "dsp"
    assert resolve("auto", "cortex-m0plus") == "portable"
    assert resolve("portable", "cortex-m7") == "portable"
    with pytest.raises(ValueError, match="kernels must be one of"):
        resolve("neon", "cortex-m7")
