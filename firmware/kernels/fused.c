/* Integrated (fused) float32 kernels: one row at a time, so no intermediate larger than a row exists.
 * Each computes exactly what its chain of plain kernels computes (same sums in the same order), which
 * edgexf/ir/ops_fused.py mirrors. Working memory comes from the caller (the arena's scratch buffer). */
#include "edgexf_kernels.h"

void exf_ln_linear_f32(const float *x, const float *gamma, const float *beta, float eps, const float *w,
                       const float *b, float *y, int32_t rows, int32_t k, int32_t m, float *scratch) {
    // per row r: scratch = layernorm(x[r]) (k); y[r] = scratch @ W^T + b (m)
    for (int32_t r = 0; r < rows; r++) {
        /* row r of x is read completely before row r of y is written: see the header for aliasing */
        exf_layernorm_f32(x + r * k, gamma, beta, scratch, 1, k, eps);
        exf_linear_f32(scratch, w, b, y + r * m, 1, k, m);
    }
}

void exf_attention_f32(const float *qkv, const float *scale, float *y, int32_t t, int32_t heads, int32_t dh,
                       float *scores) {
    // qkv (t, 3, heads, dh) -> y (t, heads, dh); scores: t floats
    const int32_t d = heads * dh, row = 3 * d;
    for (int32_t h = 0; h < heads; h++) {
        for (int32_t i = 0; i < t; i++) {
            const float *q = qkv + i * row + h * dh;
            for (int32_t j = 0; j < t; j++) {
                const float *kj = qkv + j * row + d + h * dh;
                float acc = 0.0f;
                for (int32_t c = 0; c < dh; c++) acc += q[c] * kj[c];
                scores[j] = scale ? acc * scale[0] : acc;
            }
            exf_softmax_f32(scores, scores, 1, t);
            for (int32_t c = 0; c < dh; c++) {
                const float *vc = qkv + 2 * d + h * dh + c;
                float acc = 0.0f;
                for (int32_t j = 0; j < t; j++) acc += scores[j] * vc[j * row];
                y[i * d + h * dh + c] = acc;
            }
        }
    }
}

void exf_token_mlp_f32(const float *x, const float *gamma, const float *beta, float eps, const float *w1,
                       const float *b1, int32_t act, const float *w2, const float *b2, float *y, int32_t rows,
                       int32_t d, int32_t hidden, float *scratch) {
    // per row r: y[r] = x[r] + fc2(act(fc1(layernorm(x[r])))); scratch: 2 d + hidden floats
    float *ln = scratch, *hid = scratch + d, *out = scratch + d + hidden;
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        exf_layernorm_f32(xr, gamma, beta, ln, 1, d, eps);
        exf_linear_f32(ln, w1, b1, hid, 1, d, hidden);
        if (act == EXF_ACT_RELU) {
            exf_relu_f32(hid, hid, hidden);
        } else if (act == EXF_ACT_GELU_TANH) {
            exf_gelu_tanh_f32(hid, hid, hidden);
        } else {
            exf_gelu_f32(hid, hid, hidden);
        }
        exf_linear_f32(hid, w2, b2, out, 1, hidden, d);
        for (int32_t i = 0; i < d; i++) yr[i] = xr[i] + out[i]; /* x[r][i] read before y[r][i] written */
    }
}

void exf_patch_embed_f32(const float *x, const float *w, const float *b, const float *cls, const float *pos,
                         float *y, int32_t c, int32_t h, int32_t wd, int32_t d, int32_t p, float *scratch) {
    // x (c, h, wd) in p x p patches -> y (cls? 1 : 0 + (h/p)(wd/p), d), patches in raster order;
    // scratch: one patch row of tokens ((wd/p) d floats), written to y once its image rows are read
    const int32_t nw = wd / p;
    int32_t t0 = 0;
    if (cls) {
        for (int32_t o = 0; o < d; o++) y[o] = pos ? cls[o] + pos[o] : cls[o];
        t0 = 1;
    }
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
}
