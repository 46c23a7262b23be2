/* The integer add (quant_add.h) of int8 a and b into int8 y, or int16 into int16 (a recurrent model's
 * state update), on its hi and lo paths, for cores with Helium (MVE): exf_add_q's and the fused kernels'
 * residual adds call it there (quant_elementwise.c).
 * Compiled to nothing elsewhere (under __ARM_FEATURE_MVE).
 *
 * Four elements at a time in int32 lanes: v = K + a ma + b mb is 64 bits, so its high word is built from
 * 32-bit halves: hi(a ma) (VMULH, the floor) + hi(b mb) + hi(K) + the carries out of the low words
 * lo(a ma) + lo(b mb) + lo(K) (VMUL gives the low words; the carry of x + y is bit 31 of the halving
 * add (x + y) / 2, VHADD.U32, which does not overflow). That is floor(v / 2^32) exactly, then
 * >> (shift - 32) (VSHL by a negative count: arithmetic, the floor), + out_zp and saturated, as in
 * add_body's hi path; the lo path's bits [shift, shift + 32) of v are (v_lo >> shift) | (v_hi << (32 - shift)),
 * v_lo the low words' sum. The last n % 4 elements of a row go through the same arithmetic in int64. */
#include "quant_add.h"
#include "quant_common.h"

#if EXF_MVE
#include <arm_mve.h>

/* Element i of an int8 (bytes 1) or int16 (bytes 2) row, four at a time widened to int32 lanes; the
 * stores saturate to the element's range and narrow (VSTRB or VSTRH of the low bytes). */
static inline __attribute__((always_inline)) int32x4_t load4(const void *p, int32_t i, const int bytes) {
    return bytes == 1 ? vldrbq_s32((const int8_t *)p + i) : vldrhq_s32((const int16_t *)p + i);
}

static inline __attribute__((always_inline)) void store4(void *p, int32_t i, int32x4_t v, const int bytes) {
    if (bytes == 1) {
        vstrbq_s32((int8_t *)p + i, vmaxq_s32(vminq_s32(v, vdupq_n_s32(127)), vdupq_n_s32(-128)));
    } else {
        vstrhq_s32((int16_t *)p + i, vmaxq_s32(vminq_s32(v, vdupq_n_s32(32767)), vdupq_n_s32(-32768)));
    }
}

/* The rows on either path: hi (a constant where inlined) as described above; lo, bits [rs, rs + 32) of v,
 * (v_lo >> rs) | (v_hi << ls), out_zp already in K (quant_add.h). a, b and y all of bytes (1 or 2, a
 * constant where inlined): |a ma| < 2^47 either way, so the 64-bit arithmetic is the same. */
static inline __attribute__((always_inline)) void add_rows(const exfq_add_t *p, const void *a, int32_t ra,
                                                            const void *b, int32_t rb, void *y, int32_t rows,
                                                            int32_t n, const int hi_path, const int bytes) {
    const int64_t k = p->k;
    const int32_t ma = p->ma, mb = p->mb, rs = p->rs, ls = p->ls, zp = p->out_zp, k_hi = (int32_t)(k >> 32);
    const uint32x4_t k_lo = vdupq_n_u32((uint32_t)k);
    const int32x4_t mav = vdupq_n_s32(ma), mbv = vdupq_n_s32(mb), down = vdupq_n_s32(-rs), up = vdupq_n_s32(ls);
    for (int32_t r = 0; r < rows; r++) {
        const void *ar = (const uint8_t *)a + r * ra * bytes, *br = (const uint8_t *)b + r * rb * bytes;
        void *yr = (uint8_t *)y + r * n * bytes;
        int32_t i = 0;
        for (; i + 4 <= n; i += 4) {
            const int32x4_t x = load4(ar, i, bytes), u = load4(br, i, bytes);
            const uint32x4_t l1 = vreinterpretq_u32_s32(vmulq_s32(x, mav));
            const uint32x4_t l2 = vreinterpretq_u32_s32(vmulq_s32(u, mbv));
            const uint32x4_t l12 = vaddq_u32(l1, l2);
            const uint32x4_t c1 = vshrq_n_u32(vhaddq_u32(l1, l2), 31), c2 = vshrq_n_u32(vhaddq_u32(l12, k_lo), 31);
            int32x4_t v = vaddq_s32(vmulhq_s32(x, mav), vmulhq_s32(u, mbv));
            v = vaddq_n_s32(vaddq_s32(v, vreinterpretq_s32_u32(vaddq_u32(c1, c2))), k_hi); /* floor(v / 2^32) */
            if (hi_path) {
                v = vaddq_n_s32(vshlq_s32(v, down), zp);
            } else {
                const uint32x4_t v_lo = vshlq_u32(vaddq_u32(l12, k_lo), down); /* logical */
                v = vorrq_s32(vreinterpretq_s32_u32(v_lo), vshlq_s32(v, up));
            }
            store4(yr, i, v, bytes); /* in place: a, b read before y written */
        }
        for (; i < n; i++) {
            const int32_t ai = bytes == 1 ? ((const int8_t *)ar)[i] : ((const int16_t *)ar)[i];
            const int32_t bi = bytes == 1 ? ((const int8_t *)br)[i] : ((const int16_t *)br)[i];
            const int64_t v = k + (int64_t)ai * ma + (int64_t)bi * mb;
            const int32_t res = hi_path ? ((int32_t)(v >> 32) >> rs) + zp
                                        : (int32_t)(((uint32_t)v >> rs) | ((uint32_t)(v >> 32) << ls));
            if (bytes == 1) {
                ((int8_t *)yr)[i] = exfq_clamp_s8(res);
            } else {
                ((int16_t *)yr)[i] = exfq_clamp_s16(res);
            }
        }
    }
}

