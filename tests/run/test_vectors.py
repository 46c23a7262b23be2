"""One rule for what counts as samples of a model's input (`--test-data` and `run --input` alike)."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.errors import DataError
from edgexf.run.vectors import as_samples

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
