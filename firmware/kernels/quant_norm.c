/* Integer row reductions: softmax, layernorm, mean. Arithmetic as in edgexf_kernels.h ("integer
 * kernels"); mirrored by edgexf/ir/kernels_q.py. */
#include "edgexf_kernels.h"
#include "exf_simd.h"
#include "quant_common.h"
#include "quant_norm.h"

#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
static inline int32_t sat_s8(int32_t v) { return __ssat(v, 8); }
static inline int32_t sat_s15(int32_t v) { return __ssat(v, 15); } /* [-2^14, 2^14) */
#else
static inline int32_t sat_s8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline int32_t sat_s15(int32_t v) { return v < -16384 ? -16384 : v > 16383 ? 16383 : v; }
#endif

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* floor((a b + 2^31) / 2^32): SMMULR */
static inline int32_t smmulr(int32_t a, int32_t b) {
    int32_t out;
    __asm__("smmulr %0, %1, %2" : "=r"(out) : "r"(a), "r"(b));
    return out;
}
/* a b + c mod 2^32 (MLA; gcc otherwise splits it into MUL and SUB here) */
static inline uint32_t mla(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t out;
    __asm__("mla %0, %1, %2, %3" : "=r"(out) : "r"(a), "r"(b), "r"(c));
    return out;
}
#else
static inline uint32_t mla(uint32_t a, uint32_t b, uint32_t c) { return a * b + c; }
static inline int32_t smmulr(int32_t a, int32_t b) {
    const int64_t p = (int64_t)a * b;
    return (int32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31);
}
#endif

void exfq_softmax_s8(const int8_t *x, const int32_t *exp_table, int8_t *y, int32_t rows, int32_t n) {
    // x (rows, n) -> y (rows, n), softmax over n, output scale 1/256 and zero point -128
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *xr = x + r * n;
        int8_t *yr = y + r * n;
        int32_t mx = xr[0];
        for (int32_t i = 1; i < n; i++) mx = xr[i] > mx ? xr[i] : mx;
        /* x_i - mx is in [-255, 0], so the index x_i - mx + 255 is in [0, 255] */
        int32_t sum = 0;
        for (int32_t i = 0; i < n; i++) sum += exp_table[xr[i] - mx + 255];
        const int64_t recip = exfq_softmax_recip(sum);
        /* every x_i is read before y_i is written (the lookup is redone), so y may equal x */
        for (int32_t i = 0; i < n; i++) {
            const int64_t e = exp_table[xr[i] - mx + 255];
            const int32_t p = (int32_t)((e * recip + ((int64_t)1 << 37)) >> 38); /* ~round(256 e_i / sum) */
            yr[i] = exfq_clamp_s8(p - 128);
        }
    }
}

/* Rows up to this long take the 32-bit path of layernorm_row; longer ones the int64 path, which
 * computes the same integers without its range arguments. */
#define EXFQ_LN_FAST_D_MAX 32768

/* z_i = ((d*q_i - S) * inv + 2^(s-1)) >> s and y_i of the contract, all in int64: the path for d above
 * EXFQ_LN_FAST_D_MAX (d*q_i - S may then leave int32). Exactly one of x, x16 is non-NULL. */
static void layernorm_row_wide(const int8_t *x, const int16_t *x16, const int32_t *gamma, const int32_t *beta,
                               int8_t *y, int32_t d, int64_t sum, int64_t var, int32_t gshift,
                               int32_t out_zp) {
    int64_t inv = 0;
    int32_t s = 1;
    if (var != 0) {
        int32_t k = (62 - exfq_bitlen64((uint64_t)var)) / 2;
        inv = exfq_div_2p61(exfq_isqrt_2p60((uint64_t)var << (2 * k)));
        s = 45 - k;
    }
    const int32_t out_shift = gshift + 16;
    const int64_t half = (int64_t)1 << (out_shift - 1);
    for (int32_t i = 0; i < d; i++) {
        int64_t q = x ? x[i] : x16[i];
        int64_t z = 0;
        if (var != 0) z = (((int64_t)d * q - sum) * inv + ((int64_t)1 << (s - 1))) >> s;
        int64_t v = ((int64_t)gamma[i] * z + (int64_t)beta[i] * 65536 + half) >> out_shift;
        y[i] = exfq_clamp_s8(v + out_zp);
    }
}

