/* Elementwise float32 kernels: activations and broadcasting binary ops. Every element is computed
 * independently, so y may equal x (the binary ops: see edgexf_kernels.h for when). */
#include "edgexf_kernels.h"

void exf_gelu_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), GELU erf form
    for (int32_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = (0.5f * v) * (1.0f + exf_erff(v * 0.70710677f));
    }
}

void exf_gelu_tanh_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), GELU tanh form
    for (int32_t i = 0; i < n; i++) {
        float v = x[i];
        float u = 0.7978846f * (v + 0.044715f * ((v * v) * v));
        y[i] = (0.5f * v) * (1.0f + exf_tanhf(u));
    }
}

void exf_relu_f32(const float *x, float *y, int32_t n) {
    // x (n,) -> y (n,), max(x, 0)
    for (int32_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

enum binary_op { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

/* One loop body for the four ops. op is a constant at every call site, so after inlining the switch
 * folds away and each exf_*_f32 is a plain loop. */
static inline void binary_f32(enum binary_op op, const float *a, const float *b, float *y,
                              const int32_t shape[4], const int32_t sa[4], const int32_t sb[4]) {
    // a, b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    int32_t out = 0;
    for (int32_t i0 = 0; i0 < shape[0]; i0++) {
        for (int32_t i1 = 0; i1 < shape[1]; i1++) {
            for (int32_t i2 = 0; i2 < shape[2]; i2++) {
                const float *ar = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                const float *br = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                for (int32_t i3 = 0; i3 < shape[3]; i3++) {
                    float u = ar[i3 * sa[3]], v = br[i3 * sb[3]];
                    float r;
                    switch (op) {
                    case OP_ADD: r = u + v; break;
                    case OP_SUB: r = u - v; break;
                    case OP_MUL: r = u * v; break;
                    default: r = u / v; break;
                    }
                    y[out++] = r;
                }
            }
        }
    }
}

void exf_add_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]) {
    // a + b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    binary_f32(OP_ADD, a, b, y, shape, sa, sb);
}

void exf_sub_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]) {
    // a - b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    binary_f32(OP_SUB, a, b, y, shape, sa, sb);
}

void exf_mul_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]) {
    // a * b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    binary_f32(OP_MUL, a, b, y, shape, sa, sb);
}

void exf_div_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]) {
    // a / b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    binary_f32(OP_DIV, a, b, y, shape, sa, sb);
}

void exf_where_f32(const uint8_t *cond, const float *a, const float *b, float *y, const int32_t shape[4],
                   const int32_t sc[4], const int32_t sa[4], const int32_t sb[4]) {
    // cond ? a : b (all broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    int32_t out = 0;
    for (int32_t i0 = 0; i0 < shape[0]; i0++) {
        for (int32_t i1 = 0; i1 < shape[1]; i1++) {
            for (int32_t i2 = 0; i2 < shape[2]; i2++) {
                const uint8_t *cr = cond + i0 * sc[0] + i1 * sc[1] + i2 * sc[2];
                const float *ar = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                const float *br = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                for (int32_t i3 = 0; i3 < shape[3]; i3++) {
                    y[out++] = cr[i3 * sc[3]] ? ar[i3 * sa[3]] : br[i3 * sb[3]];
                }
            }
        }
    }
}
