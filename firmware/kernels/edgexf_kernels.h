/* edgexf kernel library: portable C, compiled identically for the host and for Cortex-M.
 *
 * Float32 numerics are specified exactly (accumulation order, constants, own exp/erf/tanh instead
 * of libm), so that with -ffp-contract=off the host build, the target build and the NumPy
 * reference in edgexf/ir/kernels_ref.py give the same bits. Every accumulation below runs in
 * float (never double), sequentially in the order written; "acc += a*b" is a rounded multiply
 * then a rounded add.
 *
 * No malloc, no stdio, no libm. Shapes are int32; all numbers are worked out by the code generator.
 */
#ifndef EDGEXF_KERNELS_H
#define EDGEXF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- scalar math (float32, no libm) ---------------------------------------------------------- */
/* exp(x): x clamped to [-87.0f, 88.0f]; n = floorf(x * LOG2E + 0.5f); r = (x - n*LN2_HI) - n*LN2_LO;
 * polynomial in r; result scaled by 2^n built from exponent bits. Max rel. error ~2 ulp. */
float exf_expf(float x);
/* erf(x): odd; Abramowitz & Stegun 7.1.26 on |x| (t = 1/(1 + p|x|), 5 coefficients) times exf_expf(-x*x).
 * Absolute error <= 2e-7 on float32. */
float exf_erff(float x);
/* tanh(x): odd; e = exf_expf(-2|x|), (1 - e) / (1 + e). Absolute error ~1e-7. */
float exf_tanhf(float x);

/* ---- float32 compute kernels ------------------------------------------------------------------ */

/* x (rows, k) @ w (m, k)^T + b (m) -> y (rows, m); b may be NULL.
 * acc = b ? b[j] : 0.0f; for i in 0..k-1: acc += x[r*k+i] * w[j*k+i]; y[r*m+j] = acc. */
void exf_linear_f32(const float *x, const float *w, const float *b, float *y, int32_t rows, int32_t k,
                    int32_t m);

/* a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n). Batch strides in elements (0 broadcasts).
 * acc = 0.0f; for i in 0..k-1: acc += a[.., r, i] * b[.., i, c]. */
void exf_matmul_f32(const float *a, const float *b, float *y, int32_t batch, int32_t m, int32_t k, int32_t n,
                    int32_t a_batch_stride, int32_t b_batch_stride);

/* x (n, c, h, w) conv w (o, c, kh, kw) + b (o) -> y (n, o, oh, ow); stride (sh, sw), zero padding (ph, pw).
 * acc = b ? b[oc] : 0.0f; for ic, for ky, for kx (skipping taps outside the image): acc += x * w. */
void exf_conv2d_f32(const float *x, const float *w, const float *b, float *y, int32_t n, int32_t c, int32_t h,
                    int32_t wd, int32_t o, int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t ph,
                    int32_t pw, int32_t oh, int32_t ow);

/* LayerNorm over the last axis: x (rows, d) -> y (rows, d); gamma, beta (d) may be NULL.
 * mean = (sum_i x_i) / (float)d; var = (sum_i (x_i - mean)*(x_i - mean)) / (float)d;
 * inv = 1.0f / sqrtf(var + eps); y_i = ((x_i - mean) * inv) * gamma_i + beta_i. */
void exf_layernorm_f32(const float *x, const float *gamma, const float *beta, float *y, int32_t rows,
                       int32_t d, float eps);

/* Softmax over the last axis: x (rows, n) -> y (rows, n). y may equal x (in place).
 * mx = max_i x_i; e_i = exf_expf(x_i - mx); s = sum_i e_i (in order); y_i = e_i / s. */
void exf_softmax_f32(const float *x, float *y, int32_t rows, int32_t n);

/* GELU, erf form: y = (0.5f * x) * (1.0f + exf_erff(x * 0.70710677f)). y may equal x. */
void exf_gelu_f32(const float *x, float *y, int32_t n);
/* GELU, tanh form: u = 0.7978846f * (x + 0.044715f * ((x * x) * x)); y = (0.5f * x) * (1.0f + exf_tanhf(u)). */
void exf_gelu_tanh_f32(const float *x, float *y, int32_t n);
/* ReLU: y = x > 0 ? x : 0. y may equal x. */
void exf_relu_f32(const float *x, float *y, int32_t n);

/* Mean over the middle axis: x (outer, n, inner) -> y (outer, inner); y = (sum_j x[o, j, i]) / (float)n. */
void exf_mean_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner);

/* Elementwise binary ops with broadcasting, shapes normalized to rank 4 by the code generator:
 * y[i0,i1,i2,i3] = a[sum i_k * sa[k]] OP b[sum i_k * sb[k]], shape = y's dims, strides in elements
 * (0 on a broadcast axis). y is contiguous and may equal a or b when they are not broadcast. */
void exf_add_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]);
void exf_sub_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]);
void exf_mul_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]);
void exf_div_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                 const int32_t sb[4]);

/* ---- data movement (any dtype; sizes in bytes) ------------------------------------------------ */

/* rows copies of row_bytes each: from src + r*src_stride to dst + r*dst_stride (strides in bytes).
 * Concatenation is one call per input, slicing one call. Regions must not overlap. */
void exf_copy_rows(const void *src, int32_t src_stride, void *dst, int32_t dst_stride, int32_t rows,
                   int32_t row_bytes);

/* Transpose/permute: y (contiguous, shape[0..ndim-1]) [idx] = x[sum idx_k * in_strides[k]], ndim <= 6,
 * in_strides in elements of x, already permuted by the code generator. x and y must not overlap. */
void exf_permute(const void *x, void *y, int32_t elem_bytes, int32_t ndim, const int32_t shape[],
                 const int32_t in_strides[]);

#ifdef __cplusplus
}
#endif

#endif /* EDGEXF_KERNELS_H */
