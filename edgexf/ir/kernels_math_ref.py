"""NumPy float32 mirrors of firmware/kernels/activation.c and conv1d.c, bit for bit (the math kernels
recurrent models need: exp, sigmoid, silu, softplus, tanh, rsqrt, sqrt, sum, conv1d).

The same rules as edgexf/ir/kernels_ref.py, whose scalar functions (expf, tanhf, log1pf) these build on:
the C's float32 operations in the C's order, reductions as a Python loop over the reduced index,
inf/NaN silently as in C.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.kernels_ref import expf, log1pf, tanhf

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
    padding: int = 0,
    groups: int = 1,
) -> np.ndarray:
    """Mirrors exf_conv1d_f32: x (n, c, l) conv w (o, c / groups, k) + b (o,) -> (n, o, ol), zero padding
    on both sides, taps outside the signal skipped. Vectorized over batch, groups, channels and positions;
    the loop over (ic, kx) is the C's accumulation order."""
    x, w = _as_f32(x), _as_f32(w)
    n, c, length = x.shape
    o, cg, k = w.shape
    if c % groups or o % groups or cg != c // groups:
        raise ValueError(f"conv1d_f32: x {x.shape} and w {w.shape} do not fit groups={groups}")
    og = o // groups
    ol = (length + 2 * padding - k) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding))).reshape(n, groups, cg, length + 2 * padding)
    wg = w.reshape(groups, og, cg, k)
    acc = np.zeros((n, groups, og, ol), np.float32)
    if b is not None:
        acc[...] = _as_f32(b).reshape(groups, og, 1)  # acc = b[oc], not 0 + b[oc] (-0.0 stays -0.0)
    x0 = np.arange(ol) * stride - padding  # (ol,) input position of tap 0
    for ic in range(cg):
        for kx in range(k):
            ok = (x0 + kx >= 0) & (x0 + kx < length)
            patch = xp[:, :, ic, kx : kx + stride * (ol - 1) + 1 : stride]  # (n, groups, ol)
            term = acc + patch[:, :, None, :] * wg[None, :, :, ic, kx, None]
            acc = term if ok.all() else np.where(ok, term, acc)
    return acc.reshape(n, o, ol)
