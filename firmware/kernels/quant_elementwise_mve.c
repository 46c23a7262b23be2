/* Helium (MVE) forms of the int8 elementwise kernels (quant_elementwise.c): compiled to nothing where the
 * core has no MVE. Bit-exact with the portable loops: the same table entries and integers.
 *
 * The table lookup y = table[x + 128] (exf_lut_s8, and the fused token MLP's activation): 16 elements a
 * step, x + 128 as the unsigned byte offsets of one VLDRB gather (x XOR 0x80), the last n % 16 under a VCTP
 * predicate; about 6 instructions per 16 elements against 2.5 an element for LDRSB, LDRB, STRB. (QEMU
 * counts the gather as one instruction; on the Cortex-M55 it takes about a beat per element, still some
 * 3x fewer cycles than the scalar loads and stores.) Each vector is read before it is written, so y may
 * equal x. */
#include "quant_common.h"

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
