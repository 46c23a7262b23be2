/* Shared integer helpers of the quant*.c kernels (edgexf_kernels.h, "integer kernels", is the contract).
 * static inline, so every kernel file gets its own copy and no symbol is exported. No float, no
 * libgcc helpers on Cortex-M3 and up: 64-bit multiplies and shifts are inline, 32-bit division is UDIV,
 * 64-bit division is avoided. */
#ifndef EDGEXF_QUANT_COMMON_H
#define EDGEXF_QUANT_COMMON_H

#include <stdint.h>

#include "edgexf_kernels.h"

/* v saturated to int8 or int16 (a macro: any integer type): SSAT where the core has it (Armv7-M and up) */
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
#define SAT_S8(v) __ssat((v), 8)
#define SAT_S16(v) __ssat((v), 16)
#else
#define SAT_S8(v) ((v) < -128 ? -128 : (v) > 127 ? 127 : (v))
#define SAT_S16(v) ((v) < -32768 ? -32768 : (v) > 32767 ? 32767 : (v))
#endif

/* round(acc * mult / 2^shift), ties toward +inf; shift in [1, 62], |acc * mult| < 2^62, so the sum
 * with 2^(shift-1) <= 2^61 stays below 2^63. >> of a negative int64 is arithmetic (gcc). */
static inline int64_t exfq_requantize(int64_t acc, int32_t mult, int32_t shift) {
    return (acc * (int64_t)mult + ((int64_t)1 << (shift - 1))) >> shift;
}

static inline int8_t exfq_clamp_s8(int64_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

static inline int16_t exfq_clamp_s16(int64_t v) {
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

/* (a - a_zp) * ma + (b - b_zp) * mb, shifted, + out_zp, with add = {a_zp, b_zp, ma, mb, shift, out_zp}:
 * the arithmetic of exf_add_q, element by element, for the patch embedding's pos add (not yet clamped;
 * exf_add_q and the token MLP's residual add use quant_add.h's faster form of it). */
static inline int64_t exfq_add_pair(int32_t a, int32_t b, const int32_t add[6]) {
    int64_t v = (int64_t)(a - add[0]) * add[2] + (int64_t)(b - add[1]) * add[3];
    return ((v + ((int64_t)1 << (add[4] - 1))) >> add[4]) + add[5];
}

/* Element i of an int8 (bytes == 1) or int16 (bytes == 2) array. */
static inline int32_t exfq_load(const void *p, int32_t bytes, int32_t i) {
    return bytes == 1 ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const int16_t *)p)[i];
}

/* Saturates v to the element type given by bytes and stores it as element i. */
static inline void exfq_store(void *p, int32_t bytes, int32_t i, int64_t v) {
    if (bytes == 1) {
        ((int8_t *)p)[i] = exfq_clamp_s8(v);
    } else {
        ((int16_t *)p)[i] = exfq_clamp_s16(v);
    }
}

/* Leading zeros of v != 0: the CLZ instruction where the core has it (Cortex-M3 and up), a binary
 * search elsewhere (ARMv6-M has no CLZ, and the builtin would call libgcc there). */
static inline int32_t exfq_clz32(uint32_t v) {
#if defined(__GNUC__) && (!defined(__arm__) || defined(__ARM_FEATURE_CLZ))
    return __builtin_clz(v);
#else
    int32_t n = 0;
    if (v < 0x10000u) n += 16, v <<= 16;
    if (v < 0x1000000u) n += 8, v <<= 8;
    if (v < 0x10000000u) n += 4, v <<= 4;
    if (v < 0x40000000u) n += 2, v <<= 2;
    if (v < 0x80000000u) n += 1;
    return n;
#endif
}

/* Number of significant bits: 0 for 0, 1 for 1, 64 for 2^63 and above. */
static inline int32_t exfq_bitlen64(uint64_t v) {
    const uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
    if (hi) return 64 - exfq_clz32(hi);
    return lo ? 32 - exfq_clz32(lo) : 0;
}

