/* Fast int8 linear layers for cores with Helium (MVE, Armv8.1-M: Cortex-M55, M85): bit-exact with
 * exf_linear_s8. Compiled to nothing elsewhere (the host, the Cortex-M7): everything is under
 * __ARM_FEATURE_MVE, which -mcpu=cortex-m55 (the board's core) defines.
 *
 * VMLADAVA.S8 multiplies 16 pairs of int8 and adds all 16 products to a scalar accumulator: 16 MACs
 * per instruction, on the int8 operands as they are (no widening, so no scratch and int8 weights).
 * Blocks of two rows of x by NW_MAX = 3 weight rows (six sums and five pointers fit the registers; four
 * weight rows spill): per 16 columns, five loads and six VMLADAVA for 96 MACs, the pointers advancing so
 * the loop is only those and LE. A tail of k % 16 columns is loaded under a VCTP predicate (the lanes
 * past k read as zero and add nothing), so no byte past a row is read. Each output's sum is the
 * integer of exf_linear_s8 (addition does not depend on order). A row's sums are kept for CHUNK
 * outputs, then requantized four at a time in one vector where every shift of the layer is at least 32
 * (requant_row), else one at a time as quant_dot_dsp.c does (SMLAL, ASR, SSAT; exfq_requantize).
 *
 * The DSP kernels' int8 linear helper (exfq_linear_s8_dsp) calls this one where MVE is present, so
 * every fused dsp op (q_ln_linear, q_token_mlp) and q_linear runs it (edgexf/ir/kernel_choice.py).
 */
#include "edgexf_kernels.h"
#include "quant_common.h"

#if EXF_MVE
#include <arm_mve.h>

#include "exf_simd.h"

/* y = acc requantized (mult, shift) + out_zp, saturated to int8: quant_dot_dsp.c's arithmetic. */
static inline int8_t requant_s8(int32_t acc, int32_t mult, int32_t shift, int32_t out_zp) {
    if (shift >= 32) { /* 2^(shift - 1) as two words, without a 64-bit shift */
        const uint32_t round_lo = shift == 32 ? 0x80000000u : 0u, round_hi = shift == 32 ? 0u : 1u << (shift - 33);
        const int64_t v = (int64_t)acc * mult + (int64_t)(((uint64_t)round_hi << 32) | round_lo); /* SMLAL */
        return (int8_t)exf_ssat8(((int32_t)(v >> 32) >> (shift - 32)) + out_zp);
    }
    return exfq_clamp_s8(exfq_requantize(acc, mult, shift) + out_zp);
}

#define CHUNK 32 /* outputs of a row summed before they are requantized together */
#ifndef NW_MAX
#define NW_MAX 3 /* weight rows per block: with two rows of x, 6 sums and 5 pointers in registers */
#endif

/* sums[r CHUNK + s] = bias[s] + x_r . w_s for nr rows x_r of x and nw weight rows w_s (row stride k):
 * each x vector is used for nw weight rows, each weight vector for nr rows. nr and nw are constants
 * where this is inlined, so the nr nw sums stay in registers; the pointers advance, so the loop is
 * loads, VMLADAV and LE (n16 = k / 16 iterations). */
static inline __attribute__((always_inline)) void dot_block(const int32_t nr, const int32_t nw, const int8_t *x,
                                                             const int8_t *w, const int32_t *bias, int32_t k,
                                                             int32_t n16, int32_t *sums) {
    int32_t a[2][NW_MAX];
    const int8_t *wp[NW_MAX], *xp[2];
#pragma GCC unroll 4
    for (int32_t s = 0; s < nw; s++) {
        wp[s] = w + s * k;
#pragma GCC unroll 2
        for (int32_t r = 0; r < nr; r++) a[r][s] = bias ? bias[s] : 0;
    }
#pragma GCC unroll 2
    for (int32_t r = 0; r < nr; r++) xp[r] = x + r * k;
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
        for (int32_t s = 0; s < nw; s++) sums[r * CHUNK + s] = a[r][s];
    }
}

/* The sums of nr (1 or 2, a constant where inlined) rows of x against n weight rows, NW_MAX at a time. */
static inline __attribute__((always_inline)) void dot_rows(const int32_t nr, const int8_t *x, const int8_t *w,
                                                            const int32_t *bias, int32_t k, int32_t n,
                                                            int32_t *sums) {
    int32_t j = 0;
    const int32_t n16 = k >> 4;
    for (; j + NW_MAX <= n; j += NW_MAX) dot_block(nr, NW_MAX, x, w + j * k, bias ? bias + j : NULL, k, n16, sums + j);
    for (; j < n; j++) dot_block(nr, 1, x, w + j * k, bias ? bias + j : NULL, k, n16, sums + j);
}

