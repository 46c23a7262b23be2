"""`edgexf compile X.tflite` as a user runs it: the int8 file needs no --calibration (its own scales), the
build's input is int8 with the file's scale and zero point, and the firmware in QEMU gives the
reference's integers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgexf.cli import main
from edgexf.frontends.tflite_import import TflmRunner

DATA = Path(__file__).resolve().parents[1] / "data" / "tflite"


@pytest.fixture(scope="module")
def test_npz(tmp_path_factory):
    d = np.load(DATA / "vit_digits_data.npz")
    path = tmp_path_factory.mktemp("data") / "digits_test.npz"
    np.savez(path, x=d["x_test"][:16], y=d["y_test"][:16])
    return path


@pytest.fixture(scope="module")
def build_int8(test_npz, tmp_path_factory):
    out = tmp_path_factory.mktemp("tflite") / "int8"
    args = [
        "compile",
        str(DATA / "vit_digits_int8.tflite"),
        "--board",
        "stm32f746",
        "--test-data",
        str(test_npz),
    ]
    assert main([*args, "-o", str(out)]) == 0
    return out


def test_int8_tflite_compiles_without_calibration(build_int8):
    report = json.loads((build_int8 / "report.json").read_text())
    q = report["quantization"]
    data = (DATA / "vit_digits_int8.tflite").read_bytes()
    _, scale, zero_point = TflmRunner(data, (1, 1, 8, 8)).io("input")
    assert report["inputs"][0]["dtype"] == "int8"
    assert q["input"] == {"scale": scale, "zero_point": zero_point}
    assert "model file" in q["calibration"]["method"]
    assert report["host_check"]["bit_exact_with_reference"] == report["host_check"]["samples"] == 16
    assert q["layers"] and q["layer_error_samples"] == 16  # against the float graph of the same weights
    assert main(["layers", str(build_int8)]) == 0


def test_the_gap_to_tflite_micro_is_told_in_lsb_not_as_quantization_error(build_int8, capsys):
    hc = json.loads((build_int8 / "report.json").read_text())["host_check"]
    assert hc["original_int8"] and 0 < hc["max_lsb_vs_original"] < 64  # fused kernels round differently
    assert main(["run", str(build_int8), "--check"]) == 0
    out = capsys.readouterr().out
    assert "vs tflite-micro (the same int8 file)" in out and "LSB apart" in out and "quantization" not in out


@pytest.mark.qemu
def test_int8_tflite_in_qemu_is_the_reference(build_int8, capsys):
    assert main(["run", str(build_int8), "--emulate", "--check"]) == 0
    assert "16/16" in capsys.readouterr().out


def test_float_tflite_compiles_and_matches_tflm(test_npz, tmp_path):
    out = tmp_path / "f32"
    args = [
        "compile",
        str(DATA / "vit_digits_float32.tflite"),
        "--board",
        "stm32f746",
        "--test-data",
        str(test_npz),
    ]
    assert main([*args, "-o", str(out)]) == 0
    hc = json.loads((out / "report.json").read_text())["host_check"]
    assert hc["bit_exact_with_reference"] == hc["samples"] and hc["max_rel_err_vs_original"] < 1e-5
