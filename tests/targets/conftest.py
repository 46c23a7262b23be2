"""Fixtures for tests of edgexf.targets: the hand-written model directories and the ARM toolchain."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edgexf.targets.boards import Board, load_board

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def stm32f746() -> Board:
    return load_board("stm32f746")


@pytest.fixture(scope="session")
def arm_toolchain() -> None:
    """Skips the test when the ARM cross toolchain is not installed (EMULATION.md says how)."""
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-objcopy"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
