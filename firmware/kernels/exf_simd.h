/* The three Cortex-M DSP-extension operations the fast integer kernels use, as ACLE intrinsics
 * (arm_acle.h) where the core has them (Cortex-M4, M7, M33, M55: __ARM_FEATURE_DSP), and as plain C
 * with the same results elsewhere (the host build, cores without DSP). The C forms keep the host
 * build of a model bit-exact with its board build; on a core without DSP they are slower than the
 * portable kernels, which is why `edgexf compile --kernels` picks the portable ones there.
 */
#ifndef EDGEXF_SIMD_H
#define EDGEXF_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define EXF_SIMD_NATIVE 1
#else
#define EXF_SIMD_NATIVE 0
#endif

/* Four int8 at p (any alignment: Armv7-M loads words unaligned) as one word, byte 0 lowest. */
static inline uint32_t exf_load4(const int8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

#if EXF_SIMD_NATIVE
/* The two words at *p (4-byte aligned) in one LDRD, advancing *p: gcc 12 splits a 64-bit load whose
 * halves are used apart into two LDRs, one instruction more per pair. */
static inline void exf_load_pair(const uint32_t **p, uint32_t *lo, uint32_t *hi) {
    __asm__("ldrd %0, %1, [%2], #8" : "=r"(*lo), "=r"(*hi), "+r"(*p) : : "memory");
}
#else
static inline void exf_load_pair(const uint32_t **p, uint32_t *lo, uint32_t *hi) {
    *lo = (*p)[0];
    *hi = (*p)[1];
    *p += 2;
}
#endif

#if EXF_SIMD_NATIVE
/* bytes 0 and 2 of v, sign-extended into the two halfwords (SXTB16) */
static inline uint32_t exf_sxtb16(uint32_t v) { return (uint32_t)__sxtb16((int32_t)v); }
/* bytes 1 and 3 of v, sign-extended into the two halfwords (SXTB16 with ROR #8) */
static inline uint32_t exf_sxtb16_ror8(uint32_t v) {
    uint32_t out; /* one instruction; gcc 12 emits ROR then SXTB16 for __sxtb16(__ror(v, 8)) */
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(out) : "r"(v));
    return out;
}
/* acc + lo(a) lo(b) + hi(a) hi(b), halfwords signed (SMLAD) */
static inline int32_t exf_smlad(uint32_t a, uint32_t b, int32_t acc) {
    return __smlad((int32_t)a, (int32_t)b, acc);
}
/* v saturated to int8 (SSAT #8) */
static inline int32_t exf_ssat8(int32_t v) { return __ssat(v, 8); }
/* v saturated to int16 (SSAT #16; exfq_clamp_s16 of an int32 compares as int64: about 8 instructions) */
static inline int32_t exf_ssat16(int32_t v) { return __ssat(v, 16); }
#else
static inline uint32_t exf_halves(int32_t lo, int32_t hi) { return (uint16_t)lo | ((uint32_t)(uint16_t)hi << 16); }
static inline uint32_t exf_sxtb16(uint32_t v) { return exf_halves((int8_t)v, (int8_t)(v >> 16)); }
static inline uint32_t exf_sxtb16_ror8(uint32_t v) { return exf_halves((int8_t)(v >> 8), (int8_t)(v >> 24)); }
static inline int32_t exf_smlad(uint32_t a, uint32_t b, int32_t acc) {
    int32_t lo = (int16_t)a * (int16_t)b, hi = (int16_t)(a >> 16) * (int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi); /* wraps as SMLAD does */
}
static inline int32_t exf_ssat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline int32_t exf_ssat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
#endif

#endif /* EDGEXF_SIMD_H */
