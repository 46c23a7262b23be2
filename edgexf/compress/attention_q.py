"""The integer attention's constants (q_attention; the arithmetic: edgexf/ir/kernels_q_attention.py).

- The exp table: E[i] = round(E_one exp(-u i)), i = 0..511, the unnormalized softmax weight of a score
  i steps of u below its row's maximum. E_one is the largest value that keeps every sum of t products
  e_j (v_j - v_zp) (|v - v_zp| <= 255) inside int32 and every e_j an int16 (an SMLAD operand):
  min(32767, floor((2^31 - 1) / (255 t))). u = ln(4 E_one) / 511 makes E[511] = 1/4, which rounds to 0:
  the table covers exactly the scores whose weight is not 0 at this resolution (u = 0.023 for
  E_one = 32767, e in steps of at most 1.1%), and scores further below weigh nothing, as in float32.
  (256 entries, steps of 2.3%, cost the digits ViT 0.28 points at the same instruction count.)
- The one requantization of the scores, (exp_mult, exp_shift): q_scale k_scale c / u, c the scale the
  float graph multiplies scores by. exp_shift is 38 where the multiplier is below 2^-7 (the example
  ViTs: 2^-7.x), the shift the fast kernel inlines (quant_attention_dsp.c). It must be >= 33 (the
  kernels round with a shift of exp_shift - 32 after SMMLA's >> 32): a multiplier of 2^-2 or more
  (scores coarser than a quarter of a table step per unit) has no such form, and the caller then
  leaves the chain unfused.
- The output: (av_mult, av_shift) = v_scale / out_scale, the row's 1 / sum folded in by the kernel.
"""

from __future__ import annotations

import math

import numpy as np

from edgexf.compress.qmath import MAX_SHIFT, multiplier

TABLE = 512  # entries of the exp table (the kernels' EXF_ATTENTION_TABLE)
E_ONE_MAX = 32767  # e_j are int16 SMLAD operands
ROUND_SHIFT = 38  # exp_shift where the score multiplier allows (below 2^-7): 6 bits of G under a step
MIN_EXP_ONE = 256  # below this the weights lose more than int8 probabilities did: refuse such t


def exp_one(t: int) -> int:
    return min(E_ONE_MAX, (2**31 - 1) // (255 * t))


def exp_table(t: int) -> tuple[np.ndarray, float]:
    """(E (TABLE,) int16, u) for rows of t scores."""
    one = exp_one(t)
    u = math.log(4 * one) / (TABLE - 1)
    return np.round(one * np.exp(-u * np.arange(TABLE))).astype(np.int16), u


def attention_terms(t: int, qk_scale: float, v_scale: float, out_scale: float) -> dict | None:
    """{"exp": (exp_mult, exp_shift), "av": (av_mult, av_shift)} for real scores = qk_scale * integer
    dot products, or None where the integer kernels cannot take these scales (the caller keeps the
    unfused ops): E_one too small (t > 32,900), a score multiplier too coarse (exp_shift < 33), or an
    output shift outside [1, 62] for some row sum in [E_one, t E_one]."""
    one = exp_one(t)
    if one < MIN_EXP_ONE:
        return None
    _, u = exp_table(t)
    em, es = (int(x[0]) for x in multiplier(qk_scale / u))
    if es > ROUND_SHIFT:  # the shift the fast kernel inlines: em keeps >= 2^19 of precision down to 2^-20
        em, es = round(qk_scale / u * 2.0**ROUND_SHIFT), ROUND_SHIFT
    am, ash = (int(x[0]) for x in multiplier(v_scale / out_scale))
    if es < 33 or em <= 0 or am <= 0:
        return None
    n_lo, n_hi = 31 - (t * one).bit_length(), 31 - one.bit_length()  # clz32(S) - 1 over the sums
    if ash + 30 - n_hi < 1 or ash + 30 - n_lo > MAX_SHIFT:
        return None
    return {"exp": (em, es), "av": (am, ash)}
