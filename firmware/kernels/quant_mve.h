/* What the Helium (MVE) int8 kernels share (quant_dot_mve.c, quant_matmul_mve.c, quant_conv_mve.c):
 * the VMLADAVA dot-product block and the requantization of a run of sums under one multiplier and shift.
 * Internal to the kernel library; everything is under EXF_MVE (-mcpu=cortex-m55 defines it).
 *
 * VMLADAVA.S8 multiplies 16 pairs of int8 and adds all 16 products to a scalar accumulator: 16 MACs per
 * instruction on the int8 operands as they are. A block is nr (1 or 2) rows x_r by nw (<= EXFM_NW_MAX)
 * rows w_s, both of k int8 with row stride k: per 16 columns nr + nw loads and nr nw VMLADAVA (two by
 * three: five loads and six VMLADAVA for 96 MACs; six sums and five pointers fit the registers, four w
 * rows spill). The last k % 16 columns are loaded under a VCTP predicate (the lanes past k read as zero
 * and add nothing), so no byte past a row is read. The sums are integers, exact whatever their order. */
#ifndef EDGEXF_QUANT_MVE_H
#define EDGEXF_QUANT_MVE_H

#include "quant_common.h"

#if EXF_MVE
#include <arm_mve.h>

#include "exf_simd.h"

#define EXFM_CHUNK 32 /* w rows summed against one or two x rows before their sums are requantized */
#ifndef EXFM_NW_MAX
#define EXFM_NW_MAX 3 /* w rows per block: with two x rows, 6 sums and 5 pointers in registers */
#endif

/* sums[r EXFM_CHUNK + s] = init[s] (0 if init is NULL) + x_r . w_s for r < nr, s < nw. nr and nw are
 * constants where inlined, so the sums stay in registers; the pointers advance, so the loop is loads,
 * VMLADAVA and LE (k / 16 iterations). */
static inline __attribute__((always_inline)) void exfm_dot_block(const int32_t nr, const int32_t nw,
                                                                  const int8_t *x, const int8_t *w,
                                                                  const int32_t *init, int32_t k, int32_t *sums) {
    int32_t a[2][EXFM_NW_MAX];
    const int8_t *wp[EXFM_NW_MAX], *xp[2];
#pragma GCC unroll 4
    for (int32_t s = 0; s < nw; s++) {
        wp[s] = w + s * k;
#pragma GCC unroll 2
        for (int32_t r = 0; r < nr; r++) a[r][s] = init ? init[s] : 0;
    }
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) xp[r] = x + r * k;
    const int32_t n16 = k >> 4;
    for (int32_t it = 0; it < n16; it++) {
        int8x16_t xv[2];
#pragma GCC unroll 2
        for (int32_t r = 0; r < nr; r++) {
            xv[r] = vld1q_s8(xp[r]);
            xp[r] += 16;
        }
#pragma GCC unroll 4
        for (int32_t s = 0; s < nw; s++) {
            const int8x16_t wv = vld1q_s8(wp[s]);
            wp[s] += 16;
#pragma GCC unroll 2
            for (int32_t r = 0; r < nr; r++) a[r][s] = vmladavaq_s8(a[r][s], xv[r], wv);
        }
    }
    if (k & 15) { /* the last k % 16 columns under a VCTP predicate: the lanes past k read as zero */
        const mve_pred16_t tail = vctp8q((uint32_t)(k & 15));
        int8x16_t xv[2];
#pragma GCC unroll 2
        for (int32_t r = 0; r < nr; r++) xv[r] = vldrbq_z_s8(xp[r], tail);
#pragma GCC unroll 4
        for (int32_t s = 0; s < nw; s++) {
            const int8x16_t wv = vldrbq_z_s8(wp[s], tail);
#pragma GCC unroll 2
            for (int32_t r = 0; r < nr; r++) a[r][s] = vmladavaq_s8(a[r][s], xv[r], wv);
        }
    }
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) {
#pragma GCC unroll 4
        for (int32_t s = 0; s < nw; s++) sums[r * EXFM_CHUNK + s] = a[r][s];
    }
}

