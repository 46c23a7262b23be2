/* Fast int8 linear layers for cores with Helium (MVE, Armv8.1-M: Cortex-M55, M85): bit-exact with
 * exf_linear_s8. Compiled to nothing elsewhere (the host, the Cortex-M7): everything is under
 * __ARM_FEATURE_MVE, which -mcpu=cortex-m55 (the board's core) defines.
 *
 * The sums come from quant_mve.h's VMLADAVA blocks (two rows of x by three weight rows, 16 MACs per
 * instruction on the int8 operands as they are: no widening, so no scratch and int8 weights; k % 16 tails
 * under a VCTP predicate). Each output's sum is the integer of exf_linear_s8 (addition does not depend on
 * order). A row's sums are kept for EXFM_CHUNK outputs, then requantized four at a time in one vector
 * where every shift of the layer is at least 32 (requant_row), else one at a time as quant_dot_dsp.c does
 * (SMLAL, ASR, SSAT; exfq_requantize).
 *
 * The DSP kernels' int8 linear helper (exfq_linear_s8_dsp) calls this one where MVE is present, so
 * every fused dsp op (q_ln_linear, q_token_mlp) and q_linear runs it (edgexf/ir/kernel_choice.py).
 */
#include "edgexf_kernels.h"
#include "quant_mve.h"

#if EXF_MVE
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
    for (; j < n; j++) y[j] = exfm_requant_s8(sums[j], mult[j], shift[j], out_zp);
}

void exfq_linear_s8_mve(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                        const int32_t *shift, int8_t *y, int32_t rows, int32_t k, int32_t m, int32_t out_zp) {
    // x (rows, k) @ W (m, k)^T + bias (m,) -> y (rows, m), per-channel requantize
    int32_t min_shift = 63; /* requant_row's vector forms: every shift >= 33 (2) or >= 32 (1) */
    for (int32_t j = 0; j < m; j++) min_shift = shift[j] < min_shift ? shift[j] : min_shift;
    const int32_t wide = min_shift >= 33 ? 2 : min_shift == 32 ? 1 : 0;
    int32_t sums[2 * EXFM_CHUNK] __attribute__((aligned(8)));
    int32_t r = 0;
    for (; r + 2 <= rows; r += 2) { /* two rows share every weight vector */
        for (int32_t j = 0; j < m; j += EXFM_CHUNK) {
            const int32_t n = m - j < EXFM_CHUNK ? m - j : EXFM_CHUNK;
            exfm_dot_rows(2, x + r * k, w + j * k, bias ? bias + j : NULL, k, n, sums);
            requant_row(sums, mult + j, shift + j, out_zp, y + r * m + j, n, wide);
            requant_row(sums + EXFM_CHUNK, mult + j, shift + j, out_zp, y + (r + 1) * m + j, n, wide);
        }
    }
    if (r < rows) {
        for (int32_t j = 0; j < m; j += EXFM_CHUNK) {
            const int32_t n = m - j < EXFM_CHUNK ? m - j : EXFM_CHUNK;
            exfm_dot_rows(1, x + r * k, w + j * k, bias ? bias + j : NULL, k, n, sums);
            requant_row(sums, mult + j, shift + j, out_zp, y + r * m + j, n, wide);
        }
    }
}
#endif /* EXF_MVE */
