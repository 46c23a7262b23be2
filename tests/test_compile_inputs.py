"""Bad input to compile and run is told at once, with the file and the problem, and nothing is built
(edgexf/compile_inputs.py, datasets.as_samples and load_npz)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgexf.cli import main


def _save(module: torch.nn.Module, path) -> str:
    torch.export.save(torch.export.export(module.eval(), (torch.randn(1, 8),)), path)
    return str(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("m") / "tiny.pt2"
    return _save(torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.GELU()), path)


def _npz(path, **arrays) -> str:
    np.savez(path, **arrays)
    return str(path)


def _x(n: int = 20) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, 1, 8)).astype(np.float32)


def _with_nan() -> np.ndarray:
    x = _x()
    x[3, 0, 5] = np.nan
    x[7, 0, 0] = np.inf
    return x


def _compile(tiny, tmp_path, *extra) -> int:
    return main(["compile", tiny, "--board", "stm32f746", "-o", str(tmp_path / "b"), *extra])


def test_nan_weights_are_refused_before_any_work(tmp_path, capsys):
    module = torch.nn.Linear(8, 4)
    with torch.no_grad():
        module.weight[1, 2] = float("nan")
    model = _save(module, tmp_path / "nan.pt2")
    assert main(["compile", model, "--board", "stm32f746", "-o", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "weights hold NaN or inf" in err and "Traceback" not in err and "[3/9]" not in err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "option, arrays, message",
    [
        ("--test-data", {"x": _with_nan()}, "2 of 20 samples hold NaN or inf (the first: sample 3)"),
        ("--test-data", {"x": _x(0)}, "holds no samples"),
        ("--test-data", {"x": _x(), "y": np.zeros(19, np.int64)}, "19 labels (array y) for 20 samples"),
        ("--test-data", {"x": _x().reshape(20, 2, 4)}, "does not hold samples of the model's input [1, 8]"),
        ("--calibration", {"x": _with_nan()}, "2 of 20 samples hold NaN or inf"),
        ("--calibration", {"y": np.zeros(3)}, "has no array 'x'"),
    ],
)
def test_bad_data_files_are_told_by_name_before_any_work(tiny, tmp_path, capsys, option, arrays, message):
    data = _npz(tmp_path / "data.npz", **arrays)
    extra = [option, data] + (["--quantize", "int8"] if option == "--calibration" else [])
    assert _compile(tiny, tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert err.count(data) == 1 and message in err
    assert "Traceback" not in err and "[4/" not in err  # stopped at the loading step
    assert not (tmp_path / "b").exists()


def test_a_file_that_is_not_an_npz_says_how_to_make_one(tiny, tmp_path, capsys):
    text = tmp_path / "data.npz"
    text.write_text("x,y\n1,2\n")
    assert _compile(tiny, tmp_path, "--test-data", str(text)) == 2
    err = capsys.readouterr().err
    assert "is not a readable .npz: save it with np.savez(path, x=inputs, y=labels)" in err
    assert "neither a zip archive" in err and "pickled" not in err  # not numpy's allow_pickle message


def test_a_tiny_calibration_set_gets_a_note(tiny, tmp_path, capsys):
    data = _npz(tmp_path / "calib.npz", x=_x(1))
    assert _compile(tiny, tmp_path, "--quantize", "int8", "--calibration", data) == 0
    assert "note: calibrating on 1 sample(s)" in capsys.readouterr().err


def test_run_refuses_nan_inputs(tiny, tmp_path, capsys):
    assert (
        _compile(tiny, tmp_path, "--quantize", "int8", "--calibration", _npz(tmp_path / "c.npz", x=_x())) == 0
    )
    np.save(tmp_path / "x.npy", _with_nan())
    capsys.readouterr()
    assert main(["run", str(tmp_path / "b"), "--input", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err
    assert "2 of 20 samples hold NaN or inf" in err and "RuntimeWarning" not in err
