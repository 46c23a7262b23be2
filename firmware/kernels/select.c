/* Kernels that select or place values: max over an axis, elementwise maximum of integer codes (the float
 * one is with the other binary ops in elementwise.c), constant padding; and the tests isnan and compare.
 * max and maximum take float32 or integer codes (int8, int16: the code generator gives every operand and
 * the output one scale and zero point, so comparing codes compares values). No arithmetic: the result
 * is one of the inputs bit for bit. */
#include <string.h>

#include "broadcast.h"
#include "edgexf_kernels.h"

void exf_max_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner) {
    // x (outer, n, inner) -> y (outer, inner), the largest over n; a NaN wins (it is kept once met)
    for (int32_t o = 0; o < outer; o++) {
        const float *xo = x + o * n * inner;
        for (int32_t i = 0; i < inner; i++) {
            float m = xo[i];
            for (int32_t j = 1; j < n; j++) {
                float v = xo[j * inner + i];
                if (v > m || v != v) m = v;
            }
            y[o * inner + i] = m;
        }
    }
}

#define MAX_Q(T)                                                                          \
    for (int32_t o = 0; o < outer; o++) {                                                 \
        const T *xo = (const T *)x + o * n * inner;                                       \
        for (int32_t i = 0; i < inner; i++) {                                             \
            T m = xo[i];                                                                  \
            for (int32_t j = 1; j < n; j++) m = xo[j * inner + i] > m ? xo[j * inner + i] : m; \
            ((T *)y)[o * inner + i] = m;                                                  \
        }                                                                                 \
    }

void exf_max_q(const exf_max_q_params_t *p, const void *x, void *y) {
    const int32_t bytes = p->bytes, outer = p->outer, n = p->n, inner = p->inner;
    // codes x (outer, n, inner) -> y (outer, inner), int8 (bytes 1) or int16 (bytes 2)
    if (bytes == 1) {
        MAX_Q(int8_t)
    } else {
        MAX_Q(int16_t)
    }
}

typedef struct {
    const void *a, *b;
    void *y;
} maximum_ctx;

#define MAXIMUM_BLOCK(name, T)                                                                  \
    static void name(const void *ctx, int32_t out, const exf_bcast_block *blk) {                 \
        const maximum_ctx *c = (const maximum_ctx *)ctx;                                        \
        const int32_t sa = blk->step[0], sb = blk->step[1], n = blk->n;                         \
        T *y = (T *)c->y + out;                                                                 \
        for (int32_t r = 0; r < blk->rows; r++, y += n) {                                       \
            const T *a = (const T *)c->a + blk->off[0] + r * blk->row_step[0];                  \
            const T *b = (const T *)c->b + blk->off[1] + r * blk->row_step[1];                  \
            for (int32_t i = 0; i < n; i++) y[i] = a[i * sa] > b[i * sb] ? a[i * sa] : b[i * sb]; \
        }                                                                                       \
    }
MAXIMUM_BLOCK(maximum_s8_block, int8_t)
MAXIMUM_BLOCK(maximum_s16_block, int16_t)

void exf_maximum_q(const exf_maximum_q_params_t *p, const void *a, const void *b, void *y) {
    // max of codes (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3]), int8 or int16
    const maximum_ctx c = {a, b, y};
    const int32_t *const strides[2] = {p->sa, p->sb};
    exf_bcast_walk(p->shape, 2, strides, p->bytes == 1 ? maximum_s8_block : maximum_s16_block, &c);
}

