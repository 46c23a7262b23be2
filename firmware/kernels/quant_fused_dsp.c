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
 * (rq NULL: exf_linear_s8_dsp). Inlined: as a call of its own it cost a recurrent model's one-row step
 * about 15 instructions a layer. */
static inline __attribute__((always_inline)) void dense(const int8_t *x, const exf_dense_q_t *fc, int8_t *y,
                                                        int32_t rows, int32_t k, int32_t m, void *scratch) {
    if (fc->rq && rows >= 2 && fc->bias) { /* blocks of rows requantized from their registers */
        exfq_linear_s8_w16_rows(x, (const int16_t *)fc->w, fc->bias, fc->mult, fc->rq, y, rows, k, m, scratch);
    } else if (fc->rq) {
        exfq_linear_q_w16(x, 1, (const int16_t *)fc->w, fc->bias, fc->mult, fc->rq, 0, y, 1, rows, k, m, scratch);
    } else {
        exfq_linear_s8_dsp(x, (const int8_t *)fc->w, fc->bias, fc->mult, fc->shift, y, rows, k, m, fc->out_zp,
                           scratch);
    }
}

void exf_ln_linear_s8_dsp(const exf_ln_linear_q_params_t *p, const void *x, int8_t *y, void *scratch) {
    // scratch: normalized rows (R k), widened rows (k)
    const exf_norm_q_t ln_terms = p->ln;
    const exf_dense_q_t fc = p->fc;
    const int32_t x_bytes = p->x_bytes, rows = p->rows, k = p->k, m = p->m;
    const int32_t R = min_i32(R_MAX, rows);
    int8_t *ln = (int8_t *)scratch;
    void *xs = (uint8_t *)scratch + align8(R * k);
    for (int32_t r = 0; r < rows; r += R_MAX) {
        const int32_t n = min_i32(R_MAX, rows - r);
        exfq_layernorm_rows((const uint8_t *)x + r * k * x_bytes, x_bytes, &ln_terms, ln, n, k);
        dense(ln, &fc, y + r * m, n, k, m, xs);
    }
}

void exf_token_mlp_q_dsp(const exf_token_mlp_q_params_t *p, const void *x, void *y, void *scratch) {
    // scratch: normalized rows (R d), hidden rows (R hidden), fc2 rows (R d), widened rows
    const exf_norm_q_t ln_terms = p->ln;
    const exf_dense_q_t fc1 = p->fc1, fc2 = p->fc2;
    const int8_t *act_table = p->act_table;
    const int32_t x_bytes = p->x_bytes, y_bytes = p->y_bytes, rows = p->rows, d = p->d, hidden = p->hidden;
    const int32_t R = min_i32(R_MAX, rows);
    int8_t *ln = (int8_t *)scratch, *hid = ln + R * d, *out = hid + R * hidden;
    void *xs = (uint8_t *)scratch + align8(R * (2 * d + hidden));
    const exfq_add_t res = exfq_add_prepare(x_bytes, 1, &p->res);
    exfq_add8_t res8 = exfq_add8_prepare(&res); /* all int8: the SMLAD form where it is exact */
    res8.ok = res8.ok && x_bytes == 1 && y_bytes == 1 && !EXF_MVE; /* Helium: exfq_add_row's MVE form is faster */
    for (int32_t r = 0; r < rows; r += R_MAX) {
        const int32_t n = min_i32(R_MAX, rows - r);
        exfq_layernorm_rows((const uint8_t *)x + r * d * x_bytes, x_bytes, &ln_terms, ln, n, d);
        dense(ln, &fc1, hid, n, d, hidden, xs);
        exfq_lut_s8(hid, act_table, hid, n * hidden);
        dense(hid, &fc2, out, n, hidden, d, xs);
        /* x[r][i] read before y[r][i] written, rows in order */
        if (res8.ok) {
            exfq_add8_row(&res8, (const int8_t *)x + r * d, out, (int8_t *)y + r * d, n * d);
        } else {
            exfq_add_row(&res, (const uint8_t *)x + r * d * x_bytes, x_bytes, 1, out, 1, 1,
                         (uint8_t *)y + r * d * y_bytes, y_bytes, n * d);
        }
    }
}
