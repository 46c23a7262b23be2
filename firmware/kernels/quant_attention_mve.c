/* Fast int8 attention for cores with Helium (MVE): bit-exact with exf_attention_s8 (the arithmetic:
 * quant_attention.h). exf_attention_s8_dsp calls it there (one line, quant_attention_dsp.c), in the same
 * scratch; compiled to nothing elsewhere.
 *
 * Per head:
 * - values: v' = v - v_zp transposed into int16 rows, one per channel over the keys (VLDRB.S16 gather of
 *   eight keys, offsets i row, VSUB, VSTRH: about 0.5 instructions an element, once per head);
 * - key terms: the scores run on the int8 operands as they are (quant_matmul_mve.c's folding),
 *   (q - q_zp) . (k_j - k_zp) = q . k_j - k_zp Q - q_zp K_j + dh q_zp k_zp with Q = sum q, K_j = sum k_j,
 *   so col_j = dh q_zp k_zp - q_zp K_j once per head and key (int32, wraps as the portable sum would not
 *   need to: every term is exact in int32 for dh <= 16384).
 * Per query row: the scores one VMLADAVA.S8 per key and 16 channels (the key row read in place from qkv,
 * its tail under a VCTP predicate), the row's max four a step (VMAXV), the weights four a step:
 * VMULH (G = floor(s neg_mult / 2^32), SMMUL's value), VADD of 2^(k-1) - G(max), VSHL by -k, VMIN 511,
 * VLDRH.S32 gather from the exp table, VADDVA into the sum, VSTRH narrowing into the int16 weight row.
 * Then y_c = sum_j e_j v'_jc by VMLADAVA.S16 (eight keys a step, the tail predicated) and the outputs'
 * requantization four at a time (exfm_requant_run) with exfq_attention_out's multiplier.
 *
 * scratch (4-byte aligned), bytes: 8 t (two rows of scores) + 4 t (key terms) + 4 tp (two rows of weights,
 * tp = t rounded up to 8) + 2 t dh (values) + 14 (read past the last channel, times a zero weight): within
 * kernel_choice.attention_scratch's DSP form (its keys take 8 t2 ceil(dh / 4) >= 2 t dh, its values and rows
 * the rest; the sum checked against attention_scratch for every t < 300, dh < 130).
 * No byte past a row of qkv is read: every tail load is predicated. */
#include "edgexf_kernels.h"
#include "quant_attention.h"
#include "quant_mve.h"

#if EXF_MVE

/* vt[c t + j] = v[j row + c] - zp for c < dh, j < t (int16) */
static void widen_values(const int8_t *v, int32_t row, int32_t t, int32_t dh, int32_t zp, int16_t *vt) {
    if (7 * row > 65535) { /* beyond the gather's 16-bit offsets: one at a time */
        for (int32_t c = 0; c < dh; c++) {
            for (int32_t j = 0; j < t; j++) vt[c * t + j] = (int16_t)(v[j * row + c] - zp);
        }
        return;
    }
    const uint16x8_t offs = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)row);
    for (int32_t c = 0; c < dh; c++, vt += t) {
        for (int32_t j = 0; j < t; j += 8) {
            const mve_pred16_t live = vctp16q((uint32_t)(t - j));
            const int16x8_t x = vldrbq_gather_offset_z_s16(v + j * row + c, offs, live);
            vstrhq_p_s16(vt + j, vsubq_n_s16(x, (int16_t)zp), live);
        }
    }
}

/* s_r[j] = q_r . k_j (the raw int8 dot, the zero point terms added by scores_fix) for the two query rows
 * q0, q1 (k_j at k + j row): per key one load shared by both rows, two VMLADAV; dh <= 16: q held */
static void scores(const int8_t *q0, const int8_t *q1, const int8_t *k, int32_t row, int32_t t, int32_t dh,
                   int32_t *s0, int32_t *s1) {
    if (dh <= 16) {
        const mve_pred16_t last = vctp8q((uint32_t)dh);
        const int8x16_t x0 = vldrbq_z_s8(q0, last), x1 = vldrbq_z_s8(q1, last);
        if (dh == 16) {
            for (int32_t j = 0; j < t; j++, k += row) {
                const int8x16_t kv = vld1q_s8(k);
                s0[j] = vmladavq_s8(x0, kv);
                s1[j] = vmladavq_s8(x1, kv);
            }
        } else {
            for (int32_t j = 0; j < t; j++, k += row) {
                const int8x16_t kv = vldrbq_z_s8(k, last);
                s0[j] = vmladavq_s8(x0, kv);
                s1[j] = vmladavq_s8(x1, kv);
            }
        }
        return;
    }
    for (int32_t j = 0; j < t; j++, k += row) {
        int32_t a0 = 0, a1 = 0;
        for (int32_t c = 0; c < dh; c += 16) {
            const mve_pred16_t live = vctp8q((uint32_t)(dh - c));
            const int8x16_t kv = vldrbq_z_s8(k + c, live);
            a0 = vmladavaq_s8(a0, vldrbq_z_s8(q0 + c, live), kv);
            a1 = vmladavaq_s8(a1, vldrbq_z_s8(q1 + c, live), kv);
        }
        s0[j] = a0;
        s1[j] = a1;
    }
}