void exf_pad(const void *x, const void *value, void *y, int32_t elem_bytes, int32_t ndim,
             const int32_t in_shape[], const int32_t out_shape[], const int32_t before[]) {
    // x (in_shape) -> y (out_shape): value everywhere, then x's rows at offset before[k] on each axis k
    const uint8_t *xb = (const uint8_t *)x;
    uint8_t *yb = (uint8_t *)y;
    int32_t out_n = 1, rows = 1, idx[EXF_PAD_MAX_DIMS] = {0};
    for (int32_t k = 0; k < ndim; k++) out_n *= out_shape[k];
    for (int32_t k = 0; k + 1 < ndim; k++) rows *= in_shape[k];
    for (int32_t i = 0; i < out_n; i++) memcpy(yb + i * elem_bytes, value, (size_t)elem_bytes);
    const int32_t row = ndim ? in_shape[ndim - 1] : 1;
    for (int32_t r = 0; r < rows; r++) {
        int32_t at = 0;  // y's element offset of x's row idx[0 .. ndim-2]
        for (int32_t k = 0; k < ndim; k++) at = at * out_shape[k] + (k + 1 < ndim ? idx[k] : 0) + before[k];
        memcpy(yb + at * elem_bytes, xb + r * row * elem_bytes, (size_t)(row * elem_bytes));
        for (int32_t k = ndim - 2; k >= 0 && ++idx[k] == in_shape[k]; k--) idx[k] = 0;
    }
}

void exf_isnan_f32(const float *x, uint8_t *y, int32_t n) {
    // x (n,) -> y (n,): 1 where x is NaN
    for (int32_t i = 0; i < n; i++) y[i] = x[i] != x[i];
}

static uint8_t holds(int32_t cmp, int32_t lt, int32_t eq, int32_t gt) {
    switch (cmp) {
        case EXF_CMP_GT: return (uint8_t)gt;
        case EXF_CMP_GE: return (uint8_t)(gt | eq);
        case EXF_CMP_LT: return (uint8_t)lt;
        case EXF_CMP_LE: return (uint8_t)(lt | eq);
        default: return (uint8_t)eq;
    }
}

static int32_t code_at(const void *p, int32_t bytes, int32_t i) {
    if (bytes == 1) return ((const int8_t *)p)[i];
    if (bytes == 2) return ((const int16_t *)p)[i];
    return ((const int32_t *)p)[i];
}

typedef struct {
    const void *a, *b;
    uint8_t *y;
    int32_t cmp, a_bytes, b_bytes;  // a_bytes 0: float32
} compare_ctx;

static void compare_block(const void *ctx, int32_t out, const exf_bcast_block *blk) {
    const compare_ctx *c = (const compare_ctx *)ctx;
    uint8_t *y = c->y + out;
    for (int32_t r = 0; r < blk->rows; r++, y += blk->n) {
        int32_t ia = blk->off[0] + r * blk->row_step[0], ib = blk->off[1] + r * blk->row_step[1];
        for (int32_t i = 0; i < blk->n; i++, ia += blk->step[0], ib += blk->step[1]) {
            if (c->a_bytes == 0) {
                const float a = ((const float *)c->a)[ia], b = ((const float *)c->b)[ib];
                y[i] = holds(c->cmp, a < b, a == b, a > b);  // all three false for a NaN
            } else {
                const int32_t a = code_at(c->a, c->a_bytes, ia), b = code_at(c->b, c->b_bytes, ib);
                y[i] = holds(c->cmp, a < b, a == b, a > b);
            }
        }
    }
}

void exf_compare_f32(const float *a, const float *b, uint8_t *y, int32_t cmp, const int32_t shape[4],
                     const int32_t sa[4], const int32_t sb[4]) {
    // a <cmp> b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3]) of 0 / 1
    const compare_ctx c = {a, b, y, cmp, 0, 0};
    const int32_t *const strides[2] = {sa, sb};
    exf_bcast_walk(shape, 2, strides, compare_block, &c);
}

void exf_compare_q(const exf_compare_q_params_t *p, const void *a, const void *b, uint8_t *y) {
    // codes a <cmp> codes or thresholds b (broadcast to shape) -> y (shape) of 0 / 1
    const compare_ctx c = {a, b, y, p->cmp, p->a_bytes, p->b_bytes};
    const int32_t *const strides[2] = {p->sa, p->sb};
    exf_bcast_walk(p->shape, 2, strides, compare_block, &c);
}
