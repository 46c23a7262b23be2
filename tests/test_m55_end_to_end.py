"""The example models on mps3-an547 (QEMU's Cortex-M55 with Helium): the MNIST ViT in int8 (the dsp
kernels with their MVE linear layers), the sequential-MNIST LMU in int8 and its Mamba in float32, one
build each on 16 test vectors, every output bit-exact with the IR reference in QEMU, then on the same
build `run --emulate --profile` (per-op instruction counts that add up to the whole run) and
`eval --emulate` on 3 samples (the evaluation firmware over the emulated UART0 at 0x59303000: about
2 s a model); and a small int8 block
of odd widths (tests/data/odd_widths_model.py) for the MVE kernels' tails inside a model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgexf.cli import main as edgexf_main
from edgexf.run.build_dir import run_build

pytestmark = [pytest.mark.slow, pytest.mark.qemu]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
VECTORS = "16"


def _build(tmp: Path, example: str, builder: str, int8: bool) -> Path:
    cmd = [sys.executable, str(EXAMPLES / example), "--write-data", str(tmp)]
    subprocess.run(cmd, check=True, timeout=300, capture_output=True)
    stem = Path(example).stem
    args = ["compile", f"{EXAMPLES / example}:{builder}", "--board", "mps3-an547", "-o", str(tmp / "build")]
    args += ["--test-data", str(tmp / f"{stem}_test.npz"), "--max-vectors", VECTORS]
    args += ["--exact-seconds", "0"]  # the arena's size is not what this checks: no exact planner
    if int8:
        args += ["--quantize", "int8", "--calibration", str(tmp / f"{stem}_calib.npz")]
    assert edgexf_main(args) == 0
    return tmp / "build"


@pytest.mark.parametrize(
    "example, builder, int8",
    [
        ("vit_mnist.py", "bundled", True),
        ("smnist.py", "bundled", True),
        ("smnist.py", "bundled_mamba", False),
    ],
)
def test_example_is_bit_exact_on_the_m55(tmp_path, example, builder, int8):
    build = _build(tmp_path, example, builder, int8)
    r = json.loads((build / "report.json").read_text())
    if example == "vit_mnist.py":  # int8 linear weights (the MVE kernel takes them); only the patch
        assert r["kernels"]["wide_ops"] == 1  # embedding, whose one fast kernel takes int16, widened
    run = run_build(build, emulate=True, check=True)
    a = run.agreement
    assert a.ok and a.bit_exact_with_reference == a.samples == int(VECTORS)
    _profile_and_eval(build, tmp_path / f"{Path(example).stem}_test.npz")


def _profile_and_eval(build: Path, data: Path) -> None:
    """What a user runs next on the same build: the per-op profile in QEMU, then the evaluation
    firmware over the emulated serial link, its device counter agreeing with the profile."""
    assert edgexf_main(["run", str(build), "--emulate", "--profile"]) == 0
    prof = json.loads((build / "profile.json").read_text())
    assert prof["board"] == "mps3-an547" and prof["emulated"] and prof["totals"]["ops"] > 0
    per_op = sum(t["instructions"] for t in prof["by_type"])
    assert abs(per_op - prof["totals"]["instructions"]) <= prof["totals"]["ops"]  # rounding per op
    assert prof["totals"]["instructions"] <= prof["totals"]["whole_run_instructions"]
    results = build.parent / "eval.jsonl"
    args = ["eval", str(build), "--emulate", "--data", str(data), "--limit", "3"]
    assert edgexf_main(args + ["--results", str(results)]) == 0
    rep = json.loads((build.parent / "eval.report.json").read_text())
    assert rep["samples"] == 3 and rep["failed_runs"] == 0 and rep["device"]["core"] == "Cortex-M55"
    # the evaluation firmware runs the same kernels without the profiling hooks: a little fewer
    assert 0.9 < rep["counter"]["avg"] / prof["totals"]["whole_run_instructions"] <= 1.01


def test_odd_widths_are_bit_exact_on_the_m55(tmp_path):
    model = Path(__file__).parent / "data" / "odd_widths_model.py"
    code = f"import runpy; runpy.run_path({str(model)!r})['write']({str(tmp_path)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    args = ["compile", f"{model}:build", "--board", "mps3-an547", "-o", str(tmp_path / "build")]
    args += ["--test-data", str(tmp_path / "odd_test.npz"), "--quantize", "int8"]
    args += ["--calibration", str(tmp_path / "odd_calib.npz")]
    assert edgexf_main(args) == 0
    r = json.loads((tmp_path / "build" / "report.json").read_text())
    assert r["kernels"]["dsp_ops"] == 2  # q_token_mlp and q_ln_linear: LayerNorm, linear, residual add
    run = run_build(tmp_path / "build", emulate=True, check=True)
    assert run.agreement.ok and run.agreement.bit_exact_with_reference == run.agreement.samples == 16
