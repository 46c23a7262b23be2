"""NumPy float32 mirrors of the C kernels in firmware/kernels/, bit for bit.

Every float32 operation (+ - * /, sqrt) is correctly rounded in C and in NumPy alike, so doing the same
operations in the same order gives the same bits. Each function therefore spells out the C loop:
reductions are a Python loop over the reduced index (never np.sum / np.dot / np.matmul, which reorder),
vectorized over everything else. All arrays and constants are float32; results are float32.

Overflow and NaN come out as IEEE inf/NaN without NumPy warnings, as in C (each function runs under its
own np.errstate(all="ignore"); one instance per function, since NumPy 1.x's is not reentrant).

Data movement (exf_copy_rows, exf_permute) needs no mirror: np.transpose, slicing and np.concatenate
are exact.

Cost: one NumPy op per reduction step, so a linear layer is k vector ops of size rows * m. Fine for
models that fit a microcontroller; not a fast inference engine.
"""

from __future__ import annotations

import numpy as np

f32 = np.float32

# ---- scalar math -------------------------------------------------------------------------------

_EXP_POLY = tuple(
    f32(c)
    for c in (
        1.9875691500e-4,
        1.3981999507e-3,
        8.3334519073e-3,
        4.1665795894e-2,
        1.6666665459e-1,
        5.0000001201e-1,
    )
)
_ERF_P = f32(0.3275911)
_ERF_A = tuple(f32(c) for c in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
_ERF_TAYLOR = tuple(  # highest power first
    f32(c)
    for c in (
        1.64621144e-06,
        -1.49256502e-05,
        0.000120553326,
        -0.000854832702,
        0.00522397785,
        -0.0268661715,
        0.112837918,
        -0.376126379,
        1.12837923,
    )
)


def _as_f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


@np.errstate(all="ignore")  # C gives inf/NaN silently
def expf(x) -> np.ndarray:
    """Mirrors exf_expf bit for bit: Cephes expf on x clamped to [-87, 88]; NaN stays NaN."""
    x = _as_f32(x)
    nan = np.isnan(x)
    xc = np.where(nan, f32(0), np.minimum(np.maximum(x, f32(-87.0)), f32(88.0)))
    t = xc * f32(1.44269504) + f32(0.5)
    fn = np.floor(t)  # C: int conversion then a fix-up, the same floor on [-125, 127.5]
    r = (xc - fn * f32(0.693359375)) - fn * f32(-2.12194440e-4)
    p = _EXP_POLY[0]
    for c in _EXP_POLY[1:]:
        p = p * r + c
    y = (p * (r * r) + r) + f32(1.0)
    scale = ((fn.astype(np.int32) + 127) << 23).view(np.float32)
    return np.where(nan, x, y * scale)


@np.errstate(all="ignore")
def erff(x) -> np.ndarray:
    """Mirrors exf_erff bit for bit: Taylor series for |x| < 0.75, else Abramowitz & Stegun 7.1.26, odd."""
    x = _as_f32(x)
    z = x * x
    p = _ERF_TAYLOR[0]
    for c in _ERF_TAYLOR[1:]:
        p = p * z + c
    small = x * p
    a = np.abs(x)
    t = f32(1.0) / (f32(1.0) + _ERF_P * a)
    a1, a2, a3, a4, a5 = _ERF_A
    q = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    y = f32(1.0) - q * expf(-(a * a))
    return np.where(a < f32(0.75), small, np.where(x < 0, -y, y))


@np.errstate(all="ignore")
def tanhf(x) -> np.ndarray:
    """Mirrors exf_tanhf bit for bit: (1 - e) / (1 + e) with e = exp(-2|x|), odd."""
    x = _as_f32(x)
    e = expf(f32(-2.0) * np.abs(x))
    y = (f32(1.0) - e) / (f32(1.0) + e)
    return np.where(x < 0, -y, y)


_LOG_POLY = tuple(f32(c) for c in (0.666666687, 0.400000006, 0.285714298, 0.222222224))  # 2 / (2n + 1)
_LN2_HI, _LN2_LO = f32(0.693359375), f32(-2.12194440e-4)  # exf_expf's split: k * _LN2_HI is exact


def _log_split(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirrors log_split: u (normal, > 0) = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)) -> (f, float k)."""
    bits = u.view(np.uint32)
    k = (bits >> 23).astype(np.int32) - 127
    m = ((bits & np.uint32(0x007FFFFF)) | np.uint32(0x3F800000)).view(np.float32)
    big = m >= f32(1.41421356)
    return np.where(big, m * f32(0.5), m) - f32(1.0), (k + big).astype(np.float32)


def _log_reduced(f: np.ndarray, fk: np.ndarray, c) -> np.ndarray:
    """Mirrors log_reduced: k ln2 + log(1 + f) + c."""
    s = f / (f32(2.0) + f)
    z = s * s
    a, b, c3, d = _LOG_POLY
    r = z * (a + z * (b + z * (c3 + z * d)))
    hfsq = (f32(0.5) * f) * f
    return fk * _LN2_HI - ((hfsq - (s * (hfsq + r) + (fk * _LN2_LO + c))) - f)


@np.errstate(all="ignore")
def logf(x) -> np.ndarray:
    """Mirrors exf_logf bit for bit: NaN below 0, -inf at +-0, subnormals scaled by 2^25 first."""
    x = _as_f32(x)
    sub = (x > 0) & (x < f32(1.17549435e-38))
    f, fk = _log_split(np.where(sub, x * f32(33554432.0), np.where(x > 0, x, f32(1.0))))
    y = _log_reduced(f, fk - np.where(sub, f32(25.0), f32(0.0)), f32(0.0))
    special = np.where(x == 0, f32(-np.inf), np.where(x < 0, f32(np.nan), x))  # NaN and +inf stay
    return np.where((x > 0) & (x < f32(np.inf)), y, special)


@np.errstate(all="ignore")
def log1pf(x) -> np.ndarray:
    """Mirrors exf_log1pf bit for bit: log(u) of u = 1 + x plus the rounding error of that sum over u."""
    x = _as_f32(x)
    ok = (x > f32(-1.0)) & (x < f32(np.inf)) & (x != 0)
    xs = np.where(ok, x, f32(1.0))
    u = f32(1.0) + xs
    c = np.where(xs <= f32(1.0), xs - (u - f32(1.0)), f32(1.0) - (u - xs))  # exact (Fast2Sum)
    f, fk = _log_split(u)
    y = _log_reduced(f, fk, c / u)
    special = np.where(x == f32(-1.0), f32(-np.inf), np.where(x < f32(-1.0), f32(np.nan), x))
    return np.where(ok, y, special)


# ---- dot products ------------------------------------------------------------------------------


@np.errstate(all="ignore")
def linear_f32(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Mirrors exf_linear_f32 bit for bit: x (..., k) @ w (m, k)^T + b (m,) -> (..., m)."""
    x, w = _as_f32(x), _as_f32(w)
    k = x.shape[-1]
    acc = np.zeros(x.shape[:-1] + (w.shape[0],), np.float32)
    if b is not None:
        acc[...] = _as_f32(b)  # C's acc = b[j] (not 0 + b[j], which turns -0.0 into +0.0)
    wt = np.ascontiguousarray(w.T)  # (k, m): row i is w[:, i]
    term = np.empty_like(acc)  # in place: the same float32 products and sums, without two arrays per i
    for i in range(k):
        np.multiply(x[..., i, None], wt[i], out=term)
        acc += term
    return acc


