/* Integer dot-product kernels: linear, conv2d, matmul (int8 in, int32 accumulate, int8 out).
 * Arithmetic as in edgexf_kernels.h ("integer kernels"); mirrored by edgexf/ir/kernels_q.py. */
#include "edgexf_kernels.h"
#include "quant_common.h"

/* A linear of k < 4 inputs (a low-rank factor: Mamba's rank-2 dt_proj) with its k inputs held in registers
 * across the m outputs, unrolled by the constant k: the general loop below spent ~55 instructions an
 * output there on its inner loop's set-up. Same sums, same order, as linear_s8. */
static inline __attribute__((always_inline)) void linear_s8_narrow(const int8_t *xr, const int8_t *w,
                                                                   const int32_t *bias, const int32_t *mult,
                                                                   const int32_t *shift, int8_t *y, int32_t k,
                                                                   int32_t m, int32_t out_zp) {
    // x (k,) @ W (m, k)^T + bias (m,) -> y (m,), k in 1..3
    const int32_t x0 = xr[0], x1 = k > 1 ? xr[1] : 0, x2 = k > 2 ? xr[2] : 0;
    for (int32_t j = 0; j < m; j++, w += k) {
        int32_t acc = (bias ? bias[j] : 0) + x0 * (int32_t)w[0];
        if (k > 1) acc += x1 * (int32_t)w[1];
        if (k > 2) acc += x2 * (int32_t)w[2];
        y[j] = exfq_clamp_s8(exfq_requantize(acc, mult[j], shift[j]) + out_zp);
    }
}

/* The body of exf_linear_s8 and exfq_linear_s8, inlined into each (no extra call for either). */
static inline __attribute__((always_inline)) void linear_s8(const int8_t *x, const int8_t *w, const int32_t *bias,
                                                            const int32_t *mult, const int32_t *shift, int8_t *y,
                                                            int32_t rows, int32_t k, int32_t m, int32_t out_zp) {
    // x (rows, k) @ W (m, k)^T + bias (m,) -> y (rows, m), per-channel requantize
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *xr = x + r * k;
        /* one branch a row; each constant k gets its own unrolled copy */
        if (k == 1) { linear_s8_narrow(xr, w, bias, mult, shift, y + r * m, 1, m, out_zp); continue; }
        if (k == 2) { linear_s8_narrow(xr, w, bias, mult, shift, y + r * m, 2, m, out_zp); continue; }
        if (k == 3) { linear_s8_narrow(xr, w, bias, mult, shift, y + r * m, 3, m, out_zp); continue; }
        for (int32_t j = 0; j < m; j++) {
            const int8_t *wj = w + j * k;
            int32_t acc = bias ? bias[j] : 0;
            for (int32_t i = 0; i < k; i++) acc += (int32_t)xr[i] * (int32_t)wj[i];
            y[r * m + j] = exfq_clamp_s8(exfq_requantize(acc, mult[j], shift[j]) + out_zp);
        }
    }
}

void exfq_linear_s8(const int8_t *x, const int8_t *w, const int32_t *bias, const int32_t *mult,
                    const int32_t *shift, int8_t *y, int32_t rows, int32_t k, int32_t m, int32_t out_zp) {
    linear_s8(x, w, bias, mult, shift, y, rows, k, m, out_zp);
}

void exf_linear_s8(const exf_linear_q_params_t *p, const int8_t *x, int8_t *y) {
    const exf_dense_q_t *fc = &p->fc;
    linear_s8(x, (const int8_t *)fc->w, fc->bias, fc->mult, fc->shift, y, p->rows, p->k, p->m, fc->out_zp);
}

