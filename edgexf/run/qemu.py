"""Run an emulated firmware build (build_firmware(..., emulated=True)) in QEMU on test vectors.

Under -icount shift=0,align=off,sleep=off QEMU advances its virtual clock 1 ns per instruction
and repeats exactly run to run, so SysTick ticks at the machine's CPU clock convert to instruction
counts: 1e9 / cpu_clock_hz instructions per tick (40 at mps2-an500's 25 MHz, 5.95 at netduinoplus2's
168 MHz; checked with loops of known length, tests/run/test_run_qemu.py and
tests/firmware/test_eval_firmware.py). The count has a resolution of one tick and includes the few
instructions of the timer reads around edgexf_run(). It counts instructions, not cycles: QEMU is
not cycle-accurate.
"""

from __future__ import annotations

from pathlib import Path

from elftools.elf.elffile import ELFFile

from edgexf.errors import RunError
from edgexf.run.common import RunResult, run_vectors
from edgexf.targets.boards import Board, Emulator
from edgexf.targets.toolchain import find_tool

ICOUNT = "shift=0,align=off,sleep=off"
_NS_PER_INSTRUCTION = 1  # 2**shift


def instructions_per_tick(emulator: Emulator) -> int | float:
    """Whole (an int) where cpu_clock_hz divides 1e9, as on mps2; else a float (netduinoplus2's 168 MHz
    SysTick: 5.952... instructions per tick), and the counts converted with it are rounded to whole
    instructions: exact to within one instruction per conversion, the tick's resolution is coarser anyway."""
    per_tick, rest = divmod(10**9, emulator.cpu_clock_hz * _NS_PER_INSTRUCTION)
    return per_tick if rest == 0 else 10**9 / (emulator.cpu_clock_hz * _NS_PER_INSTRUCTION)


def qemu_command(board: Board, elf: Path) -> list[str]:
    emulator = board_emulator(board)
    return [
        find_tool("qemu-system-arm"),
        "-icount", ICOUNT,
        "-M", emulator.machine,
        "-display", "none",
        "-monitor", "none",
        "-serial", "null",
        # semihosting file names resolve against QEMU's working directory
        "-semihosting-config", "enable=on,target=native",
        "-kernel", str(elf.resolve()),
    ]  # fmt: skip


def run_qemu(
    board: Board,
    elf: Path,
    input_bytes: bytes,
    output_bytes_per_sample: int,
    timeout: float,
    profile_ops: int | None = None,
) -> RunResult:
    """profile_ops: elf is a profile build of a model with that many ops (see run_vectors)."""
    emulator = board_emulator(board)
    check_linked_for(elf, board, emulator)
    what = f"{elf} on {emulator.machine} (QEMU)"
    cmd = qemu_command(board, elf)
    result = run_vectors(cmd, what, input_bytes, output_bytes_per_sample, timeout, profile_ops)
    return result.with_instructions(instructions_per_tick(emulator))


def board_emulator(board: Board) -> Emulator:
    if board.emulator is None:
        raise RunError(f"board {board.name} has no [emulator] table ({board.path}): it cannot run in QEMU")
    return board.emulator


def check_linked_for(elf: Path, board: Board, emulator: Emulator) -> None:
    # An image linked at the board's own flash address would boot nothing on the machine: say so
    # instead of letting QEMU fault or spin until the timeout.
    with open(elf, "rb") as f:
        vectors = ELFFile(f).get_section_by_name(".isr_vector")
        address = None if vectors is None else vectors["sh_addr"]
    if address != emulator.flash_origin:
        raise RunError(
            f"{elf} is not linked for {emulator.machine} (vector table at "
            f"{'nowhere' if address is None else hex(address)}, expected {emulator.flash_origin:#x}); "
            f"build it with build_firmware({board.name}, ..., emulated=True)"
        )
