/* Elementwise float32 math for recurrent models (exp, sigmoid, silu, softplus, tanh, rsqrt, sqrt) and the
 * sum reduction. Each y[i] depends on x[i] alone and x[i] is read before y[i] is written, so y may equal
 * x. Formulas: edgexf_kernels.h; NumPy mirror: edgexf/ir/kernels_math_ref.py. */
#include "edgexf_kernels.h"

static inline float sigmoid(float v) {
    /* exf_expf of a non-positive argument only, so 1 + e never overflows and e / (1 + e) keeps its
     * relative accuracy for negative v */
    if (v >= 0.0f) return 1.0f / (1.0f + exf_expf(-v));
    float e = exf_expf(v);
    return e / (1.0f + e);
}

void exf_exp_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), exp
    for (int32_t i = 0; i < n; i++) y[i] = exf_expf(x[i]);
}

void exf_sigmoid_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), 1 / (1 + exp(-x))
    for (int32_t i = 0; i < n; i++) y[i] = sigmoid(x[i]);
}

void exf_silu_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), x * sigmoid(x)
    for (int32_t i = 0; i < n; i++) {
        float v = x[i];
        /* below -87 exf_expf is clamped: x * 1.65e-38 would grow with |x| (-5 at -3e38) */
        y[i] = v < -87.0f ? -0.0f : v * sigmoid(v);
    }
}

void exf_softplus_f32(const float *x, float *y, int32_t n, float beta, float threshold) {
    // x (n,) -> y (n,), log(1 + exp(beta x)) / beta, x itself above the threshold
    for (int32_t i = 0; i < n; i++) {
        float v = x[i];
        float bv = v * beta;
        if (bv > threshold) {
            y[i] = v;
            continue;
        }
        /* log(1 + e^b) = max(b, 0) + log(1 + e^-|b|): exf_expf's argument is never positive */
        float neg_abs = bv < 0.0f ? bv : -bv;
        float pos = bv > 0.0f ? bv : 0.0f;
        y[i] = (pos + exf_log1pf(exf_expf(neg_abs))) / beta;
    }
}

void exf_tanh_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), tanh
    for (int32_t i = 0; i < n; i++) y[i] = exf_tanhf(x[i]);
}

void exf_rsqrt_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), 1 / sqrt(x)
    for (int32_t i = 0; i < n; i++) y[i] = 1.0f / exf_sqrtf(x[i]);
}

void exf_sqrt_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), sqrt
    for (int32_t i = 0; i < n; i++) y[i] = exf_sqrtf(x[i]);
}

void exf_sum_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner) {
    // x (outer, n, inner) -> y (outer, inner), sum over n
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t i = 0; i < inner; i++) {
            const float *xo = x + o * n * inner + i;
            float s = 0.0f;
            for (int32_t j = 0; j < n; j++) s += xo[j * inner];
            y[o * inner + i] = s;
        }
    }
}

void exf_erf_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), erf
    for (int32_t i = 0; i < n; i++) y[i] = exf_erff(x[i]);
}

void exf_log_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), natural log
    for (int32_t i = 0; i < n; i++) y[i] = exf_logf(x[i]);
}

void exf_cumsum_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner, int32_t exclusive,
                    int32_t reverse) {
    // x (outer, n, inner) -> y (outer, n, inner), running sums over n
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t i = 0; i < inner; i++) {
            const float *xo = x + o * n * inner + i;
            float *yo = y + o * n * inner + i;
            float s = 0.0f;
            for (int32_t k = 0; k < n; k++) {
                const int32_t j = reverse ? n - 1 - k : k;
                const float v = xo[j * inner]; /* read before the write: y may equal x */
                if (exclusive) {
                    yo[j * inner] = s;
                    s += v;
                } else {
                    s += v;
                    yo[j * inner] = s;
                }
            }
        }
    }
}