@np.errstate(all="ignore")
def matmul_f32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mirrors exf_matmul_f32 bit for bit: a (..., m, k) @ b (..., k, n) -> (..., m, n), batch dims
    broadcast as in np.matmul (the C kernel takes one batch dim with stride 0 for broadcasting)."""
    a, b = _as_f32(a), _as_f32(b)
    k = a.shape[-1]
    if b.shape[-2] != k:
        raise ValueError(f"matmul_f32: inner dims differ, a {a.shape} b {b.shape}")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    acc = np.zeros(batch + (a.shape[-2], b.shape[-1]), np.float32)
    term = np.empty_like(acc)
    for i in range(k):
        np.multiply(a[..., :, i, None], b[..., None, i, :], out=term)
        acc += term
    return acc


def pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv_pads(padding: int | tuple[int, ...]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from an int, a symmetric (ph, pw) or the four pads themselves."""
    if isinstance(padding, int):
        return (padding,) * 4
    if len(padding) == 4:
        return tuple(int(p) for p in padding)
    ph, pw = pair(tuple(padding))
    return ph, pw, ph, pw


def conv_out_size(size: int, k: int, stride: int, dilation: int, pad_lo: int, pad_hi: int) -> int:
    return (size + pad_lo + pad_hi - dilation * (k - 1) - 1) // stride + 1


