/* The row sums both integer LayerNorms start from (quant_norm.c, quant_norm_plain.c). */
#ifndef EDGEXF_QUANT_NORM_H
#define EDGEXF_QUANT_NORM_H

#include "exf_simd.h"
#include "quant_common.h"

/* S and Q of the four int8 at x added to *sum and *sum_sq: one LDR, two SXTB16, four SMLAD */
static inline __attribute__((always_inline)) void exfq_ln_sums4(const int8_t *x, int32_t *sum, int32_t *sum_sq) {
    const uint32_t w = exf_load4(x), e = exf_sxtb16(w), o = exf_sxtb16_ror8(w);
    *sum_sq = exf_smlad(e, e, exf_smlad(o, o, *sum_sq));
    *sum = exf_smlad(e, 0x00010001u, exf_smlad(o, 0x00010001u, *sum));
}

/* d*Q for a row of d <= 2^15 int8 (bytes 1) or int16 (bytes 2) q, and S = sum q_i in *sum.
 * |S| <= 2^30 (int32); Q <= 2^45 (int8: <= 2^29, int32), d*Q <= 2^60. */
static inline int64_t exfq_ln_sums(const void *xv, int32_t bytes, int32_t d, int32_t *sum_out) {
    int32_t sum = 0;
    if (bytes == 1) {
        /* sixteen q a step (four a word as two pairs of halfwords, SXTB16), squared and summed by SMLAD
         * (plain C on cores without the DSP extension); the sums are those of the scalar loop */
        const int8_t *x8 = (const int8_t *)xv;
        int32_t sum_sq = 0;
        for (int32_t n = d >> 4; n > 0; n--, x8 += 16) { /* counting down: SUBS and BNE close the loop */
            exfq_ln_sums4(x8, &sum, &sum_sq);
            exfq_ln_sums4(x8 + 4, &sum, &sum_sq);
            exfq_ln_sums4(x8 + 8, &sum, &sum_sq);
            exfq_ln_sums4(x8 + 12, &sum, &sum_sq);
        }
        for (int32_t n = (d >> 2) & 3; n > 0; n--, x8 += 4) exfq_ln_sums4(x8, &sum, &sum_sq);
        for (int32_t n = d & 3; n > 0; n--) {
            const int32_t q = *x8++;
            sum += q;
            sum_sq += q * q;
        }
        *sum_out = sum;
        return (int64_t)d * sum_sq;
    }
    const int16_t *x16 = (const int16_t *)xv;
    int64_t sum_sq = 0;
    for (int32_t i = 0; i < d; i++) {
        const int32_t q = x16[i];
        sum += q;
        sum_sq += (int64_t)(q * q); /* q*q <= 2^30: SMLALBB */
    }
    *sum_out = sum;
    return (int64_t)d * sum_sq;
}

#endif /* EDGEXF_QUANT_NORM_H */
