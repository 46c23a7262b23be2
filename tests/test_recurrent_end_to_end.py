"""The bundled recurrent examples (LMU and Mamba, float32) compiled for stm32f746 and run in QEMU: every
output bit-exact with the IR reference, within 1e-4 of PyTorch's whole-sequence forward, the state in
its own region, and accuracy on test sequences as in PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgexf.cli import main as edgexf_main
from edgexf.datasets import fsdd_root
from edgexf.run.build_dir import run_build

pytestmark = pytest.mark.slow  # 100 test sequences per model in QEMU

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SEQUENCES = 100  # test sequences run in QEMU per model (the benchmark runs more)


def _compile(tmp: Path, example: str, builder: str, test_file: str | None) -> Path:
    args = ["compile", f"{EXAMPLES / example}:{builder}", "--board", "stm32f746", "-o", str(tmp / "build")]
    if test_file:
        cmd = [sys.executable, str(EXAMPLES / example), "--write-data", str(tmp)]
        subprocess.run(cmd, check=True, timeout=300, capture_output=True)
        args += ["--test-data", str(tmp / test_file), "--max-vectors", str(SEQUENCES)]
    assert edgexf_main(args) == 0
    return tmp / "build"


def _check(build: Path, state_floats: int, min_accuracy: float | None) -> None:
    r = json.loads((build / "report.json").read_text())
    st = r["streaming"]
    names = [s["name"] for s in st["states"]]  # from the model's state_names(): the C buffers' names
    assert names in (["memory0"], ["conv0", "h0", "conv1", "h1"])
    assert st["state_bytes"] >= 4 * state_floats and st["steps"] == r["inputs"][0]["shape"][1]
    assert r["macs"] == st["macs_per_step"] * st["steps"]
    run = run_build(build, emulate=True, check=True)
    a = run.agreement
    assert a.ok and a.bit_exact_with_reference == a.samples
    assert a.max_rel_err_vs_original < 1e-4
    if min_accuracy is not None:
        assert a.accuracy == a.original_accuracy and a.accuracy >= min_accuracy


@pytest.mark.qemu
@pytest.mark.parametrize("builder, state_floats", [("bundled", 512), ("bundled_mamba", 1408)])
def test_sequential_mnist_in_qemu(tmp_path, builder, state_floats):
    build = _compile(tmp_path, "smnist.py", builder, "smnist_test.npz")
    _check(build, state_floats, 0.9)


@pytest.mark.qemu
@pytest.mark.parametrize("builder, state_floats", [("bundled", 128), ("bundled_mamba", 1408)])
def test_keyword_spotting_in_qemu(tmp_path, builder, state_floats):
    """With the FSDD recordings at hand, on the test set; without them, on random log-mel sequences (the
    bundled state files carry everything else)."""
    with_data = fsdd_root().is_dir()
    build = _compile(tmp_path, "kws_fsdd.py", builder, "kws_fsdd_test.npz" if with_data else None)
    _check(build, state_floats, 0.9 if with_data else None)


@pytest.mark.qemu
@pytest.mark.parametrize("state_dtype, state_bytes", [("int16", 256), ("int8", 128)])
def test_keyword_spotting_lmu_in_int8_in_qemu(tmp_path, state_dtype, state_bytes):
    """int8 weights and activations, the LMU memory (128 values) in int16 (the default) or int8:
    bit-exact in QEMU, and (with the recordings) within a point of float on the 300 test sequences."""
    if not fsdd_root().is_dir():
        pytest.skip(f"FSDD recordings not in {fsdd_root()}: no calibration data")
    data = tmp_path / "data"
    cmd = [sys.executable, str(EXAMPLES / "kws_fsdd.py"), "--write-data", str(data)]
    subprocess.run(cmd, check=True, timeout=300, capture_output=True)
    build = tmp_path / "build"
    args = ["compile", f"{EXAMPLES / 'kws_fsdd.py'}:bundled", "--board", "stm32f746", "-o", str(build)]
    args += ["--test-data", str(data / "kws_fsdd_test.npz"), "--quantize", "int8"]
    args += ["--calibration", str(data / "kws_fsdd_calib.npz"), "--state-dtype", state_dtype]
    assert edgexf_main(args) == 0
    r = json.loads((build / "report.json").read_text())
    assert r["streaming"]["state_bytes"] == state_bytes
    run = run_build(build, emulate=True, check=True)
    a = run.agreement
    assert a.ok and a.bit_exact_with_reference == a.samples == 300
    # within a point (3 of 300); 1e-9: 0.97 - 0.98 is 0.01000000000000009 in floats
    assert abs(a.accuracy - a.original_accuracy) <= 0.01 + 1e-9
