/* Row reductions: layernorm, softmax, mean. Sums run sequentially from 0.0f in index order;
 * mirrored by edgexf/ir/kernels_ref.py. */
#include "edgexf_kernels.h"

void exf_layernorm_f32(const float *x, const float *gamma, const float *beta, float *y, int32_t rows,
                       int32_t d, float eps) {
    // x (rows, d) -> y (rows, d), normalized over d; gamma, beta (d,)
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        float sum = 0.0f;
        for (int32_t i = 0; i < d; i++) sum += xr[i];
        float mean = sum / (float)d;
        float ss = 0.0f;
        for (int32_t i = 0; i < d; i++) {
            float dx = xr[i] - mean;
            ss += dx * dx;
        }
        float inv = 1.0f / exf_sqrtf(ss / (float)d + eps);
        /* x[i] is read before y[i] is written, so y may equal x */
        for (int32_t i = 0; i < d; i++) {
            float v = (xr[i] - mean) * inv;
            if (gamma) v = v * gamma[i];
            if (beta) v = v + beta[i];
            yr[i] = v;
        }
    }
}

void exf_softmax_f32(const float *x, float *y, int32_t rows, int32_t n) {
    // x (rows, n) -> y (rows, n), softmax over n
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float mx = xr[0];
        for (int32_t i = 1; i < n; i++) {
            if (xr[i] > mx) mx = xr[i];
        }
        float s = 0.0f;
        for (int32_t i = 0; i < n; i++) {
            float e = exf_expf(xr[i] - mx); /* read x[i] before writing y[i]: y may equal x */
            yr[i] = e;
            s += e;
        }
        for (int32_t i = 0; i < n; i++) yr[i] = yr[i] / s;
    }
}

void exf_mean_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner) {
    // x (outer, n, inner) -> y (outer, inner), mean over n
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t i = 0; i < inner; i++) {
            const float *xo = x + o * n * inner + i;
            float s = 0.0f;
            for (int32_t j = 0; j < n; j++) s += xo[j * inner];
            y[o * inner + i] = s / (float)n;
        }
    }
}
