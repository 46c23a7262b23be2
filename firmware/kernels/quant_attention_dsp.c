/* Fast int8 attention for cores with the DSP extension (exf_simd.h): bit-exact with exf_attention_s8.
 *
 * Zero points: per head, the head's keys and values are widened once to int16 pairs in scratch with
 * their zero points subtracted (SXTAB16 adds the sign-extended bytes 0 and 2, or 1 and 3, of a word to
 * a pair of halfwords holding -zp: one instruction per pair), k' = k - k_zp and v' = v - v_zp, each in
 * [-255, 255], exact in int16. Query rows (q - q_zp) and probability rows (p - p_zp) are widened the
 * same way, two rows at a time. So the dot products are of the differences themselves: no zero point
 * term is left to fold.
 *
 * Both products are matrix products of int16-pair rows, SMLAD multiplying two pairs per instruction,
 * in 2 x 2 register blocks (dot_pairs): per group of four elements one LDRD for each of the two rows
 * of either side and eight SMLAD, 16 MACs in 12 instructions (the first group SMUAD, which needs no
 * cleared accumulator). The four sums of each block go to scratch, and are requantized in a loop of
 * their own, where the requantization's constants stay in registers.
 * - scores: two query rows x two keys, over dh (padded to a multiple of 4 with zeros);
 * - scores . v: two probability rows x two channels, over the keys (padded likewise). V is widened
 *   transposed (per channel, pairs over keys), four keys x four channels at a time: four word loads,
 *   eight SXTAB16, eight PKHBT/PKHTB.
 * Layout of a pair-row matrix (rows r, groups g of four elements e0..e3): words
 * [(r / 2) groups + g] * 4 + (r % 2) * 2 + {0, 1} hold {e0 e2} and {e1 e3} (SXTB16's pairing; both
 * operands are paired the same way, so the products line up). A missing row or element is 0 on at
 * least one side, so it adds 0.
 *
 * Ranges (exact int32): |q'|, |k'|, |p'|, |v'| <= 255, so each product is at most 65025 in magnitude
 * and a sum of n of them at most 65025 n < 2^31 for n < 33025 (n = dh for the scores, t for
 * scores . v; the portable kernel's int32 sums need the same bound). SMLAD adds two products and the
 * accumulator with wraparound, which never happens within that bound. Integer addition does not
 * depend on the order, so every sum is the portable kernel's integer.
 *
 * Each score and output is then requantized as in the portable kernel: clamp_s8(requantize(acc, mult,
 * shift) + zp); for shift in [33, 53] as SSAT8(SMMLA(acc, mult, bias) >> (shift - 32)) (requant_t
 * says why that is the same integer), otherwise in int64. Then the scale table.
 * The softmax is exf_softmax_s8's arithmetic, fused with the widening of its output: mx = the row's
 * max (four bytes at a time, SSUB8 + SEL, over the row padded with -128), sum = sum of
 * exp_table[s_j - mx + 255] over the t scores, R = floor(2^46 / sum) once per row (exfq_softmax_recip),
 * p_j = clamp_s8(((e_j R + 2^37) >> 38) - 128) (the product term is in [0, 256], so this is
 * USAT8(SMMLA(e_j, R, 32) >> 6) - 128: no division per score), stored as p_j - p_zp.
 *
 * scratch (4-byte aligned), bytes: 8 (t2 gd + dh2 gt + 2 gd + 3 gt + max(t2, dh2)) with
 * gd = ceil(dh / 4), gt = ceil(t / 4), t2 = t rounded up to even, dh2 = dh rounded up to even (widened
 * keys, widened values, two query rows, two probability rows, two rows of 4 gt scores, two rows of
 * int32 sums); edgexf/ir/kernel_choice.py attention_scratch mirrors it.
 */
#include "edgexf_kernels.h"
#include "quant_pairs.h"

#if EXF_SIMD_NATIVE
/* the per-byte maximum of a and b, signed (SSUB8 sets the GE flags that SEL reads) */
static inline uint32_t max4_s8(uint32_t a, uint32_t b) {
    uint32_t out, tmp;
    __asm__("ssub8 %1, %2, %3\n\tsel %0, %2, %3" : "=r"(out), "=&r"(tmp) : "r"(a), "r"(b) : "cc");
    return out;
}
/* per halfword a + b (SADD16) */
static inline uint32_t sadd16(uint32_t a, uint32_t b) { return (uint32_t)__sadd16((int32_t)a, (int32_t)b); }
/* v saturated to [0, 255] (USAT #8) */
static inline int32_t usat8(int32_t v) { return (int32_t)__usat(v, 8); }
#else
static inline uint32_t max4_s8(uint32_t a, uint32_t b) {
    uint32_t out = 0;
    for (int32_t i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(a >> i), y = (int8_t)(b >> i);
        out |= (uint32_t)(uint8_t)(x > y ? x : y) << i;
    }
    return out;
}
static inline uint32_t sadd16(uint32_t a, uint32_t b) {
    return pack2((int16_t)a + (int16_t)b, (int16_t)(a >> 16) + (int16_t)(b >> 16));
}
static inline int32_t usat8(int32_t v) { return v < 0 ? 0 : v > 255 ? 255 : v; }
#endif

