/* Fast int8 attention for cores with the DSP extension (exf_simd.h): bit-exact with exf_attention_s8
 * (the arithmetic: quant_attention.h; no int8 scores or probabilities).
 *
 * Zero points: per head, the head's keys and values are widened once to int16 pairs in scratch with
 * their zero points subtracted (SXTAB16 adds the sign-extended bytes 0 and 2, or 1 and 3, of a word to
 * a pair of halfwords holding -zp: one instruction per pair), k' = k - k_zp and v' = v - v_zp, each in
 * [-255, 255], exact in int16. Query rows (q - q_zp) are widened the same way, two rows at a time; the
 * weight rows are the int16 e_j themselves. So the dot products are of the differences: no zero point
 * term is left to fold.
 *
 * Both products are matrix products of int16-pair rows, SMLAD multiplying two pairs per instruction,
 * in 2 x 2 register blocks: per group of four elements one LDM of both rows of either side and eight
 * SMLAD, 16 MACs in 10 instructions, unrolled (dot_pairs_unrolled; exfp_dot_pairs, 12 and a loop, past
 * 16 groups; on Helium the kernel is quant_attention_mve.c). The four sums of each block go to scratch.
 * - scores: two query rows x two keys, over dh (padded to a multiple of 4 with zeros);
 * - weights . v: two weight rows x two channels, over the keys (padded likewise). V is widened
 *   transposed (per channel, pairs over keys), four keys x four channels at a time: four word loads,
 *   eight SXTAB16, eight PKHBT/PKHTB.
 * Layout of a pair-row matrix (rows r, groups g of four elements e0..e3): words
 * [(r / 2) groups + g] * 4 + (r % 2) * 2 + {0, 1} hold {e0 e2} and {e1 e3} (SXTB16's pairing; both
 * operands are paired the same way, so the products line up). A missing row or element is 0 on at
 * least one side, so it adds 0.
 *
 * Ranges (exact int32): |q'|, |k'|, |v'| <= 255 and 0 <= e <= E_one, so a score is at most 65025 dh in
 * magnitude and an output sum at most 255 E_one t < 2^31 (the code generator's E_one,
 * edgexf/compress/attention_q.py). SMLAD adds with wraparound, which never happens within those bounds;
 * integer addition does not depend on the order, so every sum is the portable kernel's integer.
 *
 * Per query row pair, after the scores: both rows' maxima (one LDRD gives a key's two scores; CMP, IT,
 * MOV each), then per score SMMLA (G - min G + 2^(k-1) in one instruction: the bias holds -min G),
 * USAT #9 with the shift (k = 6, the code generator's usual, inlined), LDRSH of the weight, ADD to the
 * row's sum, STRH into the weight row. After the second product, per row one exfq_attention_out (two
 * 32-bit UDIV) and per output SMMLA, ASR, SSAT (requant_t) and STRB. MNIST ViT (t 50, 4 heads of 16),
 * QEMU instructions per op: scores 123k, weights 108k, weights . v 113k, outputs 31k, widening 35k.
 *
 * scratch (4-byte aligned), bytes: 8 (t2 gd + dh2 gt + 2 gd + 2 gt + max(t2, dh2)) with
 * gd = ceil(dh / 4), gt = ceil(t / 4), t2 = t rounded up to even, dh2 = dh rounded up to even (widened
 * keys, widened values, two query rows, two weight rows, two rows of int32 sums);
 * edgexf/ir/kernel_choice.py attention_scratch mirrors it.
 */
#include "edgexf_kernels.h"
#include "quant_attention.h"
#include "quant_pairs.h"

