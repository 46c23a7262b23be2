"""Speech features in NumPy only: log-mel energies or MFCCs, a fixed number of frames, normalisation.

For one recording (samples as float in [-1, 1), e.g. int16 / 32768):
 1. frames of n_fft samples every hop samples (the last one zero-padded), times a periodic Hann window;
 2. power spectrum |rfft(frame)|^2 / n_fft, n_fft/2 + 1 bins;
 3. a mel filterbank: n_mels triangular filters (HTK mel scale, peak 1) between f_min and f_max;
 4. log(mel power + floor);
 5. a fixed number of frames: a longer recording keeps the `frames` consecutive frames with the most
    energy (the sum of their mel power); a shorter one is padded at the START with silent frames
    (what an all-zero signal gives, log(floor) in every band), so the utterance ends at the last step,
    the one a recurrent classifier reads;
 6. optionally MFCCs: the first n_mfcc coefficients of an orthonormal DCT-II of each log-mel frame.
Normalisation (`Normalization`) is per feature, mean and standard deviation over all frames of the
training set (padding included, since the model sees it); it is stored with the model.

The defaults (8 kHz audio, n_fft 256 = 32 ms, hop 128 = 16 ms, 20 mel bands, 64 frames = 1.04 s)
suit the Free Spoken Digit Dataset, whose recordings last 0.14-2.3 s (median 0.42 s; 99.5% under 1 s).

On the STM32F746 (216 MHz Cortex-M7 with a single-precision FPU) the same features are cheap; an
estimate, not a measurement: per 16 ms hop, the window is 256 multiplies, CMSIS-DSP's
arm_rfft_fast_f32 of 256 points roughly 5-10k cycles, the power spectrum about 400 cycles, the mel
bank as a sparse matrix (each of the 129 bins lies in at most 2 triangles) under 300 multiply-adds, 20
logf about 1k cycles, and the optional DCT (13 x 20) 260 multiply-adds: about 10-15k cycles, under
0.1 ms, well under 1% of the CPU in real time. Memory: a 256-sample frame, a 256-float spectrum and the
sparse filterbank, about 3 KB, plus the model's input window. The float32 arithmetic on the board
differs from this float64 NumPy code by rounding only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int = 8000
    n_fft: int = 256  # samples per frame (32 ms at 8 kHz); the FFT size
    hop: int = 128  # samples between frames (16 ms)
    n_mels: int = 20
    n_mfcc: int = 0  # 0: log-mel features; else the first n_mfcc DCT-II coefficients (MFCC)
    frames: int = 64  # T, frames per example after padding or cropping
    f_min: float = 20.0
    f_max: float = 0.0  # 0: sample_rate / 2
    floor: float = 1e-6  # added to the mel power before the log (silence gives log(floor))

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_fft", "hop", "n_mels", "frames"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, not {getattr(self, name)}")
        if not 0 <= self.n_mfcc <= self.n_mels:
            raise ValueError(f"n_mfcc must be in [0, n_mels = {self.n_mels}], not {self.n_mfcc}")
        if not 0 <= self.f_min < self.top_frequency <= self.sample_rate / 2:
            raise ValueError(
                f"need 0 <= f_min < f_max <= sample_rate / 2, not {self.f_min}, {self.top_frequency}"
            )
        if not self.floor > 0:
            raise ValueError(f"floor must be > 0, not {self.floor}")

    @property
    def top_frequency(self) -> float:
        return self.f_max or self.sample_rate / 2

    @property
    def num_features(self) -> int:
        """d_in, features per frame."""
        return self.n_mfcc or self.n_mels

    def to_dict(self) -> dict:
        return asdict(self)


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(cfg: FeatureConfig) -> np.ndarray:
    """(n_mels, n_fft/2 + 1) triangular filters, evenly spaced in mel, peak 1, evaluated at bin centres."""
    edges = mel_to_hz(np.linspace(hz_to_mel(cfg.f_min), hz_to_mel(cfg.top_frequency), cfg.n_mels + 2))
    bins = np.arange(cfg.n_fft // 2 + 1) * cfg.sample_rate / cfg.n_fft  # (bins,) Hz
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # (n_mels, 1) each
    rising = (bins - lo) / (mid - lo)
    falling = (hi - bins) / (hi - mid)
    return np.clip(np.minimum(rising, falling), 0.0, None)


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in) orthonormal DCT-II: y = M @ x."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    M = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    M[0] /= np.sqrt(2.0)
    return M


def frame_signal(signal: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(n_frames, n_fft): frames every `hop` samples; zero-padded at the end to fill the last one."""
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1:
        raise ValueError(f"expected a 1-D (mono) signal, got shape {signal.shape}")
    n_frames = 1 + -(-max(0, len(signal) - n_fft) // hop)  # ceil division
    padded = np.zeros((n_frames - 1) * hop + n_fft)
    padded[: len(signal)] = signal
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]  # (n_frames, n_fft)
    return padded[idx]


def mel_power(signal: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """(n_frames, n_mels) mel-band power of every frame (before the log), float64."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(cfg.n_fft) / cfg.n_fft)  # periodic Hann
    spectrum = np.fft.rfft(frame_signal(signal, cfg.n_fft, cfg.hop) * window, axis=-1)
    power = (spectrum.real**2 + spectrum.imag**2) / cfg.n_fft  # (n_frames, n_fft/2 + 1)
    return power @ mel_filterbank(cfg).T


def fix_frames(power: np.ndarray, frames: int) -> np.ndarray:
    """(n, F) -> (frames, F): crop to the `frames` consecutive rows with the largest total power, or pad
    at the start with rows of zeros (silence)."""
    n = len(power)
    if n < frames:
        return np.concatenate([np.zeros((frames - n, power.shape[1])), power])
    window_sums = np.convolve(power.sum(axis=1), np.ones(frames), mode="valid")  # (n - frames + 1,)
    start = int(np.argmax(window_sums))  # the first of equal maxima
    return power[start : start + frames]


def compute_features(signal: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """One recording -> (cfg.frames, cfg.num_features) float32 log-mel or MFCC features."""
    logmel = np.log(fix_frames(mel_power(signal, cfg), cfg.frames) + cfg.floor)  # (T, n_mels)
    if cfg.n_mfcc:
        logmel = logmel @ dct_matrix(cfg.n_mfcc, cfg.n_mels).T  # (T, n_mfcc)
    return logmel.astype(np.float32)


@dataclass(frozen=True)
class Normalization:
    """Per-feature (x - mean) / std; mean and std (F,) float32, from the training set."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, min_std: float = 1e-6) -> Normalization:
        """x (N, T, F): statistics over every frame of every example (std floored at min_std)."""
        x = np.asarray(x, dtype=np.float64)
        flat = x.reshape(-1, x.shape[-1])  # (N*T, F)
        return cls(flat.mean(0).astype(np.float32), np.maximum(flat.std(0), min_std).astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float32) - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Normalization:
        return cls(np.asarray(d["mean"], dtype=np.float32), np.asarray(d["std"], dtype=np.float32))