/* exfm_dot_block's sums (init not NULL) where k <= 16 nv (nv 1 or 2, a constant where inlined): the nr x rows are
 * loaded once and held in nr nv vector registers, so each w row costs nv loads and nr nv VMLADAVA
 * (about 4 instructions an output at k 16 against 12 for the blocks, whose set-up and spills dominate
 * when the loop runs once: the MNIST ViT's q k^T per head and its 4 x 4 patch conv). */
static inline __attribute__((always_inline)) void exfm_dot_held(const int32_t nr, const int32_t nv, const int8_t *x,
                                                                 const int8_t *w, const int32_t *init, int32_t k,
                                                                 int32_t n, int32_t *sums) {
    const mve_pred16_t last = vctp8q((uint32_t)(k - 16 * (nv - 1))); /* the last vector's live lanes */
    int8x16_t xv[2][2];
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) {
#pragma GCC unroll 2
        for (int32_t v = 0; v < nv; v++) {
            xv[r][v] = v == nv - 1 ? vldrbq_z_s8(x + r * k + 16 * v, last) : vld1q_s8(x + r * k + 16 * v);
        }
    }
    for (int32_t s = 0; s < n; s++, w += k) {
        int32_t a[2];
#pragma GCC unroll 2
        for (int32_t r = 0; r < nr; r++) a[r] = init[s];
#pragma GCC unroll 2
        for (int32_t v = 0; v < nv; v++) {
            const int8x16_t wv = v == nv - 1 ? vldrbq_z_s8(w + 16 * v, last) : vld1q_s8(w + 16 * v);
#pragma GCC unroll 2
            for (int32_t r = 0; r < nr; r++) a[r] = vmladavaq_s8(a[r], xv[r][v], wv);
        }
#pragma GCC unroll 2
        for (int32_t r = 0; r < nr; r++) sums[r * EXFM_CHUNK + s] = a[r];
    }
}

/* The sums of nr (1 or 2, a constant where inlined) x rows against n <= EXFM_CHUNK w rows:
 * sums[r EXFM_CHUNK + s] = init[s] + x_r . w_s; up to k 32 with the x rows held in registers, beyond
 * in blocks of EXFM_NW_MAX w rows. */
static inline __attribute__((always_inline)) void exfm_dot_rows(const int32_t nr, const int8_t *x, const int8_t *w,
                                                                 const int32_t *init, int32_t k, int32_t n,
                                                                 int32_t *sums) {
    if (k <= 32) {
        static const int32_t zeros[EXFM_CHUNK];
        init = init ? init : zeros;
        if (k <= 16) {
            exfm_dot_held(nr, 1, x, w, init, k, n, sums);
        } else {
            exfm_dot_held(nr, 2, x, w, init, k, n, sums);
        }
        return;
    }
    int32_t j = 0;
    for (; j + EXFM_NW_MAX <= n; j += EXFM_NW_MAX) {
        exfm_dot_block(nr, EXFM_NW_MAX, x, w + j * k, init ? init + j : NULL, k, sums + j);
    }
    for (; j < n; j++) exfm_dot_block(nr, 1, x, w + j * k, init ? init + j : NULL, k, sums + j);
}

/* One row's requantization where its shift is in [33, 63] (exfm_dot_rq): y = requantize(sum + add) + out_zp */
typedef struct {
    int32_t add, mult, shift, out_zp;
} exfm_rq_t;

/* x_r . w for r < nr, one w row of k <= 16 against the x rows held in xv; full: k == 16 (no predicate) */
static inline __attribute__((always_inline)) void exfm_dot_one(const int32_t nr, const int full, const int8x16_t *xv,
                                                                const int8_t *w, mve_pred16_t last, int32_t *a) {
    const int8x16_t wv = full ? vld1q_s8(w) : vldrbq_z_s8(w, last);
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) a[r] = vmladavq_s8(xv[r], wv);
}

/* Four columns' requantized outputs of nr rows: the sums of columns w0..w3 go into the lanes of one vector
 * per row as they come (VMOV: few scalars live, so none spill), then + col (may be NULL) + the row's add,
 * VMULH, VRSHL by the row's (32 - shift), + out_zp, saturated by VQSHL #24 and VSHR #24 (a clamp to int8
 * without constant registers), stored (tail: under live, a constant where inlined). */
