"""The arithmetic of quantization: choosing scales and zero points, fixed-point multipliers, tables.

Conventions (see also edgexf/ir/ops_q.py and the int8 section of edgexf_kernels.h):
- real = scale * (q - zero_point).
- Activations in int8 are asymmetric: [min, max] (widened to include 0, so 0.0 is exact) maps onto
  [-128, 127] with an integer zero point. Softmax probabilities, GELU outputs and LayerNorm outputs
  with a learned shift are one-sided or off-centre; a symmetric range would waste up to one of the
  eight bits on them. The zero point costs nothing in linear layers (folded into the bias at compile
  time) and one subtraction per operand in activation x activation matmuls and the patch conv.
- int16 activations (kept where int8 loses too much) and all weights are symmetric (zero point 0);
  weights are per output channel in [-127, 127], as in TFLite's int8 scheme.
- Python rounds with np.round (half to even) when it quantizes weights and inputs: only Python does
  that, so no C code has to agree with it. What C computes is specified by the kernels' contract.
"""

from __future__ import annotations

import math

import numpy as np

from edgexf.errors import QuantizationError
from edgexf.ir.graph import QParams

LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (-(2**31), 2**31 - 1)}
MAX_SHIFT = 62  # requantize(acc, mult, shift) needs shift in [1, 62]
SOFTMAX_OUT = QParams(1.0 / 256.0, -128)  # probabilities in [0, 1) over all 256 codes
SOFTMAX_EXP_ONE = 1 << 16  # the softmax exp table's entry for x == row max
LAYERNORM_GSHIFT_MAX = 22
TINY_RANGE = 1e-8  # a tensor that is always 0 still gets a usable scale


def activation_params(lo: float, hi: float, dtype: str, symmetric: bool = False) -> QParams:
    """Per-tensor parameters for a calibrated range: asymmetric int8, symmetric int16 (and int8 with
    `symmetric`, for a recurrent state: edgexf_reset() zeroes its bytes, which must mean 0.0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if dtype == "int16" or symmetric:
        return QParams(max(-lo, hi, TINY_RANGE) / LIMITS[dtype][1], 0)
    qmin, qmax = LIMITS[dtype]
    scale = max(hi - lo, TINY_RANGE) / (qmax - qmin)
    zero_point = int(np.clip(round(qmin - lo / scale), qmin, qmax))
    return QParams(scale, zero_point)


def quantize(x: np.ndarray, params: QParams, dtype: str) -> np.ndarray:
    """Float values to integers (per-tensor params): round(x / scale) + zero_point, clamped."""
    lo, hi = LIMITS[dtype]
    with np.errstate(over="ignore"):  # beyond float64 is +-inf, which the clamp below takes to lo / hi
        q = np.round(np.asarray(x, np.float64) / params.scale) + params.zero_point
    return np.clip(q, lo, hi).astype(dtype)


def dequantize(q: np.ndarray, params: QParams) -> np.ndarray:
    return ((np.asarray(q, np.float64) - params.zero_point) * params.scale).astype(np.float32)


def quantize_weight(
    w: np.ndarray, axis: int = 0, min_scale: np.ndarray | None = None
) -> tuple[np.ndarray, QParams]:
    """Symmetric per-channel int8 along `axis`: scale_c = max|w_c| / 127, codes in [-127, 127].
    min_scale: a floor per channel (see bias_scale_floor)."""
    w = np.asarray(w, np.float64)
    other = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=other) if other else np.abs(w)
    scales = np.maximum(amax, TINY_RANGE) / 127.0
    if min_scale is not None:
        scales = np.maximum(scales, min_scale)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scales.reshape(shape)), -127, 127).astype(np.int8)
    return q, QParams(tuple(float(s) for s in scales), 0, axis)


BIAS_LIMIT = 2.0**30  # |bias codes|: half of int32, the other half for the input zero point's term


def bias_scale_floor(bias: np.ndarray, input_scale: float) -> np.ndarray:
    """The smallest weight scale per output channel at which the bias b_c, coded at s_x s_w_c, stays
    within BIAS_LIMIT.

    A channel whose weights are all near zero next to a bias that is not (a thin low-rank factor: with
    rank 1 each output row of B (m, 1) is one number, some of them close to 0) would otherwise get a
    scale max|w_c| / 127 so small that b_c / (s_x s_w_c) overflows int32. Raising that channel's scale
    costs its weights precision they cannot show anyway: the channel's output is its bias to within
    max|w_c| sum|x|, below what int8 codes at the bias's magnitude resolve."""
    return np.abs(np.asarray(bias, np.float64)) / (input_scale * BIAS_LIMIT)


