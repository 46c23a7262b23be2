"""Builds for the on-device evaluation tests, made once per run (shared_builds.py): the digits ViT
(examples/vit_digits.py, as shipped) compiled with `edgexf compile` as a user would, with a few
test vectors, and a data file of those vectors (x, y) to evaluate on.

    f746_float, f746_int8: stm32f746 (evaluated on mps2-an500)
    f405_float, f405_int8: stm32f405 (netduinoplus2)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shared_builds import shared_build, vit_digits

from edgexf.cli import main as edgexf_main
from edgexf.datasets import save_npz
from edgexf.run.vectors import TestVectors

VECTORS = 24  # samples per evaluation: enough for a confusion matrix, few enough to be quick


@pytest.fixture(scope="session")
def digits(tmp_path_factory) -> Path:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return vit_digits(tmp_path_factory)


def _compile(factory: pytest.TempPathFactory, digits: Path, board: str, name: str, *extra: str) -> Path:
    """The build, made once per run (test_eval_qemu.py and test_eval_faults.py share them)."""

    def build(out: Path) -> None:
        args = ["compile", str(digits / "vit.pt2"), "--board", board, "-o", str(out)]
        args += ["--test-data", str(digits / "vit_digits_test.npz"), "--max-vectors", str(VECTORS)]
        args += ["--exact-seconds", "0", *extra]  # the greedy planners are enough here
        assert edgexf_main(args) == 0
        vectors = TestVectors.load(out)
        save_npz(out / "eval_data.npz", vectors.x, vectors.labels)

    return shared_build(factory, f"eval_{name}", build)


def _int8(digits: Path) -> tuple[str, ...]:
    return ("--quantize", "int8", "--calibration", str(digits / "vit_digits_calib.npz"))


@pytest.fixture(scope="session")
def f746_float(tmp_path_factory, digits) -> Path:
    return _compile(tmp_path_factory, digits, "stm32f746", "f746_float")


@pytest.fixture(scope="session")
def f746_int8(tmp_path_factory, digits) -> Path:
    return _compile(tmp_path_factory, digits, "stm32f746", "f746_int8", *_int8(digits))


@pytest.fixture(scope="session")
def f405_float(tmp_path_factory, digits) -> Path:
    return _compile(tmp_path_factory, digits, "stm32f405", "f405_float")


@pytest.fixture(scope="session")
def f405_int8(tmp_path_factory, digits) -> Path:
    return _compile(tmp_path_factory, digits, "stm32f405", "f405_int8", *_int8(digits))