#if EXF_SIMD_NATIVE && !EXF_MVE
#define UNROLLED_GROUPS 16
/* exfp_dot_pairs' contract (quant_pairs.h) for groups <= UNROLLED_GROUPS, with its 2 x 2 block as
 * straight groups (the first with SMUAD, then up to 15 more) of one LDM of a's four words (both rows), one LDM of b's four words (both rows of the
 * pair) and eight SMLAD: 16 MACs in 10 instructions, where exfp_dot_pairs' LDRD pairs and loop take
 * about 13 (QEMU counts an LDM as one instruction; on Cortex-M7 an LDM of four words is about two
 * cycles, like two LDRD). All fourteen registers hold operands, so no loop counter is left: a block
 * enters the unrolled groups at their last `groups - 1` (a jump computed once per call, Duff's device).
 * Per block besides its groups: the jump, STM of the four sums and the loop, 8 instructions.
 * The pointers and the entry address live in the frame (st), reached from sp. */
static void dot_pairs_unrolled(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs, int32_t *acc) {
    /* st: a, the running acc, b's end, groups then the entry (Thumb bit set), b */
    uint32_t st[5] = {(uint32_t)a, (uint32_t)acc, (uint32_t)(b + 4 * groups * pairs), (uint32_t)groups, (uint32_t)b};
    __asm__ volatile(
        "adr.w r4, 9f\n\t"
        "ldr r5, %[e]\n\t"
        "movs r6, #40\n\t" /* bytes of one unrolled group: ten 32-bit instructions */
        "mls r4, r5, r6, r4\n\t"
        "add r4, r4, #41\n\t" /* the first group is not among them; the Thumb bit */
        "str r4, %[e]\n\t"
        "ldr lr, %[b]\n\t"
        "1:\n\t"
        "ldr r12, %[a]\n\t"
        "ldmia.w r12!, {r4-r7}\n\t" /* the first group: SMUAD, no sums to clear */
        "ldmia.w lr!, {r8-r11}\n\t"
        "smuad r0, r4, r8\n\t"
        "smlad r0, r5, r9, r0\n\t"
        "smuad r1, r6, r8\n\t"
        "smlad r1, r7, r9, r1\n\t"
        "smuad r2, r4, r10\n\t"
        "smlad r2, r5, r11, r2\n\t"
        "smuad r3, r6, r10\n\t"
        "smlad r3, r7, r11, r3\n\t"
        "ldr pc, %[e]\n\t"
        ".rept 15\n\t"
        "ldmia.w r12!, {r4-r7}\n\t" /* a: row 0 {e0 e2} {e1 e3}, row 1 likewise */
        "ldmia.w lr!, {r8-r11}\n\t" /* b: its pair's two rows */
        "smlad r0, r4, r8, r0\n\t"  /* a row 0 . b row 0 */
        "smlad r0, r5, r9, r0\n\t"
        "smlad r1, r6, r8, r1\n\t"  /* a row 1 . b row 0 */
        "smlad r1, r7, r9, r1\n\t"
        "smlad r2, r4, r10, r2\n\t" /* a row 0 . b row 1 */
        "smlad r2, r5, r11, r2\n\t"
        "smlad r3, r6, r10, r3\n\t" /* a row 1 . b row 1 */
        "smlad r3, r7, r11, r3\n\t"
        ".endr\n\t"
        "9:\n\t"
        "ldr r4, %[acc]\n\t"
        "stmia r4!, {r0-r3}\n\t" /* acc[4 p + 2 s + r] */
        "str r4, %[acc]\n\t"
        "ldr r4, %[end]\n\t"
        "cmp lr, r4\n\t"
        "bne 1b\n\t"
        : [acc] "+m"(st[1]), [e] "+m"(st[3])
        : [a] "m"(st[0]), [end] "m"(st[2]), [b] "m"(st[4])
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
}
#endif

/* exfp_dot_pairs, through the unrolled form where it applies. */
static void dot_pairs(const uint32_t *a, const uint32_t *b, int32_t groups, int32_t pairs, int32_t *acc) {
#if EXF_SIMD_NATIVE && !EXF_MVE
    if (groups <= UNROLLED_GROUPS) { /* its block loop runs at least once */
        if (pairs > 0) dot_pairs_unrolled(a, b, groups, pairs, acc);
        return;
    }
#endif
    exfp_dot_pairs(a, b, groups, pairs, acc);
}

/* {lo(a), lo(b)} (PKHBT) and {hi(a), hi(b)} (PKHTB): one instruction each, where gcc 12 makes two and
 * three of the shifts and masks */
#if EXF_SIMD_NATIVE
static inline uint32_t pack_lo(uint32_t a, uint32_t b) {
    uint32_t out;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(out) : "r"(a), "r"(b));
    return out;
}
static inline uint32_t pack_hi(uint32_t a, uint32_t b) {
    uint32_t out;
    __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(out) : "r"(a), "r"(b));
    return out;
}
#else
static inline uint32_t pack_lo(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }
static inline uint32_t pack_hi(uint32_t a, uint32_t b) { return (a >> 16) | (b & 0xFFFF0000u); }
#endif

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

