"""The bundled MNIST-5k ViT (28x28, 139k parameters) quantized to int8 for stm32f746 and run in QEMU
on its whole 1000-image test set: identical integers on host and target, and top-1 accuracy within
1 point of the float model's (the issue's bar)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgexf.cli import main as edgexf_main
from edgexf.run.build_dir import run_build

pytestmark = pytest.mark.slow  # its whole 1000-image test set in QEMU

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "vit_mnist.py"


@pytest.fixture(scope="module")
def build_int8(tmp_path_factory):
    work = tmp_path_factory.mktemp("vit_mnist")
    subprocess.run([sys.executable, str(EXAMPLE), "--write-data", str(work)], check=True, timeout=300)
    args = ["compile", f"{EXAMPLE}:bundled", "--board", "stm32f746", "-o", str(work / "build")]
    args += ["--test-data", str(work / "vit_mnist_test.npz")]
    args += ["--quantize", "int8", "--calibration", str(work / "vit_mnist_calib.npz")]
    assert edgexf_main(args) == 0
    return work / "build"


def test_int8_fits_where_float_activations_would_not_fit_as_easily(build_int8):
    r = json.loads((build_int8 / "report.json").read_text())
    f = r["float"]
    # the int8 arena holds a quarter of the float activations plus the DSP attention kernel's working
    # memory (widened K, V and score rows: 4,040 B here), so 3.1x rather than 4x (--kernels portable: 4x).
    # The DSP kernels' linear weights are widened to int16 in flash by default (--dsp-weights): the int8
    # figures are those less the widening, which the report gives.
    extra = r["kernels"]["wide_extra_bytes"]
    assert r["kernels"]["dsp_weights"] == "int16" and extra > 100_000
    assert f["weights_bytes"] > 3.2 * (r["weights_bytes"] - extra)
    assert f["arena_bytes"] >= 3.1 * r["arena_bytes"]
    assert r["ram_bytes"] < 64 * 1024 and r["flash_bytes"] - extra < 256 * 1024
    assert r["host_check"]["bit_exact_with_reference"] == r["host_check"]["samples"] == 1000


@pytest.mark.qemu
def test_int8_in_qemu_is_exact_and_within_one_point_of_float(build_int8):
    run = run_build(build_int8, emulate=True, check=True)
    a = run.agreement
    assert run.outputs.dtype == np.int8
    assert a.ok and a.bit_exact_with_reference == a.samples == 1000
    assert abs(a.accuracy - a.original_accuracy) <= 0.01 and a.accuracy >= 0.95
    counts = np.array(run.result.instructions)  # only clamps and the square root branch on the data
    assert counts.max() < 1.001 * counts.min()