/* Per-row constants of the 32-bit path (see layernorm_row). */
struct ln_consts {
    uint32_t dl, sl;    /* d << lsh and S << lsh, mod 2^32 */
    int32_t m, zr, zsh; /* inv (< 2^31); s >= 33: 2^(s - 33), s - 32 */
    int32_t c, osh;     /* mode 0: 2^(sh - 33) + out_zp 2^(sh - 32), sh - 32; mode 2: out_zp, 32 - sh */
    int32_t sh, out_zp; /* modes 1, 3 */
};

/* The normalizing loop over one row. mode (the output shift sh = gshift + 16): 0: 33 <= sh <= 54,
 * 1: sh == 32, 2: sh < 32, 3: sh 55 and 56 (int64). s32: z from s == 32 (else s >= 33). bytes: 1 (int8 q)
 * or 2 (int16 q). All three are constants at each call, so each combination is its own loop. */
static inline void ln_normalize(const void *xv, int32_t bytes, const int32_t *gamma, const int32_t *beta,
                                int8_t *y, int32_t d, const struct ln_consts *k, int32_t mode, int32_t s32) {
    const int8_t *x8 = (const int8_t *)xv;
    const int16_t *x16 = (const int16_t *)xv;
    const uint32_t dl = k->dl, nsl = 0u - k->sl;
    int32_t k65536 = 65536;
    __asm__("" : "+r"(k65536)); /* opaque to the compiler, so that it stays a multiply (SMLAL) */
    const int32_t m = k->m, zr = k->zr, zsh = k->zsh, c = k->c, osh = k->osh;
#if EXF_MVE /* Helium: four elements a vector (quant_norm_mve.c) */
    if (mode == 0 && bytes == 1) {
        exfq_ln_normalize_s8_mve(x8, gamma, beta, y, d, dl, k->sl, m, s32, zr, zsh, c, osh);
        return;
    }
#endif
    /* q_i is read just before y_i is written, so y may equal x */
    for (int32_t i = 0; i < d; i++) {
        const int32_t q = bytes == 1 ? x8[i] : x16[i];
        const int32_t t = (int32_t)((uint32_t)q * dl + nsl); /* (d q - S) 2^lsh, exact (MLA) */
        int32_t z;
        if (s32) {
            z = smmulr(t, m); /* floor((t m + 2^31) / 2^32) */
        } else {
            z = ((int32_t)(((int64_t)t * m) >> 32) + zr) >> zsh;
        }
        /* gamma z + beta 2^16: SMULL then SMLAL by 2^16 in a register (two instructions; forming beta
         * 2^16's two words took two more) */
        const int64_t a = (int64_t)gamma[i] * z + (int64_t)beta[i] * k65536;
        int32_t v;
        if (mode == 0) {
            v = ((int32_t)(a >> 32) + c) >> osh; /* out_zp included */
        } else if (mode == 1) {
            v = (int32_t)((a + ((int64_t)1 << 31)) >> 32) + k->out_zp;
        } else if (mode == 2) {
            const int64_t ar = a + ((int64_t)1 << (31 - osh)); /* + 2^(sh - 1) */
            const int32_t hi = sat_s15((int32_t)(ar >> 32));
            v = (int32_t)(((uint32_t)hi << osh) | ((uint32_t)ar >> (32 - osh))) + c;
        } else {
            y[i] = exfq_clamp_s8(((a + ((int64_t)1 << (k->sh - 1))) >> k->sh) + k->out_zp);
            continue;
        }
        y[i] = (int8_t)sat_s8(v);
    }
}

/* The commonest loop (mode 0, z from s == 32) for int8 q, as a function of its own and with its output
 * shift osh = gshift - 16 a constant (SSAT's own shift; gshift <= 22 makes it 1..6 in mode 0): inlined
 * into layernorm_row among the other modes' loops it ran out of registers (16 instructions an element
 * with spills, 12 here). Per element: LDRSB, MLA, SMMULR, two LDR, SMULL, SMLAL, ADD, SSAT, STRB and
 * the loop's CMP and branch. */
