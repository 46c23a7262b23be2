"""Other people's models through ONNX, exported the way their users export them (small, random weights
from fixed seeds, nothing downloaded): a HuggingFace ViTForImageClassification (eager and sdpa attention)
and timm's ViT with global_pool='max', both by torch 2.13's default torch.onnx.export (the dynamo
exporter), and mambapy's Mamba with its parallel scan.

float32: the host build is bit-exact with the IR reference and within 1e-5 of onnxruntime, relative to
each sample's largest output (measured: a few 1e-7). int8 (`edgexf compile --quantize int8`, then `edgexf
run --check` on the host build): every output equal to the reference's integers; the distance from
onnxruntime is quantization error, printed and only loosely checked (the random heads give logits close
together, so classes are a poor measure).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from frontends.test_onnx import compile_host, ort_run
from model_helpers import same_bits

from edgexf.cli import main
from edgexf.frontends.onnx_import import onnx_to_graph
from edgexf.run.build_dir import run_build
from edgexf.run.vectors import decode_outputs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
import hf_vit  # noqa: E402
import mambapy_model  # noqa: E402
import timm_vit  # noqa: E402

# pyproject.toml's test extras install transformers and onnxscript (the dynamo exporter), scripts/setup.sh
# timm: without them these skip, except in CI (CI=true), where a missing one is a set-up failure
MISSING = [m for m in ("transformers", "onnxscript", "timm") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(MISSING) and not os.environ.get("CI"), reason=f"needs {MISSING}")
SAMPLES, CALIBRATION = 6, 48
FLOAT_REL_TOL = 1e-5


def _export_mambapy(path: Path) -> Path:
    """mambapy's forward (its pscan) by the TorchScript exporter at opset 17 (see the report's notes)."""
    model, example = mambapy_model.build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), input_names=["x"], opset_version=17, dynamo=False)
    return path


MODELS = {
    "hf_vit_sdpa": lambda p: hf_vit.export(p, "sdpa", dynamo=True),
    "hf_vit_eager": lambda p: hf_vit.export(p, "eager", dynamo=True),
    "timm_vit_max": lambda p: timm_vit.export(p, dynamo=True, global_pool="max", class_token=False),
    "mambapy": _export_mambapy,
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("third_party")

    def get(name: str) -> Path:
        path = d / f"{name}.onnx"
        if not path.exists():
            MODELS[name](path)
        return path

    return get


def _samples(shape, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(np.float32)


@pytest.mark.parametrize("name", list(MODELS))
def test_float32_matches_onnxruntime(name, exported, tmp_path):
    model = onnx.load(exported(name))
    g = onnx_to_graph(model, name)
    ops = {op.type for op in g.ops}
    assert not ops & {"isnan", "where"}  # the dynamo exporter's softmax guard folded away
    assert name != "timm_vit_max" or "max" in ops
    assert name != "mambapy" or "pad" in ops
    x = _samples(g.tensors[g.inputs[0]].shape, SAMPLES, 1)
    host = compile_host(g, tmp_path)
    y = host.run(x)
    assert same_bits(y, host.reference(x))
    expected = ort_run(model, x).reshape(y.shape).astype(np.float64)
    axes = tuple(range(1, y.ndim))
    rel = np.abs(y - expected).max(axis=axes) / np.abs(expected).max(axis=axes)
    print(f"\n{name} float32 host vs onnxruntime: max rel {rel.max():.3g}, {len(g.ops)} ops")
    assert rel.max() <= FLOAT_REL_TOL


@pytest.mark.parametrize("name", ["hf_vit_sdpa", "timm_vit_max"])
def test_int8_is_bit_exact_with_the_reference(name, exported, tmp_path):
    path = exported(name)
    shape = (timm_vit.CHANNELS, timm_vit.IMG, timm_vit.IMG)
    np.savez(tmp_path / "test.npz", x=_samples(shape, SAMPLES, 2))
    np.savez(tmp_path / "calib.npz", x=_samples(shape, CALIBRATION, 3))
    out = tmp_path / "build"
    args = [
        "compile",
        str(path),
        "--board",
        "stm32f746",
        "-o",
        str(out),
        "--test-data",
        str(tmp_path / "test.npz"),
    ]
    assert main([*args, "--quantize", "int8", "--calibration", str(tmp_path / "calib.npz")]) == 0
    assert main(["run", str(out), "--check"]) == 0  # the host build: every output the reference's integers
    run = run_build(out, emulate=False, check=True)
    assert run.outputs.dtype == np.int8 and run.agreement.bit_exact_with_reference == SAMPLES
    r = json.loads((out / "report.json").read_text())
    types = {op["type"] for op in r["ops"]}
    assert not types & {"isnan", "where", "softmax"}  # integer kernels throughout
    assert name != "timm_vit_max" or "max" in types  # the pooling compares int8 codes
    got = decode_outputs(run.outputs.reshape(SAMPLES, -1), r["outputs"][0])
    expected = ort_run(onnx.load(path), np.load(tmp_path / "test.npz")["x"][:, None]).reshape(SAMPLES, -1)
    corr = float(np.corrcoef(got.ravel(), expected.ravel())[0, 1])
    err = np.abs(got - expected).max()
    print(
        f"\n{name} int8 host vs onnxruntime: correlation {corr:.3f}, max abs {err:.3g} "
        f"(logits up to {np.abs(expected).max():.3g}); arena {r['arena_bytes']} B "
        f"(float32 {r['float']['arena_bytes']} B)"
    )
    assert corr >= 0.7