/* s_r[j] += col[j] + add_r for both rows (the scores of quant_attention.h, exact in int32), m[r] = max_j s_r[j]:
 * per four keys three loads, four VADD, two stores, two VMAX */
static void scores_fix(int32_t *s0, int32_t *s1, const int32_t *col, int32_t add0, int32_t add1, int32_t t,
                       int32_t *m) {
    const int32_t full = t & ~3;
    int32x4_t m0 = vdupq_n_s32(INT32_MIN), m1 = m0;
    for (int32_t j = 0; j < full; j += 4) {
        const int32x4_t c = vld1q_s32(col + j);
        const int32x4_t v0 = vaddq_n_s32(vaddq_s32(vld1q_s32(s0 + j), c), add0);
        const int32x4_t v1 = vaddq_n_s32(vaddq_s32(vld1q_s32(s1 + j), c), add1);
        vst1q_s32(s0 + j, v0);
        vst1q_s32(s1 + j, v1);
        m0 = vmaxq_s32(m0, v0);
        m1 = vmaxq_s32(m1, v1);
    }
    int32_t x0 = vmaxvq_s32(INT32_MIN, m0), x1 = vmaxvq_s32(INT32_MIN, m1);
    for (int32_t j = full; j < t; j++) {
        s0[j] += col[j] + add0;
        s1[j] += col[j] + add1;
        x0 = s0[j] > x0 ? s0[j] : x0;
        x1 = s1[j] > x1 ? s1[j] : x1;
    }
    m[0] = x0;
    m[1] = x1;
}

/* One step of weights(): four scores' weights */
static inline __attribute__((always_inline)) int32x4_t weight4(int32x4_t s, int32x4_t nm, int32_t bias, int32_t k,
                                                               const int16_t *exp_table) {
    const int32x4_t g = vaddq_n_s32(vmulhq_s32(s, nm), bias);
    const int32x4_t idx = vminq_s32(vshlq_r_s32(g, -k), vdupq_n_s32(EXF_ATTENTION_TABLE - 1)); /* g > 0 */
    return vldrhq_gather_shifted_offset_s32(exp_table, vreinterpretq_u32_s32(idx));
}

/* e[j] = exp_table[min(511, (G_j - min G + 2^(k-1)) >> k)], G_j = floor(s_j neg_mult / 2^32), j < t, with
 * m = max_j s_j; e[j] = 0 for t <= j < tp (t rounded up to 8, so weighted() runs without a tail); returns
 * sum e. Full steps of four unpredicated, the last t % 4 scalar (gcc 12 makes each VCTP predicate 3-4
 * instructions: predicating every step cost 40% more in this loop). */
static int32_t weights(const int32_t *s, int32_t m, int32_t t, const int16_t *exp_table, int32_t neg_mult,
                       int32_t k, int16_t *e) {
    const int32_t full = t & ~3;
    const int32_t bias = (1 << (k - 1)) - exfq_mulhi(m, neg_mult); /* G falls as s rises: min G = G(max s) */
    const int32x4_t nm = vdupq_n_s32(neg_mult);
    int32x4_t acc = vdupq_n_s32(0);
    for (int32_t j = 0; j < full; j += 4) {
        const int32x4_t w = weight4(vld1q_s32(s + j), nm, bias, k, exp_table);
        acc = vaddq_s32(acc, w);
        vstrhq_s32(e + j, w);
    }
    int32_t sum = vaddvq_s32(acc);
    for (int32_t j = full; j < t; j++) {
        const int32_t idx = (exfq_mulhi(s[j], neg_mult) + bias) >> k;
        e[j] = exp_table[idx < EXF_ATTENTION_TABLE - 1 ? idx : EXF_ATTENTION_TABLE - 1];
        sum += e[j];
    }
    /* the padding in one predicated store (a loop of 0-7 here becomes a call to newlib-nano's byte memset) */
    vstrhq_p_s16(e + t, vdupq_n_s16(0), vctp16q((uint32_t)(((t + 7) & ~7) - t)));
    return sum;
}

/* acc_r[c] = e_r . vt[c] over tp = t rounded up to 8 int16 (e_r zero past t: the lanes read past a
 * channel's row, the next row's or the scratch's last bytes, add 0), c < n, both rows: two channels a
 * step, so per eight keys four loads and four VMLADAVA for 32 MACs. acc_r at acc + r EXFM_CHUNK. */
