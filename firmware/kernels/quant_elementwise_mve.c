/* Helium (MVE) forms of the int8 elementwise kernels (quant_elementwise.c): compiled to nothing where the
 * core has no MVE. Bit-exact with the portable loops: the same table entries and integers.
 *
 * The table lookup y = table[x + 128] (exf_lut_s8, and the fused token MLP's activation): 16 elements a
 * step, x + 128 as the unsigned byte offsets of one VLDRB gather (x XOR 0x80), the last n % 16 under a VCTP
 * predicate; about 6 instructions per 16 elements against 2.5 an element for LDRSB, LDRB, STRB. (QEMU
 * counts the gather as one instruction; on the Cortex-M55 it takes about a beat per element, still some
 * 3x fewer cycles than the scalar loads and stores.) Each vector is read before it is written, so y may
 * equal x.
 *
 * The int8 multiply (exf_mul_q, exf_mul_qq on int8 operands) on quant_mul.h's hi path, operands contiguous
 * or one element broadcast along the row: four elements a vector (mul_rows), about 3.5 instructions an
 * element against 11 (contiguous) to 26 (broadcast, or a shift below 33) for the portable loops. */
#include "quant_common.h"
#include "quant_mul.h"

#if EXF_MVE
#include <arm_mve.h>

void exfq_lut_s8_mve(const int8_t *x, const int8_t *table, int8_t *y, int32_t n) {
    // x (n,) -> y (n,), y = table[x + 128]
    const uint8x16_t flip = vdupq_n_u8(0x80);
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        vst1q_s8(y + i, vldrbq_gather_offset_s8(table, veorq_u8(vld1q_u8((const uint8_t *)x + i), flip)));
    }
    if (i < n) {
        const mve_pred16_t live = vctp8q((uint32_t)(n - i));
        const uint8x16_t at = veorq_u8(vldrbq_z_u8((const uint8_t *)x + i, live), flip);
        vstrbq_p_s8(y + i, vldrbq_gather_offset_z_s8(table, at, live), live);
    }
}
#endif /* EXF_MVE */

#if EXF_MVE
/* The int8 multiply's hi path (quant_mul.h) over rows rows of n, a's element (r, i) at r ra + i sa, b's
 * likewise, y's at r n + i (int8 or int16 by yb): four elements a vector in int32 lanes,
 *   y = sat((H + bias) >> rs), H = floor(((u v) << ls) mult / 2^32) (VMULH: SMMLA's high word),
 * u = a - a_zp, v = b - b_zp, |u v 2^ls| < 2^31 (exfq_mul_prepare); the last n % 4 under a VCTP predicate.
 * sa, sb (0: one element for the row, broadcast; 1: contiguous) and yb are constants where inlined. */
static inline __attribute__((always_inline)) void mul_rows(const exfq_mul_t *p, const int8_t *a, int32_t ra,
                                                            const int8_t *b, int32_t rb, void *y, int32_t rows,
                                                            int32_t n, const int sa, const int sb, const int yb) {
    const int32x4_t lsv = vdupq_n_s32(p->ls), down = vdupq_n_s32(-p->rs), mv = vdupq_n_s32(p->mult);
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, bias = p->bias, top = yb == 1 ? 127 : 32767;
    const int32x4_t hi = vdupq_n_s32(top), lo = vdupq_n_s32(-top - 1);
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *ar = a + r * ra, *br = b + r * rb;
        const int32x4_t u0 = vdupq_n_s32(ar[0] - a_zp), v0 = vdupq_n_s32(br[0] - b_zp);
        for (int32_t i = 0; i < n; i += 4) {
            const mve_pred16_t live = vctp32q((uint32_t)(n - i));
            const int32x4_t u = sa ? vsubq_n_s32(vldrbq_z_s32(ar + i, live), a_zp) : u0;
            const int32x4_t v = sb ? vsubq_n_s32(vldrbq_z_s32(br + i, live), b_zp) : v0;
            const int32x4_t prod = vshlq_s32(vmulq_s32(u, v), lsv); /* wraps as the scalar uint32 shift */
            const int32x4_t q = vmaxq_s32(vminq_s32(vshlq_s32(vaddq_n_s32(vmulhq_s32(prod, mv), bias), down), hi), lo);
            if (yb == 1) {
                vstrbq_p_s32((int8_t *)y + r * n + i, q, live);
            } else {
                vstrhq_p_s32((int16_t *)y + r * n + i, q, live);
            }
        }
    }
}

void exfq_mul_s8_mve(const exfq_mul_t *p, const int8_t *a, int32_t ra, int32_t sa, const int8_t *b, int32_t rb,
                     int32_t sb, void *y, int32_t rows, int32_t n, int32_t yb) {
    // a (rows, n; strides ra, sa) * b (rows, n; strides rb, sb) -> y (rows, n), int8 operands, sa, sb in {0, 1}
    if (yb == 1) {
        if (sa && sb) {
            mul_rows(p, a, ra, b, rb, y, rows, n, 1, 1, 1);
        } else if (sa) {
            mul_rows(p, a, ra, b, rb, y, rows, n, 1, 0, 1);
        } else if (sb) {
            mul_rows(p, a, ra, b, rb, y, rows, n, 0, 1, 1);
        } else {
            mul_rows(p, a, ra, b, rb, y, rows, n, 0, 0, 1);
        }
    } else {
        if (sa && sb) {
            mul_rows(p, a, ra, b, rb, y, rows, n, 1, 1, 2);
        } else if (sa) {
            mul_rows(p, a, ra, b, rb, y, rows, n, 1, 0, 2);
        } else if (sb) {
            mul_rows(p, a, ra, b, rb, y, rows, n, 0, 1, 2);
        } else {
            mul_rows(p, a, ra, b, rb, y, rows, n, 0, 0, 2);
        }
    }
}
#endif /* EXF_MVE */
