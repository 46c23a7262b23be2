"""The foundation's whole path: the digits ViT example trained, compiled for stm32f746, run on the
host and in QEMU over the whole test set.

Host, QEMU and the IR reference agree bit for bit; all are within 1e-4 (relative) of PyTorch and
predict the same class on every test image.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgexf.cli import main as edgexf_main
from edgexf.run.build_dir import run_build
from edgexf.run.vectors import TestVectors

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    work = tmp_path_factory.mktemp("vit_digits")
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "vit_digits.py"), "--out", str(work / "vit.pt2"), "--quiet"],
        check=True,
        cwd=work,
        timeout=600,
    )  # the example as shipped: ~25 s
    rc = edgexf_main(
        [
            "compile",
            str(work / "vit.pt2"),
            "--board",
            "stm32f746",
            "-o",
            str(work / "build"),
            "--test-data",
            str(work / "vit_digits_test.npz"),
        ]
    )
    assert rc == 0
    return work / "build"


def test_report_has_the_figures_a_user_checks(build):
    r = json.loads((build / "report.json").read_text())
    for key in (
        "params",
        "macs",
        "arena_bytes",
        "arena_lower_bound_bytes",
        "flash_bytes",
        "ram_bytes",
        "board",
    ):
        assert key in r
    assert r["board"] == "stm32f746"
    assert r["arena_lower_bound_bytes"] <= r["arena_bytes"] < r["activations_sum_bytes"]
    # the arena and the weights are really in the image: RAM holds the arena, flash the weights
    assert r["arena_bytes"] <= r["ram_bytes"] <= r["ram_capacity_bytes"] == 320 * 1024
    assert r["weights_bytes"] <= r["flash_bytes"] <= r["flash_capacity_bytes"] == 1024 * 1024
    assert r["host_check"]["ok"] and r["host_check"]["samples"] == 360
    for f in ("firmware_elf", "firmware_bin", "firmware_hex", "emulator_elf", "host"):
        assert (build / r["files"][f]).is_file()


@pytest.mark.qemu
def test_qemu_run_matches_host_reference_and_pytorch_on_whole_test_set(build):
    vectors = TestVectors.load(build)
    qemu = run_build(build, emulate=True, check=True)
    host = run_build(build, emulate=False, check=True)
    assert qemu.outputs.view(np.uint32).tolist() == host.outputs.view(np.uint32).tolist()
    a = qemu.agreement
    assert a.samples == len(vectors.x) == 360
    assert a.bit_exact_with_reference == 360
    assert a.within_tolerance == 360 and a.max_rel_err_vs_original <= 1e-4
    assert a.same_class_as_original == 360
    assert a.accuracy == pytest.approx(a.original_accuracy) and a.accuracy >= 0.95  # the bar
    # instruction counts repeat exactly run to run (-icount); they vary a little between images
    # because exp/erf branch on their argument's range
    again = run_build(build, emulate=True, inputs=vectors.x[:20])
    assert again.result.instructions == qemu.result.instructions[:20]
    counts = np.array(qemu.result.instructions)
    assert counts.min() > 1_000_000 and counts.max() < 1.05 * counts.min()


@pytest.mark.qemu
def test_cli_run_check_fails_on_a_mismatch(build, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(build, bad)
    v = TestVectors.load(bad)
    v.reference[5] += 1e-3  # the reference now disagrees with what the firmware computes
    v.save(bad)
    assert edgexf_main(["run", str(bad), "--emulate", "--check"]) == 7
    out = capsys.readouterr()
    assert "bit-exact with IR reference  359/360" in out.out and "CHECK FAILED" in out.err


@pytest.mark.qemu
def test_cli_run_one_input(build, tmp_path, capsys):
    x = TestVectors.load(build).x[3]
    np.save(tmp_path / "x.npy", x[0])  # one (1, 8, 8) image, without the batch axis
    assert edgexf_main(["run", str(build), "--emulate", "--input", str(tmp_path / "x.npy")]) == 0
    out = capsys.readouterr().out
    assert "sample 0: output" in out and "instructions per inference" in out


@pytest.mark.qemu
def test_mean_pool_tanh_gelu_variant_in_qemu(tmp_path):
    """The other pooling and GELU form, untrained, through the whole path on the target."""
    import torch

    from edgexf.models.vit import ViT, ViTConfig

    torch.manual_seed(0)
    cfg = ViTConfig(image_size=12, patch_size=4, embed_dim=32, depth=2, num_heads=2, pool="mean", gelu="tanh")
    path = tmp_path / "vit.pt2"
    torch.export.save(torch.export.export(ViT(cfg).eval(), (torch.rand(1, 1, 12, 12),)), path)
    assert edgexf_main(["compile", str(path), "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 0
    run = run_build(tmp_path / "b", emulate=True, check=True)
    assert run.agreement.ok and run.agreement.samples == 16
