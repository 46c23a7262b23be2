/* LayerNorm without gamma and beta: exf_norm_q_t with gamma NULL, the fused kernels' LayerNorm, whose
 * gamma and beta the quantizer folded into the linear layer after it (edgexf/compress/fold_layernorm.py).
 * Per row, an affine map of the raw integers: y_i = sat8((A q_i + 2^8 B) >> 16), A and B worked out once
 * per row from the row's sums (edgexf_kernels.h states the integers; edgexf/ir/kernels_q.py
 * layernorm_plain_q mirrors them).
 *
 * Per element on a Cortex-M7 (int8 q, QEMU instruction counts): the sums pass, sixteen q a step (four LDR,
 * eight SXTB16, sixteen SMLAD), 1.9 instructions; the mapping pass, sixteen a step (four LDR, eight
 * SXTB16, then SMLAWB or SMLAWT, SSAT and STRB for each q), 4.0; and per row about 60 instructions of
 * constants (a reciprocal square root from a table and one Newton step, two 32-bit divisions) and 50 of
 * the loops' set-up. Measured: 25,160 instructions for the MNIST ViT's 50 rows of 64, 7.86 an element
 * (the form with gamma and beta: 54,760, 17.1). */
#include "edgexf_kernels.h"
#include "exf_simd.h"
#include "quant_common.h"
#include "quant_norm.h"

#define LN_A_MAX (1 << 22)   /* the slope's ceiling, 64 output codes an input code: A q + 2^8 B fits int32 */
#define LN_A_MAX16 (1 << 30) /* the same for int16 q, whose A has 8 more fraction bits (f = 24) */

/* round(2^18 / sqrt(i + 0.5)) for i in [64, 256): 1 / sqrt(W) to ~2^-8, W in [2^30, 2^32) by W >> 24
 * (384 bytes of flash) */
static const uint16_t RSQRT_SEED[192] = {
    32641, 32391, 32146, 31907, 31673, 31445, 31221, 31002, 30787, 30577, 30371, 30169,
    29972, 29778, 29587, 29401, 29217, 29038, 28861, 28688, 28518, 28350, 28186, 28024,
    27866, 27709, 27556, 27405, 27256, 27110, 26966, 26825, 26686, 26548, 26413, 26280,
    26149, 26020, 25893, 25767, 25644, 25522, 25402, 25283, 25167, 25051, 24938, 24826,
    24715, 24606, 24498, 24392, 24287, 24184, 24081, 23980, 23881, 23782, 23685, 23589,
    23494, 23400, 23307, 23216, 23125, 23036, 22947, 22860, 22774, 22688, 22604, 22520,
    22437, 22356, 22275, 22195, 22116, 22037, 21960, 21883, 21808, 21732, 21658, 21585,
    21512, 21440, 21368, 21298, 21228, 21159, 21090, 21022, 20955, 20888, 20822, 20757,
    20692, 20628, 20564, 20501, 20439, 20377, 20316, 20255, 20195, 20135, 20076, 20017,
    19959, 19902, 19845, 19788, 19732, 19676, 19621, 19566, 19512, 19458, 19405, 19352,
    19299, 19247, 19196, 19144, 19093, 19043, 18993, 18943, 18894, 18845, 18797, 18749,
    18701, 18653, 18606, 18560, 18513, 18467, 18422, 18376, 18331, 18287, 18242, 18198,
    18155, 18111, 18068, 18025, 17983, 17941, 17899, 17857, 17816, 17775, 17734, 17694,
    17654, 17614, 17574, 17535, 17496, 17457, 17418, 17380, 17342, 17304, 17267, 17229,
    17192, 17155, 17119, 17082, 17046, 17010, 16974, 16939, 16904, 16869, 16834, 16799,
    16765, 16731, 16697, 16663, 16629, 16596, 16563, 16530, 16497, 16465, 16432, 16400,
};

/* ~2^46 / sqrt(W) for W in [2^30, 2^32): the seed r0, then one Newton step r0 (3 - W r0^2 / 2^92) / 2,
 * which leaves it below the true value by less than 2^-15.4 of it (the seed's error squared, times 1.5;
 * measured over W), or above it by under 2^-30 of it (the fixed point's last bits). Products of two values below 2^32 in 64 bits (UMULL); no division. */
