"""The examples run end to end as a user would run them."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from edgexf.datasets import load_npz
from edgexf.errors import ModelLoadError
from edgexf.frontends import load_model

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
def test_vit_digits_writes_program_and_test_set(tmp_path):
    out = tmp_path / "models" / "vit.pt2"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "vit_digits.py"), "--out", str(out), "--epochs", "3", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"test accuracy: ([0-9.]+)", proc.stdout)
    assert match, proc.stdout
    assert 0.0 <= float(match.group(1)) <= 1.0
    test_npz = out.parent / "vit_digits_test.npz"
    assert str(out) in proc.stdout and str(test_npz) in proc.stdout

    x, y = load_npz(test_npz)
    assert x.shape == (360, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (360,)
    program = torch.export.load(out)
    logits = program.module()(torch.from_numpy(x[:1]))
    assert logits.shape == (1, 10)


def _import_example(path: Path):
    spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_vit_mnist_writes_program_data_and_state_that_reloads(tmp_path):
    out = tmp_path / "models" / "vit.pt2"
    state = tmp_path / "state" / "vit_mnist_state.pt"
    cmd = [sys.executable, str(EXAMPLES / "vit_mnist.py"), "--out", str(out), "--epochs", "1", "--quiet"]
    cmd += ["--limit", "256", "--save-state", str(state)]  # --limit: train on 256 images, for speed
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "139018 parameters; 256 train, 1000 test" in proc.stdout
    match = re.search(r"test accuracy: ([0-9.]+)", proc.stdout)
    assert match, proc.stdout
    assert 0.0 <= float(match.group(1)) <= 1.0
    test_npz, calib_npz = out.parent / "vit_mnist_test.npz", out.parent / "vit_mnist_calib.npz"
    for path in (out, test_npz, calib_npz, state):
        assert str(path) in proc.stdout

    x, y = load_npz(test_npz)
    assert x.shape == (1000, 1, 28, 28) and x.dtype == np.float32 and y.shape == (1000,)
    np.testing.assert_array_equal(np.bincount(y), [100] * 10)
    calib, no_labels = load_npz(calib_npz)
    assert calib.shape == (500, 1, 28, 28) and calib.dtype == np.float32 and no_labels is None
    assert 0.0 <= calib.min() and calib.max() <= 1.0

    program = torch.export.load(out).module()  # batch size 1, as exported
    with torch.no_grad():
        expected = torch.cat([program(torch.from_numpy(x[i : i + 1])) for i in range(4)])
    assert expected.shape == (4, 10)

    # the saved state rebuilds the same model, without training
    example = _import_example(EXAMPLES / "vit_mnist.py")
    model, example_input = example.load_trained(state)
    assert not model.training and example_input.shape == (1, 1, 28, 28)
    np.testing.assert_array_equal(example_input.numpy(), x[:1])
    with torch.no_grad():
        torch.testing.assert_close(model(torch.from_numpy(x[:4])), expected)

    # FILE.py:bundled loads the state beside the script, as edgexf's frontend calls it (no arguments)
    copy = tmp_path / "bundle" / "vit_mnist.py"
    copy.parent.mkdir()
    shutil.copy(EXAMPLES / "vit_mnist.py", copy)
    with pytest.raises(ModelLoadError, match=r"vit_mnist_state\.pt does not exist.*--save-state"):
        load_model(f"{copy}:bundled")
    shutil.copy(state, copy.parent / "vit_mnist_state.pt")
    loaded = load_model(f"{copy}:bundled")
    np.testing.assert_allclose(loaded.original(x[:4]).reshape(4, 10), expected.numpy(), rtol=1e-5, atol=1e-5)


def _run_example(tmp_path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.slow
@pytest.mark.parametrize(
    "model, banner",
    [
        ("lmu", "23114 parameters, 512 state floats; 256 train, 1000 test"),
        ("mamba", "18122 parameters, 1408 state floats; 256 train, 1000 test"),
    ],
)
def test_smnist_example_writes_data_and_state_that_reloads(tmp_path, model, banner):
    script = EXAMPLES / "smnist.py"
    state = tmp_path / "state" / f"smnist_{model}_state.pt"
    cmd = [
        str(script),
        "--model",
        model,
        "--epochs",
        "1",
        "--quiet",
        "--limit",
        "256",
        "--save-state",
        str(state),
    ]
    proc = _run_example(tmp_path, *cmd)
    assert banner in proc.stdout
    match = re.search(r"test accuracy: ([0-9.]+)", proc.stdout)
    assert match and 0.0 <= float(match.group(1)) <= 1.0, proc.stdout
    diff = re.search(r"max \|logit difference\| ([0-9.e+-]+)", proc.stdout)
    assert diff and float(diff.group(1)) < 1e-4, proc.stdout
    assert str(state) in proc.stdout

    data_dir = tmp_path / "data"
    proc = _run_example(tmp_path, str(script), "--write-data", str(data_dir))
    x, y = load_npz(data_dir / "smnist_test.npz")
    assert x.shape == (1000, 28, 28) and x.dtype == np.float32 and y.shape == (1000,)
    calib, no_labels = load_npz(data_dir / "smnist_calib.npz")
    assert calib.shape == (500, 28, 28) and no_labels is None

    example = _import_example(script)
    net, example_input = example.load_trained(state, model)
    assert not net.training and example_input.shape == (1, 28, 28)
    np.testing.assert_array_equal(example_input.numpy(), x[:1])
    with torch.no_grad():
        logits = net(torch.from_numpy(x[:2]))
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()

    # FILE.py:bundled loads the state beside the script, and says how to make it when it is missing
    copy = tmp_path / "bundle" / "smnist.py"
    copy.parent.mkdir()
    shutil.copy(script, copy)
    bundled = "bundled" if model == "lmu" else "bundled_mamba"
    with pytest.raises(ModelLoadError, match=rf"smnist_{model}_state\.pt does not exist.*--save-state"):
        getattr(_import_example(copy), bundled)()
    shutil.copy(state, copy.parent / f"smnist_{model}_state.pt")
    bundled_model, _ = getattr(_import_example(copy), bundled)()
    with torch.no_grad():
        torch.testing.assert_close(bundled_model(torch.from_numpy(x[:2])), logits)


@pytest.mark.slow
@pytest.mark.parametrize("model_name", ["lmu", "mamba"])
def test_kws_fsdd_trains_folds_normalisation_and_reloads(tmp_path, monkeypatch, model_name):
    from edgexf.datasets import fsdd_root

    if not fsdd_root().is_dir():
        pytest.skip(f"FSDD recordings not in {fsdd_root()}")
    monkeypatch.setenv("EDGEXF_CACHE", str(tmp_path / "cache"))  # not the user's cache
    state = tmp_path / f"kws_fsdd_{model_name}_state.pt"
    cmd = [str(EXAMPLES / "kws_fsdd.py"), "--model", model_name, "--epochs", "1", "--quiet"]
    proc = _run_example(tmp_path, *cmd, "--limit", "256", "--save-state", str(state))
    match = re.search(
        r"test accuracy: ([0-9.]+) \(raw features, normalisation folded in: ([0-9.]+)", proc.stdout
    )
    assert match, proc.stdout
    assert abs(float(match.group(1)) - float(match.group(2))) <= 1 / 300  # at most one example flips

    proc = _run_example(tmp_path, str(EXAMPLES / "kws_fsdd.py"), "--write-data", str(tmp_path))
    x, y = load_npz(tmp_path / "kws_fsdd_test.npz")
    assert x.shape == (300, 64, 20) and x.dtype == np.float32 and np.bincount(y).tolist() == [30] * 10
    calib, _ = load_npz(tmp_path / "kws_fsdd_calib.npz")
    assert calib.shape == (200, 64, 20)

    example = _import_example(EXAMPLES / "kws_fsdd.py")
    model, example_input = example.load_trained(state)
    np.testing.assert_array_equal(example_input.numpy(), x[:1])  # stored in the file: no recordings needed
    saved = torch.load(state, weights_only=True)
    assert saved["model"] == model_name and len(saved["normalization"]["mean"]) == 20
    assert saved["features"]["frames"] == 64
