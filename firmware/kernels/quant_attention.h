/* The int8 attention's arithmetic, shared by exf_attention_s8 (quant_fused.c) and exf_attention_s8_dsp
 * (quant_attention_dsp.c); edgexf/ir/kernels_q_attention.py mirrors it. Internal to the kernel library.
 *
 * Per head and query row, with the scores s_j = (q - q_zp) . (k_j - k_zp) (int32: |s| <= 65025 dh):
 *   G_j   = floor(s_j (-exp_mult) / 2^32)      (SMMUL; G falls as s rises, min_j G_j = G(max_j s_j))
 *   idx_j = min(EXF_ATTENTION_TABLE - 1, (G_j - min G + 2^(k-1)) >> k), k = exp_shift - 32 in [1, 30]
 *   e_j   = exp_table[idx_j]                   (int16 in [0, E_one], E_one <= 32767; e = E_one at the max)
 *   S     = sum_j e_j                          (in [E_one, t E_one])
 *   y_c   = sum_j e_j (v_jc - v_zp)            (|y_c| <= t E_one 255 < 2^31: the code generator's E_one)
 *   out_c = clamp_s8(requantize(y_c, mult, shift) + out_zp), (mult, shift) = exfq_attention_out(S, ...)
 * G_j - min G + 2^(k-1) <= 65025 dh + 2^29 stays in int32 for dh <= 16384.
 */
#ifndef EDGEXF_QUANT_ATTENTION_H
#define EDGEXF_QUANT_ATTENTION_H

#include <stdint.h>

#include "quant_common.h"

/* Entries of the exp table (edgexf/compress/attention_q.py TABLE): 512 steps of u = ln(4 E_one) / 511,
 * 1.1% apart for E_one = 32767 (256 steps of 2.3% lost 0.28 points on the digits ViT). */
#define EXF_ATTENTION_TABLE 512

/* floor(a b / 2^32), as SMMUL computes it */
static inline int32_t exfq_mulhi(int32_t a, int32_t b) { return (int32_t)(((int64_t)a * b) >> 32); }

/* The row's output requantization, 1 / S folded into v_scale / out_scale = av_mult 2^-av_shift:
 * n = clz(S) - 1 puts S 2^n in [2^30, 2^31); Q = floor(2^61 / (S 2^n)) in (2^30, 2^31] (exfq_div_2p61:
 * two 32-bit UDIV, no 64-bit division); mult = (av_mult Q) >> 31 < 2^31 (av_mult < 2^31), >= 2^29
 * where av_mult >= 2^30; shift = av_shift + 30 - n (the code generator keeps it in [1, 62]).
 * Once per query row: about 30 instructions. */
static inline void exfq_attention_out(int32_t sum, int32_t av_mult, int32_t av_shift, int32_t *mult,
                                      int32_t *shift) {
    const int32_t n = exfq_clz32((uint32_t)sum) - 1;
    const int64_t q = exfq_div_2p61((uint64_t)((uint32_t)sum << n));
    *mult = (int32_t)(((int64_t)av_mult * q) >> 31);
    *shift = av_shift + 30 - n;
}

#endif /* EDGEXF_QUANT_ATTENTION_H */
