/* Dot-product kernels: linear, matmul, conv2d. Each output is one float accumulator summed
 * sequentially in the order of edgexf_kernels.h; mirrored by edgexf/ir/kernels_ref.py. */
#include "edgexf_kernels.h"

void exf_linear_f32(const float *x, const float *w, const float *b, float *y, int32_t rows, int32_t k,
                    int32_t m) {
    // x (rows, k) @ W (m, k)^T + b (m,) -> y (rows, m)
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + r * k;
        for (int32_t j = 0; j < m; j++) {
            const float *wj = w + j * k;
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
            for (int32_t c = 0; c < n; c++) {
                float acc = 0.0f;
                for (int32_t i = 0; i < k; i++) acc += at[r * k + i] * bt[i * n + c];
                yt[r * n + c] = acc;
            }
        }
    }
}

static inline int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

void exf_conv2d_f32(const float *x, const float *w, const float *b, float *y, int32_t n, int32_t c, int32_t h,
                    int32_t wd, int32_t o, int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t ph,
                    int32_t pw, int32_t oh, int32_t ow) {
    // x (n, c, h, wd) conv W (o, c, kh, kw) + b (o,) -> y (n, o, oh, ow)
    for (int32_t bi = 0; bi < n; bi++) {
        const float *xb = x + bi * c * h * wd;
        for (int32_t oc = 0; oc < o; oc++) {
            const float *wo = w + oc * c * kh * kw;
            for (int32_t oy = 0; oy < oh; oy++) {
                int32_t iy0 = oy * sh - ph; /* image row of tap ky = 0 */
                int32_t ky_lo = max_i32(0, -iy0), ky_hi = min_i32(kh, h - iy0);
                for (int32_t ox = 0; ox < ow; ox++) {
                    int32_t ix0 = ox * sw - pw;
                    int32_t kx_lo = max_i32(0, -ix0), kx_hi = min_i32(kw, wd - ix0);
                    float acc = b ? b[oc] : 0.0f;
                    for (int32_t ic = 0; ic < c; ic++) {
                        const float *xc = xb + ic * h * wd;
                        const float *wc = wo + ic * kh * kw;
                        for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                            for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
                                acc += xc[(iy0 + ky) * wd + ix0 + kx] * wc[ky * kw + kx];
                            }
                        }
                    }
                    y[((bi * o + oc) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
}
