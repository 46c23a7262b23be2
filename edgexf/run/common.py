"""What the host and QEMU runs share: a fresh directory with input.bin, the program run there with a
time limit, output.bin and ticks.bin (and a profile build's profile.bin) read back, and failures
turned into RunError with the log.

The file formats are those of firmware/app/runner.c.
"""

from __future__ import annotations

import functools
import re
import signal
import struct
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from edgexf.errors import RunError
from edgexf.resources import firmware_dir


@dataclass(frozen=True)
class RunResult:
    outputs: bytes  # per sample, every output's raw bytes in output order
    ticks: list[int]  # per sample, edgexf_run()'s duration: ns on the host, core clock ticks on a board
    instructions: list[int] | None  # QEMU only: ticks converted with the emulator's clock
    log: str  # what the program printed (stdout and stderr together)
    op_ticks: list[list[int]] | None = None  # profile builds: per sample, each op's ticks (profile.bin)

    def with_instructions(self, per_tick: float) -> RunResult:
        """The result with every tick count also as instructions (QEMU: a fixed number per tick, not
        always whole: the counts are rounded)."""
        return replace(self, instructions=[round(t * per_tick) for t in self.ticks])


@functools.cache
def exit_meanings() -> dict[int, str]:
    """Exit code -> meaning, read from the one table in firmware/platform/platform.h."""
    header = (firmware_dir() / "platform" / "platform.h").read_text()
    entries = re.findall(r"PLAT_EXIT_\w+\s*=\s*(\d+),\s*/\*\s*(.*?)\s*\*/", header)
    return {int(code): meaning for code, meaning in entries}


def describe_exit(code: int) -> str:
    if code < 0:  # subprocess's convention: killed by signal -code
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code} ({exit_meanings().get(code, 'not a runner exit code')})"


def run_vectors(
    cmd: list[str],
    what: str,
    input_bytes: bytes,
    output_bytes_per_sample: int,
    timeout: float,
    profile_ops: int | None = None,
) -> RunResult:
    """Runs `cmd` in a fresh temporary directory holding input.bin; returns its outputs, ticks and log
    (instructions None). profile_ops: a profile build (-DEDGEXF_PROFILE) of a model with that many ops,
    whose profile.bin is read back as op_ticks."""
    with tempfile.TemporaryDirectory(prefix="edgexf-run-") as tmp:
        work = Path(tmp)
        (work / "input.bin").write_bytes(input_bytes)
        try:
            proc = subprocess.run(
                cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired as e:  # run() has killed the process by now
            log = (e.output or b"").decode(errors="replace")
            raise RunError(
                f"{what} did not finish within {timeout:g} s and was killed. Its output:\n{log}"
            ) from e
        log = proc.stdout.decode(errors="replace")
        if proc.returncode != 0:
            raise RunError(f"{what} failed: {describe_exit(proc.returncode)}. Its output:\n{log}")
        outputs = _read(work / "output.bin", what, log)
        raw_ticks = _read(work / "ticks.bin", what, log)
        raw_profile = _read(work / "profile.bin", what, log) if profile_ops is not None else None

    ticks = _u64s(raw_ticks, "ticks.bin", what)
    expected = len(ticks) * output_bytes_per_sample
    if len(outputs) != expected:
        raise RunError(
            f"{what}: output.bin has {len(outputs)} bytes, expected {expected} "
            f"({len(ticks)} samples x {output_bytes_per_sample} B). Its output:\n{log}"
        )
    op_ticks = None
    if raw_profile is not None:
        assert profile_ops is not None
        flat = _u64s(raw_profile, "profile.bin", what)
        if len(flat) != len(ticks) * profile_ops:
            raise RunError(
                f"{what}: profile.bin holds {len(flat)} numbers, expected {len(ticks) * profile_ops} "
                f"({len(ticks)} samples x {profile_ops} ops): is it a profile build of this model?"
            )
        op_ticks = [flat[i : i + profile_ops] for i in range(0, len(flat), profile_ops)]
    return RunResult(outputs, ticks, None, log, op_ticks)


def _u64s(raw: bytes, name: str, what: str) -> list[int]:
    if len(raw) % 8:
        raise RunError(f"{what}: {name} has {len(raw)} bytes, not a whole number of uint64")
    return [v for (v,) in struct.iter_unpack("<Q", raw)]


def _read(path: Path, what: str, log: str) -> bytes:
    if not path.is_file():
        raise RunError(f"{what} exited 0 but wrote no {path.name}. Its output:\n{log}")
    return path.read_bytes()
