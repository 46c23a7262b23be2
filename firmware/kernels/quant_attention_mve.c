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
 * scratch (4-byte aligned), bytes: 4 t (scores) + 4 t (key terms) + 2 tp (weights, tp = t rounded up to 8)
 * + 2 t dh (values) + 14 (read past the last channel, times a zero weight), within kernel_choice.attention_scratch's DSP form (its keys alone take 8 t2 ceil(dh / 4) >= 2 t dh,
 * its values 8 dh2 ceil(t / 4) >= 2 t dh and its last term 8 max(t2, dh2) >= 8 t).
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

/* s[j] = q . k_j + col[j] + add over dh int8 (k_j at k + j row); held: dh <= 16, q in one register */
static void scores(const int8_t *q, const int8_t *k, int32_t row, int32_t t, int32_t dh, const int32_t *col,
                   int32_t add, int32_t *s) {
    if (dh <= 16) {
        const mve_pred16_t last = vctp8q((uint32_t)dh);
        const int8x16_t qv = vldrbq_z_s8(q, last);
        if (dh == 16) {
            for (int32_t j = 0; j < t; j++, k += row) s[j] = vmladavaq_s8(col[j] + add, qv, vld1q_s8(k));
        } else {
            for (int32_t j = 0; j < t; j++, k += row) s[j] = vmladavaq_s8(col[j] + add, qv, vldrbq_z_s8(k, last));
        }
        return;
    }
    for (int32_t j = 0; j < t; j++, k += row) {
        int32_t a = col[j] + add;
        for (int32_t c = 0; c < dh; c += 16) {
            const mve_pred16_t live = vctp8q((uint32_t)(dh - c));
            a = vmladavaq_s8(a, vldrbq_z_s8(q + c, live), vldrbq_z_s8(k + c, live));
        }
        s[j] = a;
    }
}

/* One step of weights(): four scores' weights stored, their sum returned (live: the lanes of the step) */
static inline __attribute__((always_inline)) int32x4_t weight4(int32x4_t s, int32x4_t nm, int32_t bias, int32_t k,
                                                               const int16_t *exp_table) {
    const int32x4_t g = vaddq_n_s32(vmulhq_s32(s, nm), bias);
    const int32x4_t idx = vminq_s32(vshlq_r_s32(g, -k), vdupq_n_s32(EXF_ATTENTION_TABLE - 1)); /* g > 0 */
    return vldrhq_gather_shifted_offset_s32(exp_table, vreinterpretq_u32_s32(idx));
}

/* e[j] = exp_table[min(511, (G_j - min G + 2^(k-1)) >> k)], G_j = floor(s_j neg_mult / 2^32), j < t, and
 * e[j] = 0 for t <= j < tp (tp: t rounded up to 8, so weighted() runs without a tail); returns sum e.
 * Full steps of four run unpredicated; the last t % 4 under VCTP (gcc 12 makes each predicate 3-4
 * instructions, so predicating every step cost 40% more in this loop). */
static int32_t weights(const int32_t *s, int32_t t, const int16_t *exp_table, int32_t neg_mult, int32_t k,
                       int16_t *e) {
    const int32_t full = t & ~3;
    int32x4_t mv = vdupq_n_s32(s[0]);
    for (int32_t j = 0; j < full; j += 4) mv = vmaxq_s32(mv, vld1q_s32(s + j));
    int32_t m = vmaxvq_s32(s[0], mv);
    for (int32_t j = full; j < t; j++) m = s[j] > m ? s[j] : m;
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
    for (int32_t j = t; j < ((t + 7) & ~7); j++) e[j] = 0;
    return sum;
}

/* acc[c] = e . vt[c] over tp = t rounded up to 8 int16 (e zero past t: the lanes read past a channel's
 * row, the next row's or the scratch's last bytes, add 0), c < n */
static void weighted(const int16_t *e, const int16_t *vt, int32_t t, int32_t n, int32_t *acc) {
    const int32_t tp = (t + 7) & ~7;
    for (int32_t c = 0; c < n; c++, vt += t) {
        int32_t a = 0;
        for (int32_t j = 0; j < tp; j += 8) a = vmladavaq_s16(a, vld1q_s16(e + j), vld1q_s16(vt + j));
        acc[c] = a;
    }
}

void exfq_attention_s8_mve(const exf_attention_q_params_t *p, const int8_t *qkv, int8_t *y, void *scratch) {
    const int16_t *exp_table = p->exp_table;
    const int32_t t = p->t, heads = p->heads, dh = p->dh, q_zp = p->q_zp, k_zp = p->k_zp, v_zp = p->v_zp;
    const int32_t neg_mult = -p->exp_mult, k = p->exp_shift - 32, out_zp = p->out_zp;
    // qkv (t, 3, heads, dh) -> y (t, heads, dh)
    const int32_t d = heads * dh, row = 3 * d;
    int32_t *s = (int32_t *)scratch;              /* t scores */
    int32_t *col = s + t;                         /* t key terms */
    int16_t *e = (int16_t *)(col + t);            /* t weights */
    int16_t *vt = e + ((t + 7) & ~7);             /* dh rows of t values, then 7 read but unused */
    const int32_t dqk = dh * q_zp * k_zp;
    int32_t acc[EXFM_CHUNK] __attribute__((aligned(8)));
    for (int32_t h = 0; h < heads; h++) {
        const int8_t *q = qkv + h * dh, *kp = q + d;
        for (int32_t j = 0; j < t; j++) col[j] = dqk - q_zp * exfm_sum_s8(kp + j * row, dh);
        widen_values(q + 2 * d, row, t, dh, v_zp, vt);
        for (int32_t i = 0; i < t; i++) {
            const int8_t *qi = q + i * row;
            scores(qi, kp, row, t, dh, col, -k_zp * exfm_sum_s8(qi, dh), s);
            const int32_t sum = weights(s, t, exp_table, neg_mult, k, e);
            int32_t mult, shift;
            exfq_attention_out(sum, p->av_mult, p->av_shift, &mult, &shift);
            int8_t *yi = y + i * d + h * dh;
            for (int32_t c = 0; c < dh; c += EXFM_CHUNK) {
                const int32_t n = dh - c < EXFM_CHUNK ? dh - c : EXFM_CHUNK;
                weighted(e, vt + c * t, t, n, acc);
                exfm_requant_run(acc, 0, n, mult, shift, out_zp, yi + c);
            }
        }
    }
}
#endif /* EXF_MVE */
