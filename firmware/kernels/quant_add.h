/* The integer add of exf_add_q, shared with the fused kernels' residual adds (quant_fused*.c); internal
 * to the kernel library (edgexf_kernels.h states the arithmetic: y = clamp_y(((t + 2^(shift - 1)) >> shift)
 * + out_zp), t = (a - a_zp) ma + (b - b_zp) mb in int64).
 *
 * The zero points and the rounding term are folded, once per call, into one int64 constant
 * K = 2^(shift - 1) - a_zp ma - b_zp mb, so that each element is v = a ma + b mb + K = t + 2^(shift - 1)
 * (two 64-bit multiply-accumulates: SMLAL on Armv7-M), and v >> shift is taken as:
 * - shift >= 32 ("hi"): (int32)(v >> 32) >> (shift - 32), the high word shifted, which is the same floor
 *   (floor(floor(v / 2^32) / 2^(shift - 32)) = floor(v / 2^shift));
 * - shift < 32 ("lo"), when the call's operand ranges bound |v >> shift| below 2^29: the low word of the
 *   64-bit shift, (v_lo >> shift) | (v_hi << (32 - shift)), exact since the result fits int32; out_zp
 *   is added in K as out_zp 2^shift (|.| < 2^47, and floor((v + out_zp 2^shift) / 2^shift) is
 *   floor(v / 2^shift) + out_zp, still within int32), which leaves the loop a register more;
 * - otherwise ("wide": gains no code generator emits) the int64 shift and an int64 clamp.
 * Ranges: |a|, |b|, |a_zp|, |b_zp|, |out_zp| <= 2^16 (the int16 range and its zero points), |ma|, |mb|
 * <= 2^31, shift in [1, 62]. Then |a ma|, |a_zp ma| <= 2^47 (likewise b), |K| <= 2^61 + 2^48, and
 * |v| <= 2^61 + 2^50 < 2^62: neither K nor v overflows int64, and v equals t + 2^(shift - 1) exactly.
 * On the hi path |v >> 32| < 2^30, so adding out_zp stays in int32; on the lo path the bound is checked.
 * Then + out_zp and a saturation to y's element type (SSAT). */
#ifndef EDGEXF_QUANT_ADD_H
#define EDGEXF_QUANT_ADD_H

#include <stdint.h>

#include <string.h>

#include "edgexf_params.h"
#include "exf_simd.h"

enum { EXFQ_ADD_HI, EXFQ_ADD_LO, EXFQ_ADD_WIDE };

typedef struct {
    int64_t k;      /* 2^(shift - 1) - a_zp ma - b_zp mb (lo: + out_zp 2^shift) */
    int32_t ma, mb; /* the multipliers */
    int32_t rs;     /* hi: shift - 32; lo, wide: shift */
    int32_t ls;     /* lo: 32 - shift */
    int32_t out_zp; /* lo: 0 (in k) */
    int32_t path;   /* EXFQ_ADD_* */
} exfq_add_t;

/* The per-call terms for a (a_bytes) + b (b_bytes). */
exfq_add_t exfq_add_prepare(int32_t a_bytes, int32_t b_bytes, const exf_add_terms_t *add);

/* y[i] = add(a[i * sa], b[i * sb]) for i < n; a, b, y int8 or int16 by their *_bytes. As exf_add_q, y may
 * be a (or b) when that operand is contiguous with y's element size. */
void exfq_add_row(const exfq_add_t *p, const void *a, int32_t a_bytes, int32_t sa, const void *b, int32_t b_bytes,
                  int32_t sb, void *y, int32_t y_bytes, int32_t n);

/* The all-int8 lo path two elements a step on 16-bit multiplies (SMLAD), for the fused token MLP's
 * residual add. Each multiplier is split into halves, m = mh 2^16 + ml with ml = m's low halfword read
 * as signed (so mh = (m - ml) / 2^16 exactly), and K = kh 2^16 + kl with kl = K mod 2^16. Then with the
 * pair {a, b} (int8 each, sign-extended halfwords):
 *   H = a mah + b mbh + kh (SMLAD), L = a mal + b mbl + kl (SMLAD),
 *   v = a ma + b mb + K = H 2^16 + L, so floor(v / 2^16) = H + (L >> 16) (L's arithmetic shift is its
 *   floor), and floor(v / 2^shift) = (H + (L >> 16)) >> (shift - 16) (nested floors), then SSAT.
 * That is exfq_add_row's integer where: shift in [16, 31] (the lo path has out_zp in K), mah and mbh fit
 * int16 (|m| below 2^31 - 2^15), and |kh| < 2^30, so that |H| <= 2 128 2^15 + |kh| < 2^31 and
 * |L| <= 2^23 + 2^16: no SMLAD wraps, and H + (L >> 16) stays in int32. ok = 0 where they do not hold
 * (then exfq_add_row). Per two elements: two LDRH, ORR, two SXTB16, four SMLAD, two ADD, two ASR, two
 * SSAT and two STRB, about 9.5 instructions an element against 13. */
