"""Builds for the on-device evaluation tests, made once per session: the digits ViT
(examples/vit_digits.py, trained briefly) compiled with `edgexf compile` as a user would, with a few
test vectors, and a data file of those vectors (x, y) to evaluate on.

    f746_float, f746_int8: stm32f746 (evaluated on mps2-an500)
    f405_float, f405_int8: stm32f405 (netduinoplus2)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgexf.cli import main as edgexf_main
from edgexf.datasets import save_npz
from edgexf.run.vectors import TestVectors

ROOT = Path(__file__).resolve().parents[2]
VECTORS = 24  # samples per evaluation: enough for a confusion matrix, few enough to be quick
EPOCHS = 15  # a briefly trained model (~94% on the test set) classifies well enough to test on


@pytest.fixture(scope="session")
def digits(tmp_path_factory) -> Path:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    work = tmp_path_factory.mktemp("eval_digits")
    script = ROOT / "examples" / "vit_digits.py"
    cmd = [sys.executable, str(script), "--out", "vit.pt2", "--quiet", "--epochs", str(EPOCHS)]
    # one thread: on a loaded machine torch's threads wait on each other (3 min instead of 10 s)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, check=True, cwd=work, timeout=600, capture_output=True, env=env)
    return work


def _compile(work: Path, board: str, name: str, *extra: str) -> Path:
    out = work / name
    args = ["compile", str(work / "vit.pt2"), "--board", board, "-o", str(out)]
    args += ["--test-data", str(work / "vit_digits_test.npz"), "--max-vectors", str(VECTORS)]
    args += ["--exact-seconds", "0", *extra]  # the greedy planners are enough here
    assert edgexf_main(args) == 0
    vectors = TestVectors.load(out)
    save_npz(out / "eval_data.npz", vectors.x, vectors.labels)
    return out


INT8 = ("--quantize", "int8", "--calibration")


@pytest.fixture(scope="session")
def f746_float(digits) -> Path:
    return _compile(digits, "stm32f746", "f746_float")


@pytest.fixture(scope="session")
def f746_int8(digits) -> Path:
    return _compile(digits, "stm32f746", "f746_int8", *INT8, str(digits / "vit_digits_calib.npz"))


@pytest.fixture(scope="session")
def f405_float(digits) -> Path:
    return _compile(digits, "stm32f405", "f405_float")


@pytest.fixture(scope="session")
def f405_int8(digits) -> Path:
    return _compile(digits, "stm32f405", "f405_int8", *INT8, str(digits / "vit_digits_calib.npz"))
