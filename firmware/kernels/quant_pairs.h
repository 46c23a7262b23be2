/* Pair-row matrices: the int16 layout the fast int8 kernels (quant_*_dsp.c) multiply with SMLAD, and
 * the SIMD and requantization helpers they share. Internal to the kernel library (edgexf_kernels.h is
 * the public contract).
 *
 * A pair-row matrix holds rows r of n elements, in groups g of four elements e0..e3: the words
 * [(r / 2) groups + g] * 4 + (r % 2) * 2 + {0, 1} hold {e0 e2} and {e1 e3} (SXTB16's pairing; both
 * operands of a product are paired the same way, so the products line up). Rows go in pairs, a group
 * of both rows of a pair in one 16-byte run, so that a 2 x 2 block of dot products loads each operand
 * word once (exfp_dot_pairs). A missing row or element (n not a multiple of 4, an odd row count) is 0
 * on at least one side, so it adds 0.
 */
#ifndef EDGEXF_QUANT_PAIRS_H
#define EDGEXF_QUANT_PAIRS_H

#include <stdint.h>

#include "exf_simd.h"
#include "quant_common.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* lo and hi as the two halfwords of a word (lo in bits 0-15) */
static inline uint32_t pack2(int32_t lo, int32_t hi) { return (uint16_t)lo | ((uint32_t)(uint16_t)hi << 16); }

#if EXF_SIMD_NATIVE
/* a + bytes 0 and 2 of b, sign-extended, per halfword (SXTAB16) */
static inline uint32_t sxtab16(uint32_t a, uint32_t b) { return (uint32_t)__sxtab16((int32_t)a, (int32_t)b); }
/* a + bytes 1 and 3 of b, sign-extended, per halfword (SXTAB16 with ROR #8) */
static inline uint32_t sxtab16_ror8(uint32_t a, uint32_t b) {
    uint32_t out;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(out) : "r"(a), "r"(b));
    return out;
}
/* c + the high word of a * b (SMMLA) */
static inline int32_t smmla(int32_t a, int32_t b, int32_t c) {
    int32_t out;
    __asm__("smmla %0, %1, %2, %3" : "=r"(out) : "r"(a), "r"(b), "r"(c));
    return out;
}
/* lo(a) lo(b) + hi(a) hi(b), halfwords signed (SMUAD) */
static inline int32_t smuad(uint32_t a, uint32_t b) { return __smuad((int32_t)a, (int32_t)b); }
#else
static inline uint32_t sxtab16(uint32_t a, uint32_t b) {
    return pack2((int16_t)a + (int8_t)b, (int16_t)(a >> 16) + (int8_t)(b >> 16));
}
static inline uint32_t sxtab16_ror8(uint32_t a, uint32_t b) {
    return pack2((int16_t)a + (int8_t)(b >> 8), (int16_t)(a >> 16) + (int8_t)(b >> 24));
}
static inline int32_t smmla(int32_t a, int32_t b, int32_t c) {
    return (int32_t)(((int64_t)a * b) >> 32) + c; /* a caller's c keeps the sum in int32 */
}
static inline int32_t smuad(uint32_t a, uint32_t b) { return exf_smlad(a, b, 0); }
#endif

/* A requantization clamp_s8(requantize(acc, mult, shift) + zp). hi: shift in [33, 53], and then
 * bias = 2^(shift - 33) + zp 2^(shift - 32): requantize(acc) + zp = (H + bias) >> (shift - 32) with
 * H = floor(acc mult / 2^32) (SMMLA adds bias to it), because 2^(shift - 1) = 2^(shift - 33) 2^32 and
 * zp 2^(shift - 32) are whole multiples of what the shifts divide by. |H| <= 2^30 (|acc mult| < 2^62),
 * |bias| <= 2^20 + 2^28, so the sum stays in int32. */
typedef struct {
    int32_t mult, shift, zp, bias, hi;
} requant_t;

static inline requant_t requant_of(int32_t mult, int32_t shift, int32_t zp) {
    const int32_t hi = shift >= 33 && shift <= 53;
    requant_t r = {mult, shift, zp, hi ? (int32_t)(1u << (shift - 33)) + zp * (1 << (shift - 32)) : 0, hi};
    return r;
}

/* hi: a constant where inlined (r.hi) */
static ALWAYS_INLINE int32_t requant(int32_t acc, const requant_t r, const int hi) {
    if (hi) return exf_ssat8(smmla(acc, r.mult, r.bias) >> (r.shift - 32));
    return exfq_clamp_s8(exfq_requantize(acc, r.mult, r.shift) + r.zp);
}

/* x[0, n) - zp into one row of a pair-row matrix (dst: the row's first word; groups 4 words apart),
 * the last group padded with zeros. */
void exfp_widen_row(const int8_t *x, int32_t n, int32_t zp, uint32_t *dst);

/* x[0, n) into one row of a triple-row matrix (dst: the row's first word): groups of three rows, 24
 * bytes, row r's {e0 e2} {e1 e3} at words 2 r and 2 r + 1 (quant_w16_rows.c's 3 x 2 blocks). */
void exfp_widen_row3(const int8_t *x, int32_t n, uint32_t *dst);

/* int16 x[0, n) into one row of a pair-row matrix (re-paired {x0 x2} {x1 x3} by halfword packing),
 * the last group padded with zeros. */
void exfp_pack_row_s16(const int16_t *x, int32_t n, uint32_t *dst);

/* A row of zeros (groups groups) in a pair-row matrix. */
void exfp_zero_row(int32_t groups, uint32_t *dst);

/* The row pair a (groups >= 1 groups of four elements) against the `pairs` row pairs of b, one after
 * the other: acc[4 p + 2 s + r] = dot product of row r of a with row s of pair p of b. 16 MACs in 12
 * instructions: per group one LDRD for each of the four rows and eight SMLAD. */
void exfp_dot_pairs(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs, int32_t *acc);
#if EXF_MVE
void exfp_dot_pairs_mve(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs, int32_t *acc);
#endif

/* Row 0 of the row pair a against the `pairs` row pairs of b: acc[4 p + 2 s] = its dot product with
 * row s of pair p (exfp_dot_pairs' order; the row-1 slots are left alone). Two pairs of b at a time:
 * per group one LDRD of a, four of b and eight SMLAD. */
void exfp_dot_row(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs, int32_t *acc);

/* A block of rows of an int16-weight linear layer with int8 or int16 outputs (y_bytes 1 or 2;
 * quant_w16_rows.c): a holds the
 * block's rows widened (groups groups: a row pair's pair-row matrix, or a triple-row matrix as
 * exfp_widen_row3 writes), multiplied with every output pair of w (m >> 1 == pairs full ones, and an odd
 * m's last output against its zero-padded pair), each sum started from its bias (not NULL) and
 * requantized by requant_t's SMMLA path with rq's terms (quant_dot_w16.c) into the block's rows of y
 * (row stride m elements), saturated to y's type. Field order: the assembly forms read them by offset. */
typedef struct {
    const uint32_t *a, *w;
    int32_t groups, pairs;
    const int32_t *bias, *mult, *rq;
    void *y;
    int32_t m, y_bytes;
} exfp_rows_s8_t;

/* Two rows (a: a pair-row matrix): 2 x 2 blocks, 12 instructions per group; y int8 or int16. */
void exfp_row_pair_s8(const exfp_rows_s8_t *job);
/* Three rows (a: a triple-row matrix, 24 groups bytes): 3 x 2 blocks, 17 instructions per group; y int8. */
void exfp_row_triple_s8(const exfp_rows_s8_t *job);

#endif /* EDGEXF_QUANT_PAIRS_H */
