"""NumPy float32 mirrors of firmware/kernels/activation.c, bit for bit (the math kernels
recurrent models need: exp, sigmoid, silu, softplus, tanh, rsqrt, sqrt, sum, conv1d; and for ONNX models
erf, log, cumsum).

The same rules as edgexf/ir/kernels_ref.py, whose scalar functions (expf, tanhf, log1pf) these build on:
the C's float32 operations in the C's order, reductions as a Python loop over the reduced index,
inf/NaN silently as in C.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.kernels_ref import conv2d_f32, erff, expf, log1pf, logf, tanhf

f32 = np.float32


def _as_f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


@np.errstate(all="ignore")
def exp_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_exp_f32: exf_expf per element (saturates outside [-87, 88])."""
    return expf(x)


@np.errstate(all="ignore")
def sigmoid_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_sigmoid_f32: 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below (NaN the second way)."""
    x = _as_f32(x)
    pos = x >= 0
    e = expf(np.where(pos, -x, x))  # never a positive argument: no overflow
    return np.where(pos, f32(1.0) / (f32(1.0) + e), e / (f32(1.0) + e))


@np.errstate(all="ignore")
def silu_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_silu_f32: x * sigmoid(x), -0.0 below -87 (where exf_expf is clamped)."""
    x = _as_f32(x)
    return np.where(x < f32(-87.0), f32(-0.0), x * sigmoid_f32(x))


@np.errstate(all="ignore")
def softplus_f32(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    """Mirrors exf_softplus_f32: torch's softplus, log(1 + e^b) = max(b, 0) + log(1 + e^-|b|), b = beta x."""
    x, beta, threshold = _as_f32(x), f32(beta), f32(threshold)
    bx = x * beta
    neg_abs = np.where(bx < 0, bx, -bx)
    pos = np.where(bx > 0, bx, f32(0.0))
    y = (pos + log1pf(expf(neg_abs))) / beta
    return np.where(bx > threshold, x, y)


@np.errstate(all="ignore")
def tanh_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_tanh_f32: exf_tanhf per element."""
    return tanhf(x)


@np.errstate(all="ignore")
def sqrt_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_sqrt_f32: np.sqrt and exf_sqrtf are both correctly rounded; below 0 exf_sqrtf gives the
    NaN 0x7fc00000, where x86's sqrt (so NumPy's) gives 0xffc00000."""
    x = _as_f32(x)
    return np.where(x < 0, f32(np.nan), np.sqrt(x))


@np.errstate(all="ignore")
def rsqrt_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_rsqrt_f32: 1 / sqrt(x)."""
    return f32(1.0) / sqrt_f32(x)


@np.errstate(all="ignore")
def erf_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_erf_f32: exf_erff per element (the erf of exf_gelu_f32)."""
    return erff(_as_f32(x))


@np.errstate(all="ignore")
def log_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_log_f32: exf_logf per element (-inf at 0, NaN below)."""
    return logf(_as_f32(x))


@np.errstate(all="ignore")
def cumsum_f32(x: np.ndarray, axis: int, exclusive: bool = False, reverse: bool = False) -> np.ndarray:
    """Mirrors exf_cumsum_f32: running float32 sums from 0.0 along one axis, in index order (from the
    end when reverse); exclusive leaves out each element's own value (the first sum is 0.0)."""
    xr = np.moveaxis(_as_f32(x), axis, -1)
    order = range(xr.shape[-1] - 1, -1, -1) if reverse else range(xr.shape[-1])
    acc = np.zeros(xr.shape[:-1], np.float32)
    y = np.empty_like(xr)
    for i in order:
        if exclusive:
            y[..., i] = acc
            acc = acc + xr[..., i]
        else:
            acc = acc + xr[..., i]
            y[..., i] = acc
    return np.moveaxis(y, -1, axis)


@np.errstate(all="ignore")
def sum_f32(x: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
    """Mirrors exf_sum_f32: a sequential float32 sum from 0.0 over one axis, in index order."""
    x = _as_f32(x)
    xr = np.moveaxis(x, axis, -1)
    s = np.zeros(xr.shape[:-1], np.float32)
    for j in range(xr.shape[-1]):
        s = s + xr[..., j]
    return np.expand_dims(s, axis) if keepdims else s


@np.errstate(all="ignore")
def conv1d_f32(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int = 1,
    padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int = 1,
) -> np.ndarray:
    """x (n, c, l) conv w (o, c / groups, k) + b (o,) -> (n, o, ol), zero padding (both sides, or (left,
    right)), taps outside the signal skipped: the 2-D convolution of a one-row image, which is also how
    the C computes it (exf_conv2d_f32 with h = kh = 1)."""
    left, right = (padding, padding) if isinstance(padding, int) else padding
    x, w = _as_f32(x), _as_f32(w)
    pads, x, w = (0, left, 0, right), x[:, :, None, :], w[:, :, None, :]
    y = conv2d_f32(x, w, b, (1, stride), pads, (1, dilation), groups)
    return y[:, :, 0, :]
