"""Build and run firmware/app/kernel_check*.c (main, and one file per kernel family: kernel_check.h):
random shapes and on the example ViTs' shapes, on the host (plain-C SIMD forms) or on a board's
emulator (the real DSP instructions). Used by tests/firmware/test_kernels_dsp.py and
benchmarks/latency.py.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgexf.errors import RunError
from edgexf.resources import firmware_dir
from edgexf.run.common import describe_exit
from edgexf.run.qemu import instructions_per_tick, qemu_command
from edgexf.targets.boards import Board
from edgexf.targets.toolchain import (
    COMMON_CFLAGS,
    FIRMWARE_FLAGS,
    find_tool,
    render_linker_script,
    run_compiler,
)

ATTENTION = "exf_attention_s8_dsp"


@dataclass(frozen=True)
class KernelTiming:
    """One timed shape. For exf_attention_s8_dsp rows, k, m are t, heads, dh, and scratch the working
    memory the kernel declared for them (bytes; 0 for the others)."""

    kernel: str
    rows: int
    k: int
    m: int
    portable: int  # instructions under QEMU; ns on the host
    fast: int
    scratch: int = 0

    @property
    def macs(self) -> int:
        if self.kernel == ATTENTION:  # q k^T and p v: 2 t^2 dh per head
            return 2 * self.rows * self.rows * self.k * self.m
        return self.rows * self.k * self.m


def _sources(platform: str) -> list[Path]:
    fw = firmware_dir()
    checks = sorted((fw / "app").glob("kernel_check*.c"))  # main and one file per kernel family
    return [*checks, *sorted((fw / "kernels").glob("*.c")), fw / "platform" / platform]


def build(out_dir: Path, board: Board | None = None, defines: tuple[str, ...] = ()) -> Path:
    """The check program for the host (board None) or linked for the board's emulator."""
    fw = firmware_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    includes = [*(f"-D{d}" for d in defines), f"-I{fw / 'kernels'}", f"-I{fw / 'platform'}"]
    if board is None:
        exe = out_dir / "kernel_check"
        cmd = [find_tool("gcc"), *COMMON_CFLAGS, *includes, *_sources("platform_host.c"), "-o", exe]
        run_compiler(cmd, "gcc building the kernel check")
        return exe
    script = out_dir / "linker.ld"
    script.write_text(render_linker_script(board, emulated=True))
    elf = out_dir / "kernel_check.elf"
    startup = [fw / "startup" / "startup.c", fw / "startup" / "semihost.c"]
    cmd = [
        find_tool("arm-none-eabi-gcc"), *board.cflags(), *COMMON_CFLAGS, *FIRMWARE_FLAGS, *includes,
        f"-I{fw / 'startup'}", *_sources("platform_semihost.c"), *startup, "-T", script, "-o", elf, "-lm",
    ]  # fmt: skip
    run_compiler(cmd, f"arm-none-eabi-gcc building the kernel check for {board.name}", board)
    return elf


def run(
    board: Board | None = None, timeout: float = 300, defines: tuple[str, ...] = ()
) -> list[KernelTiming]:
    """Builds and runs the check; RunError naming the kernel and shape when outputs differ."""
    with tempfile.TemporaryDirectory(prefix="edgexf-kcheck-") as tmp:
        program = build(Path(tmp), board, defines)
        cmd = [str(program)] if board is None else qemu_command(board, program)
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    where = "on the host" if board is None else f"on {board.name}'s emulator"
    if proc.returncode != 0:
        raise RunError(f"kernel check {where} failed: {describe_exit(proc.returncode)}\n{log}")
    scale = 1 if board is None else instructions_per_tick(board.emulator)
    timings = []
    for line in log.splitlines():
        parts = line.split()
        if parts[:1] == ["time"]:
            rows, k, m, portable, fast = (int(v) for v in parts[2:7])
            extra = [int(v) for v in parts[7:8]]
            timings.append(
                KernelTiming(parts[1], rows, k, m, round(portable * scale), round(fast * scale), *extra)
            )
    return timings