static inline uint32_t rsqrt_2p46(uint32_t w) {
    const uint32_t r0 = (uint32_t)RSQRT_SEED[(w >> 24) - 64] << 16;   /* < 2^31 */
    const uint32_t r0sq = (uint32_t)(((uint64_t)r0 * r0) >> 32);      /* < 2^30 */
    const uint32_t h = (uint32_t)(((uint64_t)w * r0sq) >> 30);        /* W r0^2 / 2^62, about 2^30 */
    return (uint32_t)(((uint64_t)r0 * (3u * (1u << 30) - h)) >> 31); /* in (2^30, 2^31] */
}

/* W = V 4^e in [2^30, 2^32) for V > 0 (a right shift where e < 0): 1 / sqrt(V) ~ rsqrt_2p46(W) 2^(e - 46).
 * Returns e, in [-12, 15]. */
static inline int32_t scale_v(int64_t var, uint32_t *w) {
    const int32_t e = (32 - exfq_bitlen64((uint64_t)var)) >> 1; /* floor */
    *w = (uint32_t)(e >= 0 ? (uint64_t)var << (2 * e) : (uint64_t)var >> (-2 * e));
    return e;
}

/* floor(S 2^16 / d) in two 32-bit divisions (|S| <= 2^30, d <= 2^15: no 64-bit division) */
static inline int32_t mean16(int32_t sum, int32_t d) {
    int32_t quo = sum / d, rem = sum - quo * d;
    if (rem < 0) {
        quo--;
        rem += d;
    }
    return (int32_t)((uint32_t)quo << 16) + (int32_t)(((uint32_t)rem << 16) / (uint32_t)d);
}

/* The int8 row's A (f = 16): d / out_scale 2^16 / sqrt(V) = mult R / 2^n, n = 30 + mshift - e, rounded on
 * the high word of mult R (< 2^30): floor((hi + 2^(n-33)) / 2^(n-32)); 2^22 where n <= 38 (mult R > 2^60,
 * so A >= 2^22); 0 where n >= 64 (hi < 2^30 <= 2^(n-33)) or V == 0. */
static inline int32_t slope8(int64_t var, const exf_norm_q_t *ln) {
    if (var == 0) return 0;
    uint32_t w;
    const int32_t n = 30 + ln->mshift - scale_v(var, &w); /* >= 16, as mshift >= 1 */
    if (n <= 38) return LN_A_MAX;
    if (n >= 64) return 0;
    const uint32_t hi = (uint32_t)(((uint64_t)(uint32_t)ln->mult * rsqrt_2p46(w)) >> 32);
    const uint32_t a = (hi + (1u << (n - 33))) >> (n - 32);
    return a > LN_A_MAX ? LN_A_MAX : (int32_t)a;
}

/* The int16 row's A (f = 24, 8 more bits): min(2^30, (mult R + 2^(n-1)) >> n), n = 22 + mshift - e >= 8,
 * in 64 bits; 0 where n >= 63 (mult R < 2^62) or V == 0. */
static inline int32_t slope16(int64_t var, const exf_norm_q_t *ln) {
    if (var == 0) return 0;
    uint32_t w;
    const int32_t n = 22 + ln->mshift - scale_v(var, &w);
    if (n >= 63) return 0;
    const uint64_t a = ((uint64_t)(uint32_t)ln->mult * rsqrt_2p46(w) + ((uint64_t)1 << (n - 1))) >> n;
    return a > LN_A_MAX16 ? LN_A_MAX16 : (int32_t)a;
}

#if EXF_SIMD_NATIVE
/* acc + floor(a lo(b) / 2^16) and acc + floor(a hi(b) / 2^16), halfwords signed (SMLAWB, SMLAWT) */
static inline int32_t smlawb(int32_t a, uint32_t b, int32_t acc) { return __smlawb(a, (int32_t)b, acc); }
static inline int32_t smlawt(int32_t a, uint32_t b, int32_t acc) { return __smlawt(a, (int32_t)b, acc); }

/* y[0..3] of the four q in the word at x: with a8 = a 2^8 (< 2^31), floor(a8 q / 2^16) = floor(a q / 2^8),
 * and adding b then >> 8 gives floor((a q + 2^8 b) / 2^16) (nested floors): per q one SMLAW, one SSAT
 * (its shift included) and one STRB, and per word one LDR and two SXTB16. (Packing the four bytes into
 * one STR took more instructions than the three STRBs it saved.) */
