"""One rule for what counts as samples of a model's input (`--test-data` and `run --input` alike), and
how a run's outputs are compared with the test vectors."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.datasets import as_samples
from edgexf.errors import DataError
from edgexf.run.vectors import TestVectors, compare

SHAPE = (1, 1, 8, 8)


@pytest.mark.parametrize(
    "given, samples",
    [((1, 1, 8, 8), 1), ((1, 8, 8), 1), ((5, 1, 8, 8), 5), ((5, 1, 1, 8, 8), 5)],
)
def test_accepted_layouts(given, samples):
    x = np.arange(np.prod(given), dtype=np.float64).reshape(given)
    y = as_samples(x, SHAPE, "x.npy")
    assert y.shape == (samples,) + SHAPE and y.dtype == np.float32
    assert np.array_equal(y.reshape(-1), x.reshape(-1).astype(np.float32))  # same values, same order


@pytest.mark.parametrize("given", [(64,), (5, 8, 8), (5, 2, 8, 8)])
def test_refused_layouts_name_both_shapes(given):
    with pytest.raises(
        DataError, match=r"x.npy: shape \[.*\] does not hold samples of the model's input \[1, 1, 8, 8\]"
    ):
        as_samples(np.zeros(given), SHAPE, "x.npy")


def _int8_vectors() -> tuple[np.ndarray, TestVectors, dict]:
    """4 samples of 3 int8 outputs (scale 0.5, zero point -3), one output 2 LSB off in sample 1."""
    io = {"dtype": "int8", "quant": {"scale": 0.5, "zero_point": -3}}
    ours = np.array([[10, -3, 7], [1, 2, 3], [-128, 0, 127], [5, 5, 6]], np.int8)
    theirs = ours.copy()
    theirs[1, 2] += 2
    expected = ((theirs.astype(np.float64) + 3) * 0.5).astype(np.float32)
    return ours, TestVectors(np.zeros((4, 1, 2), np.float32), expected, ours.copy()), io


def test_an_int8_file_in_its_own_runtime_is_compared_in_lsb_not_as_quantization_error():
    ours, vectors, io = _int8_vectors()
    a = compare(ours, vectors, io, original="tflite-micro", original_int8=True)
    assert (a.identical_to_original, a.max_lsb_vs_original, a.ok) == (3, 2, True)
    text = a.describe()
    assert "vs tflite-micro (the same int8 file)  3/4 identical, at most 2 LSB apart" in text
    assert "quantization" not in text and "dequantized" not in text


def test_an_int8_build_of_a_float_model_reports_quantization_error():
    ours, vectors, io = _int8_vectors()
    a = compare(ours, vectors, io)
    assert a.max_lsb_vs_original is None and not a.original_int8
    assert "vs float PyTorch (dequantized)" in a.describe() and "(quantization: reported" in a.describe()
