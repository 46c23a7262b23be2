"""Run a host build of model + runner (edgexf.targets.toolchain.build_host) on test vectors."""

from __future__ import annotations

from pathlib import Path

from edgexf.run.common import RunResult, run_vectors


def run_host(exe: Path, input_bytes: bytes, output_bytes_per_sample: int, timeout: float) -> RunResult:
    """Ticks are wall-clock nanoseconds (CLOCK_MONOTONIC): a rough timing, not a count."""
    outputs, ticks, log = run_vectors(
        [str(exe.resolve())], f"host program {exe}", input_bytes, output_bytes_per_sample, timeout
    )
    return RunResult(outputs, ticks, None, log)
