/* Shared integer helpers of the quant*.c kernels (edgexf_kernels.h, "integer kernels", is the contract).
 * static inline, so every kernel file gets its own copy and no symbol is exported. No float, no
 * libgcc helpers: 64-bit multiplies and shifts are inline on Cortex-M, 64-bit division is avoided. */
#ifndef EDGEXF_QUANT_COMMON_H
#define EDGEXF_QUANT_COMMON_H

#include <stdint.h>

#include "edgexf_kernels.h"

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
 * the arithmetic of exf_add_q, for the fused kernels' residual adds (not yet clamped). */
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

/* Number of significant bits: 0 for 0, 1 for 1, 64 for 2^63 and above. */
static inline int32_t exfq_bitlen64(uint64_t v) {
    int32_t n = 0;
    while (v) {
        v >>= 1;
        n++;
    }
    return n;
}

/* floor(sqrt(w)) exactly, for any uint64: digit-by-digit (two bits of w per step), 32 steps at most. */
static inline uint64_t exfq_isqrt64(uint64_t w) {
    uint64_t r = 0, bit = (uint64_t)1 << 62;
    while (bit > w) bit >>= 2;
    while (bit) {
        if (w >= r + bit) {
            w -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

/* floor(2^61 / r) for 2^30 <= r < 2^31 (the quotient is in (2^30, 2^31]), by restoring division over
 * the 32 quotient bits: a 64-bit '/' would call libgcc's __aeabi_uldivmod on Cortex-M. */
static inline int64_t exfq_div_2p61(uint64_t r) {
    uint64_t rem = (uint64_t)1 << 61, q = 0;
    for (int32_t b = 31; b >= 0; b--) {
        if (rem >= (r << b)) {
            rem -= r << b;
            q |= (uint64_t)1 << b;
        }
    }
    return (int64_t)q;
}

/* LayerNorm of `rows` rows of x, int8 (x_bytes 1) or int16 (x_bytes 2), into int8 y: the fused
 * kernels' LayerNorm step. */
static inline void exfq_layernorm_rows(const void *x, int32_t x_bytes, const int32_t *gamma, const int32_t *beta,
                                       int8_t *y, int32_t rows, int32_t d, int64_t eps_term, int32_t gshift,
                                       int32_t out_zp) {
    if (x_bytes == 2) {
        exf_layernorm_s16((const int16_t *)x, gamma, beta, y, rows, d, eps_term, gshift, out_zp);
    } else {
        exf_layernorm_s8((const int8_t *)x, gamma, beta, y, rows, d, eps_term, gshift, out_zp);
    }
}

#endif /* EDGEXF_QUANT_COMMON_H */
