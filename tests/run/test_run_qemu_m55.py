"""QEMU's mps3-an547 (Cortex-M55): its SysTick runs at the 32 MHz system clock, so a tick is 31.25
instructions under -icount shift=0; checked with a loop of known length, as for mps2-an500."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgexf.run.qemu import instructions_per_tick, run_qemu
from edgexf.targets.boards import load_board
from edgexf.targets.toolchain import build_firmware

pytestmark = pytest.mark.qemu


def test_m55_ticks_convert_to_instructions_of_a_known_loop(tmp_path: Path) -> None:
    board = load_board("mps3-an547")
    assert board.emulator is not None and instructions_per_tick(board.emulator) == 31.25
    fw = build_firmware(board, Path(__file__).parents[1] / "data" / "loop_model", tmp_path, emulated=True)
    n = np.array([1_000, 100_000, 5_000_000], np.uint32)  # `subs; bne` n times: 2n instructions
    result = run_qemu(board, fw.elf, n.tobytes(), 4, timeout=20)
    assert result.instructions is not None
    overhead = np.array(result.instructions) - 2 * n.astype(np.int64)
    assert np.all((0 <= overhead) & (overhead <= 64)), overhead  # one tick of resolution, small overhead