/* {lo(a), lo(b)} (PKHBT) and {hi(a), hi(b)} (PKHTB) */
static inline uint32_t pack_lo(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }
static inline uint32_t pack_hi(uint32_t a, uint32_t b) { return (a >> 16) | (b & 0xFFFF0000u); }

/* The head's values (v: its first element; key j, channel c at v[j row + c]) minus zp, transposed into
 * the pair-row matrix vw of dh2 rows (channels) and gt groups (of four keys). */
static void widen_values(const int8_t *v, int32_t row, int32_t t, int32_t dh, int32_t zp, uint32_t *vw) {
    const uint32_t negzp2 = pack2(-zp, -zp);
    const int32_t gt = (t + 3) >> 2, full_t = t >> 2, full_c = dh >> 2, dh2 = (dh + 1) & ~1;
    for (int32_t cg = 0; cg < full_c; cg++) { /* channels 4 cg .. 4 cg + 3: the row pairs 2 cg, 2 cg + 1 */
        uint32_t *lo = vw + (2 * cg) * gt * 4, *hi = lo + gt * 4;
        const int8_t *p = v + 4 * cg;
        for (int32_t g = 0; g < full_t; g++, p += 4 * row, lo += 4, hi += 4) {
            const uint32_t r0 = exf_load4(p), r1 = exf_load4(p + row), r2 = exf_load4(p + 2 * row),
                           r3 = exf_load4(p + 3 * row);
            const uint32_t a0 = sxtab16(negzp2, r0), a1 = sxtab16(negzp2, r1), a2 = sxtab16(negzp2, r2),
                           a3 = sxtab16(negzp2, r3); /* key j: {channel 0, channel 2} */
            const uint32_t b0 = sxtab16_ror8(negzp2, r0), b1 = sxtab16_ror8(negzp2, r1),
                           b2 = sxtab16_ror8(negzp2, r2), b3 = sxtab16_ror8(negzp2, r3); /* channels 1, 3 */
            lo[0] = pack_lo(a0, a2); /* channel 0: {keys 0, 2} */
            lo[1] = pack_lo(a1, a3); /*            {keys 1, 3} */
            lo[2] = pack_lo(b0, b2); /* channel 1 */
            lo[3] = pack_lo(b1, b3);
            hi[0] = pack_hi(a0, a2); /* channel 2 */
            hi[1] = pack_hi(a1, a3);
            hi[2] = pack_hi(b0, b2); /* channel 3 */
            hi[3] = pack_hi(b1, b3);
        }
    }
    /* the rest one element at a time: the last group of keys (t % 4) for those channels, then the last
     * channels (dh % 4, and the zero channel that makes dh2 even) for all keys */
    for (int32_t c = 0; c < dh2; c++) {
        for (int32_t g = c < 4 * full_c ? full_t : 0; g < gt; g++) {
            int32_t e[4];
            for (int32_t i = 0; i < 4; i++) {
                const int32_t j = 4 * g + i;
                e[i] = j < t && c < dh ? (int32_t)v[j * row + c] - zp : 0;
            }
            uint32_t *w = vw + ((c >> 1) * gt + g) * 4 + (c & 1) * 2;
            w[0] = pack2(e[0], e[2]);
            w[1] = pack2(e[1], e[3]);
        }
    }
}

/* Scores of the two query rows from acc (dot_pairs' order, the pairs of keys): s0[j], s1[j] for j < t,
 * through the scale table (pre-offset by 128) where table (a constant where inlined) is set. hi: a
 * constant where inlined (r.hi). */
static ALWAYS_INLINE void score_rows(const int32_t *acc, int8_t *s0, int8_t *s1, int32_t t, const requant_t r,
                                     const int8_t *scale_table, const int table, const int hi) {
    for (int32_t j = 0; j < t; j += 2, acc += 4) { /* for an odd t, the last s[t] lands in the padding */
        const int32_t v00 = requant(acc[0], r, hi), v10 = requant(acc[1], r, hi);
        const int32_t v01 = requant(acc[2], r, hi), v11 = requant(acc[3], r, hi);
        s0[j] = (int8_t)(table ? scale_table[v00] : v00);
        s1[j] = (int8_t)(table ? scale_table[v10] : v10);
        s0[j + 1] = (int8_t)(table ? scale_table[v01] : v01);
        s1[j + 1] = (int8_t)(table ? scale_table[v11] : v11);
    }
}

