"""The runner built for the host: outputs match NumPy, and each failure is a RunError saying why."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edgexf.errors import RunError
from edgexf.run.common import exit_meanings
from edgexf.run.host import run_host

TINY_OUTPUT_BYTES = 4 * 4 + 4  # y float32 (4,), q int8 (4,)


def test_outputs_match_numpy(
    host_builds: dict[str, Path], tiny_vectors: Callable[[int], tuple[bytes, bytes]]
) -> None:
    inputs, expected = tiny_vectors(16)
    result = run_host(host_builds["tiny_model"], inputs, TINY_OUTPUT_BYTES, timeout=10)
    assert result.outputs == expected
    assert len(result.ticks) == 16 and all(t >= 0 for t in result.ticks)
    assert result.instructions is None
    assert "16 samples done" in result.log


def test_run_returning_non_zero_is_an_error(host_builds: dict[str, Path]) -> None:
    a = np.array([np.nan, 0, 0, 0], np.float32)  # tiny_model returns 7 on a NaN
    says = r"exit code 6 \(edgexf_run\(\) returned non-zero\)(?s:.*)returned 7 on sample 0"
    with pytest.raises(RunError, match=says):
        run_host(host_builds["tiny_model"], a.tobytes() + bytes(4), TINY_OUTPUT_BYTES, timeout=10)


def test_input_of_the_wrong_size_is_an_error(host_builds: dict[str, Path]) -> None:
    with pytest.raises(RunError, match=r"exit code 3 (?s:.*)input.bin has 21 bytes; one sample is 20 bytes"):
        run_host(host_builds["tiny_model"], bytes(21), TINY_OUTPUT_BYTES, timeout=10)


def test_missing_input_file_exits_2(host_builds: dict[str, Path], tmp_path: Path) -> None:
    # run_host always writes input.bin: run the program directly in an empty directory
    proc = subprocess.run([host_builds["tiny_model"]], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "cannot open input.bin" in proc.stdout
    assert exit_meanings()[2] == "input.bin could not be opened"


def test_crash_is_an_error(host_builds: dict[str, Path]) -> None:
    with pytest.raises(RunError, match="killed by SIGSEGV"):
        run_host(host_builds["fault_model"], bytes(4), 4, timeout=10)


def test_a_program_that_does_not_finish_is_killed(host_builds: dict[str, Path]) -> None:
    n = np.array([0xFFFFFFFF], np.uint32)  # ~4e9 iterations of a volatile loop: seconds
    with pytest.raises(RunError, match="did not finish within 0.3 s and was killed"):
        run_host(host_builds["loop_model"], n.tobytes(), 4, timeout=0.3)


def test_exit_code_table_is_read_from_platform_h() -> None:
    meanings = exit_meanings()
    assert set(meanings) == {0, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15}
    assert meanings[12].startswith("BusFault")