/* y[j] = sums[j] requantized (mult[j], shift[j]) + out_zp, saturated, j < n; four at a time where every
 * shift is in [33, 63] (wide 2) or [32, 63] (wide 1): the high word of acc * mult (VMULH, the floor) shifted right by
 * shift - 32 with rounding (VRSHL) is exfq_requantize's rounded acc * mult >> shift, since adding
 * 2^(shift - 1), a multiple of 2^32, commutes with the floor of the high word; shift 32 rounds the
 * product itself (VRMULH). */
static void requant_row(const int32_t *sums, const int32_t *mult, const int32_t *shift, int32_t out_zp,
                        int8_t *y, int32_t n, int32_t wide) {
    int32_t j = 0;
    const int32x4_t lo = vdupq_n_s32(-128), hi = vdupq_n_s32(127), s32 = vdupq_n_s32(32);
    if (wide == 2) { /* every shift in [33, 63]: VMULH, VRSHL */
        for (; j + 4 <= n; j += 4) {
            const int32x4_t down = vsubq_s32(s32, vld1q_s32(shift + j)); /* 32 - shift: negative */
            int32x4_t q = vrshlq_s32(vmulhq_s32(vld1q_s32(sums + j), vld1q_s32(mult + j)), down);
            q = vmaxq_s32(vminq_s32(vaddq_n_s32(q, out_zp), hi), lo);
            vstrbq_s32(y + j, q); /* the four low bytes */
        }
    } else if (wide == 1) { /* every shift in [32, 63] */
        const int32x4_t one = vdupq_n_s32(1);
        for (; j + 4 <= n; j += 4) {
            const int32x4_t acc = vld1q_s32(sums + j), mv = vld1q_s32(mult + j);
            const int32x4_t down = vsubq_s32(s32, vld1q_s32(shift + j)); /* 32 - shift: 0 or negative */
            const int32x4_t shifted = vrshlq_s32(vmulhq_s32(acc, mv), down), rounded = vrmulhq_s32(acc, mv);
            /* rounded where shift is 32, else shifted: arithmetic, as GCC 12 fails on VPSEL's predicate here */
            int32x4_t q = vaddq_s32(rounded, vmulq_s32(vminq_s32(vnegq_s32(down), one), vsubq_s32(shifted, rounded)));
            q = vmaxq_s32(vminq_s32(vaddq_n_s32(q, out_zp), hi), lo);
            vstrbq_s32(y + j, q);
        }
    }
    for (; j < n; j++) y[j] = requant_s8(sums[j], mult[j], shift[j], out_zp);
}

void exfq_linear_s8_mve(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int32_t *shift, int8_t *y, int32_t rows, int32_t k, int32_t m, int32_t out_zp) {
    // x (rows, k) @ W (m, k)^T + bias (m,) -> y (rows, m), per-channel requantize
    int32_t min_shift = 63; /* requant_row's vector forms: every shift >= 33 (2) or >= 32 (1) */
    for (int32_t j = 0; j < m; j++) min_shift = shift[j] < min_shift ? shift[j] : min_shift;
    const int32_t wide = min_shift >= 33 ? 2 : min_shift == 32 ? 1 : 0;
    int32_t sums[2 * CHUNK] __attribute__((aligned(8)));
    int32_t r = 0;
    for (; r + 2 <= rows; r += 2) { /* two rows share every weight vector */
        for (int32_t j = 0; j < m; j += CHUNK) {
            const int32_t n = m - j < CHUNK ? m - j : CHUNK;
            dot_rows(2, x + r * k, w + j * k, bias ? bias + j : NULL, k, n, sums);
            requant_row(sums, mult + j, shift + j, out_zp, y + r * m + j, n, wide);
            requant_row(sums + CHUNK, mult + j, shift + j, out_zp, y + (r + 1) * m + j, n, wide);
        }
    }
    if (r < rows) {
        for (int32_t j = 0; j < m; j += CHUNK) {
            const int32_t n = m - j < CHUNK ? m - j : CHUNK;
            dot_rows(1, x + r * k, w + j * k, bias ? bias + j : NULL, k, n, sums);
            requant_row(sums, mult + j, shift + j, out_zp, y + r * m + j, n, wide);
        }
    }
}
#endif /* EXF_MVE */