/* int8 operands on 32-bit multiplies (quant_add.h's exfq_add8_t split in int32 lanes): with
 * m = mh 2^16 + ml (ml m's low halfword read as signed) and K = kh 2^16 + kl (kl = K mod 2^16),
 *   H = a mah + b mbh + kh, L = a mal + b mbl + kl, v = H 2^16 + L, floor(v / 2^16) = H + (L >> 16),
 * and floor(v / 2^shift) = (H + (L >> 16)) >> (shift - 16) (nested floors), then + out_zp (0 on the lo
 * path, where it is in K) and saturated: both paths' value, for shift in [16, 47]. |a|, |b| <= 128,
 * |mh|, |ml| <= 2^15 and |kh| < 2^30 keep H in int32 (|L| < 2^24). Four elements in two VMLA pairs,
 * about 3 instructions an element against 7.4 for the 64-bit form above. ok = 0 elsewhere. */
typedef struct {
    int32_t mah, mal, mbh, mbl, kh, kl, down, zp, ok;
} split_t;

static split_t split_of(const exfq_add_t *p) {
    split_t q = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    const int32_t shift = p->path == EXFQ_ADD_HI ? p->rs + 32 : p->rs;
    const int64_t kh = p->k >> 16; /* floor */
    if (p->path == EXFQ_ADD_WIDE || shift < 16 || shift > 47 || kh >= (1 << 30) || kh <= -(1 << 30)) return q;
    q.mal = (int16_t)(uint16_t)(uint32_t)p->ma;
    q.mbl = (int16_t)(uint16_t)(uint32_t)p->mb;
    q.mah = (int32_t)(((int64_t)p->ma - q.mal) / 65536); /* exact */
    q.mbh = (int32_t)(((int64_t)p->mb - q.mbl) / 65536);
    q.kh = (int32_t)kh;
    q.kl = (int32_t)(p->k - kh * 65536); /* in [0, 2^16) */
    q.down = shift - 16;
    q.zp = p->out_zp;
    q.ok = 1;
    return q;
}

static void split_rows(const split_t *q, const int8_t *a, int32_t ra, const int8_t *b, int32_t rb, int8_t *y,
                       int32_t rows, int32_t n) {
    const int32_t mah = q->mah, mal = q->mal, mbh = q->mbh, mbl = q->mbl, zp = q->zp;
    const int32x4_t khv = vdupq_n_s32(q->kh), klv = vdupq_n_s32(q->kl), down = vdupq_n_s32(-q->down);
    const int32x4_t lo = vdupq_n_s32(-128), hi = vdupq_n_s32(127);
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *ar = a + r * ra, *br = b + r * rb;
        int8_t *yr = y + r * n;
        int32_t i = 0;
        for (; i + 4 <= n; i += 4) { /* unpredicated: GCC 12 spills and reloads the predicate in the loop */
            const int32x4_t x = vldrbq_s32(ar + i), u = vldrbq_s32(br + i);
            const int32x4_t h = vmlaq_n_s32(vmlaq_n_s32(khv, x, mah), u, mbh);
            const int32x4_t l = vmlaq_n_s32(vmlaq_n_s32(klv, x, mal), u, mbl);
            const int32x4_t v = vaddq_n_s32(vshlq_s32(vaddq_s32(h, vshrq_n_s32(l, 16)), down), zp);
            vstrbq_s32(yr + i, vmaxq_s32(vminq_s32(v, hi), lo)); /* in place: a, b read first */
        }
        if (i < n) { /* the last n % 4 under a VCTP predicate */
            const mve_pred16_t live = vctp32q((uint32_t)(n - i));
            const int32x4_t x = vldrbq_z_s32(ar + i, live), u = vldrbq_z_s32(br + i, live);
            const int32x4_t h = vmlaq_n_s32(vmlaq_n_s32(khv, x, mah), u, mbh);
            const int32x4_t l = vmlaq_n_s32(vmlaq_n_s32(klv, x, mal), u, mbl);
            const int32x4_t v = vaddq_n_s32(vshlq_s32(vaddq_s32(h, vshrq_n_s32(l, 16)), down), zp);
            vstrbq_p_s32(yr + i, vmaxq_s32(vminq_s32(v, hi), lo), live);
        }
    }
}

void exfq_add_s8_mve(const exfq_add_t *p, const int8_t *a, int32_t ra, const int8_t *b, int32_t rb, int8_t *y,
                     int32_t rows, int32_t n) {
    // a (rows, n; row stride ra) + b (rows, n; row stride rb) -> y (rows, n), int8
    const split_t q = split_of(p);
    if (q.ok) {
        split_rows(&q, a, ra, b, rb, y, rows, n);
    } else if (p->path == EXFQ_ADD_HI) {
        add_rows(p, a, ra, b, rb, y, rows, n, 1, 1);
    } else {
        add_rows(p, a, ra, b, rb, y, rows, n, 0, 1);
    }
}

void exfq_add_s16_mve(const exfq_add_t *p, const int16_t *a, int32_t ra, const int16_t *b, int32_t rb, int16_t *y,
                      int32_t rows, int32_t n) {
    // a (rows, n; row stride ra) + b (rows, n; row stride rb) -> y (rows, n), int16
    if (p->path == EXFQ_ADD_HI) {
        add_rows(p, a, ra, b, rb, y, rows, n, 1, 2);
    } else {
        add_rows(p, a, ra, b, rb, y, rows, n, 0, 2);
    }
}
#endif /* EXF_MVE */
