"""The whole path: the digits ViT example trained, compiled for stm32f746 (float32, and int8), run on
the host and in QEMU over the whole test set.

Float: host, QEMU and the IR reference agree bit for bit; all are within 1e-4 (relative) of PyTorch
and predict the same class on every test image. Int8: host, QEMU and the reference give identical
integers, and top-1 accuracy in QEMU is within 1 point of the float model's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shared_builds import vit_digits

from edgexf.build_output import write_manifest
from edgexf.cli import main as edgexf_main
from edgexf.run.build_dir import run_build
from edgexf.run.vectors import TestVectors

pytestmark = pytest.mark.slow  # trains the example; the whole test set in QEMU

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    return vit_digits(tmp_path_factory)  # the example as shipped


@pytest.fixture(scope="module")
def build(trained, tmp_path_factory):
    out = tmp_path_factory.mktemp("vit_digits") / "build"
    args = ["compile", str(trained / "vit.pt2"), "--board", "stm32f746", "-o", str(out)]
    assert edgexf_main([*args, "--test-data", str(trained / "vit_digits_test.npz")]) == 0
    return out


@pytest.fixture(scope="module")
def build_int8(trained, build):
    out = build.parent / "build_int8"
    args = ["compile", str(trained / "vit.pt2"), "--board", "stm32f746", "-o", str(out)]
    args += ["--test-data", str(trained / "vit_digits_test.npz")]
    args += ["--quantize", "int8", "--calibration", str(trained / "vit_digits_calib.npz")]
    assert edgexf_main(args) == 0
    return out


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
    write_manifest(bad)  # the edit is the test's premise, not damage for run to refuse
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


def test_int8_report_puts_float_and_int8_figures_side_by_side(build, build_int8, capsys):
    f = json.loads((build / "report.json").read_text())
    q = json.loads((build_int8 / "report.json").read_text())
    assert q["float"]["weights_bytes"] == f["weights_bytes"] and q["float"]["arena_bytes"] == f["arena_bytes"]
    # int8 weights (plus int32 biases, multipliers and tables): about a quarter; the arena holds a quarter
    # of the activations plus the DSP attention kernel's working memory (1,224 B here), about a third.
    # By default the DSP kernels' linear weights are widened to int16 in flash (--dsp-weights): reported
    kern = q["kernels"]
    wide_types = ("q_linear", "q_ln_linear", "q_token_mlp", "q_patch_embed")  # the patch embedding's conv too
    linears = [op for op in q["ops"] if op["type"] in wide_types]
    assert kern["dsp_weights"] == "int16" and kern["wide_ops"] == len(linears)
    assert kern["wide_extra_bytes"] > 50_000
    int8_weights = q["weights_bytes"] - kern["wide_extra_bytes"]
    assert int8_weights < 0.35 * f["weights_bytes"] and q["arena_bytes"] <= f["arena_bytes"] / 3 + 64
    assert q["flash_bytes"] < f["flash_bytes"] - 40_000
    assert q["inputs"][0]["dtype"] == q["outputs"][0]["dtype"] == "int8" and "quant" in q["inputs"][0]
    qq = q["quantization"]
    assert qq["calibration"]["samples"] == 500 and qq["calibration"]["method"] == "minmax"
    layers = qq["layers"]
    assert len(layers) > 30 and layers[0]["cosine"] == min(r["cosine"] for r in layers)
    assert q["host_check"]["ok"] and q["host_check"]["bit_exact_with_reference"] == 360
    assert edgexf_main(["layers", str(build_int8)]) == 0
    out = capsys.readouterr().out
    assert layers[0]["layer"] in out and "cosine" in out and len(out.splitlines()) == len(layers) + 2


@pytest.mark.qemu
def test_int8_qemu_is_bit_exact_and_within_one_point_of_float(build_int8):
    qemu = run_build(build_int8, emulate=True, check=True)
    host = run_build(build_int8, emulate=False, check=True)
    assert qemu.outputs.dtype == np.int8 and np.array_equal(qemu.outputs, host.outputs)
    a = qemu.agreement
    assert a.ok and a.quantized and a.bit_exact_with_reference == a.samples == 360
    assert abs(a.accuracy - a.original_accuracy) <= 0.01  # the bar
    assert a.accuracy >= 0.95


@pytest.mark.qemu
def test_int8_check_fails_on_a_one_code_difference(build_int8, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(build_int8, bad)
    v = TestVectors.load(bad)
    v.reference.reshape(len(v.reference), -1)[7, 0] ^= 1  # one logit of one sample, one code off
    v.save(bad)
    write_manifest(bad)  # the edit is the test's premise, not damage for run to refuse
    assert edgexf_main(["run", str(bad), "--emulate", "--check"]) == 7
