/* Fast integrated int8 kernels (cores with the DSP extension): exf_ln_linear_s8 and exf_token_mlp_q
 * EXF_DSP_BLOCK_ROWS rows at a time, so that every weight row loaded is used for a block of rows
 * (exf_linear_s8_dsp). Same integers as the portable kernels. In-place use stays as allowed there:
 * a block's input rows are all read before any of its output rows is written, and blocks go in
 * increasing row order, so output rows never overtake input rows still to be read.
 *
 * Each linear layer's weights are int8 (exf_linear_s8_dsp), or widened to int16 at code generation
 * (exf_linear_s8_w16) where its requantization terms rq are given.
 *
 * scratch: the block's row buffers (listed per kernel, each R = min(rows, EXF_DSP_BLOCK_ROWS) rows:
 * a recurrent model's one-row step needs one), 8-aligned as a whole, then the larger scratch of the
 * block's linear kernels (exf_linear_s8_dsp's widened rows: R rows of the widest input). */
#include "edgexf_kernels.h"
#include "quant_add.h"
#include "quant_common.h"

#define R_MAX EXF_DSP_BLOCK_ROWS

static inline int32_t align8(int32_t n) { return (n + 7) & ~7; }

static inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* One linear layer of a block: weights widened at code generation (rq set: exf_linear_s8_w16) or int8
 * (rq NULL: exf_linear_s8_dsp). */
static void dense(const int8_t *x, const void *w, const int32_t *bias, const int32_t *mult, const int32_t *shift,
                  const int32_t *rq, int8_t *y, int32_t rows, int32_t k, int32_t m, int32_t zp, void *scratch) {
    if (rq) {
        exf_linear_s8_w16(x, (const int16_t *)w, bias, mult, rq, y, rows, k, m, scratch);
    } else {
        exf_linear_s8_dsp(x, (const int8_t *)w, bias, mult, shift, y, rows, k, m, zp, scratch);
    }
}

void exf_ln_linear_s8_dsp(const void *x, int32_t x_bytes, const int32_t *gamma, const int32_t *beta,
                          int64_t eps_term, int32_t gshift, int32_t ln_zp, const void *w, const int32_t *bias,
                          const int32_t *mult, const int32_t *shift, const int32_t *rq, int32_t out_zp, int8_t *y,
                          int32_t rows,
                          int32_t k, int32_t m, void *scratch) {
    // scratch: normalized rows (R k), widened rows (k)
    const int32_t R = min_i32(R_MAX, rows);
    int8_t *ln = (int8_t *)scratch;
    void *xs = (uint8_t *)scratch + align8(R * k);
    for (int32_t r = 0; r < rows; r += R_MAX) {
        const int32_t n = min_i32(R_MAX, rows - r);
        exfq_layernorm_rows((const uint8_t *)x + r * k * x_bytes, x_bytes, gamma, beta, ln, n, k, eps_term, gshift,
                         ln_zp);
        dense(ln, w, bias, mult, shift, rq, y + r * m, n, k, m, out_zp, xs);
    }
}

void exf_token_mlp_q_dsp(const void *x, int32_t x_bytes, const int32_t *gamma, const int32_t *beta,
                         int64_t eps_term, int32_t gshift, int32_t ln_zp, const void *w1, const int32_t *b1,
                         const int32_t *m1, const int32_t *s1, const int32_t *rq1, int32_t fc1_zp,
                         const int8_t *act_table, const void *w2, const int32_t *b2, const int32_t *m2,
                         const int32_t *s2, const int32_t *rq2, int32_t fc2_zp, const int32_t add[6], void *y, int32_t y_bytes, int32_t rows, int32_t d,
                         int32_t hidden, void *scratch) {
    // scratch: normalized rows (R d), hidden rows (R hidden), fc2 rows (R d), widened rows
    const int32_t R = min_i32(R_MAX, rows);
    int8_t *ln = (int8_t *)scratch, *hid = ln + R * d, *out = hid + R * hidden;
    void *xs = (uint8_t *)scratch + align8(R * (2 * d + hidden));
    const exfq_add_t res = exfq_add_prepare(x_bytes, 1, add);
    for (int32_t r = 0; r < rows; r += R_MAX) {
        const int32_t n = min_i32(R_MAX, rows - r);
        exfq_layernorm_rows((const uint8_t *)x + r * d * x_bytes, x_bytes, gamma, beta, ln, n, d, eps_term, gshift,
                         ln_zp);
        dense(ln, w1, b1, m1, s1, rq1, hid, n, d, hidden, fc1_zp, xs);
        exf_lut_s8(hid, act_table, hid, n * hidden);
        dense(hid, w2, b2, m2, s2, rq2, out, n, hidden, d, fc2_zp, xs);
        /* x[r][i] read before y[r][i] written, rows in order */
        exfq_add_row(&res, (const uint8_t *)x + r * d * x_bytes, x_bytes, 1, out, 1, 1, (uint8_t *)y + r * d * y_bytes,
                     y_bytes, n * d);
    }
}