/* floor(sqrt(n)) for 2^28 <= n < 2^30 (the result is in [2^14, 2^15)): Newton's step
 * x -> (x + n / x) / 2 (32-bit UDIV) twice from a table's x0 = ceil(sqrt((n >> 24) + 1) * 2^12), which is
 * >= sqrt(n) and within 3.1% of it. From any x >= floor(sqrt(n)) a step stays >= floor(sqrt(n)) (it is
 * floor((x + n/x) / 2) and (x + n/x) / 2 >= sqrt(n)), and two steps from 3.1% leave at most 1 too many
 * (all 805M n are checked on the host by tests/firmware/test_kernels_q_norm.py's shim); the final loop
 * makes x*x <= n whatever the estimate was. x + n / x < 2^15 + 2^16 and x*x < 2^32 fit uint32. */
static inline uint32_t exfq_isqrt_2p28(uint32_t n) {
    static const uint16_t x0[48] = {
        16889, 17378, 17855, 18318, 18771, 19212, 19644, 20067, 20480, 20886, 21284, 21674,
        22058, 22435, 22806, 23171, 23530, 23884, 24233, 24576, 24915, 25250, 25580, 25906,
        26228, 26546, 26860, 27170, 27477, 27781, 28081, 28378, 28672, 28964, 29252, 29537,
        29820, 30100, 30377, 30652, 30925, 31195, 31462, 31728, 31991, 32252, 32511, 32768,
    }; /* index (n >> 24) - 16 */
    uint32_t x = x0[(n >> 24) - 16];
    x = (x + n / x) >> 1;
    x = (x + n / x) >> 1;
    while (x * x > n) x--;
    return x;
}

/* floor(sqrt(w)) for 2^60 <= w < 2^62 (the result r is in [2^30, 2^31)). With s = floor(sqrt(w_hi)),
 * w_hi = w >> 32 in [2^28, 2^30), x0 = s * 2^16 <= sqrt(w), one Newton step in 32-bit words:
 * x1 = x0 + floor((w - x0^2) / (2 x0)) = floor((x0 + w / x0) / 2) >= r, and w - x0^2 = e * 2^32 + w_lo
 * with e = w_hi - s^2 in [0, 2s], so floor((w - x0^2) / 2^17) = e * 2^15 + (w_lo >> 17) < 2^31 and
 * floor(that / s) is the step (nested floors). x1 - sqrt(w) = (sqrt(w) - x0)^2 / (2 x0) < 2^32 / 2^31 = 2
 * (sqrt(w) < (s + 1) 2^16, x0 >= 2^30), so x1 <= r + 2 and the loop runs at most twice; x1 < 2^31 + 2,
 * so x1^2 fits uint64. The loop alone makes r*r <= w; x1 >= r gives w < (r + 1)^2. */
static inline uint32_t exfq_isqrt_2p60(uint64_t w) {
    const uint32_t w_hi = (uint32_t)(w >> 32), w_lo = (uint32_t)w;
    const uint32_t s = exfq_isqrt_2p28(w_hi);
    const uint32_t e = w_hi - s * s;
    uint32_t x = (s << 16) + ((e << 15) + (w_lo >> 17)) / s;
    while ((uint64_t)x * x > w) x--;
    return x;
}

/* floor(sqrt(w)) exactly, for any uint64: scaled into [2^60, 2^62) by an even shift (floor(sqrt(w 4^k))
 * >> k == floor(sqrt(w))), or, from 2^62 up, r = 2 floor(sqrt(w >> 2)) (floor(sqrt(w) / 2), so
 * floor(sqrt(w)) is r or r + 1; (r + 1)^2 <= (2^32 - 1)^2 fits). */
static inline uint64_t exfq_isqrt64(uint64_t w) {
    if (w >> 62) {
        uint64_t r = (uint64_t)exfq_isqrt_2p60(w >> 2) * 2;
        if ((r + 1) * (r + 1) <= w) r++;
        return r;
    }
    if (w == 0) return 0;
    const int32_t k = (62 - exfq_bitlen64(w)) / 2;
    return exfq_isqrt_2p60(w << (2 * k)) >> k;
}

