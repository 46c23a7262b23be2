/* Integrated (fused) float32 kernels: two rows at a time (ln_linear, token_mlp: the linear kernel's 2 x 4
 * blocks reuse each weight for both rows), so no intermediate larger than two rows exists.
 * Each computes exactly what its chain of plain kernels computes (same sums in the same order), which
 * edgexf/ir/ops_fused.py mirrors. Working memory comes from the caller (the arena's scratch buffer). */
#include "edgexf_kernels.h"

void exf_ln_linear_f32(const exf_ln_linear_f32_params_t *p, const float *x, float *y, float *scratch) {
    const float *gamma = p->gamma, *beta = p->beta, *w = p->w, *b = p->b;
    const float eps = p->eps;
    const int32_t rows = p->rows, k = p->k, m = p->m;
    // per pair of rows: scratch = layernorm(x[r], x[r+1]) (2 k); y[r], y[r+1] = scratch @ W^T + b (m each)
    for (int32_t r = 0; r < rows; r += 2) {
        const int32_t n = rows - r < 2 ? rows - r : 2;
        /* rows r, r+1 of x are read completely before rows r, r+1 of y are written: see the header */
        exf_layernorm_f32(x + r * k, gamma, beta, scratch, n, k, eps);
        exf_linear_f32(scratch, w, b, y + r * m, n, k, m);
    }
}

void exf_attention_f32(const exf_attention_f32_params_t *p, const float *qkv, float *y, float *scores) {
    const float *scale = p->scale;
    const int32_t t = p->t, heads = p->heads, dh = p->dh;
    // qkv (t, 3, heads, dh) -> y (t, heads, dh); scores: t floats
    const int32_t d = heads * dh, row = 3 * d;
    for (int32_t h = 0; h < heads; h++) {
        for (int32_t i = 0; i < t; i++) {
            const float *q = qkv + i * row + h * dh;
            int32_t j = 0;
            for (; j + 4 <= t; j += 4) { /* four keys at a time: q[c] loaded once for all four */
                const float *k0 = qkv + j * row + d + h * dh, *k1 = k0 + row, *k2 = k1 + row, *k3 = k2 + row;
                float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
                for (int32_t c = 0; c < dh; c++) {
                    const float u = q[c];
                    a0 += u * k0[c];
                    a1 += u * k1[c];
                    a2 += u * k2[c];
                    a3 += u * k3[c];
                }
                scores[j] = scale ? a0 * scale[0] : a0;
                scores[j + 1] = scale ? a1 * scale[0] : a1;
                scores[j + 2] = scale ? a2 * scale[0] : a2;
                scores[j + 3] = scale ? a3 * scale[0] : a3;
            }
            for (; j < t; j++) {
                const float *kj = qkv + j * row + d + h * dh;
                float acc = 0.0f;
                for (int32_t c = 0; c < dh; c++) acc += q[c] * kj[c];
                scores[j] = scale ? acc * scale[0] : acc;
            }
            exf_softmax_f32(scores, scores, 1, t);
            const float *v = qkv + 2 * d + h * dh;
            float *yi = y + i * d + h * dh;
            int32_t c = 0;
            for (; c + 4 <= dh; c += 4) { /* four channels at a time: scores[j] loaded once for all four */
                float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
                for (int32_t jj = 0; jj < t; jj++) {
                    const float s = scores[jj], *vj = v + jj * row + c;
                    a0 += s * vj[0];
                    a1 += s * vj[1];
                    a2 += s * vj[2];
                    a3 += s * vj[3];
                }
                yi[c] = a0, yi[c + 1] = a1, yi[c + 2] = a2, yi[c + 3] = a3;
            }
            for (; c < dh; c++) {
                float acc = 0.0f;
                for (int32_t jj = 0; jj < t; jj++) acc += scores[jj] * v[jj * row + c];
                yi[c] = acc;
            }
        }
    }
}

void exf_token_mlp_f32(const exf_token_mlp_f32_params_t *p, const float *x, float *y, float *scratch) {
    const float *gamma = p->gamma, *beta = p->beta, *w1 = p->w1, *b1 = p->b1, *w2 = p->w2, *b2 = p->b2;
    const float eps = p->eps;
    const int32_t act = p->act, rows = p->rows, d = p->d, hidden = p->hidden;
    // per pair of rows: y[r] = x[r] + fc2(act(fc1(layernorm(x[r])))); scratch: 2 (2 d + hidden) floats
    const int32_t pair = rows < 2 ? rows : 2;
    float *ln = scratch, *hid = scratch + pair * d, *out = scratch + pair * (d + hidden);
    for (int32_t r = 0; r < rows; r += 2) {
        const int32_t n = rows - r < 2 ? rows - r : 2;
        const float *xr = x + r * d;
        float *yr = y + r * d;
        exf_layernorm_f32(xr, gamma, beta, ln, n, d, eps);
        exf_linear_f32(ln, w1, b1, hid, n, d, hidden);
        if (act == EXF_ACT_RELU) {
            exf_relu_f32(hid, hid, n * hidden);
        } else if (act == EXF_ACT_GELU_TANH) {
            exf_gelu_tanh_f32(hid, hid, n * hidden);
        } else {
            exf_gelu_f32(hid, hid, n * hidden);
        }
        exf_linear_f32(hid, w2, b2, out, n, hidden, d);
        for (int32_t i = 0; i < n * d; i++) yr[i] = xr[i] + out[i]; /* x[.][i] read before y[.][i] written */
    }
}

void exf_patch_embed_f32(const exf_patch_embed_f32_params_t *prm, const float *x, float *y, float *scratch) {
    const float *w = prm->w, *b = prm->b, *cls = prm->cls, *pos = prm->pos;
    const int32_t c = prm->c, h = prm->h, wd = prm->wd, d = prm->d, p = prm->p;
    // x (c, h, wd) in p x p patches -> y (cls? 1 : 0 + (h/p)(wd/p), d), patches in raster order;
    // scratch: one patch row of tokens ((wd/p) d floats), written to y once its image rows are read
    // (the class token last, once the whole image is read: y may start at x, ops_fused.py patch_embed_delta)
    const int32_t nw = wd / p;
    int32_t t0 = cls ? 1 : 0;
    for (int32_t py = 0; py < h / p; py++, t0 += nw) {
        for (int32_t px = 0; px < nw; px++) {
            for (int32_t o = 0; o < d; o++) {
                const float *wo = w + o * c * p * p;
                float acc = b ? b[o] : 0.0f;
                for (int32_t ic = 0; ic < c; ic++) {
                    const float *xc = x + (ic * h + py * p) * wd + px * p;
                    for (int32_t ky = 0; ky < p; ky++) {
                        for (int32_t kx = 0; kx < p; kx++) acc += xc[ky * wd + kx] * wo[(ic * p + ky) * p + kx];
                    }
                }
                scratch[px * d + o] = pos ? acc + pos[(t0 + px) * d + o] : acc;
            }
        }
        for (int32_t i = 0; i < nw * d; i++) y[t0 * d + i] = scratch[i];
    }
    if (cls) {
        for (int32_t o = 0; o < d; o++) y[o] = pos ? cls[o] + pos[o] : cls[o];
    }
}