typedef struct {
    uint32_t mh, ml; /* {mah, mbh}, {mal, mbl} as halfword pairs */
    int32_t kh, kl;  /* K >> 16, K mod 2^16 */
    int32_t rs;      /* shift - 16 */
    int32_t ok;
} exfq_add8_t;

static inline exfq_add8_t exfq_add8_prepare(const exfq_add_t *p) {
    exfq_add8_t q = {0, 0, 0, 0, 0, 0};
    if (p->path != EXFQ_ADD_LO || p->rs < 16 || p->rs > 31) return q; /* before the terms: the hi path's cost */
    const int32_t mal = (int16_t)(uint16_t)(uint32_t)p->ma, mbl = (int16_t)(uint16_t)(uint32_t)p->mb;
    const int64_t mah = ((int64_t)p->ma - mal) / 65536, mbh = ((int64_t)p->mb - mbl) / 65536; /* exact */
    const int64_t kh = p->k >> 16; /* floor */
    if (mah > 32767 || mbh > 32767 || mah < -32768 || mbh < -32768 || kh >= ((int64_t)1 << 30) ||
        kh <= -((int64_t)1 << 30)) {
        return q;
    }
    q.mh = (uint16_t)mah | ((uint32_t)(uint16_t)mbh << 16);
    q.ml = (uint16_t)mal | ((uint32_t)(uint16_t)mbl << 16);
    q.kh = (int32_t)kh;
    q.kl = (int32_t)(p->k - kh * 65536); /* in [0, 2^16) */
    q.rs = p->rs - 16;
    q.ok = 1;
    return q;
}

/* y[i] = the add of a[i] and b[i] (all int8, contiguous; y may be a or b: both pairs are read before
 * either output is written), for a q with ok set. */
static inline void exfq_add8_row(const exfq_add8_t *q, const int8_t *a, const int8_t *b, int8_t *y, int32_t n) {
    const uint32_t mh = q->mh, ml = q->ml;
    const int32_t kh = q->kh, kl = q->kl, rs = q->rs;
    int32_t i = 0;
    for (; i + 2 <= n; i += 2) {
        uint16_t a01, b01;
        memcpy(&a01, a + i, 2);
        memcpy(&b01, b + i, 2);
        const uint32_t w = a01 | (uint32_t)b01 << 16; /* bytes a0 a1 b0 b1 */
        const uint32_t p0 = exf_sxtb16(w), p1 = exf_sxtb16_ror8(w); /* {a0, b0}, {a1, b1} */
        const int32_t h0 = exf_smlad(p0, mh, kh), l0 = exf_smlad(p0, ml, kl);
        const int32_t h1 = exf_smlad(p1, mh, kh), l1 = exf_smlad(p1, ml, kl);
        y[i] = (int8_t)exf_ssat8((h0 + (l0 >> 16)) >> rs);
        y[i + 1] = (int8_t)exf_ssat8((h1 + (l1 >> 16)) >> rs);
    }
    if (i < n) {
        const uint32_t p0 = (uint16_t)a[i] | (uint32_t)(uint16_t)b[i] << 16;
        const int32_t h0 = exf_smlad(p0, mh, kh), l0 = exf_smlad(p0, ml, kl);
        y[i] = (int8_t)exf_ssat8((h0 + (l0 >> 16)) >> rs);
    }
}

/* int8 + int8 -> int8 on the hi and lo paths with Helium (MVE; quant_add_mve.c, compiled only for such
 * cores): rows of n, a's and b's rows ra and rb elements apart, y's n. */
void exfq_add_s8_mve(const exfq_add_t *p, const int8_t *a, int32_t ra, const int8_t *b, int32_t rb, int8_t *y,
                     int32_t rows, int32_t n);
void exfq_add_s16_mve(const exfq_add_t *p, const int16_t *a, int32_t ra, const int16_t *b, int32_t rb, int16_t *y,
                      int32_t rows, int32_t n); /* int16 + int16 -> int16 the same way */

#endif /* EDGEXF_QUANT_ADD_H */