static inline __attribute__((always_inline)) void ln_m0_s8(const int8_t *x, const int32_t *gamma,
                                                            const int32_t *beta, int8_t *y, int32_t d,
                                                            const struct ln_consts *k, const int32_t osh) {
    const uint32_t dl = k->dl, nsl = 0u - k->sl;
    const int32_t m = k->m, c = k->c;
    int32_t k65536 = 65536;
    __asm__("" : "+r"(k65536)); /* opaque to the compiler, so that it stays a multiply (SMLAL) */
    const int8_t *const end = x + d;
    while (x != end) { /* q_i is read just before y_i is written, so y may equal x */
        const int32_t z = smmulr((int32_t)mla((uint32_t)*x++, dl, nsl), m);
        const int64_t a = (int64_t)*gamma++ * z + (int64_t)*beta++ * k65536;
        *y++ = (int8_t)sat_s8(((int32_t)(a >> 32) + c) >> osh);
    } /* (unrolled by two, gcc spent more on the pointers than the loop test saved) */
}

static __attribute__((noinline)) void ln_normalize_m0_s8(const int8_t *x, const int32_t *gamma,
                                                         const int32_t *beta, int8_t *y, int32_t d,
                                                         const struct ln_consts *k) {
#if EXF_MVE /* Helium: four elements a vector (quant_norm_mve.c) */
    exfq_ln_normalize_s8_mve(x, gamma, beta, y, d, k->dl, k->sl, k->m, 1, k->zr, k->zsh, k->c, k->osh);
    return;
#endif
    switch (k->osh) {
    case 1: ln_m0_s8(x, gamma, beta, y, d, k, 1); break;
    case 2: ln_m0_s8(x, gamma, beta, y, d, k, 2); break;
    case 3: ln_m0_s8(x, gamma, beta, y, d, k, 3); break;
    case 4: ln_m0_s8(x, gamma, beta, y, d, k, 4); break;
    case 5: ln_m0_s8(x, gamma, beta, y, d, k, 5); break;
    case 6: ln_m0_s8(x, gamma, beta, y, d, k, 6); break;
    default: ln_normalize(x, 1, gamma, beta, y, d, k, 0, 1); break;
    }
}

/* One row of LayerNorm of int8 (bytes 1) or int16 (bytes 2) q, a constant after inlining, so the int8
 * and int16 kernels share the arithmetic: the contract's integers (edgexf_kernels.h) with 32x32 -> 64-bit
 * multiplies (SMULL, SMLAL), 32-bit shifts and no loop over bits (the helpers in quant_common.h).
 * out_zp is an int8 zero point, in [-128, 127].
 *
 * Ranges, for d <= EXFQ_LN_FAST_D_MAX = 2^15 and |q_i| <= 2^15:
 * - S = sum q_i: |S| <= 2^30 (int32). Q = sum q_i^2 <= 2^15 2^30 = 2^45 (int64; int8: <= 2^29, int32).
 *   d*Q <= 2^60 and S*S <= 2^60, so V is exact in int64 (the contract has V < 2^55).
 * - t_i = d*q_i - S = sum_j (q_i - q_j): |t_i| <= (d - 1) * 65535 < 2^31 (int8: (d - 1) * 255).
 *   Also sum_i t_i^2 = d (d*Q - S*S) <= d V, so |t_i| <= sqrt(d V) < sqrt(d) 2^(31 - k), as
 *   V < 2^bitlen(V) <= 2^(62 - 2k).
 * - inv in (2^30, 2^31]; inv = 2^31 becomes (2^30, s - 1), the same z. s = 45 - k is in [15, 42] (k in
 *   [3, 30] for 1 <= V < 2^55), [14, 42] after that.
 * - z_i = floor((t inv + 2^(s-1)) / 2^s). Where s is below s_min (32 or 33, below), numerator and 2^s
 *   are both scaled by 2^lsh, lsh = s_min - s: t' = t 2^lsh, |t'| < sqrt(d) 2^(31 - k + 33 - (44 - k))
 *   = sqrt(d) 2^20 <= 2^27.5, and s = s_min. t' is computed mod 2^32 as d' q - S' with d' = d << lsh,
 *   S' = S << lsh (uint32): exact, as t' fits int32. Then with p = t' inv (SMULL, |p| < 2^62):
 *   s == 32: z = hi(p) + bit 31 of lo(p). s >= 33: adding 2^(s-1) to p adds 2^(s-33) to hi(p), so
 *   z = floor((hi(p) + 2^(s-33)) / 2^(s-32)) (nested floors). V == 0: inv = 0, s = 33, z = 1 >> 1 = 0.
 * - |z_i| <= 2^16 |t_i| / sqrt(V) + 1 <= 2^16 sqrt(d) + 1 < 2^24 (r >= sqrt(W) - 1 and r >= 2^30).
 * - y: a = gamma z + beta 2^16, |a| < 2^55 + 2^47 (SMLAL), |hi(a)| < 2^24; v = floor((a + 2^(sh-1)) / 2^sh),
 *   sh = gshift + 16 in [16, 56]. Mode 0, 33 <= sh <= 54: v + out_zp = floor((hi(a) + 2^(sh-33) +
 *   out_zp 2^(sh-32)) / 2^(sh-32)), the sum below 2^24 + 2^21 + 2^29. Mode 1, sh == 32: v = hi(a + 2^31).
 *   Mode 2, sh < 32: with A = a + 2^(sh-1), v = hi(A) 2^(32 - sh) + (lo(A) >> sh); hi(A) outside
 *   [-2^14, 2^14) makes |v| >= 2^15, which saturates either way, so hi(A) is clamped to that range first
 *   (SSAT) and v fits int32. Mode 3 (sh 55, 56; the quantizer's gshift is at most 22) stays in int64. */
