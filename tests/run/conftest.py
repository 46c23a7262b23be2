"""Fixtures for tests of edgexf.run: the hand-written models built once per session, and their vectors."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edgexf.targets.boards import Board, load_board
from edgexf.targets.toolchain import Firmware, build_firmware, build_host

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def stm32f746() -> Board:
    return load_board("stm32f746")


@pytest.fixture(scope="session")
def host_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("host")
    return {m: build_host(DATA_DIR / m, out / m) for m in ("tiny_model", "loop_model", "fault_model")}


@pytest.fixture(scope="session")
def qemu_builds(tmp_path_factory: pytest.TempPathFactory, stm32f746: Board) -> dict[str, Firmware]:
    """The models built for stm32f746 as emulated on mps2-an500; skips when the tools are missing."""
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-objcopy", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    out = tmp_path_factory.mktemp("qemu")
    return {
        m: build_firmware(stm32f746, DATA_DIR / m, out / m, emulated=True)
        for m in ("tiny_model", "loop_model", "fault_model")
    }


@pytest.fixture(scope="session")
def tiny_vectors() -> Callable[[int], tuple[bytes, bytes]]:
    """samples -> (input.bin bytes, expected output.bin bytes) for tests/data/tiny_model."""
    return _tiny_vectors


def _tiny_vectors(samples: int) -> tuple[bytes, bytes]:
    rng = np.random.default_rng(samples)
    a = (rng.standard_normal((samples, 4)) * 60).astype(np.float32)  # often beyond int8 after *2 + b
    b = rng.integers(-128, 128, (samples, 4)).astype(np.int8)
    # NumPy reference: y = a*2 + b in float32; q = int8(clip(y, -128, 127)), cast toward zero as in C
    y = a * np.float32(2) + b.astype(np.float32)
    q = np.clip(y, -128, 127).astype(np.int8)
    inputs = b"".join(x.tobytes() + z.tobytes() for x, z in zip(a, b, strict=True))
    expected = b"".join(x.tobytes() + z.tobytes() for x, z in zip(y, q, strict=True))
    return inputs, expected