@np.errstate(all="ignore")
def conv2d_f32(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """Mirrors exf_conv2d_f32 bit for bit: x (n, c, h, wd) conv w (o, c/groups, kh, kw) + b (o,) ->
    (n, o, oh, ow), zero padding (ph, pw) or (top, left, bottom, right), dilation, groups. Taps outside
    the image are skipped (not added as 0 * w, which would differ for -0.0 and for inf/NaN weights).
    Vectorized over batch, groups, channels and positions; the loop over (ic, ky, kx) is the C's order."""
    x, w = _as_f32(x), _as_f32(w)
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    pt, pl, pb, pr = conv_pads(padding)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    if c % groups or o % groups or cg != c // groups:
        raise ValueError(f"conv2d_f32: x {x.shape} and w {w.shape} do not fit groups={groups}")
    og = o // groups
    oh, ow = conv_out_size(h, kh, sh, dh, pt, pb), conv_out_size(wd, kw, sw, dw, pl, pr)
    xp = np.pad(x, ((0, 0), (0, 0), (pt, max(pb, 0)), (pl, max(pr, 0))))
    xp = xp.reshape(n, groups, cg, xp.shape[2], xp.shape[3])
    wg = w.reshape(groups, og, cg, kh, kw)
    acc = np.zeros((n, groups, og, oh, ow), np.float32)
    if b is not None:
        acc[...] = _as_f32(b).reshape(groups, og, 1, 1)  # acc = b[oc], not 0 + b[oc] (-0.0 stays -0.0)
    iy0 = np.arange(oh) * sh - pt  # (oh,) image row of tap ky = 0
    ix0 = np.arange(ow) * sw - pl  # (ow,)
    for ic in range(cg):
        for ky in range(kh):
            row_ok = (iy0 + ky * dh >= 0) & (iy0 + ky * dh < h)
            for kx in range(kw):
                ok = row_ok[:, None] & ((ix0 + kx * dw >= 0) & (ix0 + kx * dw < wd))[None, :]  # (oh, ow)
                y0, x0 = ky * dh, kx * dw
                patch = xp[:, :, ic, y0 : y0 + sh * (oh - 1) + 1 : sh, x0 : x0 + sw * (ow - 1) + 1 : sw]
                term = acc + patch[:, :, None] * wg[None, :, :, ic, ky, kx, None, None]
                acc = term if ok.all() else np.where(ok, term, acc)
    return acc.reshape(n, o, oh, ow)


# ---- row reductions ----------------------------------------------------------------------------


def _sum_last(x: np.ndarray) -> np.ndarray:
    """Sequential float32 sum over the last axis from 0.0f, as the C loops do."""
    s = np.zeros(x.shape[:-1], np.float32)
    for i in range(x.shape[-1]):
        s = s + x[..., i]
    return s


@np.errstate(all="ignore")
def layernorm_f32(
    x: np.ndarray, gamma: np.ndarray | None = None, beta: np.ndarray | None = None, eps: float = 1e-5
) -> np.ndarray:
    """Mirrors exf_layernorm_f32 bit for bit: normalize x (..., d) over the last axis."""
    x = _as_f32(x)
    d = f32(x.shape[-1])
    mean = _sum_last(x) / d
    dx = x - mean[..., None]
    var = _sum_last(dx * dx) / d
    inv = f32(1.0) / np.sqrt(var + f32(eps))  # np.sqrt is correctly rounded, as exf_sqrtf
    y = dx * inv[..., None]
    if gamma is not None:
        y = y * _as_f32(gamma)
    if beta is not None:
        y = y + _as_f32(beta)
    return y


@np.errstate(all="ignore")
def softmax_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_softmax_f32 bit for bit: softmax over the last axis."""
    x = _as_f32(x)
    e = expf(x - np.max(x, axis=-1, keepdims=True))
    return e / _sum_last(e)[..., None]


@np.errstate(all="ignore")
def mean_f32(x: np.ndarray, axis: int | tuple[int, ...], keepdims: bool = False) -> np.ndarray:
    """Mirrors exf_mean_f32 bit for bit: mean over `axis`, which must be one axis or adjacent axes
    (the C kernel sees (outer, n, inner); adjacent axes are summed in row-major order)."""
    x = _as_f32(x)
    axes = sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis))
    if axes != list(range(axes[0], axes[0] + len(axes))):
        raise ValueError(f"mean_f32: axes {axis} are not adjacent")
    lo, hi = axes[0], axes[-1] + 1
    n = int(np.prod(x.shape[lo:hi]))
    outer, inner = x.shape[:lo], x.shape[hi:]
    xr = np.moveaxis(x.reshape(outer + (n,) + inner), len(outer), -1)  # (outer..., inner..., n)
    y = _sum_last(xr) / f32(n)
    return y.reshape(outer + (1,) * len(axes) + inner) if keepdims else y


# ---- elementwise -------------------------------------------------------------------------------


@np.errstate(all="ignore")
def gelu_f32(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Mirrors exf_gelu_f32 (approximate='none') or exf_gelu_tanh_f32 ('tanh') bit for bit."""
    x = _as_f32(x)
    if approximate == "none":
        return (f32(0.5) * x) * (f32(1.0) + erff(x * f32(0.70710677)))
    if approximate == "tanh":
        u = f32(0.7978846) * (x + f32(0.044715) * ((x * x) * x))
        return (f32(0.5) * x) * (f32(1.0) + tanhf(u))
    raise ValueError(f"gelu_f32: approximate must be 'none' or 'tanh', not {approximate!r}")


@np.errstate(all="ignore")
def relu_f32(x: np.ndarray) -> np.ndarray:
    """Mirrors exf_relu_f32 bit for bit: x > 0 ? x : +0.0 (so NaN and -0.0 give +0.0)."""
    x = _as_f32(x)
    return np.where(x > 0, x, f32(0.0))


@np.errstate(all="ignore")
def add_f32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mirrors exf_add_f32 bit for bit, with NumPy broadcasting."""
    return _as_f32(a) + _as_f32(b)


@np.errstate(all="ignore")
def sub_f32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mirrors exf_sub_f32 bit for bit, with NumPy broadcasting."""
    return _as_f32(a) - _as_f32(b)


@np.errstate(all="ignore")
def mul_f32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mirrors exf_mul_f32 bit for bit, with NumPy broadcasting."""
    return _as_f32(a) * _as_f32(b)


@np.errstate(all="ignore")
def div_f32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mirrors exf_div_f32 bit for bit, with NumPy broadcasting (x / 0 gives inf or NaN, silently)."""
    return _as_f32(a) / _as_f32(b)
