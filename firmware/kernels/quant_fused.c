/* Integrated (fused) integer kernels: the integer chains of edgexf/ir/ops_fused.py, one row at a time,
 * with the plain integer kernels' arithmetic (edgexf_kernels.h, "integer kernels"). */
#include "edgexf_kernels.h"
#include "quant_add.h"
#include "quant_attention.h"
#include "quant_common.h"

void exf_ln_linear_s8(const exf_ln_linear_q_params_t *p, const void *x, int8_t *y, int8_t *scratch) {
    // per row r: scratch = q_layernorm(x[r]) (k); y[r] = q_linear(scratch) (m)
    const exf_norm_q_t ln = p->ln;
    const int8_t *w = (const int8_t *)p->fc.w;
    const int32_t *bias = p->fc.bias, *mult = p->fc.mult, *shift = p->fc.shift;
    const int32_t out_zp = p->fc.out_zp, x_bytes = p->x_bytes, rows = p->rows, k = p->k, m = p->m;
    for (int32_t r = 0; r < rows; r++) {
        exfq_layernorm_rows((const int8_t *)x + r * k * x_bytes, x_bytes, &ln, scratch, 1, k);
        exfq_linear_s8(scratch, w, bias, mult, shift, y + r * m, 1, k, m, out_zp);
    }
}

void exf_attention_s8(const exf_attention_q_params_t *p, const int8_t *qkv, int8_t *y, int32_t *scores) {
    const int16_t *exp_table = p->exp_table;
    const int32_t t = p->t, heads = p->heads, dh = p->dh, q_zp = p->q_zp, k_zp = p->k_zp, v_zp = p->v_zp;
    const int32_t neg_mult = -p->exp_mult, k = p->exp_shift - 32, av_mult = p->av_mult, av_shift = p->av_shift;
    const int32_t out_zp = p->out_zp;
    // qkv (t, 3, heads, dh) -> y (t, heads, dh); scores: t int32 (quant_attention.h: the arithmetic)
    const int32_t d = heads * dh, row = 3 * d;
    for (int32_t h = 0; h < heads; h++) {
        for (int32_t i = 0; i < t; i++) {
            const int8_t *q = qkv + i * row + h * dh;
            int32_t g_min = INT32_MAX;
            for (int32_t j = 0; j < t; j++) {
                const int8_t *kj = qkv + j * row + d + h * dh;
                int32_t acc = 0;
                for (int32_t c = 0; c < dh; c++) acc += ((int32_t)q[c] - q_zp) * ((int32_t)kj[c] - k_zp);
                scores[j] = exfq_mulhi(acc, neg_mult);
                if (scores[j] < g_min) g_min = scores[j];
            }
            int32_t sum = 0;
            for (int32_t j = 0; j < t; j++) {
                const int32_t idx = (scores[j] - g_min + (1 << (k - 1))) >> k;
                scores[j] = exp_table[idx < EXF_ATTENTION_TABLE - 1 ? idx : EXF_ATTENTION_TABLE - 1];
                sum += scores[j];
            }
            int32_t mult, shift;
            exfq_attention_out(sum, av_mult, av_shift, &mult, &shift);
            for (int32_t c = 0; c < dh; c++) {
                const int8_t *vc = qkv + 2 * d + h * dh + c;
                int32_t acc = 0;
                for (int32_t j = 0; j < t; j++) acc += scores[j] * ((int32_t)vc[j * row] - v_zp);
                y[i * d + h * dh + c] = exfq_clamp_s8(exfq_requantize(acc, mult, shift) + out_zp);
            }
        }
    }
}

