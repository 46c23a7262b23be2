"""`edgexf fit` needs the ARM toolchain (the overhead build and the winner's firmware)."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(autouse=True)
def _toolchain():
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
