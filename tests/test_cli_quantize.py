"""`edgexf compile --quantize int8` as a user meets it: the report, `edgexf layers`, and an error that
names the problem for each kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from edgexf.cli import main


def save(module, shape, path):
    torch.export.save(torch.export.export(module.eval(), (torch.randn(*shape),)), path)
    return str(path)


@pytest.fixture
def tiny(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 4))
    return save(model, (1, 8), tmp_path / "tiny.pt2")


@pytest.fixture
def calib(tmp_path):
    path = tmp_path / "calib.npz"
    np.savez(path, x=np.random.default_rng(0).standard_normal((64, 1, 8)).astype(np.float32))
    return str(path)


def compile_args(model, tmp_path, *extra):
    return ["compile", model, "--board", "stm32f746", "-o", str(tmp_path / "b"), *extra]


def test_quantized_compile_reports_both_and_checks_exactly(tiny, calib, tmp_path, capsys):
    assert main(compile_args(tiny, tmp_path, "--quantize", "int8", "--calibration", calib)) == 0
    out = capsys.readouterr()
    assert "[4/10] quantizing to int8" in out.err
    assert "quantized      int8: weights 848 -> " in out.out and "worst layers" in out.out
    r = json.loads((tmp_path / "b" / "report.json").read_text())
    # judged as users judge an int8 model: class agreement, cosine, RMSE against the signal
    hc = r["host_check"]
    assert 0.9 < hc["cosine"] <= 1 and 0 <= hc["rel_rmse"] < 0.2
    summary = f"same class {hc['same_class_as_original']}/{hc['samples']}, cosine {hc['cosine']:.4f}"
    assert summary in out.out and "worst relative error" not in out.out
    assert r["outputs"][0]["dtype"] == "int8" and r["quantization"]["calibration"]["samples"] == 64
    assert {row["op"] for row in r["quantization"]["layers"]} == {"q_linear", "q_lut"}
    header = (tmp_path / "b" / "model" / "model.h").read_text()
    assert "#define EDGEXF_INPUT0_ZERO_POINT" in header and "#define EDGEXF_OUTPUT0_SCALE" in header
    assert main(["run", str(tmp_path / "b"), "--check"]) == 0  # host build, exact integers
    assert main(["layers", str(tmp_path / "b")]) == 0
    assert "q_lut" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,code,message",
    [
        (["--quantize", "int8"], 1, "needs --calibration"),
        (["--int16", "residual"], 1, "only apply with --quantize"),
        (["--quantize", "int8", "--calibration", "missing.npz"], 2, "does not exist"),
        (["--quantize", "int8", "--calibration", "CALIB", "--int16", "nothing*"], 3, "matches no activation"),
        (["--quantize", "int8", "--calibration", "CALIB", "--calibration-method", "percentile",
          "--percentile", "10"], 2, "percentile must be"),
    ],
)  # fmt: skip
def test_bad_quantization_options(tiny, calib, tmp_path, capsys, extra, code, message):
    extra = [calib if e == "CALIB" else str(tmp_path / e) if e.endswith(".npz") else e for e in extra]
    assert main(compile_args(tiny, tmp_path, *extra)) == code
    assert message in capsys.readouterr().err


def test_calibration_data_of_the_wrong_shape(tiny, tmp_path, capsys):
    np.savez(tmp_path / "c.npz", x=np.zeros((10, 3, 3), np.float32))
    args = compile_args(tiny, tmp_path, "--quantize", "int8", "--calibration", str(tmp_path / "c.npz"))
    assert main(args) == 2
    assert "does not hold samples of the model's input [1, 8]" in capsys.readouterr().err


def test_op_without_an_int8_form(calib, tmp_path, capsys):
    class M(torch.nn.Module):
        def forward(self, x):
            return x / (x * x + 1.0)

    path = save(M(), (1, 8), tmp_path / "m.pt2")
    assert main(compile_args(path, tmp_path, "--quantize", "int8", "--calibration", calib)) == 3
    err = capsys.readouterr().err
    assert "div 'div'" in err and "not constant has no int8 kernel" in err


def test_layers_of_a_float_build(tiny, tmp_path, capsys):
    assert main(compile_args(tiny, tmp_path)) == 0
    assert main(["layers", str(tmp_path / "b")]) == 1
    assert "float build" in capsys.readouterr().err


def test_too_big_in_float32_is_told_int8_would_fit(tmp_path, capsys):
    path = save(torch.nn.Linear(1024, 300), (1, 1024), tmp_path / "big.pt2")  # 1.23 MB as float32
    assert main(compile_args(path, tmp_path)) == 5
    assert "--quantize int8" in capsys.readouterr().err
    x = np.random.default_rng(0).standard_normal((16, 1, 1024)).astype(np.float32)
    np.savez(tmp_path / "c.npz", x=x)
    args = compile_args(path, tmp_path, "--quantize", "int8", "--calibration", str(tmp_path / "c.npz"))
    assert main(args) == 0
    assert json.loads((tmp_path / "b" / "report.json").read_text())["flash_bytes"] < 400_000


def test_compile_lowrank_reports_layers_and_what_it_costs(tmp_path, capsys):
    # a classifier with 64-wide layers: factorized to half its linear weights, without retraining
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(64, 64),
        torch.nn.GELU(),
        torch.nn.Linear(64, 64),
        torch.nn.GELU(),
        torch.nn.Linear(64, 10),
    ).eval()
    model = tmp_path / "mlp.pt2"
    torch.export.save(torch.export.export(module, (torch.randn(1, 64),)), model)
    x = np.random.default_rng(0).standard_normal((100, 1, 64)).astype(np.float32)
    y = module(torch.from_numpy(x)).argmax(-1).reshape(-1).numpy()  # labels: the dense model's classes
    np.savez(tmp_path / "data.npz", x=x, y=y)
    out = tmp_path / "b"
    args = ["compile", str(model), "--board", "stm32f746", "-o", str(out), "--exact-seconds", "0"]
    assert main([*args, "--lowrank", "0.5", "--test-data", str(tmp_path / "data.npz")]) == 0
    printed = capsys.readouterr()
    assert "layers factorized: linear weights 8,832 -> " in printed.out and "top-1 agreement" in printed.out
    low = json.loads((out / "report.json").read_text())["lowrank"]
    assert 0 < low["params_after"] <= 0.5 * low["params_before"] == 0.5 * 8_832
    assert low["factorized"] >= 1 and all(
        layer["rank"] is None or layer["rank"] < 64 * 64 / (64 + 64) for layer in low["layers"]
    )
    agree = low["agreement"]
    assert agree["samples"] == 100 and agree["accuracy_original"] == 1.0  # labels are the dense model's
    assert agree["accuracy_changed"] == agree["top1_agreement"] < 1.0  # the cost is measured, not assumed
    assert main(["run", str(out), "--check"]) == 0  # the factorized C matches its reference