static void score_rows_any(const int32_t *acc, int8_t *s0, int8_t *s1, int32_t t, const requant_t *r,
                           const int8_t *scale_table) {
    if (r->hi) {
        if (scale_table) {
            score_rows(acc, s0, s1, t, *r, scale_table, 1, 1);
        } else {
            score_rows(acc, s0, s1, t, *r, scale_table, 0, 1);
        }
    } else {
        if (scale_table) {
            score_rows(acc, s0, s1, t, *r, scale_table, 1, 0);
        } else {
            score_rows(acc, s0, s1, t, *r, scale_table, 0, 0);
        }
    }
}

/* One probability of exf_softmax_s8 before its - 128: (e R + 2^37) >> 38, in [0, 256] (R <= 2^46 / sum,
 * e <= sum), saturated to [0, 255]. SMMLA gives floor(e R / 2^32) + 32 (e <= 2^16 and R <= 2^30 are int32,
 * e R < 2^47), and >> 6 of that is floor((e R + 2^37) / 2^38) (nested floors); USAT #8 takes the >> 6 as
 * its shift. Four instructions with the two loads, where the division took five. */
static inline uint32_t prob(int32_t e, int32_t recip) { return (uint32_t)usat8(smmla(e, recip, 32) >> 6); }

/* exf_softmax_s8 of the t scores s (padded with -128 to 4 gt), its output p minus p_zp widened into
 * the probability row pw (groups 4 words apart). The padding's p are finite and meet zero values.
 * off: -128 - p_zp, a constant where inlined (0 for the softmax's own zero point -128: no add). */
static ALWAYS_INLINE void softmax_widen(const int8_t *s, int32_t t, int32_t gt, const int32_t *exp_table,
                                        int32_t off, uint32_t *pw) {
    uint32_t m4 = 0x80808080u;
    for (int32_t g = 0; g < gt; g++) m4 = max4_s8(m4, exf_load4(s + 4 * g));
    m4 = max4_s8(m4, m4 >> 16);
    m4 = max4_s8(m4, m4 >> 8);
    const int32_t mx = (int8_t)m4;
    const int32_t *e = exp_table + 255 - mx; /* s_j - mx + 255 is in [0, 255] */
    int32_t sum = 0;
#pragma GCC unroll 4
    for (int32_t j = 0; j < t; j++) sum += e[s[j]];
    const int32_t recip = (int32_t)exfq_softmax_recip(sum); /* sum in [2^16, 2^30] */
    const uint32_t off2 = pack2(off, off);
    for (int32_t g = 0; g < gt; g++, s += 4, pw += 4) {
        /* clamp_s8(p - 128) = USAT8(p) - 128 for p in [0, 256] */
        const uint32_t p0 = prob(e[s[0]], recip), p1 = prob(e[s[1]], recip);
        const uint32_t p2 = prob(e[s[2]], recip), p3 = prob(e[s[3]], recip);
        pw[0] = off ? sadd16(p0 | p2 << 16, off2) : p0 | p2 << 16;
        pw[1] = off ? sadd16(p1 | p3 << 16, off2) : p1 | p3 << 16;
    }
}

/* Both rows' softmax (sc: the two score rows, stride apart; pw: the two probability rows). */
static void softmax_rows(const int8_t *sc, int32_t stride, int32_t t, int32_t gt, const int32_t *exp_table,
                         int32_t p_zp, uint32_t *pw) {
    if (p_zp == -128) {
        softmax_widen(sc, t, gt, exp_table, 0, pw);
        softmax_widen(sc + stride, t, gt, exp_table, 0, pw + 2);
    } else {
        softmax_widen(sc, t, gt, exp_table, -128 - p_zp, pw);
        softmax_widen(sc + stride, t, gt, exp_table, -128 - p_zp, pw + 2);
    }
}

/* Outputs of the two probability rows from acc (dot_pairs' order, pairs of channels): y0[c] and, if
 * two, y1[c] for c < dh. */
static ALWAYS_INLINE void output_rows(const int32_t *acc, int8_t *y0, int8_t *y1, int32_t two, int32_t dh,
                                      const requant_t r, const int hi) {
    int32_t c = 0;
    for (; c + 2 <= dh; c += 2, acc += 4) {
        y0[c] = (int8_t)requant(acc[0], r, hi);
        y0[c + 1] = (int8_t)requant(acc[2], r, hi);
        if (two) {
            y1[c] = (int8_t)requant(acc[1], r, hi);
            y1[c + 1] = (int8_t)requant(acc[3], r, hi);
        }
    }
    if (c < dh) { /* the last channel of an odd dh */
        y0[c] = (int8_t)requant(acc[0], r, hi);
        if (two) y1[c] = (int8_t)requant(acc[1], r, hi);
    }
}