/* floor(2^61 / r) for 2^30 <= r < 2^31 (the quotient is in (2^30, 2^31]), as two 16-bit quotient digits,
 * each from a 32-bit UDIV by h = r >> 15 (in [2^15, 2^16), r / 2^15 in [h, h + 1)) and corrected exactly:
 * - qh = floor(2^30 / h) is floor(2^45 / r) or one more: 2^45 / r <= 2^30 / h < 2^45 / r + 1 (the gap
 *   2^30 / (h (h + 1)) is below 1). The remainder 2^45 - qh r is in [-r, r), so it is its own value mod
 *   2^32 (2^45 is 0 mod 2^32) read as int32.
 * - ql = floor(rem 2^16 / r) for 0 <= rem < r: e = floor(2 rem / h) (2 rem < 2^32) is ql, or up to 2
 *   more (the gap 2 rem / (h (h + 1)) < 2^16 / h <= 2). rem 2^16 - e r is checked in int64.
 * q = qh 2^16 + ql. No 64-bit division (a libgcc call on Cortex-M). */
static inline int64_t exfq_div_2p61(uint64_t r64) {
    const uint32_t r = (uint32_t)r64, h = r >> 15;
    uint32_t qh = (1u << 30) / h;
    int32_t rem = (int32_t)(0u - qh * r);
    if (rem < 0) {
        qh--;
        rem += (int32_t)r;
    }
    uint32_t ql = ((uint32_t)rem << 1) / h;
    int64_t rem2 = ((int64_t)rem << 16) - (int64_t)((uint64_t)ql * r);
    while (rem2 < 0) {
        ql--;
        rem2 += r;
    }
    return ((int64_t)qh << 16) + ql;
}

/* floor(2^46 / sum) for 2^16 <= sum <= 2^30 (the softmax's one reciprocal per row, <= 2^30): with
 * n = clz(sum) - 1 in [0, 14], sum 2^n is in [2^30, 2^31), so exfq_div_2p61 gives floor(2^61 / (sum 2^n)),
 * and >> (15 - n) of it is floor(2^46 / sum) (nested floors). */
static inline int64_t exfq_softmax_recip(int32_t sum) {
    const int32_t n = exfq_clz32((uint32_t)sum) - 1;
    return exfq_div_2p61((uint64_t)((uint32_t)sum << n)) >> (15 - n);
}

/* The plain kernels with their numbers as arguments, which the fused kernels call on their row blocks
 * (their own rows, and their scratch as x or y); each exf_ kernel of the same name unpacks its parameter
 * struct into a call of one of these (edgexf_kernels.h states the arithmetic). */
void exfq_linear_s8(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                    const int32_t *shift, int8_t *y, int32_t rows, int32_t k, int32_t m, int32_t out_zp);
void exfq_linear_s8_dsp(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int32_t *shift, int8_t *y, int32_t rows, int32_t k, int32_t m, int32_t out_zp,
                        void *scratch);
/* Helium (MVE) forms, compiled where the core has it (-mcpu=cortex-m55): quant_*_mve.c */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define EXF_MVE 1
void exfq_linear_s8_mve(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int32_t *shift, int8_t *y, int32_t rows, int32_t k, int32_t m, int32_t out_zp);
void exfq_ln_normalize_s8_mve(const int8_t *x, const int32_t *gamma, const int32_t *beta, int8_t *y, int32_t d,
                              uint32_t dl, uint32_t sl, int32_t m, int32_t s32, int32_t zr, int32_t zsh, int32_t c,
                              int32_t osh);
/* exf_matmul_s8_dsp's and exf_conv2d_s8_dsp's MVE forms, same arguments and scratch (quant_matmul_mve.c,
 * quant_conv_mve.c); the table lookup's and the int8 multiply's (quant_elementwise_mve.c) */
void exfq_matmul_s8_mve(const exf_matmul_q_params_t *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch);
void exfq_conv2d_s8_mve(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch);
void exfq_lut_s8_mve(const int8_t *x, const int8_t *table, int8_t *y, int32_t n);
int32_t exfq_ln_plain_s8_mve(const int8_t *x, int8_t *y, int32_t d, int32_t a, int32_t b);
/* exf_attention_s8_dsp's MVE form, same arguments and scratch (quant_attention_mve.c) */
void exfq_attention_s8_mve(const exf_attention_q_params_t *p, const int8_t *qkv, int8_t *y, void *scratch);
#else
#define EXF_MVE 0
#endif
void exfq_linear_q_w16(const void *x, int32_t x_bytes, const int16_t *w16, const int32_t *bias,
                       const int32_t *mult, const int32_t *rq, int32_t pre_shift, void *y, int32_t y_bytes,
                       int32_t rows, int32_t k, int32_t m, void *scratch);
