"""NumPy mirror of exf_attention_s8 and exf_attention_s8_dsp (firmware/kernels/quant_attention.h states
the same arithmetic), bit for bit. Per head and query row i, with s_j = (q_i - q_zp) . (k_j - k_zp):

1. G_j = floor(s_j (-exp_mult) / 2^32): the scores in exp-table steps (times 2^(exp_shift - 32)), as
   SMMLA/SMMUL computes them; exp_mult > 0, so G falls as s rises and the row's largest score has the
   smallest G. One requantization: the attention scale and the step of the exp table are folded into
   exp_mult (edgexf/compress/attention_q.py).
2. idx_j = min(511, (G_j - min_j G + 2^(k - 1)) >> k), k = exp_shift - 32 >= 1: how many table steps
   s_j lies below the row's maximum, rounded; e_j = exp_table[idx_j] (512 entries, exp_table[0] = E_one
   <= 32767, the last 0), an unnormalized softmax numerator.
3. S = sum_j e_j in [E_one, t E_one]; y_c = sum_j e_j (v_jc - v_zp), |y_c| <= t E_one 255 < 2^31.
4. 1/S folded into the output requantization, once per row: n = clz32(S) - 1 (S 2^n in [2^30, 2^31)),
   Q = floor(2^61 / (S 2^n)) in (2^30, 2^31], mult = (av_mult Q) >> 31, shift = av_shift + 30 - n;
   out = clamp_s8(requantize(y_c, mult, shift) + out_zp). (av_mult, av_shift) is v_scale / out_scale.

No probability is rounded to int8: p_j = e_j / S reaches the output with the precision of e_j (the
table's rounding, at most 1/2 of a unit of E_one) and of the one multiplier per row (>= 29 bits).
"""

from __future__ import annotations

import numpy as np

from edgexf.ir.kernels_q import bitlen, clamp, requantize

i64 = np.int64


def attention_s8(q, k, v, exp_table, q_zp: int, k_zp: int, v_zp: int, exp_rq, av) -> np.ndarray:
    """q, k, v (..., H, T, dh) int8 -> (..., H, T, dh) int8; exp_rq = (exp_mult, exp_shift),
    av = (av_mult, av_shift, out_zp)."""
    exp_mult, exp_shift = (int(x) for x in exp_rq)
    av_mult, av_shift, out_zp = (int(x) for x in av)
    # float64 products of integers are exact here (kernels_q's docstring): |terms| < 2^24, sums < 2^53
    qf, kf = np.asarray(q, np.float64) - q_zp, np.asarray(k, np.float64) - k_zp
    s = (qf @ np.swapaxes(kf, -1, -2)).astype(i64)  # (..., T, T)
    g = (s * -exp_mult) >> 32  # exact in int64: |s| < 2^31, exp_mult < 2^31
    sh = exp_shift - 32
    last = len(exp_table) - 1
    idx = np.minimum((g - g.min(axis=-1, keepdims=True) + (i64(1) << (sh - 1))) >> sh, last)
    e = np.asarray(exp_table, i64)[idx]
    total = e.sum(axis=-1, keepdims=True)  # (..., T, 1)
    y = (e.astype(np.float64) @ (np.asarray(v, np.float64) - v_zp)).astype(i64)  # (..., T, dh)
    n = 31 - bitlen(total)  # clz32(S) - 1
    recip = (i64(1) << 61) // (total << n)
    mult = (av_mult * recip) >> 31
    return clamp(requantize(y, mult, av_shift + 30 - n) + out_zp, np.int8)