static inline void layernorm_row(const void *xv, int32_t bytes, const int32_t *gamma, const int32_t *beta,
                                 int8_t *y, int32_t d, int64_t eps_term, int32_t gshift, int32_t out_zp) {
    const int8_t *x8 = (const int8_t *)xv;
    const int16_t *x16 = (const int16_t *)xv;
    if (d > EXFQ_LN_FAST_D_MAX) {
        int64_t sum = 0, sum_sq = 0;
        for (int32_t i = 0; i < d; i++) {
            int64_t q = bytes == 1 ? x8[i] : x16[i];
            sum += q;
            sum_sq += q * q;
        }
        int64_t var = (int64_t)d * sum_sq - sum * sum + eps_term;
        layernorm_row_wide(bytes == 1 ? x8 : NULL, bytes == 1 ? NULL : x16, gamma, beta, y, d, sum, var,
                           gshift, out_zp);
        return;
    }
    int32_t sum;
    int64_t var = exfq_ln_sums(xv, bytes, d, &sum);
    var += eps_term - (int64_t)sum * sum; /* d^2 (variance + eps), >= 0 */
    uint32_t inv = 0;
    int32_t s = 33;
    if (var != 0) {
        /* scale var by 4^k to 61-62 bits so its square root r has 31 bits, then inv = 2^61 / r is
         * 1 / sqrt(var) to ~2^-31 relative, times 2^(61 - k) */
        int32_t k = (62 - exfq_bitlen64((uint64_t)var)) / 2;
        inv = (uint32_t)exfq_div_2p61(exfq_isqrt_2p60((uint64_t)var << (2 * k)));
        s = 45 - k; /* z = n * 2^16 / sqrt(var): n * inv carries 2^(61 - k), keep 2^16 */
        if (inv == 0x80000000u) {
            inv = 0x40000000u;
            s--;
        }
    }
    /* the output path (ln_normalize's mode); z from s == 32 where s <= 32 in mode 0, the commonest case
     * (one instruction less and two registers fewer per element), else from s >= 33 */
    const int32_t sh = gshift + 16;
    const int32_t mode = sh >= 33 && sh <= 54 ? 0 : sh == 32 ? 1 : sh < 32 ? 2 : 3;
    const int32_t s32 = mode == 0 && s <= 32, s_min = s32 ? 32 : 33;
    int32_t lsh = 0;
    if (s < s_min) {
        lsh = s_min - s;
        s = s_min;
    }
    struct ln_consts c;
    c.dl = (uint32_t)d << lsh;
    c.sl = (uint32_t)sum << lsh;
    c.m = (int32_t)inv;
    c.zr = s32 ? 0 : (int32_t)1 << (s - 33);
    c.zsh = s - 32;
    c.sh = sh;
    c.out_zp = out_zp;
    c.c = out_zp;
    c.osh = mode == 2 ? 32 - sh : 0;
    if (mode == 0) {
        c.c = ((int32_t)1 << (sh - 33)) + out_zp * ((int32_t)1 << (sh - 32));
        c.osh = sh - 32;
        if (s32) {
            if (bytes == 1) {
                ln_normalize_m0_s8(x8, gamma, beta, y, d, &c);
            } else {
                ln_normalize(xv, bytes, gamma, beta, y, d, &c, 0, 1);
            }
        } else {
            ln_normalize(xv, bytes, gamma, beta, y, d, &c, 0, 0);
        }
    } else if (mode == 1) {
        ln_normalize(xv, bytes, gamma, beta, y, d, &c, 1, 0);
    } else if (mode == 2) {
        ln_normalize(xv, bytes, gamma, beta, y, d, &c, 2, 0);
    } else {
        ln_normalize(xv, bytes, gamma, beta, y, d, &c, 3, 0);
    }
}