/* v saturated to [0, EXF_ATTENTION_TABLE - 1] (USAT #9) */
#if EXF_SIMD_NATIVE
static inline int32_t usat_index(int32_t v) { return (int32_t)__usat(v, 9); }
#else
static inline int32_t usat_index(int32_t v) { return v < 0 ? 0 : v > 511 ? 511 : v; }
#endif
#if EXF_ATTENTION_TABLE != 512
#error "usat_index saturates to 9 bits: EXF_ATTENTION_TABLE must be 512"
#endif

/* The weight of one score (quant_attention.h): exp_table[min(511, (G - min G + 2^(k-1)) >> k)] with
 * G = floor(s neg_mult / 2^32) and bias = 2^(k-1) - min G, the sum G + bias formed by SMMLA. The sum is
 * >= 0, so USAT's lower bound never acts; with k a constant USAT takes the shift: three instructions
 * and the two loads. */
static ALWAYS_INLINE int32_t weight(const int16_t *exp_table, int32_t s, int32_t neg_mult, int32_t bias, int32_t k) {
    return exp_table[usat_index(smmla(s, neg_mult, bias) >> k)];
}

/* The weights e_j of the two query rows whose scores are s[2 j + r] (dot_pairs' order over pairs of
 * keys: one LDRD gives both rows' score of key j), stored as halfwords into the probability rows pw (row
 * r's group g: halfwords 8 g + 4 r + {0, 2, 1, 3} for keys 4 g + {0, 1, 2, 3}, the pair-row layout's
 * {e0 e2} {e1 e3}; the padding keys of the last group 0); sum[r] = sum_j e_j. k: a constant where
 * inlined. Per key and row: half an LDRD, then CMP/IT/MOV for the maximum, SMMLA, USAT, LDRSH, ADD,
 * STRH for the weight. */
static ALWAYS_INLINE void weights(const int32_t *s, int32_t t, const int16_t *exp_table, int32_t neg_mult,
                                  int32_t k, uint32_t *pw, int32_t *sum) {
    const uint32_t *p = (const uint32_t *)s;
    uint32_t a0, a1;
    exf_load_pair(&p, &a0, &a1);
    int32_t m0 = (int32_t)a0, m1 = (int32_t)a1;
#pragma GCC unroll 4
    for (int32_t j = 1; j < t; j++) { /* the rows' largest scores: their smallest G (neg_mult < 0) */
        exf_load_pair(&p, &a0, &a1);
        m0 = (int32_t)a0 > m0 ? (int32_t)a0 : m0;
        m1 = (int32_t)a1 > m1 ? (int32_t)a1 : m1;
    }
    const int32_t half = 1 << (k - 1);
    const int32_t b0 = half - smmla(m0, neg_mult, 0), b1 = half - smmla(m1, neg_mult, 0);
    int32_t s0 = 0, s1 = 0;
    int16_t *h = (int16_t *)pw;
    p = (const uint32_t *)s;
    const uint32_t *const end = p + 8 * (t >> 2);
    for (; p != end; h += 8) {
#pragma GCC unroll 4
        for (int32_t i = 0; i < 4; i++) {
            exf_load_pair(&p, &a0, &a1);
            const int32_t e0 = weight(exp_table, (int32_t)a0, neg_mult, b0, k);
            const int32_t e1 = weight(exp_table, (int32_t)a1, neg_mult, b1, k);
            s0 += e0;
            s1 += e1;
            h[(i >> 1) + 2 * (i & 1)] = (int16_t)e0;
            h[4 + (i >> 1) + 2 * (i & 1)] = (int16_t)e1;
        }
    }
    if (t & 3) { /* the last t % 4 keys, the padding 0 */
        for (int32_t i = 0; i < 4; i++) {
            int32_t e0 = 0, e1 = 0;
            if (i < (t & 3)) {
                exf_load_pair(&p, &a0, &a1);
                e0 = weight(exp_table, (int32_t)a0, neg_mult, b0, k);
                e1 = weight(exp_table, (int32_t)a1, neg_mult, b1, k);
            }
            s0 += e0;
            s1 += e1;
            h[(i >> 1) + 2 * (i & 1)] = (int16_t)e0;
            h[4 + (i >> 1) + 2 * (i & 1)] = (int16_t)e1;
        }
    }
    sum[0] = s0;
    sum[1] = s1;
}

