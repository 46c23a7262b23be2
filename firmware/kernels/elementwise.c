/* Elementwise float32 kernels: activations and broadcasting binary ops. Every element is computed
 * independently, so y may equal x (the binary ops: see edgexf_kernels.h for when). */
#include "broadcast.h"
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

enum binary_op { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX };

typedef struct {
    const float *a, *b;
    float *y;
} binary_ctx;

/* One block body for the five ops. op is a constant at every call site, so after inlining the switch
 * folds away and each block function is a plain loop. */
static inline void binary_block(enum binary_op op, const void *ctx, int32_t out, const exf_bcast_block *blk) {
    const binary_ctx *c = (const binary_ctx *)ctx;
    const int32_t sa = blk->step[0], sb = blk->step[1], n = blk->n;
    float *y = c->y + out;
    for (int32_t r = 0; r < blk->rows; r++, y += n) {
        const float *a = c->a + blk->off[0] + r * blk->row_step[0], *b = c->b + blk->off[1] + r * blk->row_step[1];
        for (int32_t i = 0; i < n; i++) {
            float u = a[i * sa], v = b[i * sb];
            float res;
            switch (op) {
            case OP_ADD: res = u + v; break;
            case OP_SUB: res = u - v; break;
            case OP_MUL: res = u * v; break;
            case OP_MAX: res = (u > v || u != u) ? u : v; break;  // a NaN wins
            default: res = u / v; break;
            }
            y[i] = res;
        }
    }
}

#define BINARY_BLOCK(name, op)                                                         \
    static void name(const void *ctx, int32_t out, const exf_bcast_block *blk) { \
        binary_block(op, ctx, out, blk);                                           \
    }
BINARY_BLOCK(add_block, OP_ADD)
BINARY_BLOCK(sub_block, OP_SUB)
BINARY_BLOCK(mul_block, OP_MUL)
BINARY_BLOCK(div_block, OP_DIV)
BINARY_BLOCK(max_block, OP_MAX)

/* a, b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3]) by blocks of rows */
static void binary_f32(exf_bcast_fn block, const float *a, const float *b, float *y, const int32_t shape[4],
                       const int32_t sa[4], const int32_t sb[4]) {
    const binary_ctx c = {a, b, y};
    const int32_t *const strides[2] = {sa, sb};
    exf_bcast_walk(shape, 2, strides, block, &c);
}

void exf_add_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]) {
    // a + b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    binary_f32(add_block, a, b, y, shape, sa, sb);
}

void exf_sub_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]) {
    // a - b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    binary_f32(sub_block, a, b, y, shape, sa, sb);
}

void exf_mul_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]) {
    // a * b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    binary_f32(mul_block, a, b, y, shape, sa, sb);
}

void exf_div_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]) {
    // a / b (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    binary_f32(div_block, a, b, y, shape, sa, sb);
}

void exf_maximum_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                     const int32_t sb[4]) {
    // max(a, b) (broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3]); a NaN wins
    binary_f32(max_block, a, b, y, shape, sa, sb);
}

typedef struct {
    const uint8_t *cond;
    const float *a, *b;
    float *y;
} where_ctx;

static void where_block(const void *ctx, int32_t out, const exf_bcast_block *blk) {
    const where_ctx *c = (const where_ctx *)ctx;
    const int32_t sc = blk->step[0], sa = blk->step[1], sb = blk->step[2], n = blk->n;
    float *y = c->y + out;
    for (int32_t r = 0; r < blk->rows; r++, y += n) {
        const uint8_t *cr = c->cond + blk->off[0] + r * blk->row_step[0];
        const float *ar = c->a + blk->off[1] + r * blk->row_step[1], *br = c->b + blk->off[2] + r * blk->row_step[2];
        for (int32_t i = 0; i < n; i++) y[i] = cr[i * sc] ? ar[i * sa] : br[i * sb];
    }
}

void exf_where_f32(const uint8_t *cond, const float *a, const float *b, float *y, const int32_t shape[4],
                   const int32_t sc[4], const int32_t sa[4], const int32_t sb[4]) {
    // cond ? a : b (all broadcast to shape) -> y (shape[0], shape[1], shape[2], shape[3])
    const where_ctx c = {cond, a, b, y};
    const int32_t *const strides[3] = {sc, sa, sb};
    exf_bcast_walk(shape, 3, strides, where_block, &c);
}
