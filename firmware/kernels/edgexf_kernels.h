/* edgexf kernel library: portable C, compiled identically for the host and for Cortex-M.
 *
 * Float32 numerics are specified exactly (accumulation order, constants, own exp/erf/tanh instead
 * of libm), so that with -ffp-contract=off the host build, the target build and the NumPy
 * reference in edgexf/ir/kernels_ref.py give the same bits. Every accumulation below runs in
 * float (never double), sequentially in the order written; "acc += a*b" is a rounded multiply
 * then a rounded add.
 *
 * No malloc, no stdio, no libm (memcpy only). Shapes are int32 (element offsets must fit in int32);
 * all numbers are worked out by the code generator. NumPy mirror: edgexf/ir/kernels_ref.py.
 */
#ifndef EDGEXF_KERNELS_H
#define EDGEXF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- scalar math (float32, no libm) ---------------------------------------------------------- */
/* These use only + - * /, comparisons, float<->int conversion and bit reinterpretation, so newlib,
 * glibc and NumPy cannot differ. Polynomials are Horner in the order written, constants as float. */

/* exp(x), after Cephes expf. NaN returns x. x is clamped to [-87.0f, 88.0f], so the result is never
 * 0, inf or subnormal (exf_expf(-inf) = exf_expf(-87) ~ 1.65e-38; flush-to-zero settings cannot matter).
 * t = x * 1.44269504f + 0.5f; n = floor(t) (by int conversion); fn = (float)n;
 * r = (x - fn * 0.693359375f) - fn * -2.12194440e-4f;
 * p = 1.9875691500e-4f; p = p*r + 1.3981999507e-3f; p = p*r + 8.3334519073e-3f;
 * p = p*r + 4.1665795894e-2f; p = p*r + 1.6666665459e-1f; p = p*r + 5.0000001201e-1f;
 * y = (p * (r*r) + r) + 1.0f; return y * 2^n (2^n built from exponent bits, an exact multiply).
 * Error < 1 ulp on [-87, 88] (measured). */
float exf_expf(float x);
/* erf(x), a = |x|. For a < 0.75f, the Taylor series (A&S alone cancels to 6e-7 error near 0):
 * z = x*x; p = c8; p = p*z + c7; ...; p = p*z + c0; return x * p, with c_n = (-1)^n 2/sqrt(pi)/(n!(2n+1))
 * rounded to float (1.12837923f, -0.376126379f, 0.112837918f, -0.0268661715f, 0.00522397785f,
 * -0.000854832702f, 0.000120553326f, -1.49256502e-05f, 1.64621144e-06f).
 * Otherwise Abramowitz & Stegun 7.1.26: t = 1.0f / (1.0f + 0.3275911f * a);
 * q = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
 * y = 1.0f - q * exf_expf(-(a * a)); return x < 0 ? -y : y. Absolute error <= 2.7e-7 (measured). */
float exf_erff(float x);
/* tanh(x): a = |x|; e = exf_expf(-2.0f * a); y = (1.0f - e) / (1.0f + e); return x < 0 ? -y : y.
 * Absolute error <= 1e-7 (measured; relative error is large only for |x| < ~1e-3, where y ~ x). */
float exf_tanhf(float x);
/* sqrt(x), correctly rounded (bit by bit on the integer significand, as fdlibm's e_sqrtf), so it equals
 * IEEE sqrtf and NumPy's np.sqrt on every input; NaN for x < 0. Replaces libm's sqrtf, whose errno
 * path would pull libm into the firmware. */
float exf_sqrtf(float x);

/* ---- float32 compute kernels ------------------------------------------------------------------ */

/* x (rows, k) @ w (m, k)^T + b (m) -> y (rows, m); b may be NULL.
 * acc = b ? b[j] : 0.0f; for i in 0..k-1: acc += x[r*k+i] * w[j*k+i]; y[r*m+j] = acc. */
void exf_linear_f32(const float *x, const float *w, const float *b, float *y, int32_t rows, int32_t k,
                    int32_t m);

/* a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n), y contiguous. Batch strides in elements of a
 * and b (0 broadcasts one operand over the batch; several broadcast batch dims are one call per
 * outer index). acc = 0.0f; for i in 0..k-1: acc += a[t, r, i] * b[t, i, c]. */
void exf_matmul_f32(const float *a, const float *b, float *y, int32_t batch, int32_t m, int32_t k, int32_t n,
                    int32_t a_batch_stride, int32_t b_batch_stride);