def multiplier(real: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """real >= 0 as (mult, shift) with real ~= mult * 2^-shift, mult in [2^30, 2^31), shift in [1, 62].

    Multipliers too small for shift 62 lose precision (and become 0 below 2^-63): such a layer's
    output does not depend on its input at int8 resolution anyway.
    """
    real = np.atleast_1d(np.asarray(real, np.float64))
    if np.any(real < 0) or not np.all(np.isfinite(real)):
        raise QuantizationError(f"requantization multiplier {real} is negative or not finite")
    mant, exp = np.frexp(real)  # real = mant * 2^exp, mant in [0.5, 1)
    mult = np.round(mant * 2.0**31).astype(np.int64)
    carry = mult == 2**31
    mult[carry] //= 2
    exp = exp + carry
    shift = 31 - exp
    small = shift > MAX_SHIFT
    mult[small] = np.round(real[small] * 2.0**MAX_SHIFT).astype(np.int64)
    shift[small] = MAX_SHIFT
    zero = real == 0
    mult[zero], shift[zero] = 0, 1
    if np.any(shift < 1):
        raise QuantizationError(f"requantization multiplier {real.max():.3g} is too large (>= 2^30)")
    return mult.astype(np.int32), shift.astype(np.int32)


def scalar_multiplier(real: float) -> tuple[int, int]:
    mult, shift = multiplier(real)
    return int(mult[0]), int(shift[0])


def pair_multipliers(ra: float, rb: float) -> tuple[int, int, int]:
    """Two signed multipliers with one shift (for a + b): (ma, mb, shift), the larger |m| in [2^30, 2^31)."""
    top = max(abs(ra), abs(rb))
    if top == 0:
        return 0, 0, 1
    shift = min(MAX_SHIFT, 31 - math.frexp(top)[1])
    if shift < 1:
        raise QuantizationError(f"rescaling factor {top:.3g} is too large for an int8 add")
    ma, mb = round(ra * 2.0**shift), round(rb * 2.0**shift)
    if max(abs(ma), abs(mb)) >= 2**31:  # rounding up to 2^31
        shift -= 1
        ma, mb = round(ra * 2.0**shift), round(rb * 2.0**shift)
    return int(ma), int(mb), int(shift)


def unary_table(fn, x_params: QParams, y_params: QParams) -> np.ndarray:
    """The 256-entry int8 table of y = fn(x): table[q + 128] = quantize(fn(dequantize(q))), fn in float64."""
    q = np.arange(-128, 128)
    x = (q - x_params.zero_point) * x_params.scale
    with np.errstate(all="ignore"):
        y = np.asarray(fn(x), np.float64)
    y = np.nan_to_num(y, nan=0.0, posinf=np.finfo(np.float64).max, neginf=-np.finfo(np.float64).max)
    return quantize(y, y_params, "int8")


def softmax_exp_table(x_scale: float) -> np.ndarray:
    """exp(scale * (i - 255)) * 2^16, rounded, for i in 0..255: the table the int8 softmax reads."""
    d = np.arange(256, dtype=np.float64) - 255.0
    return np.round(np.exp(x_scale * d) * SOFTMAX_EXP_ONE).astype(np.int32)


def layernorm_plain_constants(eps: float, d: int, x_scale: float, z_params: QParams) -> tuple[int, int, int]:
    """(eps_term, mult, mshift) for the integer LayerNorm without gamma and beta: mult / 2^mshift =
    d / s_z (mult in [2^30, 2^31), mshift in [1, 62]), eps_term as layernorm_constants'."""
    mult, mshift = scalar_multiplier(d / z_params.scale)
    eps_term = int(min(round(d * d * eps / (x_scale * x_scale)), 2**50))
    return eps_term, mult, mshift


def layernorm_constants(
    gamma: np.ndarray, beta: np.ndarray, eps: float, d: int, x_scale: float, y_params: QParams
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(G, B, eps_term, gshift) for exf_layernorm_*: G = gamma / s_y * 2^gshift, B likewise (int32),
    eps_term = d^2 * eps / s_x^2 (eps in units of the integer statistics), gshift as large as keeps
    |G| <= 2^30 (at most 22, so B = beta / s_y * 2^gshift stays in int32 for |beta / s_y| < 2^9)."""
    g = np.asarray(gamma, np.float64) / y_params.scale
    b = np.asarray(beta, np.float64) / y_params.scale
    top = float(np.abs(g).max(initial=0.0))
    gshift = LAYERNORM_GSHIFT_MAX if top == 0 else int(np.clip(30 - math.ceil(math.log2(top)), 0, 22))
    lo, hi = LIMITS["int32"]
    G = np.clip(np.round(g * 2.0**gshift), lo, hi).astype(np.int32)
    B = np.clip(np.round(b * 2.0**gshift), lo, hi).astype(np.int32)
    eps_term = int(min(round(d * d * eps / (x_scale * x_scale)), 2**50))
    return G, B, eps_term, gshift