void exf_token_mlp_q(const exf_token_mlp_q_params_t *p, const void *x, void *y, int8_t *scratch) {
    // per row r: y[r] = add(x[r], q_linear2(lut(q_linear1(q_layernorm(x[r]))))); scratch 2 d + hidden
    const exf_norm_q_t ln_terms = p->ln;
    const exf_dense_q_t fc1 = p->fc1, fc2 = p->fc2;
    const int8_t *act_table = p->act_table;
    const int32_t x_bytes = p->x_bytes, y_bytes = p->y_bytes, rows = p->rows, d = p->d, hidden = p->hidden;
    int8_t *ln = scratch, *hid = scratch + d, *out = scratch + d + hidden;
    const exfq_add_t res = exfq_add_prepare(x_bytes, 1, &p->res);
    for (int32_t r = 0; r < rows; r++) {
        exfq_layernorm_rows((const int8_t *)x + r * d * x_bytes, x_bytes, &ln_terms, ln, 1, d);
        exfq_linear_s8(ln, (const int8_t *)fc1.w, fc1.bias, fc1.mult, fc1.shift, hid, 1, d, hidden, fc1.out_zp);
        exfq_lut_s8(hid, act_table, hid, hidden);
        exfq_linear_s8(hid, (const int8_t *)fc2.w, fc2.bias, fc2.mult, fc2.shift, out, 1, hidden, d, fc2.out_zp);
        /* x[r][i] read before y[r][i] written */
        exfq_add_row(&res, (const uint8_t *)x + r * d * x_bytes, x_bytes, 1, out, 1, 1, (uint8_t *)y + r * d * y_bytes,
                     y_bytes, d);
    }
}

void exf_patch_embed_s8(const exf_patch_embed_q_params_t *prm, const int8_t *x, void *y, void *scratch) {
    const int8_t *w = (const int8_t *)prm->w, *cls = prm->cls, *pos = prm->pos;
    const int32_t *bias = prm->bias, *mult = prm->mult, *shift = prm->shift;
    const int32_t in_zp = prm->in_zp, conv_zp = prm->conv_zp, y_bytes = prm->y_bytes;
    const int32_t c = prm->c, h = prm->h, wd = prm->wd, d = prm->d, p = prm->p;
    int32_t pos_add[6];
    exfq_add_array(&prm->pos_add, pos_add);
    // x (c, h, wd) in p x p patches -> y (cls? 1 : 0 + (h/p)(wd/p), d), patches in raster order;
    // scratch: one patch row of tokens ((wd/p) d elements of y's type), copied to y once its rows are read
    // (the class token last, once the whole image is read: y may start at x, ops_fused.py patch_embed_delta)
    const int32_t nw = wd / p;
    int32_t t0 = cls ? 1 : 0;
    for (int32_t py = 0; py < h / p; py++, t0 += nw) {
        for (int32_t px = 0; px < nw; px++) {
            for (int32_t o = 0; o < d; o++) {
                const int8_t *wo = w + o * c * p * p;
                int32_t acc = bias ? bias[o] : 0;
                for (int32_t ic = 0; ic < c; ic++) {
                    const int8_t *xc = x + (ic * h + py * p) * wd + px * p;
                    for (int32_t ky = 0; ky < p; ky++) {
                        for (int32_t kx = 0; kx < p; kx++) {
                            acc += ((int32_t)xc[ky * wd + kx] - in_zp) * (int32_t)wo[(ic * p + ky) * p + kx];
                        }
                    }
                }
                int8_t v = exfq_clamp_s8(exfq_requantize(acc, mult[o], shift[o]) + conv_zp);
                int64_t e = pos ? exfq_add_pair(v, pos[(t0 + px) * d + o], pos_add) : v;
                exfq_store(scratch, y_bytes, px * d + o, e);
            }
        }
        uint8_t *dst = (uint8_t *)y + t0 * d * y_bytes;
        const uint8_t *src = (const uint8_t *)scratch;
        for (int32_t i = 0; i < nw * d * y_bytes; i++) dst[i] = src[i];
    }
    if (cls) {
        for (int32_t o = 0; o < d; o++) {
            exfq_store(y, y_bytes, o, pos ? exfq_add_pair(cls[o], pos[o], pos_add) : cls[o]);
        }
    }
}