static inline __attribute__((always_inline)) void exfm_rq4(const int32_t nr, const int full, const int8x16_t *xv,
                                                            const int8_t *w0, const int8_t *w1, const int8_t *w2,
                                                            const int8_t *w3, mve_pred16_t last, const int32_t *col,
                                                            const exfm_rq_t *rq, int8_t *y, int32_t y_stride,
                                                            const int tail, mve_pred16_t live) {
    int32x4_t q[2];
    int32_t a[2];
    exfm_dot_one(nr, full, xv, w0, last, a);
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) q[r] = vdupq_n_s32(a[r]);
    exfm_dot_one(nr, full, xv, w1, last, a);
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) q[r] = vsetq_lane_s32(a[r], q[r], 1);
    exfm_dot_one(nr, full, xv, w2, last, a);
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) q[r] = vsetq_lane_s32(a[r], q[r], 2);
    exfm_dot_one(nr, full, xv, w3, last, a);
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) q[r] = vsetq_lane_s32(a[r], q[r], 3);
    const int32x4_t c = !col ? vdupq_n_s32(0) : tail ? vldrwq_z_s32(col, live) : vld1q_s32(col);
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) {
        int32x4_t v = vaddq_n_s32(vaddq_s32(q[r], c), rq[r].add); /* wraps as the portable int32 sum */
        v = vaddq_n_s32(vrshlq_n_s32(vmulhq_s32(v, vdupq_n_s32(rq[r].mult)), 32 - rq[r].shift), rq[r].out_zp);
        v = vshrq_n_s32(vqshlq_n_s32(v, 24), 24);
        if (tail) {
            vstrbq_p_s32(y + r * y_stride, v, live);
        } else {
            vstrbq_s32(y + r * y_stride, v);
        }
    }
}

/* y_r[s] = requantize(x_r . w_s + col[s] + rq[r].add, rq[r]) + out_zp, saturated to int8, for r < nr (1
 * or 2) and s < n (any n: no chunk of sums), k <= 16, every rq[r].shift in [33, 63]; y_r at y + r y_stride;
 * col may be NULL. The x rows are loaded once and held; each column costs a load and nr VMLADAV, each four
 * columns the requantization above, so nothing goes through memory but the bytes stored (about 5
 * instructions an output at k 16 against 13 for exfm_dot_held, its sums and exfm_requant_run). The last
 * n % 4 columns read the last column again and store under a VCTP predicate. full: k == 16. */
static inline __attribute__((always_inline)) void exfm_dot_rq_body(const int32_t nr, const int full, const int8_t *x,
                                                                    const int8_t *w, const int32_t *col, int32_t k,
                                                                    int32_t n, const exfm_rq_t *rq, int8_t *y,
                                                                    int32_t y_stride) {
    const mve_pred16_t last = vctp8q((uint32_t)k);
    int8x16_t xv[2];
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) xv[r] = full ? vld1q_s8(x + r * k) : vldrbq_z_s8(x + r * k, last);
    int32_t s = 0;
    for (; s + 4 <= n; s += 4, w += 4 * k) {
        exfm_rq4(nr, full, xv, w, w + k, w + 2 * k, w + 3 * k, last, col ? col + s : NULL, rq, y + s, y_stride, 0, 0);
    }
    if (s < n) {
        const int8_t *w_last = w + (n - 1 - s) * k;
        exfm_rq4(nr, full, xv, w, s + 1 < n ? w + k : w_last, s + 2 < n ? w + 2 * k : w_last, w_last, last,
                 col ? col + s : NULL, rq, y + s, y_stride, 1, vctp32q((uint32_t)(n - s)));
    }
}

static inline __attribute__((always_inline)) void exfm_dot_rq(const int32_t nr, const int8_t *x, const int8_t *w,
                                                               const int32_t *col, int32_t k, int32_t n,
                                                               const exfm_rq_t *rq, int8_t *y, int32_t y_stride) {
    if (k == 16) {
        exfm_dot_rq_body(nr, 1, x, w, col, k, n, rq, y, y_stride);
    } else {
        exfm_dot_rq_body(nr, 0, x, w, col, k, n, rq, y, y_stride);
    }
}