/* exfq_linear_q_w16 for int8 x and y, a bias (not NULL), rows >= 2 (quant_dot_w16.c) */
void exfq_linear_s8_w16_rows(const int8_t *x, const int16_t *w16, const int32_t *bias, const int32_t *mult,
                             const int32_t *rq, int8_t *y, int32_t rows, int32_t k, int32_t m, void *scratch);
void exfq_softmax_s8(const int8_t *x, const int32_t *exp_table, int8_t *y, int32_t rows, int32_t n);
void exfq_layernorm_s8(const int8_t *x, const int32_t *gamma, const int32_t *beta, int8_t *y, int32_t rows,
                       int32_t d, int64_t eps_term, int32_t gshift, int32_t out_zp);
/* exf_norm_q_t's LayerNorm with gamma NULL (quant_norm_plain.c), and its plain C twin (kernel_check.c) */
void exfq_layernorm_plain(const void *x, int32_t x_bytes, const exf_norm_q_t *ln, int8_t *y, int32_t rows,
                          int32_t d);
void exfq_layernorm_plain_portable(const void *x, int32_t x_bytes, const exf_norm_q_t *ln, int8_t *y,
                                   int32_t rows, int32_t d);
void exfq_layernorm_s16(const int16_t *x, const int32_t *gamma, const int32_t *beta, int8_t *y, int32_t rows,
                        int32_t d, int64_t eps_term, int32_t gshift, int32_t out_zp);

/* y[i] = table[x[i] + 128] for i < n (exf_lut_s8), two elements a step (both read before either is
 * written, so y may equal x): a compare and branch fewer per pair. */
static inline void exfq_lut_s8(const int8_t *x, const int8_t *table, int8_t *y, int32_t n) {
#if EXF_MVE /* Helium: 16 lookups a VLDRB gather (quant_elementwise_mve.c) */
    exfq_lut_s8_mve(x, table, y, n);
    return;
#endif
    const int8_t *t = table + 128;
    int32_t i = 0;
    for (; i + 2 <= n; i += 2) {
        const int8_t a = t[x[i]], b = t[x[i + 1]];
        y[i] = a;
        y[i + 1] = b;
    }
    if (i < n) y[i] = t[x[i]];
}

/* LayerNorm of `rows` rows of x, int8 (x_bytes 1) or int16 (x_bytes 2), into int8 y: the fused
 * kernels' LayerNorm step (gamma NULL: the quantizer folded gamma and beta into the next layer). */
static inline void exfq_layernorm_rows(const void *x, int32_t x_bytes, const exf_norm_q_t *ln, int8_t *y,
                                       int32_t rows, int32_t d) {
    if (!ln->gamma) {
        exfq_layernorm_plain(x, x_bytes, ln, y, rows, d);
    } else if (x_bytes == 2) {
        exfq_layernorm_s16((const int16_t *)x, ln->gamma, ln->beta, y, rows, d, ln->eps_term, ln->gshift,
                           ln->out_zp);
    } else {
        exfq_layernorm_s8((const int8_t *)x, ln->gamma, ln->beta, y, rows, d, ln->eps_term, ln->gshift,
                          ln->out_zp);
    }
}

/* An exf_add_terms_t as the {a_zp, b_zp, ma, mb, shift, out_zp} array that exfq_add_pair reads. */
static inline void exfq_add_array(const exf_add_terms_t *t, int32_t add[6]) {
    add[0] = t->a_zp;
    add[1] = t->b_zp;
    add[2] = t->ma;
    add[3] = t->mb;
    add[4] = t->shift;
    add[5] = t->out_zp;
}

#endif /* EDGEXF_QUANT_COMMON_H */