static void output_rows_any(const int32_t *acc, int8_t *y0, int8_t *y1, int32_t two, int32_t dh,
                            const requant_t *r) {
    if (r->hi) {
        output_rows(acc, y0, y1, two, dh, *r, 1);
    } else {
        output_rows(acc, y0, y1, two, dh, *r, 0);
    }
}

/* The kernel with its numbers as arguments: noinline, so it is compiled as it was before the parameter
 * struct (the struct's fields as locals cost ~350 instructions a call on Cortex-M7 in register spills). */
static __attribute__((noinline)) void attention(const int8_t *qkv, const int8_t *scale_table,
                                                const int32_t *exp_table, int8_t *y, int32_t t, int32_t heads,
                                                int32_t dh, int32_t q_zp, int32_t k_zp, int32_t qk_mult,
                                                int32_t qk_shift, int32_t s_zp, int32_t p_zp, int32_t v_zp,
                                                int32_t av_mult, int32_t av_shift, int32_t out_zp, void *scratch) {
    // qkv (t, 3, heads, dh) -> y (t, heads, dh)
    const int32_t d = heads * dh, row = 3 * d;
    const int32_t gd = (dh + 3) >> 2, gt = (t + 3) >> 2, t2 = (t + 1) & ~1, dh2 = (dh + 1) & ~1;
    uint32_t *kw = (uint32_t *)scratch;   /* keys: t2 rows of gd groups */
    uint32_t *vw = kw + 2 * t2 * gd;      /* values transposed: dh2 rows (channels) of gt groups of keys */
    uint32_t *qw = vw + 2 * dh2 * gt;     /* two query rows, gd groups */
    uint32_t *pw = qw + 4 * gd;           /* two probability rows, gt groups */
    int8_t *sc = (int8_t *)(pw + 4 * gt); /* two rows of 4 gt scores, the last t % 4 of each -128 */
    int32_t *acc = (int32_t *)(sc + 8 * gt); /* two rows of t2 or dh2 sums */
    const int32_t stride = 4 * gt;
    for (int32_t i = t; i < stride; i++) sc[i] = sc[stride + i] = -128;
    const requant_t qk = requant_of(qk_mult, qk_shift, s_zp), av = requant_of(av_mult, av_shift, out_zp);
    const int8_t *table = scale_table ? scale_table + 128 : scale_table;
    for (int32_t h = 0; h < heads; h++) {
        const int8_t *q = qkv + h * dh, *k = q + d, *v = q + 2 * d;
        for (int32_t j = 0; j < t; j++) exfp_widen_row(k + j * row, dh, k_zp, kw + (j >> 1) * 4 * gd + (j & 1) * 2);
        if (t & 1) exfp_zero_row(gd, kw + (t >> 1) * 4 * gd + 2);
        widen_values(v, row, t, dh, v_zp, vw);
        for (int32_t i = 0; i < t; i += 2) { /* query rows i and i + 1; for an odd t the last is a zero row */
            const int32_t two = i + 1 < t;
            exfp_widen_row(q + i * row, dh, q_zp, qw);
            if (two) {
                exfp_widen_row(q + (i + 1) * row, dh, q_zp, qw + 2);
            } else {
                exfp_zero_row(gd, qw + 2);
            }
            exfp_dot_pairs(qw, kw, gd, t2 >> 1, acc);
            score_rows_any(acc, sc, sc + stride, t, &qk, table);
            for (int32_t j = t; j < t2; j++) sc[j] = sc[stride + j] = -128; /* the padding again */
            softmax_rows(sc, stride, t, gt, exp_table, p_zp, pw);
            int8_t *y0 = y + i * d + h * dh, *y1 = two ? y0 + d : y0;
            exfp_dot_pairs(pw, vw, gt, dh2 >> 1, acc);
            output_rows_any(acc, y0, y1, two, dh, &av);
        }
    }
}

void exf_attention_s8_dsp(const exf_attention_q_params_t *p, const int8_t *qkv, int8_t *y, void *scratch) {
    attention(qkv, p->scale_table, p->exp_table, y, p->t, p->heads, p->dh, p->q_zp, p->k_zp, p->qk_mult, p->qk_shift,
              p->s_zp, p->p_zp, p->v_zp, p->av_mult, p->av_shift, p->out_zp, scratch);
}