void exf_linear_q(const exf_linear_q_params_t *p, const void *x, void *y) {
    const int8_t *w = (const int8_t *)p->fc.w;
    const int32_t *bias = p->fc.bias, *mult = p->fc.mult, *shift = p->fc.shift;
    const int32_t x_bytes = p->x_bytes, y_bytes = p->y_bytes, rows = p->rows, k = p->k, m = p->m;
    const int32_t out_zp = p->fc.out_zp;
    // x (rows, k) int8/int16 @ W (m, k)^T + bias (m,) -> y (rows, m) int8/int16, per-channel requantize
    for (int32_t r = 0; r < rows; r++) {
        for (int32_t j = 0; j < m; j++) {
            const int8_t *wj = w + j * k;
            int64_t acc = bias ? bias[j] : 0;
            if (x_bytes == 2) { /* k * 2^15 * 2^7 < 2^31 (the generator checks): int32 products, int64 sum */
                const int16_t *xr = (const int16_t *)x + r * k;
                for (int32_t i = 0; i < k; i++) acc += (int32_t)xr[i] * (int32_t)wj[i];
            } else {
                const int8_t *xr = (const int8_t *)x + r * k;
                for (int32_t i = 0; i < k; i++) acc += (int32_t)xr[i] * (int32_t)wj[i];
            }
            exfq_store(y, y_bytes, r * m + j, exfq_requantize(acc, mult[j], shift[j]) + out_zp);
        }
    }
}

static inline int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

void exf_conv2d_s8(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y) {
    const int8_t *w = p->w;
    const int32_t *bias = p->bias, *mult = p->mult, *shift = p->shift;
    const int32_t n = p->n, c = p->c, h = p->h, wd = p->wd, o = p->o, kh = p->kh, kw = p->kw;
    const int32_t sh = p->sh, sw = p->sw, pt = p->pt, pl = p->pl, dh = p->dh, dw = p->dw;
    const int32_t groups = p->groups, oh = p->oh, ow = p->ow, in_zp = p->in_zp, out_zp = p->out_zp;
    // x (n, c, h, wd) conv W (o, c/groups, kh, kw) + bias (o,) -> y (n, o, oh, ow), per-channel requantize
    const int32_t cg = c / groups, og = o / groups;
    for (int32_t bi = 0; bi < n; bi++) {
        for (int32_t oc = 0; oc < o; oc++) {
            const int8_t *xg = x + (bi * c + (oc / og) * cg) * h * wd; /* the first channel of oc's group */
            const int8_t *wo = w + oc * cg * kh * kw;
            for (int32_t oy = 0; oy < oh; oy++) {
                const int32_t iy0 = oy * sh - pt; /* image row of tap ky = 0 */
                for (int32_t ox = 0; ox < ow; ox++) {
                    const int32_t ix0 = ox * sw - pl;
                    int32_t acc = bias ? bias[oc] : 0;
                    /* taps in the padding are skipped: padding is the real 0, i.e. x == in_zp */
                    for (int32_t ic = 0; ic < cg; ic++) {
                        const int8_t *xc = xg + ic * h * wd;
                        const int8_t *wc = wo + ic * kh * kw;
                        for (int32_t ky = 0; ky < kh; ky++) {
                            const int32_t iy = iy0 + ky * dh;
                            if (iy < 0 || iy >= h) continue;
                            for (int32_t kx = 0; kx < kw; kx++) {
                                const int32_t ix = ix0 + kx * dw;
                                if (ix < 0 || ix >= wd) continue;
                                acc += ((int32_t)xc[iy * wd + ix] - in_zp) * (int32_t)wc[ky * kw + kx];
                            }
                        }
                    }
                    int64_t v = exfq_requantize(acc, mult[oc], shift[oc]) + out_zp;
                    y[((bi * o + oc) * oh + oy) * ow + ox] = exfq_clamp_s8(v);
                }
            }
        }
    }
}

void exf_matmul_s8(const exf_matmul_q_params_t *p, const int8_t *a, const int8_t *b, int8_t *y) {
    const int32_t batch = p->batch, m = p->m, k = p->k, n = p->n;
    const int32_t a_batch_stride = p->a_batch_stride, b_batch_stride = p->b_batch_stride;
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, mult = p->mult, shift = p->shift, out_zp = p->out_zp;
    // a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n), per-tensor requantize
    for (int32_t t = 0; t < batch; t++) {
        const int8_t *at = a + t * a_batch_stride;
        const int8_t *bt = b + t * b_batch_stride;
        int8_t *yt = y + t * m * n;
        for (int32_t r = 0; r < m; r++) {
            for (int32_t c = 0; c < n; c++) {
                int32_t acc = 0;
                for (int32_t i = 0; i < k; i++) {
                    acc += ((int32_t)at[r * k + i] - a_zp) * ((int32_t)bt[i * n + c] - b_zp);
                }
                yt[r * n + c] = exfq_clamp_s8(exfq_requantize(acc, mult, shift) + out_zp);
            }
        }
    }
}
