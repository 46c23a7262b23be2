"""Sequence data sets: sequential MNIST-5k and the Free Spoken Digit Dataset (FSDD) as features."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from edgexf import datasets, features
from edgexf.datasets import default_cache_dir, fsdd_root, load_fsdd, load_mnist5k, load_smnist
from edgexf.errors import DataError
from edgexf.features import FeatureConfig


def test_smnist_is_mnist5k_as_rows():
    seq, img = load_smnist(), load_mnist5k()
    assert seq.x_train.shape == (4000, 28, 28) and seq.x_test.shape == (1000, 28, 28)
    assert seq.x_train.dtype == np.float32
    np.testing.assert_array_equal(seq.x_test, img.x_test[:, 0])
    np.testing.assert_array_equal(seq.y_train, img.y_train)


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000, width: int = 2) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples * 20000, dtype=f"<i{width}").tobytes())


@pytest.fixture
def tiny_fsdd(tmp_path) -> Path:
    """2 digits x 2 speakers x takes 0, 4, 5, 6 (two test takes and two training takes each)."""
    root = tmp_path / "recordings"
    root.mkdir()
    rng = np.random.default_rng(0)
    for digit in (3, 7):
        for speaker in ("ann", "bob"):
            for take in (0, 4, 5, 6):
                write_wav(root / f"{digit}_{speaker}_{take}.wav", rng.uniform(-1, 1, 2000 + 100 * take))
    (root / "README.txt").write_text("not a recording")
    (root / "notes.wav").write_bytes(b"")  # not {digit}_{speaker}_{take}.wav: ignored
    return root


def test_fsdd_split_by_take_sorted_and_cached(tiny_fsdd, tmp_path, monkeypatch):
    cfg = FeatureConfig(frames=16)
    cache = tmp_path / "cache"
    split = load_fsdd(tiny_fsdd, cfg, cache_dir=cache)
    assert split.x_train.shape == (8, 16, 20) and split.x_test.shape == (8, 16, 20)
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    np.testing.assert_array_equal(split.y_test, [3, 3, 3, 3, 7, 7, 7, 7])  # by digit, speaker, take
    cached = list(cache.glob("fsdd-*.npz"))
    assert len(cached) == 1
    assert sorted(p.name for p in tiny_fsdd.iterdir()) == sorted(  # nothing written beside the data
        [f"{d}_{s}_{t}.wav" for d in (3, 7) for s in ("ann", "bob") for t in (0, 4, 5, 6)]
        + ["README.txt", "notes.wav"]
    )

    def fail(*args, **kwargs):
        raise AssertionError("features recomputed despite the cache")

    monkeypatch.setattr(features, "compute_features", fail)
    again = load_fsdd(tiny_fsdd, cfg, cache_dir=cache)
    np.testing.assert_array_equal(again.x_train, split.x_train)
    np.testing.assert_array_equal(again.y_test, split.y_test)
    with pytest.raises(AssertionError, match="recomputed"):  # other settings: another cache entry
        load_fsdd(tiny_fsdd, FeatureConfig(frames=8), cache_dir=cache)


def test_fsdd_without_cache_writes_nothing(tiny_fsdd, tmp_path):
    load_fsdd(tiny_fsdd, FeatureConfig(frames=8), cache_dir=tmp_path / "cache", cache=False)
    assert not (tmp_path / "cache").exists()


def test_fsdd_missing_folder_says_where_and_how_to_get_it(tmp_path):
    missing = tmp_path / "nowhere" / "recordings"
    with pytest.raises(DataError, match="no FSDD recordings") as e:
        load_fsdd(missing, cache_dir=tmp_path)
    message = str(e.value)
    assert str(missing) in message
    assert "git clone https://github.com/Jakobovski/free-spoken-digit-dataset" in message
    assert "EDGEXF_FSDD" in message
    with pytest.raises(DataError, match="no FSDD recordings"):
        load_fsdd(tmp_path, cache_dir=tmp_path)  # a folder without recordings


def test_fsdd_refuses_other_sample_rates_and_formats(tmp_path):
    write_wav(tmp_path / "1_ann_0.wav", np.zeros(1000), rate=16000)
    with pytest.raises(DataError, match="16000 Hz, the features expect 8000 Hz"):
        load_fsdd(tmp_path, cache=False)
    write_wav(tmp_path / "1_ann_0.wav", np.zeros(1000), width=4)
    with pytest.raises(DataError, match="expected 16-bit mono PCM"):
        load_fsdd(tmp_path, cache=False)


def test_fsdd_root_and_cache_dir_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("EDGEXF_FSDD", raising=False)
    assert fsdd_root() == datasets.FSDD_DEFAULT_ROOT
    assert datasets.FSDD_DEFAULT_ROOT.parts[-4:] == ("shared", "datasets", "fsdd", "recordings")
    monkeypatch.setenv("EDGEXF_FSDD", str(tmp_path))
    assert fsdd_root() == tmp_path and fsdd_root("elsewhere") == Path("elsewhere")
    monkeypatch.setenv("EDGEXF_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("EDGEXF_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "edgexf"


@pytest.mark.skipif(not fsdd_root().is_dir(), reason=f"FSDD recordings not in {fsdd_root()}")
def test_fsdd_usual_split_sizes(tmp_path):
    split = load_fsdd(cache_dir=tmp_path)  # computes all 3000 recordings' features: about 1 s
    assert split.x_train.shape == (2700, 64, 20) and split.x_test.shape == (300, 64, 20)
    np.testing.assert_array_equal(np.bincount(split.y_train), [270] * 10)
    np.testing.assert_array_equal(np.bincount(split.y_test), [30] * 10)
    assert np.isfinite(split.x_train).all()
    assert split.x_train.min() >= np.log(FeatureConfig().floor) - 1e-4  # silence is the lowest value
