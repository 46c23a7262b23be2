"""The runner built for stm32f746 and run on QEMU's mps2-an500: same bits as the host and NumPy,
deterministic instruction counts that match a loop of known length, and faults reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edgexf.errors import RunError
from edgexf.run.host import run_host
from edgexf.run.qemu import instructions_per_tick, run_qemu
from edgexf.targets.boards import Board
from edgexf.targets.toolchain import Firmware, build_firmware

pytestmark = pytest.mark.qemu
TINY_OUTPUT_BYTES = 4 * 4 + 4


def test_outputs_match_numpy_and_the_host(
    qemu_builds: dict[str, Firmware],
    host_builds: dict[str, Path],
    stm32f746: Board,
    tiny_vectors: Callable[[int], tuple[bytes, bytes]],
) -> None:
    inputs, expected = tiny_vectors(16)
    first = run_qemu(stm32f746, qemu_builds["tiny_model"].elf, inputs, TINY_OUTPUT_BYTES, timeout=20)
    assert first.outputs == expected
    assert first.outputs == run_host(host_builds["tiny_model"], inputs, TINY_OUTPUT_BYTES, timeout=10).outputs
    # 4 multiply-adds and clamps: tens to a few hundred instructions, counted in 40-instruction ticks
    assert first.instructions is not None and len(first.instructions) == 16
    assert all(0 < n < 1000 for n in first.instructions)
    assert first.instructions == [t * 40 for t in first.ticks]
    again = run_qemu(stm32f746, qemu_builds["tiny_model"].elf, inputs, TINY_OUTPUT_BYTES, timeout=20)
    assert again.ticks == first.ticks  # -icount shift=0,align=off,sleep=off repeats exactly


def test_ticks_convert_to_instructions_of_a_known_loop(
    qemu_builds: dict[str, Firmware], stm32f746: Board
) -> None:
    # loop_model runs `subs; bne` n times: 2n instructions, plus a fixed overhead of the timer reads
    assert stm32f746.emulator is not None and instructions_per_tick(stm32f746.emulator) == 40
    n = np.array([1_000, 100_000, 1_000_000, 5_000_000], np.uint32)
    result = run_qemu(stm32f746, qemu_builds["loop_model"].elf, n.tobytes(), 4, timeout=20)
    assert result.instructions is not None
    overhead = np.array(result.instructions) - 2 * n.astype(np.int64)
    assert np.all((0 <= overhead) & (overhead <= 80)), overhead  # one tick of resolution, small overhead
    slope = (result.instructions[-1] - result.instructions[0]) / (2 * (int(n[-1]) - int(n[0])))
    assert abs(slope - 1) < 1e-5


def test_run_returning_non_zero_is_an_error(qemu_builds: dict[str, Firmware], stm32f746: Board) -> None:
    a = np.array([np.nan, 0, 0, 0], np.float32)
    with pytest.raises(RunError, match=r"exit code 6 (?s:.*)edgexf_run\(\) returned 7 on sample 0"):
        run_qemu(stm32f746, qemu_builds["tiny_model"].elf, a.tobytes() + bytes(4), TINY_OUTPUT_BYTES, 20)


def test_bus_fault_is_reported(qemu_builds: dict[str, Firmware], stm32f746: Board) -> None:
    with pytest.raises(RunError, match=r"exit code 12 \(BusFault(?s:.*)edgexf: BusFault .* BFAR=0xf0000000"):
        run_qemu(stm32f746, qemu_builds["fault_model"].elf, bytes(4), 4, timeout=20)


def test_emulator_that_does_not_finish_is_killed(qemu_builds: dict[str, Firmware], stm32f746: Board) -> None:
    n = np.array([0xFFFFFFFF], np.uint32)  # 8.6e9 instructions: about a minute of emulation
    with pytest.raises(RunError, match="did not finish within 1 s and was killed"):
        run_qemu(stm32f746, qemu_builds["loop_model"].elf, n.tobytes(), 4, timeout=1)


def test_image_linked_for_the_board_itself_is_refused(stm32f746: Board, tmp_path: Path) -> None:
    model = Path(__file__).parents[1] / "data" / "loop_model"
    fw = build_firmware(stm32f746, model, tmp_path, emulated=False)
    with pytest.raises(RunError, match="not linked for mps2-an500 .*table at 0x8000000.*emulated=True"):
        run_qemu(stm32f746, fw.elf, bytes(4), 4, timeout=20)
