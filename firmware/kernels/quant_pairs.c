/* Pair-row matrices (quant_pairs.h): widening int8 rows into them, and their 2 x 2 blocked product.
 * Shared by the fast int8 attention (quant_attention_dsp.c) and linear (quant_dot_w16.c) kernels. */
#include "quant_pairs.h"

/* x[0, n) - zp into one row of a matrix whose groups are `stride` words apart (dst: the row's first
 * word), the last group padded with zeros. stride: a constant where inlined. */
static ALWAYS_INLINE void widen_row_body(const int8_t *x, int32_t n, int32_t zp, uint32_t *dst, const int stride) {
    const uint32_t negzp2 = pack2(-zp, -zp);
    int32_t e = 0;
    for (; e + 4 <= n; e += 4, dst += stride) {
        const uint32_t v = exf_load4(x + e);
        dst[0] = sxtab16(negzp2, v);
        dst[1] = sxtab16_ror8(negzp2, v);
    }
    if (e < n) {
        int32_t v[4] = {0, 0, 0, 0};
        for (int32_t i = 0; e + i < n; i++) v[i] = (int32_t)x[e + i] - zp;
        dst[0] = pack2(v[0], v[2]);
        dst[1] = pack2(v[1], v[3]);
    }
}

void exfp_widen_row(const int8_t *x, int32_t n, int32_t zp, uint32_t *dst) { widen_row_body(x, n, zp, dst, 4); }

void exfp_widen_row3(const int8_t *x, int32_t n, uint32_t *dst) { widen_row_body(x, n, 0, dst, 6); }

void exfp_pack_row_s16(const int16_t *x, int32_t n, uint32_t *dst) {
    int32_t e = 0;
    for (; e + 4 <= n; e += 4, dst += 4) {
        uint32_t w0, w1; /* {x0 x1} {x2 x3} */
        memcpy(&w0, x + e, 4);
        memcpy(&w1, x + e + 2, 4);
        dst[0] = (w0 & 0xFFFFu) | (w1 << 16);         /* {x0 x2} (PKHBT) */
        dst[1] = (w0 >> 16) | (w1 & 0xFFFF0000u);     /* {x1 x3} (PKHTB) */
    }
    if (e < n) {
        int32_t v[4] = {0, 0, 0, 0};
        for (int32_t i = 0; e + i < n; i++) v[i] = x[e + i];
        dst[0] = pack2(v[0], v[2]);
        dst[1] = pack2(v[1], v[3]);
    }
}

void exfp_zero_row(int32_t groups, uint32_t *dst) {
    for (int32_t g = 0; g < groups; g++, dst += 4) dst[0] = dst[1] = 0;
}

/* One group of four elements of a 2 x 2 block: a (row pair) and b (row pair) advance by a group. */
static ALWAYS_INLINE void group2x2(const uint32_t **a, const uint32_t **b, int32_t *c00, int32_t *c01, int32_t *c10,
                                   int32_t *c11) {
    uint32_t x0, x1, y0, y1, u0, u1;
    exf_load_pair(a, &x0, &x1); /* a row 0 */
    exf_load_pair(a, &y0, &y1); /* a row 1 */
    exf_load_pair(b, &u0, &u1); /* b row 0 */
    *c00 = exf_smlad(x1, u1, exf_smlad(x0, u0, *c00));
    *c10 = exf_smlad(y1, u1, exf_smlad(y0, u0, *c10));
    exf_load_pair(b, &u0, &u1); /* b row 1 */
    *c01 = exf_smlad(x1, u1, exf_smlad(x0, u0, *c01));
    *c11 = exf_smlad(y1, u1, exf_smlad(y0, u0, *c11));
}

/* The row pair a (groups >= 1 groups of four elements) against the `pairs` row pairs of b, one after
 * the other: acc[4 p + 2 s + r] = dot product of row r of a with row s of pair p of b. odd: groups is
 * odd (a constant where inlined). Unrolling by four measured 0.4% fewer instructions at k = 64, for
 * twice the code. */
