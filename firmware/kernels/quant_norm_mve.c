/* The normalizing loop of the int8 LayerNorm (quant_norm.c ln_normalize, output mode 0: an output shift
 * sh = gshift + 16 in [33, 54], the quantizer's usual one) for cores with Helium (MVE), four elements of
 * a row at a time in int32 lanes; quant_norm.c calls it there. Compiled to nothing elsewhere.
 *
 * Per element, as ln_normalize (whose comments give the ranges): t = d q - S, mod 2^32 and exact;
 * z = floor((t inv + 2^31) / 2^32) where s == 32 (VRMULH), else (hi(t inv) + 2^(s - 33)) >> (s - 32)
 * (VMULH, then an arithmetic shift); a = gamma z + beta 2^16, whose high word is hi(gamma z) (VMULH) +
 * (beta >> 16) + the carry out of lo(gamma z) + (beta << 16) (VMUL for the low word; the carry is bit 31
 * of their halving add, VHADD.U32); y = sat8((hi(a) + c) >> osh), c holding the rounding and out_zp.
 * The last d % 4 elements run the same arithmetic in scalars. */
#include "quant_common.h"

#if EXF_MVE
#include <arm_mve.h>

static inline int8_t sat8(int32_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

void exfq_ln_normalize_s8_mve(const int8_t *x, const int32_t *gamma, const int32_t *beta, int8_t *y, int32_t d,
                              uint32_t dl, uint32_t sl, int32_t m, int32_t s32, int32_t zr, int32_t zsh, int32_t c,
                              int32_t osh) {
    // x (d,) int8 -> y (d,) int8, one row normalized; y may be x
    const int32x4_t mv = vdupq_n_s32(m), zdown = vdupq_n_s32(-zsh), odown = vdupq_n_s32(-osh);
    const int32x4_t lo = vdupq_n_s32(-128), hi = vdupq_n_s32(127);
    int32_t i = 0;
    for (; i + 4 <= d; i += 4) {
        const int32x4_t q = vldrbq_s32(x + i), g = vld1q_s32(gamma + i), b = vld1q_s32(beta + i);
        const int32x4_t t = vsubq_s32(vmulq_n_s32(q, (int32_t)dl), vdupq_n_s32((int32_t)sl));
        const int32x4_t z = s32 ? vrmulhq_s32(t, mv) : vshlq_s32(vaddq_n_s32(vmulhq_s32(t, mv), zr), zdown);
        const uint32x4_t glo = vreinterpretq_u32_s32(vmulq_s32(g, z));
        const uint32x4_t blo = vshlq_n_u32(vreinterpretq_u32_s32(b), 16);
        const int32x4_t carry = vreinterpretq_s32_u32(vshrq_n_u32(vhaddq_u32(glo, blo), 31));
        const int32x4_t ahi = vaddq_s32(vaddq_s32(vmulhq_s32(g, z), vshrq_n_s32(b, 16)), carry);
        const int32x4_t v = vshlq_s32(vaddq_n_s32(ahi, c), odown);
        vstrbq_s32(y + i, vmaxq_s32(vminq_s32(v, hi), lo));
    }
    for (; i < d; i++) {
        const int32_t t = (int32_t)((uint32_t)x[i] * dl - sl);
        const int64_t p = (int64_t)t * m;
        const int32_t z = s32 ? (int32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31) : ((int32_t)(p >> 32) + zr) >> zsh;
        const int32_t b = beta[i];
        const int64_t b16 = (int64_t)(((uint64_t)(uint32_t)(b >> 16) << 32) | ((uint32_t)b << 16));
        const int64_t a = (int64_t)gamma[i] * z + b16;
        y[i] = sat8(((int32_t)(a >> 32) + c) >> osh);
    }
}

/* The mapping loop of the LayerNorm without gamma (quant_norm_plain.c): y_i = sat8((a q_i + 2^8 b) >> 16)
 * for the first d - d % 4 elements of the row, four a vector (VMLA, VSHR, VMIN/VMAX, VSTRB); returns how
 * many it did, the caller finishing the rest. a q + 2^8 b fits int32 (|a| <= 2^22). */
int32_t exfq_ln_plain_s8_mve(const int8_t *x, int8_t *y, int32_t d, int32_t a, int32_t b) {
    const int32x4_t b8 = vdupq_n_s32(b * 256), lo = vdupq_n_s32(-128), hi = vdupq_n_s32(127);
    int32_t i = 0;
    for (; i + 4 <= d; i += 4) {
        const int32x4_t v = vshrq_n_s32(vmlaq_n_s32(b8, vldrbq_s32(x + i), a), 16);
        vstrbq_s32(y + i, vmaxq_s32(vminq_s32(v, hi), lo));
    }
    return i;
}
#endif /* EXF_MVE */
