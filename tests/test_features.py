"""Speech features (log-mel, MFCC): framing, spectrum, mel bank, fixed length, normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from edgexf.features import (
    FeatureConfig,
    Normalization,
    compute_features,
    dct_matrix,
    fix_frames,
    frame_signal,
    hz_to_mel,
    mel_filterbank,
    mel_power,
    mel_to_hz,
)

CFG = FeatureConfig()  # 8 kHz, n_fft 256, hop 128, 20 mel bands, 64 frames


def tone(freq: float, seconds: float, sr: int = 8000, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_fft=0), "n_fft must be >= 1"),
        (dict(n_mfcc=21), "n_mfcc must be in"),
        (dict(f_max=5000.0), "f_max <= sample_rate / 2"),
        (dict(f_min=4000.0), "f_min < f_max"),
        (dict(floor=0.0), "floor must be > 0"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FeatureConfig(**kwargs)


def test_config_features_and_round_trip():
    assert CFG.num_features == 20 and FeatureConfig(n_mfcc=13).num_features == 13
    assert CFG.top_frequency == 4000.0
    assert FeatureConfig(**CFG.to_dict()) == CFG


def test_mel_scale_round_trips():
    f = np.array([0.0, 100.0, 1000.0, 4000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-9)
    assert hz_to_mel(1000.0) == pytest.approx(1000.0, rel=1e-3)  # the mel scale's anchor


def test_mel_filterbank_is_sparse_triangles_in_order():
    fb = mel_filterbank(CFG)
    assert fb.shape == (20, 129)
    assert (fb >= 0).all() and fb.max() <= 1.0
    assert (fb > 0).any(axis=1).all()  # no empty band at n_fft 256
    assert (fb > 0).sum(axis=0).max() <= 2  # each bin in at most 2 triangles: a sparse matrix
    peaks = fb.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all()


def test_dct_is_orthonormal():
    M = dct_matrix(20, 20)
    np.testing.assert_allclose(M @ M.T, np.eye(20), atol=1e-12)
    np.testing.assert_allclose(dct_matrix(13, 20), M[:13])


def test_frame_signal_counts_and_pads():
    x = np.arange(1000.0)
    frames = frame_signal(x, 256, 128)
    assert frames.shape == (1 + int(np.ceil((1000 - 256) / 128)), 256)  # 7 frames
    np.testing.assert_array_equal(frames[1], x[128:384])
    assert frames[-1, -1] == 0.0  # zero-padded at the end
    assert frame_signal(np.ones(10), 256, 128).shape == (1, 256)
    with pytest.raises(ValueError, match="1-D"):
        frame_signal(np.ones((2, 300)), 256, 128)


def test_power_spectrum_matches_a_dft_written_out():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(256)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(256) / 256)
    k, n = np.arange(129)[:, None], np.arange(256)[None, :]
    dft = np.exp(-2j * np.pi * k * n / 256) @ (x * window)  # (129,)
    expected = (np.abs(dft) ** 2 / 256) @ mel_filterbank(CFG).T
    np.testing.assert_allclose(mel_power(x, CFG)[0], expected, rtol=1e-10)


def test_a_tone_lands_in_its_band():
    fb = mel_filterbank(CFG)
    for freq in (300.0, 1000.0, 2500.0):
        feats = compute_features(tone(freq, 0.5), CFG)
        band = fb[:, int(round(freq * 256 / 8000))].argmax()
        assert feats[-5].argmax() == band


def test_shapes_dtypes_and_mfcc():
    x = tone(700.0, 0.6)
    logmel = compute_features(x, CFG)
    assert logmel.shape == (64, 20) and logmel.dtype == np.float32
    mfcc = compute_features(x, FeatureConfig(n_mfcc=13))
    assert mfcc.shape == (64, 13) and mfcc.dtype == np.float32
    np.testing.assert_allclose(mfcc, logmel @ dct_matrix(13, 20).T.astype(np.float32), rtol=1e-4, atol=1e-4)


def test_short_recordings_are_padded_with_silence_at_the_start():
    x = tone(1000.0, 0.2)  # 1600 samples: 12 frames
    feats = compute_features(x, CFG)
    n_frames = len(frame_signal(x, 256, 128))
    silence = np.float32(np.log(CFG.floor))
    np.testing.assert_array_equal(feats[: 64 - n_frames], silence)
    assert (feats[64 - n_frames :] > silence + 1).any(axis=1).all()  # the tone ends at the last step
    np.testing.assert_allclose(compute_features(np.zeros(800), CFG), silence)


def test_long_recordings_keep_their_loudest_frames():
    x = np.concatenate(
        [tone(500.0, 1.0, amplitude=1e-3), tone(1500.0, 0.5), tone(500.0, 1.0, amplitude=1e-3)]
    )
    power = mel_power(x, CFG)
    kept = fix_frames(power, 64)
    assert kept.shape == (64, 20)
    window_sums = [power[s : s + 64].sum() for s in range(len(power) - 63)]
    assert kept.sum() == pytest.approx(max(window_sums))
    loud = power.sum(axis=1) > 1e-3
    assert loud.sum() == (kept.sum(axis=1) > 1e-3).sum()  # the whole loud tone is inside the crop


def test_normalization_fits_zero_mean_unit_std_per_feature():
    rng = np.random.default_rng(0)
    x = rng.normal([[-10.0, 0.0, 5.0]], [[3.0, 0.5, 2.0]], size=(50, 40, 3)).astype(np.float32)
    x[..., 1] = 7.0  # a constant feature: std floored, no division by zero
    norm = Normalization.fit(x)
    assert norm.mean.shape == norm.std.shape == (3,) and norm.mean.dtype == np.float32
    z = norm(x)
    assert z.dtype == np.float32 and np.isfinite(z).all()
    np.testing.assert_allclose(z.reshape(-1, 3).mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.reshape(-1, 3).std(0)[[0, 2]], 1.0, atol=1e-4)
    again = Normalization.from_dict(norm.to_dict())
    np.testing.assert_array_equal(again.mean, norm.mean)
    np.testing.assert_array_equal(again.std, norm.std)