static void weighted(const int16_t *e0, const int16_t *e1, const int16_t *vt, int32_t t, int32_t n, int32_t *acc) {
    const int32_t tp = (t + 7) & ~7;
    int32_t c = 0;
    for (; c + 2 <= n; c += 2, vt += 2 * t) {
        int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
        const int16_t *v1 = vt + t;
        for (int32_t j = 0; j < tp; j += 8) {
            const int16x8_t x0 = vld1q_s16(e0 + j), x1 = vld1q_s16(e1 + j);
            const int16x8_t y0 = vld1q_s16(vt + j), y1 = vld1q_s16(v1 + j);
            a00 = vmladavaq_s16(a00, x0, y0);
            a01 = vmladavaq_s16(a01, x0, y1);
            a10 = vmladavaq_s16(a10, x1, y0);
            a11 = vmladavaq_s16(a11, x1, y1);
        }
        acc[c] = a00;
        acc[c + 1] = a01;
        acc[EXFM_CHUNK + c] = a10;
        acc[EXFM_CHUNK + c + 1] = a11;
    }
    if (c < n) {
        int32_t a0 = 0, a1 = 0;
        for (int32_t j = 0; j < tp; j += 8) {
            const int16x8_t y = vld1q_s16(vt + j);
            a0 = vmladavaq_s16(a0, vld1q_s16(e0 + j), y);
            a1 = vmladavaq_s16(a1, vld1q_s16(e1 + j), y);
        }
        acc[c] = a0;
        acc[EXFM_CHUNK + c] = a1;
    }
}

/* One query row's weights (its scores s, their max m) and its 1 / sum folded into (mult, shift) */
static void row_weights(const exf_attention_q_params_t *p, const int32_t *s, int32_t m, int16_t *e, int32_t *mult,
                        int32_t *shift) {
    const int32_t sum = weights(s, m, p->t, p->exp_table, -p->exp_mult, p->exp_shift - 32, e);
    exfq_attention_out(sum, p->av_mult, p->av_shift, mult, shift);
}

void exfq_attention_s8_mve(const exf_attention_q_params_t *p, const int8_t *qkv, int8_t *y, void *scratch) {
    const int32_t t = p->t, heads = p->heads, dh = p->dh, q_zp = p->q_zp, k_zp = p->k_zp, v_zp = p->v_zp;
    const int32_t out_zp = p->out_zp, tp = (t + 7) & ~7;
    // qkv (t, 3, heads, dh) -> y (t, heads, dh)
    const int32_t d = heads * dh, row = 3 * d;
    int32_t *s0 = (int32_t *)scratch, *s1 = s0 + t; /* two rows of t scores */
    int32_t *col = s1 + t;                          /* t key terms */
    int16_t *e0 = (int16_t *)(col + t), *e1 = e0 + tp; /* two rows of tp weights */
    int16_t *vt = e1 + tp;                          /* dh rows of t values, then 7 read but unused */
    const int32_t dqk = dh * q_zp * k_zp;
    int32_t acc[2 * EXFM_CHUNK] __attribute__((aligned(8)));
    for (int32_t h = 0; h < heads; h++) {
        const int8_t *q = qkv + h * dh, *kp = q + d;
        for (int32_t j = 0; j < t; j++) col[j] = dqk - q_zp * exfm_sum_s8(kp + j * row, dh);
        widen_values(q + 2 * d, row, t, dh, v_zp, vt);
        for (int32_t i = 0; i < t; i += 2) { /* rows i, i + 1; for an odd t the last row twice, once stored */
            const int two = i + 1 < t;
            const int8_t *q0 = q + i * row, *q1 = two ? q0 + row : q0;
            int32_t m0, sh0, m1, sh1, mx[2];
            scores(q0, q1, kp, row, t, dh, s0, s1);
            scores_fix(s0, s1, col, -k_zp * exfm_sum_s8(q0, dh), -k_zp * exfm_sum_s8(q1, dh), t, mx);
            row_weights(p, s0, mx[0], e0, &m0, &sh0);
            row_weights(p, s1, mx[1], e1, &m1, &sh1);
            int8_t *y0 = y + i * d + h * dh;
            for (int32_t c = 0; c < dh; c += EXFM_CHUNK) {
                const int32_t n = dh - c < EXFM_CHUNK ? dh - c : EXFM_CHUNK;
                weighted(e0, e1, vt + c * t, t, n, acc);
                exfm_requant_run(acc, 0, n, m0, sh0, out_zp, y0 + c);
                if (two) exfm_requant_run(acc + EXFM_CHUNK, 0, n, m1, sh1, out_zp, y0 + d + c);
            }
        }
    }
}
#endif /* EXF_MVE */