void exfq_layernorm_s8(const int8_t *x, const int32_t *gamma, const int32_t *beta, int8_t *y, int32_t rows,
                       int32_t d, int64_t eps_term, int32_t gshift, int32_t out_zp) {
    // x (rows, d) int8 -> y (rows, d) int8, normalized over d
    for (int32_t r = 0; r < rows; r++) {
        layernorm_row(x + r * d, 1, gamma, beta, y + r * d, d, eps_term, gshift, out_zp);
    }
}

void exfq_layernorm_s16(const int16_t *x, const int32_t *gamma, const int32_t *beta, int8_t *y, int32_t rows,
                        int32_t d, int64_t eps_term, int32_t gshift, int32_t out_zp) {
    // x (rows, d) int16 -> y (rows, d) int8, normalized over d
    for (int32_t r = 0; r < rows; r++) {
        layernorm_row(x + r * d, 2, gamma, beta, y + r * d, d, eps_term, gshift, out_zp);
    }
}

void exf_softmax_s8(const exf_softmax_q_params_t *p, const int8_t *x, int8_t *y) {
    exfq_softmax_s8(x, p->exp_table, y, p->rows, p->n);
}

void exf_layernorm_s8(const exf_layernorm_q_params_t *p, const int8_t *x, int8_t *y) {
    const exf_norm_q_t *ln = &p->ln;
    if (!ln->gamma) { /* gamma and beta folded into the next layer (quant_norm_plain.c) */
        exfq_layernorm_plain(x, 1, ln, y, p->rows, p->d);
        return;
    }
    exfq_layernorm_s8(x, ln->gamma, ln->beta, y, p->rows, p->d, ln->eps_term, ln->gshift, ln->out_zp);
}

void exf_layernorm_s16(const exf_layernorm_q_params_t *p, const int16_t *x, int8_t *y) {
    const exf_norm_q_t *ln = &p->ln;
    if (!ln->gamma) {
        exfq_layernorm_plain(x, 2, ln, y, p->rows, p->d);
        return;
    }
    exfq_layernorm_s16(x, ln->gamma, ln->beta, y, p->rows, p->d, ln->eps_term, ln->gshift, ln->out_zp);
}

void exf_mean_s8(const exf_mean_q_params_t *p, const int8_t *x, int8_t *y) {
    const int32_t outer = p->outer, n = p->n, inner = p->inner;
    const int32_t in_zp = p->in_zp, mult = p->mult, shift = p->shift, out_zp = p->out_zp;
    // x (outer, n, inner) -> y (outer, inner), mean over n
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t i = 0; i < inner; i++) {
            const int8_t *xo = x + o * n * inner + i;
            int32_t acc = 0;
            for (int32_t j = 0; j < n; j++) acc += (int32_t)xo[j * inner] - in_zp;
            y[o * inner + i] = exfq_clamp_s8(exfq_requantize(acc, mult, shift) + out_zp);
        }
    }
}
