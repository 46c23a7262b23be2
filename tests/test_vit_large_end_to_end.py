"""A ViT that only fits the STM32F746 with edgexf's memory planning (examples/vit_mnist.py:large:
197 tokens, D 128, 8 heads, int8): layer by layer its arena is about twice the board's SRAM; with
operator integration and token overwriting it compiles for stm32f746 and runs in QEMU bit-exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgexf.cli import main as edgexf_main
from edgexf.datasets import load_mnist5k, save_npz
from edgexf.run.build_dir import run_build

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "vit_mnist.py"
RAM = 327_680


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    work = tmp_path_factory.mktemp("vit_large")
    mnist = load_mnist5k(test_fraction=0.2, seed=0)
    save_npz(work / "calib.npz", mnist.x_train[:32])
    save_npz(work / "test.npz", mnist.x_test[:3], mnist.y_test[:3])
    return work


def compile_args(data: Path, out: str, *extra: str) -> list[str]:
    args = ["compile", f"{EXAMPLE}:large", "--board", "stm32f746", "-o", str(data / out)]
    return (
        args
        + ["--test-data", str(data / "test.npz"), "--quantize", "int8", "--calibration"]
        + [
            str(data / "calib.npz"),
            *extra,
        ]
    )


@pytest.mark.qemu
@pytest.mark.slow
def test_large_vit_fits_only_with_memory_planning_and_runs_exactly_in_qemu(data):
    assert edgexf_main(compile_args(data, "build")) == 0
    r = json.loads((data / "build" / "report.json").read_text())
    rows = {t["technique"]: t for t in r["memory"]["techniques"]}
    assert rows["layer_by_layer"]["arena_bytes"] > 2 * RAM  # the scores alone: 8 x 197 x 197 bytes
    assert rows["token_overwriting"]["arena_bytes"] > RAM
    assert r["arena_bytes"] < RAM / 2 and r["ram_bytes"] <= r["ram_capacity_bytes"]
    assert r["arena_bytes"] <= 1.05 * r["memory"]["lower_bound_bytes"]
    # ln_linear: the four blocks' and the head's (its LayerNorm on the class token)
    assert r["memory"]["fused_ops"] == {"token_mlp": 4, "attention": 4, "ln_linear": 5, "patch_embed": 1}
    run = run_build(data / "build", emulate=True, check=True)
    assert run.outputs.dtype == np.int8
    assert run.agreement.ok and run.agreement.bit_exact_with_reference == run.agreement.samples == 3


@pytest.mark.slow
def test_large_vit_without_fusion_does_not_fit_and_says_by_how_much(data, capsys):
    assert edgexf_main(compile_args(data, "nofuse", "--no-fusion")) == 5
    err = capsys.readouterr().err
    assert "does not fit" in err and "RAM" in err and "arena" in err