static inline __attribute__((always_inline)) void map4(const int8_t *x, int8_t *y, int32_t a8, int32_t b) {
    const uint32_t w = exf_load4(x), e = exf_sxtb16(w), o = exf_sxtb16_ror8(w);
    y[0] = (int8_t)exf_ssat8(smlawb(a8, e, b) >> 8);
    y[1] = (int8_t)exf_ssat8(smlawb(a8, o, b) >> 8);
    y[2] = (int8_t)exf_ssat8(smlawt(a8, e, b) >> 8);
    y[3] = (int8_t)exf_ssat8(smlawt(a8, o, b) >> 8);
}
#endif

/* y_i = sat8((a q_i + 2^8 b) >> 16) over one int8 row. y may equal x (each word of q is read before its
 * bytes of y are written). portable: the plain C loop only (the twin the fast loops are checked against). */
static inline void plain_map8(const int8_t *x, int8_t *y, int32_t d, int32_t a, int32_t b, int32_t portable) {
    int32_t i = 0;
    if (portable) goto tail;
#if EXF_MVE /* Helium: four q a vector (quant_norm_mve.c) */
    i = exfq_ln_plain_s8_mve(x, y, d, a, b);
#elif EXF_SIMD_NATIVE
    const int32_t a8 = a * 256;
    for (int32_t n = d >> 4; n > 0; n--, i += 16) { /* sixteen a step, counting down (SUBS, BNE) */
        map4(x + i, y + i, a8, b);
        map4(x + i + 4, y + i + 4, a8, b);
        map4(x + i + 8, y + i + 8, a8, b);
        map4(x + i + 12, y + i + 12, a8, b);
    }
    for (int32_t n = (d >> 2) & 3; n > 0; n--, i += 4) map4(x + i, y + i, a8, b);
#endif
tail: /* the portable loop, and the tail: |a q| <= 2^29 and |2^8 b| < 2^30, so int32 holds the sum */
    for (; i < d; i++) y[i] = (int8_t)exf_ssat8((a * x[i] + b * 256) >> 16);
}

/* One int8 row: the two passes and the row's constants between them. */
static inline void plain_row8(const int8_t *x, int8_t *y, int32_t d, const exf_norm_q_t *ln, int32_t portable) {
    int32_t sum;
    const int64_t var = exfq_ln_sums(x, 1, d, &sum) + ln->eps_term - (int64_t)sum * sum;
    const int32_t a = slope8(var, ln);
    /* B = out_zp 2^8 + 2^7 - ((A mean16 + 2^23) >> 24): |B| < 2^30 */
    const int32_t b = ln->out_zp * 256 + 128 - (int32_t)(((int64_t)a * mean16(sum, d) + (1 << 23)) >> 24);
    plain_map8(x, y, d, a, b, portable);
}

/* One int16 row: |A q|, |2^8 B| < 2^46, in int64 */
static inline void plain_row16(const int16_t *x, int8_t *y, int32_t d, const exf_norm_q_t *ln) {
    int32_t sum;
    const int64_t var = exfq_ln_sums(x, 2, d, &sum) + ln->eps_term - (int64_t)sum * sum;
    const int32_t a = slope16(var, ln);
    const int64_t b = (int64_t)ln->out_zp * 65536 + 32768 - (((int64_t)a * mean16(sum, d) + (1 << 23)) >> 24);
    for (int32_t i = 0; i < d; i++) y[i] = exfq_clamp_s8(((int64_t)a * x[i] + b * 256) >> 24);
}

static inline void plain_rows(const void *x, int32_t x_bytes, const exf_norm_q_t *ln, int8_t *y, int32_t rows,
                              int32_t d, int32_t portable) {
    // x (rows, d) int8 or int16 -> y (rows, d) int8, normalized over d
    for (int32_t r = 0; r < rows; r++) {
        if (x_bytes == 1) {
            plain_row8((const int8_t *)x + r * d, y + r * d, d, ln, portable);
        } else {
            plain_row16((const int16_t *)x + r * d, y + r * d, d, ln);
        }
    }
}

void exfq_layernorm_plain(const void *x, int32_t x_bytes, const exf_norm_q_t *ln, int8_t *y, int32_t rows,
                          int32_t d) {
    plain_rows(x, x_bytes, ln, y, rows, d, 0);
}

void exfq_layernorm_plain_portable(const void *x, int32_t x_bytes, const exf_norm_q_t *ln, int8_t *y,
                                   int32_t rows, int32_t d) {
    plain_rows(x, x_bytes, ln, y, rows, d, 1);
}
