/* Dot-product kernels: linear, matmul, conv2d. Each output is one float accumulator summed
 * sequentially in the order of edgexf_kernels.h; mirrored by edgexf/ir/kernels_ref.py. */
#include "edgexf_kernels.h"

/* Blocks of 2 rows x 4 outputs (and 1 x 4): each x element and each weight is loaded once for all the
 * accumulators that use it, the accumulators are scalars (registers), and every one still sums
 * acc = b; acc += x[i] * w[i] for i in order: the results are the one-output loop's, bit for bit. */
static void linear_2x4(const float *x0, const float *w0, const float *b, float *y0, int32_t k, int32_t m) {
    const float *x1 = x0 + k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    float a0 = b ? b[0] : 0.0f, a1 = b ? b[1] : 0.0f, a2 = b ? b[2] : 0.0f, a3 = b ? b[3] : 0.0f;
    float c0 = a0, c1 = a1, c2 = a2, c3 = a3;
    for (int32_t i = 0; i < k; i++) {
        const float u = x0[i], v = x1[i];
        const float v0 = w0[i], v1 = w1[i], v2 = w2[i], v3 = w3[i];
        a0 += u * v0;
        a1 += u * v1;
        a2 += u * v2;
        a3 += u * v3;
        c0 += v * v0;
        c1 += v * v1;
        c2 += v * v2;
        c3 += v * v3;
    }
    y0[0] = a0, y0[1] = a1, y0[2] = a2, y0[3] = a3;
    y0[m] = c0, y0[m + 1] = c1, y0[m + 2] = c2, y0[m + 3] = c3;
}

static void linear_1x4(const float *x0, const float *w0, const float *b, float *y0, int32_t k) {
    const float *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    float a0 = b ? b[0] : 0.0f, a1 = b ? b[1] : 0.0f, a2 = b ? b[2] : 0.0f, a3 = b ? b[3] : 0.0f;
    for (int32_t i = 0; i < k; i++) {
        const float u = x0[i];
        a0 += u * w0[i];
        a1 += u * w1[i];
        a2 += u * w2[i];
        a3 += u * w3[i];
    }
    y0[0] = a0, y0[1] = a1, y0[2] = a2, y0[3] = a3;
}

void exf_linear_f32(const float *x, const float *w, const float *b, float *y, int32_t rows, int32_t k,
                    int32_t m) {
    // x (rows, k) @ W (m, k)^T + b (m,) -> y (rows, m)
    int32_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        int32_t j = 0;
        for (; j + 4 <= m; j += 4) linear_2x4(x + r * k, w + j * k, b ? b + j : 0, y + r * m + j, k, m);
        for (; j < m; j++) { /* the last outputs, two rows at once */
            const float *wj = w + j * k, *x0 = x + r * k, *x1 = x0 + k;
            float a0 = b ? b[j] : 0.0f, a1 = a0;
            for (int32_t i = 0; i < k; i++) {
                a0 += x0[i] * wj[i];
                a1 += x1[i] * wj[i];
            }
            y[r * m + j] = a0;
            y[(r + 1) * m + j] = a1;
        }
    }
    for (; r < rows; r++) { /* an odd last row (and the fused ops' and recurrent steps' single rows) */
        int32_t j = 0;
        for (; j + 4 <= m; j += 4) linear_1x4(x + r * k, w + j * k, b ? b + j : 0, y + r * m + j, k);
        for (; j < m; j++) {
            const float *xr = x + r * k, *wj = w + j * k;
            float acc = b ? b[j] : 0.0f;
            for (int32_t i = 0; i < k; i++) acc += xr[i] * wj[i];
            y[r * m + j] = acc;
        }
    }
}

void exf_matmul_f32(const float *a, const float *b, float *y, int32_t batch, int32_t m, int32_t k, int32_t n,
                    int32_t a_batch_stride, int32_t b_batch_stride) {
    // a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n)
    for (int32_t t = 0; t < batch; t++) {
        const float *at = a + t * a_batch_stride;
        const float *bt = b + t * b_batch_stride;
        float *yt = y + t * m * n;
        for (int32_t r = 0; r < m; r++) {
            int32_t c = 0;
            for (; c + 4 <= n; c += 4) { /* four outputs of a row at once, each summed in order of i */
                float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
                for (int32_t i = 0; i < k; i++) {
                    const float u = at[r * k + i];
                    const float *bi = bt + i * n + c;
                    a0 += u * bi[0];
                    a1 += u * bi[1];
                    a2 += u * bi[2];
                    a3 += u * bi[3];
                }
                yt[r * n + c] = a0;
                yt[r * n + c + 1] = a1;
                yt[r * n + c + 2] = a2;
                yt[r * n + c + 3] = a3;
            }
            for (; c < n; c++) {
                float acc = 0.0f;
                for (int32_t i = 0; i < k; i++) acc += at[r * k + i] * bt[i * n + c];
                yt[r * n + c] = acc;
            }
        }
    }
}

static inline int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* the taps k in [lo, hi) of a kernel of size k_size, dilation d, whose first tap is at image position p0,
 * that fall inside an image of size len */
static inline void tap_range(int32_t p0, int32_t d, int32_t k_size, int32_t len, int32_t *lo, int32_t *hi) {
    int32_t l = p0 < 0 ? (-p0 + d - 1) / d : 0;         /* first k with p0 + k d >= 0 */
    int32_t h = len - p0 <= 0 ? 0 : (len - p0 + d - 1) / d; /* first k with p0 + k d >= len */
    *lo = l;
    *hi = min_i32(k_size, h);
}

void exf_conv2d_f32(const float *x, const float *w, const float *b, float *y, int32_t n, int32_t c, int32_t h,
                    int32_t wd, int32_t o, int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t pt,
                    int32_t pl, int32_t dh, int32_t dw, int32_t groups, int32_t oh, int32_t ow) {
    // x (n, c, h, wd) conv W (o, c/groups, kh, kw) + b (o,) -> y (n, o, oh, ow)
    const int32_t cg = c / groups, og = o / groups;
    for (int32_t bi = 0; bi < n; bi++) {
        for (int32_t oc = 0; oc < o; oc++) {
            const float *xg = x + (bi * c + (oc / og) * cg) * h * wd; /* the first channel of oc's group */
            const float *wo = w + oc * cg * kh * kw;
            for (int32_t oy = 0; oy < oh; oy++) {
                int32_t iy0 = oy * sh - pt; /* image row of tap ky = 0 */
                int32_t ky_lo, ky_hi;
                tap_range(iy0, dh, kh, h, &ky_lo, &ky_hi);
                for (int32_t ox = 0; ox < ow; ox++) {
                    int32_t ix0 = ox * sw - pl;
                    int32_t kx_lo, kx_hi;
                    tap_range(ix0, dw, kw, wd, &kx_lo, &kx_hi);
                    float acc = b ? b[oc] : 0.0f;
                    for (int32_t ic = 0; ic < cg; ic++) {
                        const float *xc = xg + ic * h * wd;
                        const float *wc = wo + ic * kh * kw;
                        for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                            const int32_t row = (iy0 + ky * dh) * wd + ix0;
                            for (int32_t kx = kx_lo; kx < kx_hi; kx++) acc += xc[row + kx * dw] * wc[ky * kw + kx];
                        }
                    }
                    y[((bi * o + oc) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
}
