"""NumPy mirrors of the integer (int8/int16) C kernels in firmware/kernels/quant*.c, bit for bit.

The contract both sides follow is the "integer kernels" section of firmware/kernels/edgexf_kernels.h:
requantize(acc, mult, shift) = (acc * mult + 2^(shift-1)) >> shift in int64 (round half toward +inf),
then + zero point, then clamp to the output dtype. Integer arithmetic has no rounding, so the order of a
sum does not matter and the mirrors are fully vectorized; they compute in int64, where the C kernels
accumulate in int32 (equal as long as the code generator's no-overflow guarantees hold).

Dot products (linear, matmul, conv2d) run as float64 BLAS products: every term is an integer of at most
2^16 in magnitude, so every partial sum of fewer than 2^37 terms is an integer below 2^53, which float64
holds exactly, in any summation order. The result is converted back to int64 before requantizing.

Like edgexf/ir/kernels_ref.py, every function takes extra leading axes (a whole data set at once) and
broadcasts like NumPy. Results are np.int8 or np.int16 arrays.
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.kernels_ref import conv_out_size, conv_pads, pair

i64 = np.int64
_RANGE = {np.dtype(np.int8): (-128, 127), np.dtype(np.int16): (-32768, 32767)}


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def _exact_f64(x) -> np.ndarray:
    """Integers as float64, for exact BLAS dot products (see the module docstring)."""
    return np.asarray(x, dtype=np.int64).astype(np.float64)


def _to_int(acc_f64: np.ndarray) -> np.ndarray:
    return acc_f64.astype(np.int64)  # exact: the values are integers


# ---- shared arithmetic -------------------------------------------------------------------------


def requantize(acc, mult, shift) -> np.ndarray:
    """(acc * mult + 2^(shift-1)) >> shift in int64, broadcasting: round(acc * mult / 2^shift) with ties
    toward +inf (>> on int64 is arithmetic). shift in [1, 62]; |acc * mult| < 2^62."""
    shift = _i64(shift)
    if np.any(shift < 1) or np.any(shift > 62):
        raise ValueError("requantize: shift must be in [1, 62]")
    return (_i64(acc) * _i64(mult) + (i64(1) << (shift - 1))) >> shift


def clamp(v, dtype) -> np.ndarray:
    """Saturate integers to int8 or int16 and return that dtype."""
    dtype = np.dtype(dtype)
    if dtype not in _RANGE:
        raise ValueError(f"clamp: output dtype must be int8 or int16, not {dtype}")
    lo, hi = _RANGE[dtype]
    return np.clip(_i64(v), lo, hi).astype(dtype)


def isqrt(w) -> np.ndarray:
    """floor(sqrt(w)) exactly, elementwise, for int64 0 <= w < 2^62: a float64 square root (off by at
    most one here) corrected with exact int64 squares."""
    w = _i64(w)
    if np.any(w < 0) or np.any(w >= i64(1) << 62):
        raise ValueError("isqrt: w must be in [0, 2^62)")
    r = np.floor(np.sqrt(w.astype(np.float64))).astype(np.int64)
    while True:  # r*r and (r+1)^2 fit in int64: r <= 2^31
        too_big = r * r > w
        too_small = (r + 1) * (r + 1) <= w
        if not (too_big.any() or too_small.any()):
            return r
        r = r - too_big + too_small


def bitlen(v) -> np.ndarray:
    """Number of significant bits of non-negative int64 values (0 -> 0, 1 -> 1), exactly: frexp's exponent
    of float64(v), one too big where the conversion rounded v up to a power of two."""
    v = _i64(v)
    e = np.frexp(v.astype(np.float64))[1].astype(np.int64)
    return np.where(v > 0, np.where((v >> np.maximum(e - 1, 0)) == 0, e - 1, e), 0)


# ---- dot products ------------------------------------------------------------------------------


def linear_s8(x, w, bias, mult, shift, out_zp: int) -> np.ndarray:
    """Mirrors exf_linear_s8: x (..., k) int8 @ w (m, k)^T + bias (m,) (or None), per-channel mult and
    shift (m,) -> (..., m) int8."""
    acc = _to_int(_exact_f64(x) @ _exact_f64(w).T)
    if bias is not None:
        acc = acc + _i64(bias)
    return clamp(requantize(acc, mult, shift) + out_zp, np.int8)


def linear_q(x, w, bias, mult, shift, out_zp: int, out_dtype) -> np.ndarray:
    """Mirrors exf_linear_q: linear_s8 with x int8 or int16 and y int8 or int16 (out_dtype); the C
    accumulates in int64."""
    acc = _to_int(_exact_f64(x) @ _exact_f64(w).T)
    if bias is not None:
        acc = acc + _i64(bias)
    return clamp(requantize(acc, mult, shift) + out_zp, out_dtype)


def matmul_s8(a, b, a_zp: int, b_zp: int, mult: int, shift: int, out_zp: int) -> np.ndarray:
    """Mirrors exf_matmul_s8: (a - a_zp) (..., m, k) @ (b - b_zp) (..., k, n) -> (..., m, n) int8, batch
    axes broadcast as in np.matmul (the C kernel takes one batch axis, stride 0 to broadcast)."""
    acc = _to_int((_exact_f64(a) - a_zp) @ (_exact_f64(b) - b_zp))
    return clamp(requantize(acc, mult, shift) + out_zp, np.int8)


def conv2d_s8(
    x,
    w,
    bias,
    mult,
    shift,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, ...] = 0,
    in_zp: int = 0,
    out_zp: int = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> np.ndarray:
    """Mirrors exf_conv2d_s8: x (..., n, c, h, wd) int8 conv w (o, c/groups, kh, kw) int8 + bias (o,) (or
    None), per-channel mult and shift (o,) -> (..., n, o, oh, ow) int8; padding (ph, pw) or (top, left,
    bottom, right), dilation, groups as exf_conv2d_f32. Padding taps are skipped in C; here the centred
    input x - in_zp is padded with 0, which adds the same nothing (integer sums: any order is exact)."""
    x, w = np.asarray(x), np.asarray(w)
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    pt, pl, pb, pr = conv_pads(padding)
    lead, (c, h, wd) = x.shape[:-3], x.shape[-3:]
    o, cg, kh, kw = w.shape
    if c % groups or o % groups or cg != c // groups:
        raise ValueError(f"conv2d_s8: x {x.shape} and w {w.shape} do not fit groups={groups}")
    og = o // groups
    oh, ow = conv_out_size(h, kh, sh, dh, pt, pb), conv_out_size(wd, kw, sw, dw, pl, pr)
    xc = _exact_f64(x).reshape((-1, c, h, wd)) - in_zp
    xp = np.pad(xc, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    win = np.lib.stride_tricks.sliding_window_view(xp, span, axis=(2, 3))[..., ::dh, ::dw]
    win = win[:, :, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw]  # (N, c, oh, ow, kh, kw)
    wf = _exact_f64(w).reshape(groups, og, cg, kh, kw)
    win = win.reshape((len(win), groups, cg) + win.shape[2:])  # (N, groups, cg, oh, ow, kh, kw)
    # all groups in one product (a depthwise conv has as many groups as channels)
    acc = np.einsum("ngcpqyx,gocyx->npqgo", win, wf).reshape(len(win), oh, ow, o)  # (N, oh, ow, o)
    acc = _to_int(acc)
    if bias is not None:
        acc = acc + _i64(bias)
    y = clamp(requantize(acc, mult, shift) + out_zp, np.int8)  # per channel on the last axis
    return np.moveaxis(y, -1, 1).reshape(lead + (o, oh, ow))


# ---- row reductions ----------------------------------------------------------------------------


def softmax_s8(x, exp_table) -> np.ndarray:
    """Mirrors exf_softmax_s8: softmax over the last axis of int8 x, output int8 with scale 1/256 and
    zero point -128; exp_table (256,) int32 holds 2^16 exp(scale_x * (i - 255)). No division per
    element: p_i = (e_i R + 2^37) >> 38 with R = floor(2^46 / sum). 256 e_i R / 2^46 is below
    256 e_i / sum by less than 256 e_i / 2^46 <= 2^-22, so p_i is round(256 e_i / sum) with ties up,
    except where 256 e_i / sum lies in [k + 1/2, k + 1/2 + 2^-22): that may give k (a tie then rounds
    down unless sum divides 2^46)."""
    x = _i64(x)
    e = _i64(exp_table)[x - x.max(axis=-1, keepdims=True) + 255]
    total = e.sum(axis=-1, keepdims=True)  # in [2^16, 2^30]
    recip = (i64(1) << 46) // total  # one reciprocal per row: floor(2^46 / sum) <= 2^30
    return clamp(((e * recip + (i64(1) << 37)) >> 38) - 128, np.int8)  # ~round(256 e / sum) - 128


def layernorm_q(x, gamma, beta, eps_term: int, gshift: int, out_zp: int) -> np.ndarray:
    """Mirrors exf_layernorm_s8 (int8 x) and exf_layernorm_s16 (int16 x): normalize x (..., d) over the
    last axis -> int8. gamma, beta (d,) int32 are real gamma, beta / out_scale * 2^gshift; eps_term is
    d^2 eps / in_scale^2, rounded by the code generator."""
    x = _i64(x)
    d = x.shape[-1]
    s = x.sum(axis=-1, keepdims=True)
    v = d * (x * x).sum(axis=-1, keepdims=True) - s * s + int(eps_term)  # d^2 (var + eps), >= 0
    if np.any(v < 0) or np.any(v >= i64(1) << 55):
        raise ValueError("layernorm_q: d*Q - S*S + eps_term must be in [0, 2^55) (eps_term >= 0, d small)")
    nonzero = v != 0
    k = (62 - bitlen(v)) // 2
    r = isqrt(np.where(nonzero, v << (2 * np.where(nonzero, k, 0)), i64(1) << 60))  # dummy 2^60 if v == 0
    inv = (i64(1) << 61) // r
    sh = 45 - k
    z = np.where(nonzero, ((d * x - s) * inv + (i64(1) << (sh - 1))) >> sh, 0)  # 2^16 (x - mean) / std
    half = i64(1) << (gshift + 15)
    y = (_i64(gamma) * z + _i64(beta) * 65536 + half) >> (gshift + 16)
    return clamp(y + out_zp, np.int8)


LN_A_MAX = 1 << 22  # the plain LayerNorm's slope ceiling (quant_norm_plain.c LN_A_MAX)
# quant_norm_plain.c RSQRT_SEED: round(2^18 / sqrt(i + 0.5)) for i in [64, 256)
RSQRT_SEED = np.array([round(2**18 / (i + 0.5) ** 0.5) for i in range(64, 256)], np.uint64)


def rsqrt_2p46(w) -> np.ndarray:
    """Mirrors quant_norm_plain.c rsqrt_2p46: ~2^46 / sqrt(w) for uint64 w in [2^30, 2^32), a table
    seed and one Newton step, within 2^-15.4 of the true value (low but for the last bits)."""
    w = np.asarray(w, np.uint64)
    r0 = RSQRT_SEED[(w >> np.uint64(24)).astype(np.int64) - 64] << np.uint64(16)
    r0sq = (r0 * r0) >> np.uint64(32)
    h = (w * r0sq) >> np.uint64(30)
    return (r0 * (np.uint64(3 << 30) - h)) >> np.uint64(31)


def layernorm_plain_q(x, eps_term: int, mult: int, mshift: int, out_zp: int) -> np.ndarray:
    """Mirrors exf_layernorm_s8 / _s16 without gamma (gamma NULL): normalize x (..., d), d <= 2^15, over
    the last axis -> int8, per row the affine map y = sat8((A q + 2^8 B) >> f) of edgexf_kernels.h (f = 16
    for int8 x, 24 for int16), A ~ d / (sqrt(var + eps) out_scale) 2^f (mult / 2^mshift = d / out_scale)
    and B its row mean term."""
    f = 16 if np.asarray(x).dtype == np.int8 else 24
    x = _i64(x)
    d = x.shape[-1]
    s = x.sum(axis=-1, keepdims=True)
    v = d * (x * x).sum(axis=-1, keepdims=True) - s * s + int(eps_term)  # d^2 (var + eps), >= 0
    if np.any(v < 0) or np.any(v >= i64(1) << 55) or d > 1 << 15:
        raise ValueError("layernorm_plain_q: d <= 2^15 and d*Q - S*S + eps_term in [0, 2^55)")
    nonzero = v != 0
    e = (32 - bitlen(v)) >> 1  # floor, in [-12, 15] where v != 0
    w = np.where(e >= 0, v << np.maximum(2 * e, 0), v >> np.maximum(-2 * e, 0))
    p = np.uint64(mult) * rsqrt_2p46(np.where(nonzero, w, i64(1) << 30))  # < 2^62; dummy 2^30 if v == 0
    n = 46 + mshift - e - f  # >= 16 (int8), >= 8 (int16)
    u64 = np.uint64
    if f == 16:  # on the high word: floor((hi + 2^(n-33)) / 2^(n-32)), 2^22 where n <= 38
        hi = p >> u64(32)
        a = (hi + (u64(1) << np.clip(n - 33, 0, 62).astype(u64))) >> np.clip(n - 32, 0, 63).astype(u64)
        a = np.where(n <= 38, LN_A_MAX, np.minimum(a.astype(np.int64), LN_A_MAX))
    else:  # (p + 2^(n-1)) >> n, 0 where n >= 63
        a = (p + (u64(1) << np.clip(n - 1, 0, 62).astype(u64))) >> np.clip(n, 0, 63).astype(u64)
        a = np.where(n >= 63, 0, np.minimum(a.astype(np.int64), LN_A_MAX << 8))
    a = np.where(nonzero, a, 0)
    mean16 = (s << 16) // d  # floor
    b = out_zp * (i64(1) << (f - 8)) + (i64(1) << (f - 9)) - ((a * mean16 + (i64(1) << 23)) >> 24)
    return clamp((a * x + b * 256) >> f, np.int8)


def mean_q(x, axis: int | tuple[int, ...], in_zp: int, mult: int, shift: int, out_zp: int) -> np.ndarray:
    """Mirrors exf_mean_s8: sum of (x - in_zp) over `axis` (adjacent axes for the C kernel's
    (outer, n, inner) view), requantized -> int8, without the reduced axes."""
    axis = axis if isinstance(axis, int) else tuple(axis)  # NumPy takes an int or a tuple, not a list
    acc = (_i64(x) - in_zp).sum(axis=axis)
    return clamp(requantize(acc, mult, shift) + out_zp, np.int8)


# ---- elementwise -------------------------------------------------------------------------------


def lut_s8(x, table) -> np.ndarray:
    """Mirrors exf_lut_s8: table[x + 128] for int8 x and a 256-entry int8 table."""
    return np.asarray(table, dtype=np.int8)[_i64(x) + 128]


def add_q(a, b, a_zp: int, b_zp: int, ma: int, mb: int, shift: int, out_zp: int, out_dtype) -> np.ndarray:
    """Mirrors exf_add_q with NumPy broadcasting: t = (a - a_zp) ma + (b - b_zp) mb (int64), rounded
    >> shift with ties up, + out_zp, clamped to out_dtype (int8 or int16). A negative mb subtracts."""
    t = (_i64(a) - a_zp) * ma + (_i64(b) - b_zp) * mb
    return clamp(((t + (i64(1) << (shift - 1))) >> shift) + out_zp, out_dtype)


def mul_q(a, b, a_zp: int, b_zp: int, mult: int, shift: int, out_zp: int, out_dtype) -> np.ndarray:
    """Mirrors exf_mul_q with NumPy broadcasting: requantize((a - a_zp)(b - b_zp)) + out_zp, clamped to
    out_dtype (int8 or int16); a and b int8 (exf_mul_q) or either int16 (exf_mul_qq)."""
    p = (_i64(a) - a_zp) * (_i64(b) - b_zp)
    return clamp(requantize(p, mult, shift) + out_zp, out_dtype)


def requant_q(x, in_zp: int, mult: int, shift: int, out_zp: int, out_dtype) -> np.ndarray:
    """Mirrors exf_requant_q: requantize(x - in_zp) + out_zp clamped to out_dtype; int8 <-> int16."""
    return clamp(requantize(_i64(x) - in_zp, mult, shift) + out_zp, out_dtype)