static ALWAYS_INLINE void dot_pairs_body(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs,
                                         int32_t *acc, const int odd) {
    const uint32_t *const a_end = a + 4 * groups;
    const int32_t *const acc_end = acc + 4 * pairs;
    for (; acc != acc_end; acc += 4) {
        const uint32_t *pa = a;
        uint32_t x0, x1, y0, y1, u0, u1; /* the first group with SMUAD: no accumulator to clear */
        exf_load_pair(&pa, &x0, &x1);
        exf_load_pair(&pa, &y0, &y1);
        exf_load_pair(&b, &u0, &u1);
        int32_t c00 = exf_smlad(x1, u1, smuad(x0, u0)), c10 = exf_smlad(y1, u1, smuad(y0, u0));
        exf_load_pair(&b, &u0, &u1);
        int32_t c01 = exf_smlad(x1, u1, smuad(x0, u0)), c11 = exf_smlad(y1, u1, smuad(y0, u0));
        if (!odd) group2x2(&pa, &b, &c00, &c01, &c10, &c11);
        while (pa != a_end) { /* an even number of groups left */
            group2x2(&pa, &b, &c00, &c01, &c10, &c11);
            group2x2(&pa, &b, &c00, &c01, &c10, &c11);
        }
        acc[0] = c00;
        acc[1] = c10;
        acc[2] = c01;
        acc[3] = c11;
    }
}

void exfp_dot_pairs(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs, int32_t *acc) {
#if EXF_MVE /* Helium: two groups of a row per vector, VMLADAV.S16 (quant_pairs_mve.c) */
    exfp_dot_pairs_mve(a, b, groups, pairs, acc);
    return;
#endif
    if (groups & 1) {
        dot_pairs_body(a, b, groups, pairs, acc, 1);
    } else {
        dot_pairs_body(a, b, groups, pairs, acc, 0);
    }
}

/* One group of a row against two rows of b: a advances by a group of the pair-row matrix (16 bytes),
 * b by a group of one pair (16 bytes). */
static ALWAYS_INLINE void group1x2(const uint32_t **a, const uint32_t **b, int32_t *c0, int32_t *c1) {
    uint32_t x0, x1, u0, u1;
    x0 = (*a)[0];
    x1 = (*a)[1];
    *a += 4;
    exf_load_pair(b, &u0, &u1);
    *c0 = exf_smlad(x1, u1, exf_smlad(x0, u0, *c0));
    exf_load_pair(b, &u0, &u1);
    *c1 = exf_smlad(x1, u1, exf_smlad(x0, u0, *c1));
}

void exfp_dot_row(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs, int32_t *acc) {
    const uint32_t *const a_end = a + 4 * groups;
    int32_t p = 0;
    for (; p + 2 <= pairs; p += 2, acc += 8, b += 8 * groups) { /* pairs p and p + 1 */
        const uint32_t *pa = a, *q0 = b, *q1 = b + 4 * groups;
        int32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        while (pa != a_end) {
            uint32_t x0 = pa[0], x1 = pa[1], u0, u1;
            pa += 4;
            exf_load_pair(&q0, &u0, &u1);
            c0 = exf_smlad(x1, u1, exf_smlad(x0, u0, c0));
            exf_load_pair(&q0, &u0, &u1);
            c1 = exf_smlad(x1, u1, exf_smlad(x0, u0, c1));
            exf_load_pair(&q1, &u0, &u1);
            c2 = exf_smlad(x1, u1, exf_smlad(x0, u0, c2));
            exf_load_pair(&q1, &u0, &u1);
            c3 = exf_smlad(x1, u1, exf_smlad(x0, u0, c3));
        }
        acc[0] = c0;
        acc[2] = c1;
        acc[4] = c2;
        acc[6] = c3;
    }
    if (p < pairs) {
        const uint32_t *pa = a;
        int32_t c0 = 0, c1 = 0;
        while (pa != a_end) group1x2(&pa, &b, &c0, &c1);
        acc[0] = c0;
        acc[2] = c1;
    }
}