/* Any shift, by register: one instruction more per score (noinline, or gcc merges it with the inlined
 * constant shift below and both shift by register). */
static __attribute__((noinline)) void weights_k(const int32_t *s, int32_t t, const int16_t *exp_table,
                                                int32_t neg_mult, int32_t k, uint32_t *pw, int32_t *sum) {
    weights(s, t, exp_table, neg_mult, k, pw, sum);
}

/* The code generator's usual shift (edgexf/compress/attention_q.py ROUND_SHIFT) inlined. */
static void weights_any(const int32_t *s, int32_t t, const int16_t *exp_table, int32_t neg_mult, int32_t k,
                        uint32_t *pw, int32_t *sum) {
    if (k == 6) {
        weights(s, t, exp_table, neg_mult, 6, pw, sum);
    } else {
        weights_k(s, t, exp_table, neg_mult, k, pw, sum);
    }
}

/* The outputs of the query rows whose sums are acc[2 c + r] (dot_pairs' order over pairs of channels;
 * one LDRD gives a channel's two rows) and y0 (row 0), y1 (row 1, written where two), each with its
 * own requantization (r0, r1) taking the SMMLA path (hi). */
static ALWAYS_INLINE void output_rows_hi(const int32_t *acc, int8_t *y0, int8_t *y1, int32_t dh, const int two,
                                         const requant_t r0, const requant_t r1) {
    const uint32_t *p = (const uint32_t *)acc;
    for (int32_t c = 0; c < dh; c++) {
        uint32_t a0, a1;
        exf_load_pair(&p, &a0, &a1);
        y0[c] = (int8_t)requant((int32_t)a0, r0, 1);
        if (two) y1[c] = (int8_t)requant((int32_t)a1, r1, 1);
    }
}

/* One row's outputs y[c] = requant(acc[2 c], r), any shift. */
static void output_row(const int32_t *acc, int8_t *y, int32_t dh, const requant_t r) {
    for (int32_t c = 0; c < dh; c++) y[c] = (int8_t)requant(acc[2 * c], r, 0);
}

/* Both rows' requantizations with their 1 / sum folded in (exfq_attention_out), then their outputs
 * (y1 only where two): 4.5 instructions an output on the SMMLA path. */
static void outputs(const int32_t *acc, int8_t *y0, int8_t *y1, int32_t dh, int32_t two, const int32_t *sum,
                    int32_t av_mult, int32_t av_shift, int32_t out_zp) {
    int32_t m0, s0, m1, s1;
    exfq_attention_out(sum[0], av_mult, av_shift, &m0, &s0);
    exfq_attention_out(two ? sum[1] : sum[0], av_mult, av_shift, &m1, &s1);
    const requant_t r0 = requant_of(m0, s0, out_zp), r1 = requant_of(m1, s1, out_zp);
    if (r0.hi && r1.hi) {
        if (two) {
            output_rows_hi(acc, y0, y1, dh, 1, r0, r1);
        } else {
            output_rows_hi(acc, y0, y1, dh, 0, r0, r1);
        }
    } else {
        output_row(acc, y0, dh, r0);
        if (two) output_row(acc + 1, y1, dh, r1);
    }
}