/* x (n, c, h, wd) conv w (o, c, kh, kw) + b (o) -> y (n, o, oh, ow); stride (sh, sw), zero padding
 * (ph, pw), oh = (h + 2*ph - kh) / sh + 1, ow likewise. No dilation, no groups.
 * acc = b ? b[oc] : 0.0f; for ic, for ky, for kx: acc += x[..., oy*sh - ph + ky, ox*sw - pw + kx] * w,
 * skipping taps outside the image (not adding 0 * w, which differs for -0.0 and inf/NaN weights). */
void exf_conv2d_f32(const float *x, const float *w, const float *b, float *y, int32_t n, int32_t c, int32_t h,
                    int32_t wd, int32_t o, int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t ph,
                    int32_t pw, int32_t oh, int32_t ow);

/* LayerNorm over the last axis: x (rows, d) -> y (rows, d); gamma, beta (d) may be NULL. y may equal x.
 * Sums start at 0.0f. mean = (sum_i x_i) / (float)d; var = (sum_i (x_i - mean)*(x_i - mean)) / (float)d;
 * inv = 1.0f / exf_sqrtf(var + eps); y_i = ((x_i - mean) * inv) * gamma_i + beta_i, where a NULL gamma
 * skips the multiply and a NULL beta skips the add (adding 0.0f would turn -0.0 into +0.0). */
void exf_layernorm_f32(const float *x, const float *gamma, const float *beta, float *y, int32_t rows,
                       int32_t d, float eps);

/* Softmax over the last axis: x (rows, n) -> y (rows, n), n >= 1. y may equal x (in place).
 * mx = x_0, then mx = x_i where x_i > mx; e_i = exf_expf(x_i - mx); s = 0.0f, s += e_i in order;
 * y_i = e_i / s. Entries below mx - 87 get ~1.6e-38 / s, not 0 (exf_expf's clamp); a row of -inf is NaN. */
void exf_softmax_f32(const float *x, float *y, int32_t rows, int32_t n);

/* GELU, erf form: y = (0.5f * x) * (1.0f + exf_erff(x * 0.70710677f)). y may equal x. */
void exf_gelu_f32(const float *x, float *y, int32_t n);
/* GELU, tanh form: u = 0.7978846f * (x + 0.044715f * ((x * x) * x));
 * y = (0.5f * x) * (1.0f + exf_tanhf(u)). y may equal x. */
void exf_gelu_tanh_f32(const float *x, float *y, int32_t n);
/* ReLU: y = x > 0 ? x : 0.0f (so NaN and -0.0 give +0.0). y may equal x. */
void exf_relu_f32(const float *x, float *y, int32_t n);

/* Mean over the middle axis: x (outer, n, inner) -> y (outer, inner); s = 0.0f, s += x[o, j, i] for j
 * in 0..n-1; y = s / (float)n. Adjacent reduced axes are one n (summed in row-major order). */
void exf_mean_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner);

/* Elementwise binary ops with broadcasting, shapes normalized to rank 4 by the code generator:
 * y[i0,i1,i2,i3] = a[sum i_k * sa[k]] OP b[sum i_k * sb[k]], shape = y's dims, strides in elements
 * (0 on a broadcast axis). y is contiguous; y may equal a (or b) when that operand's strides are y's
 * own contiguous strides, since each element is read just before its slot is written. */
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
 * Concatenation is one call per input, slicing one call. Regions must not overlap. Uses memcpy, the
 * library's one dependency (every embedded libc has it; gcc may emit calls to it anyway). */
void exf_copy_rows(const void *src, int32_t src_stride, void *dst, int32_t dst_stride, int32_t rows,
                   int32_t row_bytes);

/* Transpose/permute: y (contiguous, shape[0..ndim-1]) [idx] = x[sum idx_k * in_strides[k]], 0 <= ndim <= 6,
 * in_strides in elements of x, already permuted by the code generator (for y = x.transpose(perm),
 * shape[k] = x.shape[perm[k]] and in_strides[k] = x's contiguous stride of axis perm[k]).
 * x and y must not overlap. */
void exf_permute(const void *x, void *y, int32_t elem_bytes, int32_t ndim, const int32_t shape[],
                 const int32_t in_strides[]);

#ifdef __cplusplus
}
#endif

#endif /* EDGEXF_KERNELS_H */