/* The sum of the k int8 at x (VADDVA, 16 a step; the tail under a VCTP predicate). */
static inline int32_t exfm_sum_s8(const int8_t *x, int32_t k) {
    int32_t s = 0, i = 0;
    for (; i + 16 <= k; i += 16) s = vaddvaq_s8(s, vld1q_s8(x + i));
    if (i < k) s = vaddvaq_s8(s, vldrbq_z_s8(x + i, vctp8q((uint32_t)(k - i))));
    return s;
}

/* acc requantized (mult, shift) + out_zp, saturated to int8: exfq_requantize's value, for shift >= 32
 * as SMLAL on the high word (2^(shift - 1) as two words, without a 64-bit shift), else in int64. */
static inline int8_t exfm_requant_s8(int32_t acc, int32_t mult, int32_t shift, int32_t out_zp) {
    if (shift >= 32) {
        const uint32_t round_lo = shift == 32 ? 0x80000000u : 0u, round_hi = shift == 32 ? 0u : 1u << (shift - 33);
        const int64_t v = (int64_t)acc * mult + (int64_t)(((uint64_t)round_hi << 32) | round_lo); /* SMLAL */
        return (int8_t)exf_ssat8(((int32_t)(v >> 32) >> (shift - 32)) + out_zp);
    }
    return exfq_clamp_s8(exfq_requantize(acc, mult, shift) + out_zp);
}

/* y[j] = requantize(sums[j] + add, mult, shift) + out_zp, saturated to int8, j < n (one multiplier and
 * shift: a per-tensor matmul's row, a conv channel's positions). For shift in [33, 63] four at a time: the
 * high word of acc mult (VMULH, the floor) shifted right by shift - 32 with rounding (VRSHL) is
 * exfq_requantize's rounded acc mult >> shift, since adding 2^(shift - 1), a multiple of 2^32, commutes
 * with the floor of the high word; for shift 32 the rounded high word itself (VRMULH). The last n % 4 under
 * a VCTP predicate. Below 32, one at a time in int64. add + sums[j] wraps as the portable int32 sum does. */
static inline void exfm_requant_run(const int32_t *sums, int32_t add, int32_t n, int32_t mult, int32_t shift,
                                    int32_t out_zp, int8_t *y) {
    if (shift < 32) {
        for (int32_t j = 0; j < n; j++) {
            y[j] = exfm_requant_s8((int32_t)((uint32_t)sums[j] + (uint32_t)add), mult, shift, out_zp);
        }
        return;
    }
    const int32x4_t lo = vdupq_n_s32(-128), hi = vdupq_n_s32(127), mv = vdupq_n_s32(mult);
    const int32x4_t down = vdupq_n_s32(32 - shift); /* 0 or negative: a rounding right shift */
    int32_t j = 0;
    if (shift == 32) {
        for (; j + 4 <= n; j += 4) {
            const int32x4_t q = vrmulhq_s32(vaddq_n_s32(vld1q_s32(sums + j), add), mv);
            vstrbq_s32(y + j, vmaxq_s32(vminq_s32(vaddq_n_s32(q, out_zp), hi), lo)); /* the four low bytes */
        }
    } else {
        for (; j + 4 <= n; j += 4) {
            const int32x4_t q = vrshlq_s32(vmulhq_s32(vaddq_n_s32(vld1q_s32(sums + j), add), mv), down);
            vstrbq_s32(y + j, vmaxq_s32(vminq_s32(vaddq_n_s32(q, out_zp), hi), lo));
        }
    }
    if (j < n) { /* the last n % 4 under a VCTP predicate */
        const mve_pred16_t live = vctp32q((uint32_t)(n - j));
        const int32x4_t acc = vaddq_n_s32(vldrwq_z_s32(sums + j, live), add);
        int32x4_t q = shift == 32 ? vrmulhq_s32(acc, mv) : vrshlq_s32(vmulhq_s32(acc, mv), down);
        q = vmaxq_s32(vminq_s32(vaddq_n_s32(q, out_zp), hi), lo);
        vstrbq_p_s32(y + j, q, live);
    }
}

#endif /* EXF_MVE */
#endif /* EDGEXF_QUANT_MVE_H */
