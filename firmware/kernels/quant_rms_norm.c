/* RMSNorm in integers as the quantization pass makes it (edgexf/ir/ops_rms_norm.py: q_rms_norm;
 * edgexf_kernels.h states the arithmetic): the chain's q_mul (x x), q_mean, two q_luts (one composed table)
 * and two q_muls, bit for bit, in two passes over each row. Each multiply takes quant_mul.h's hi path where
 * its terms allow it (exact) and int64 otherwise: about 30 instructions an element where the chain's seven
 * ops took about 75 (each a call, a pass and its own loop set-up). */
#include "edgexf_kernels.h"
#include "quant_common.h"
#include "quant_mul.h"
#include "quant_pairs.h"

/* One multiply's terms in locals: the int8 stores to y may alias anything, so fields read through a pointer
 * would be loaded again after each store */
typedef struct {
    int32_t a_zp, b_zp, mult, bias, rs, ls, shift, out_zp;
} mul_t;

static mul_t mul_of(const exfq_mul_t *m) {
    const mul_t t = {m->a_zp, m->b_zp, m->mult, m->bias, m->rs, m->ls, m->shift, m->out_zp};
    return t;
}

/* exf_mul_q's requantization of the centred product u v to int8 (hi: the terms' path is quant_mul.h's hi) */
static ALWAYS_INLINE int32_t mul_s8(const mul_t m, int32_t u, int32_t v, const int hi) {
    if (hi) return SAT_S8(smmla((int32_t)((uint32_t)(u * v) << m.ls), m.mult, m.bias) >> m.rs);
    return exfq_clamp_s8(exfq_requantize((int64_t)u * v, m.mult, m.shift) + m.out_zp);
}

static exfq_mul_t prepare(const exf_mul_terms_t *t, int32_t a_bytes, int32_t b_bytes) {
    return exfq_mul_prepare(a_bytes, b_bytes, t->a_zp, t->b_zp, t->mult, t->shift, t->out_zp);
}

/* xb (x's element size) and hi (all three multiplies on the hi path): constants where inlined */
static ALWAYS_INLINE void rms_rows(const exf_rms_norm_q_params_t *p, const void *x, int8_t *y, const mul_t sq,
                                   const mul_t nm, const mul_t sc, const int xb, const int hi) {
    const int32_t d = p->d, rows = p->rows, in_zp = p->mean_in_zp;
    const int32_t mean_mult = p->mean_mult, mean_shift = p->mean_shift, mean_zp = p->mean_out_zp;
    const int8_t *w = p->w, *table = p->table + 128;
    for (int32_t r = 0; r < rows; r++, y += d) {
        const int8_t *x8 = (const int8_t *)x + r * d;
        const int16_t *x16 = (const int16_t *)x + r * d;
        int32_t acc = 0; /* the mean's sum of (x x - in_zp): |.| <= d 2^8 */
        for (int32_t i = 0; i < d; i++) {
            const int32_t xi = xb == 1 ? x8[i] : x16[i];
            acc += mul_s8(sq, xi - sq.a_zp, xi - sq.b_zp, hi) - in_zp;
        }
        const int32_t mean = exfq_clamp_s8(exfq_requantize(acc, mean_mult, mean_shift) + mean_zp);
        const int32_t rv = table[mean] - nm.b_zp; /* rsqrt(mean + eps), centred */
        for (int32_t i = 0; i < d; i++) {
            const int32_t xi = xb == 1 ? x8[i] : x16[i];
            const int32_t n1 = mul_s8(nm, xi - nm.a_zp, rv, hi);
            y[i] = (int8_t)mul_s8(sc, n1 - sc.a_zp, w[i] - sc.b_zp, hi);
        }
    }
}

void exf_rms_norm_q(const exf_rms_norm_q_params_t *p, const void *x, int8_t *y) {
    // x (rows, d) int8 or int16 -> y (rows, d) int8
    const int32_t xb = p->x_bytes;
    const exfq_mul_t sq = prepare(&p->sq, xb, xb), nm = prepare(&p->norm, xb, 1);
    const exfq_mul_t sc = prepare(&p->scale, 1, 1);
    const mul_t a = mul_of(&sq), b = mul_of(&nm), c = mul_of(&sc);
    const int hi = sq.path == EXFQ_MUL_HI && nm.path == EXFQ_MUL_HI && sc.path == EXFQ_MUL_HI;
    if (hi) {
        xb == 1 ? rms_rows(p, x, y, a, b, c, 1, 1) : rms_rows(p, x, y, a, b, c, 2, 1);
    } else {
        xb == 1 ? rms_rows(p, x, y, a, b, c, 1, 0) : rms_rows(p, x, y, a, b, c, 2, 0);
    }
}
