"""Offline data sets and the .npz data-file convention."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.datasets import Split, load_digits, load_npz, save_npz
from edgexf.errors import DataError


@pytest.fixture(scope="module")
def digits() -> Split:
    return load_digits()


def test_digits_shapes_dtypes_ranges(digits):
    assert digits.x_train.shape == (1437, 1, 8, 8)
    assert digits.x_test.shape == (360, 1, 8, 8)
    assert digits.x_train.dtype == digits.x_test.dtype == np.float32
    assert digits.y_train.dtype == digits.y_test.dtype == np.int64
    assert digits.y_train.shape == (1437,) and digits.y_test.shape == (360,)
    for x in (digits.x_train, digits.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    assert set(digits.y_train) == set(digits.y_test) == set(range(10))


def test_digits_split_is_stratified(digits):
    train_share = np.bincount(digits.y_train) / len(digits.y_train)
    test_share = np.bincount(digits.y_test) / len(digits.y_test)
    np.testing.assert_allclose(train_share, test_share, atol=0.01)


def test_digits_is_deterministic_and_seeded(digits):
    again = load_digits()
    np.testing.assert_array_equal(digits.x_test, again.x_test)
    np.testing.assert_array_equal(digits.y_train, again.y_train)
    other = load_digits(seed=1)
    assert not np.array_equal(digits.y_test, other.y_test)
    assert len(load_digits(test_fraction=0.5).y_test) in (898, 899)


def test_digits_rejects_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=1.0)


def test_npz_round_trip(tmp_path, digits):
    path = save_npz(tmp_path / "sub" / "data.npz", digits.x_test, digits.y_test)
    assert path == tmp_path / "sub" / "data.npz" and path.is_file()
    x, y = load_npz(path)
    np.testing.assert_array_equal(x, digits.x_test)
    np.testing.assert_array_equal(y, digits.y_test)
    assert x.dtype == np.float32 and y.dtype == np.int64


def test_npz_without_labels(tmp_path):
    path = save_npz(tmp_path / "inputs.bin", np.zeros((3, 4), np.float32))  # exact name, no suffix added
    assert path.name == "inputs.bin"
    x, y = load_npz(path)
    assert x.shape == (3, 4) and y is None


def test_npz_missing_x_names_file_and_array(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, inputs=np.zeros(3), y=np.zeros(3))
    with pytest.raises(ValueError, match=r"bad\.npz has no array 'x'.*\['inputs', 'y'\]"):
        load_npz(path)


def test_npz_missing_file(tmp_path):
    with pytest.raises(DataError, match="nope.npz"):
        load_npz(tmp_path / "nope.npz")


def test_npz_length_mismatch(tmp_path):
    with pytest.raises(ValueError, match="3 rows but y has 2"):
        save_npz(tmp_path / "d.npz", np.zeros((3, 2)), np.zeros(2))
