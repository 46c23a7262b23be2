"""Run a host build of model + runner (edgexf.targets.toolchain.build_host) on test vectors."""

from __future__ import annotations

from pathlib import Path

from edgexf.run.common import RunResult, run_vectors


def run_host(
    exe: Path,
    input_bytes: bytes,
    output_bytes_per_sample: int,
    timeout: float,
    profile_ops: int | None = None,
) -> RunResult:
    """Ticks are wall-clock nanoseconds (CLOCK_MONOTONIC): a rough timing, not a count.
    profile_ops: exe is a profile build of a model with that many ops (see run_vectors)."""
    what = f"host program {exe}"
    return run_vectors([str(exe.resolve())], what, input_bytes, output_bytes_per_sample, timeout, profile_ops)