/* The kernel with its numbers as arguments: noinline, so it is compiled as it was before the parameter
 * struct (the struct's fields as locals cost ~350 instructions a call on Cortex-M7 in register spills). */
static __attribute__((noinline)) void attention(const int8_t *qkv, const int16_t *exp_table, int8_t *y, int32_t t,
                                                int32_t heads, int32_t dh, int32_t q_zp, int32_t k_zp,
                                                int32_t v_zp, int32_t exp_mult, int32_t exp_shift,
                                                int32_t av_mult, int32_t av_shift, int32_t out_zp, void *scratch) {
    // qkv (t, 3, heads, dh) -> y (t, heads, dh)
    const int32_t d = heads * dh, row = 3 * d;
    const int32_t gd = (dh + 3) >> 2, gt = (t + 3) >> 2, t2 = (t + 1) & ~1, dh2 = (dh + 1) & ~1;
    uint32_t *kw = (uint32_t *)scratch; /* keys: t2 rows of gd groups */
    uint32_t *vw = kw + 2 * t2 * gd;    /* values transposed: dh2 rows (channels) of gt groups of keys */
    uint32_t *qw = vw + 2 * dh2 * gt;   /* two query rows, gd groups */
    uint32_t *pw = qw + 4 * gd;         /* two rows of weights, gt groups */
    int32_t *acc = (int32_t *)(pw + 4 * gt); /* two rows of t2 or dh2 sums */
    const int32_t neg_mult = -exp_mult, k = exp_shift - 32;
    for (int32_t h = 0; h < heads; h++) {
        const int8_t *q = qkv + h * dh, *kp = q + d, *v = q + 2 * d;
        for (int32_t j = 0; j < t; j++) exfp_widen_row(kp + j * row, dh, k_zp, kw + (j >> 1) * 4 * gd + (j & 1) * 2);
        if (t & 1) exfp_zero_row(gd, kw + (t >> 1) * 4 * gd + 2);
        widen_values(v, row, t, dh, v_zp, vw);
        for (int32_t i = 0; i < t; i += 2) { /* query rows i and i + 1; for an odd t the last is a zero row */
            const int32_t two = i + 1 < t;
            int32_t sum[2];
            exfp_widen_row(q + i * row, dh, q_zp, qw);
            if (two) {
                exfp_widen_row(q + (i + 1) * row, dh, q_zp, qw + 2);
            } else {
                exfp_zero_row(gd, qw + 2);
            }
            dot_pairs(qw, kw, gd, t2 >> 1, acc);
            weights_any(acc, t, exp_table, neg_mult, k, pw, sum); /* a zero query row: finite weights, unused */
            int8_t *y0 = y + i * d + h * dh;
            dot_pairs(pw, vw, gt, dh2 >> 1, acc);
            outputs(acc, y0, y0 + d, dh, two, sum, av_mult, av_shift, out_zp);
        }
    }
}

void exf_attention_s8_dsp(const exf_attention_q_params_t *p, const int8_t *qkv, int8_t *y, void *scratch) {
#if EXF_MVE /* Helium: VMLADAVA on the int8 scores and int16 weights, gathered exp table (quant_attention_mve.c) */
    exfq_attention_s8_mve(p, qkv, y, scratch);
#else
    attention(qkv, p->exp_table, y, p->t, p->heads, p->dh, p->q_zp, p->k_zp, p->v_zp, p->exp_mult, p->exp_shift,
              p->av_mult, p->av_shift, p->out_zp, scratch);
#endif
}
