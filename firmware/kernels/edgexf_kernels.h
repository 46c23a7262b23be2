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

#include "edgexf_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version: one kernel library per image, and only models made for it ---------------------- */
/* The kernels are shared by every model linked into an image, so they must be the ones each model was
 * generated for. edgexf writes the three lines below into the copy of this header it puts in a model
 * folder (edgexf/codegen/kernel_version.py): the edgexf version and a hash of these sources. The
 * library defines the symbol EXF_KERNELS_ID (version.c) and each model's init function references it,
 * so linking a model with another version's kernels fails with "undefined reference to
 * `exf_kernels_0_1_0_1a2b3c4d'", naming the version the model needs; a model.c compiled against
 * another version's header stops at an #error. In edgexf's own tree the library is "unversioned". */
#define EXF_KERNELS_ID exf_kernels_unversioned /* stamped by edgexf */
#define EXF_KERNELS_VERSION "unversioned"      /* stamped by edgexf */
#define EXF_KERNELS_HASH 0x0u                  /* stamped by edgexf */
extern const char EXF_KERNELS_ID[]; /* EXF_KERNELS_VERSION, as a string */

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
/* log(x): NaN for x < 0 or NaN, -inf for +-0, +inf for +inf; subnormal x is scaled by 2^25 first.
 * u = x = 2^k m, m in [1, 2) from the bits, then m = m * 0.5f, k += 1 if m >= 1.41421356f; f = m - 1.0f.
 * log_reduced(f, k, c): s = f / (2.0f + f); z = s*s;
 * r = z * (0.666666687f + z * (0.400000006f + z * (0.285714298f + z * 0.222222224f))) (2/(2n+1));
 * hfsq = (0.5f * f) * f; return k * 0.693359375f - ((hfsq - (s * (hfsq + r) + (k * -2.12194440e-4f + c))) - f),
 * with c = 0 (and k - 25 for a scaled subnormal). Error < 0.87 ulp (measured against float64: every
 * float in [0.5, 2), every 61st positive float). */
float exf_logf(float x);
/* log(1 + x): x returned for NaN, +-0 and +inf; -inf for -1; NaN below -1. u = 1.0f + x, and the exact
 * rounding error c = x <= 1.0f ? x - (u - 1.0f) : 1.0f - (u - x); then log_reduced(f, k, c / u) of u
 * as in exf_logf. Error < 0.87 ulp (measured against float64 on a dense sample of (-1, inf)). */
float exf_log1pf(float x);

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

/* x (n, c, h, wd) conv w (o, c/groups, kh, kw) + b (o) -> y (n, o, oh, ow); stride (sh, sw), zero
 * padding pt rows above and pl columns left (the bottom and right padding only set oh, ow), dilation
 * (dh, dw), groups: output channel oc reads the c/groups input channels of its group oc / (o/groups).
 * acc = b ? b[oc] : 0.0f; for ic in group, for ky, for kx:
 *   acc += x[.., ic, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw] * w[oc, ic, ky, kx],
 * skipping taps outside the image (not adding 0 * w, which differs for -0.0 and inf/NaN weights). */
void exf_conv2d_f32(const float *x, const float *w, const float *b, float *y, int32_t n, int32_t c, int32_t h,
                    int32_t wd, int32_t o, int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t pt,
                    int32_t pl, int32_t dh, int32_t dw, int32_t groups, int32_t oh, int32_t ow);

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

/* ---- float32 math kernels (activation.c): recurrent models (Mamba, LMU) -----------------
 * Elementwise: y[i] from x[i] alone, so y may equal x. Limits come from exf_expf's clamp to [-87, 88]:
 * exp saturates at exf_expf(88) ~ 1.65e38 and exf_expf(-87) ~ 1.65e-38 (so is never inf, 0 or subnormal;
 * torch gives inf above 88.72 and 0 below -103.9). */

/* y = exf_expf(x): < 1 ulp on [-87, 88]. */
void exf_exp_f32(const float *x, float *y, int32_t n);
/* sigmoid(x) = 1.0f / (1.0f + exf_expf(-x)) for x >= 0, e / (1.0f + e) with e = exf_expf(x) for x < 0
 * (NaN goes the second way). Never inf or NaN for finite x. Error < 2.3 ulp for x >= -87 (measured),
 * below that >= ~1.65e-38 (exf_expf's clamp): absolute error < 1.7e-38. */
void exf_sigmoid_f32(const float *x, float *y, int32_t n);
/* silu(x) = x * sigmoid(x), sigmoid as above; -0.0f for x < -87.0f (where x * sigmoid(x) would carry
 * the clamp's 1.65e-38 times |x|; the exact value is below 1.5e-36 there). Error < 3.2 ulp for
 * x >= -87 (measured). */
void exf_silu_f32(const float *x, float *y, int32_t n);
/* softplus as torch: bx = x * beta; y = bx > threshold ? x
 * : ((bx > 0.0f ? bx : 0.0f) + exf_log1pf(exf_expf(-|bx|))) / beta (never overflows). Error < 1.7 ulp
 * for bx >= -87 (measured), below that absolute < 1.7e-38 / beta (exf_expf's clamp). */
void exf_softplus_f32(const float *x, float *y, int32_t n, float beta, float threshold);
/* y = exf_tanhf(x). */
void exf_tanh_f32(const float *x, float *y, int32_t n);
/* y = 1.0f / exf_sqrtf(x) (inf for +-0 with its sign, NaN for x < 0): two roundings, < 1.5 ulp. */
void exf_rsqrt_f32(const float *x, float *y, int32_t n);
/* y = exf_sqrtf(x), correctly rounded. */
void exf_sqrt_f32(const float *x, float *y, int32_t n);

/* Sum over the middle axis: x (outer, n, inner) -> y (outer, inner); s = 0.0f, s += x[o, j, i] for j in
 * 0..n-1 in order; y = s. As exf_mean_f32 without the division. y must not overlap x. */
void exf_sum_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner);

/* erf (exf_erff) and natural log (exf_logf) per element; y may equal x. */
void exf_erf_f32(const float *x, float *y, int32_t n);
void exf_log_f32(const float *x, float *y, int32_t n);

/* x (outer, n, inner) -> y (outer, n, inner): s = 0.0f; for j = 0..n-1 (n-1..0 when reverse):
 * s += x[.., j, ..]; y[.., j, ..] = s (exclusive: y = s before the add). y may equal x. */
void exf_cumsum_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner, int32_t exclusive,
                    int32_t reverse);

/* y = cond ? a : b elementwise, all broadcast to shape (strides as for exf_add_f32; cond is uint8,
 * nonzero = true). y must not overlap the inputs. */
void exf_where_f32(const uint8_t *cond, const float *a, const float *b, float *y, const int32_t shape[4],
                   const int32_t sc[4], const int32_t sa[4], const int32_t sb[4]);

/* (conv1d is exf_conv2d_f32 with h = kh = 1.) */

/* ---- selection (select.c; exf_maximum_f32 in elementwise.c): float32, or integer codes -------- */

/* Max over the middle axis: x (outer, n >= 1, inner) -> y (outer, inner); m = x[o, 0, i], then m = x[o, j, i]
 * where x[o, j, i] > m or is NaN, j in order (a NaN is kept once met). exf_max_q compares int8 (bytes 1)
 * or int16 (bytes 2) codes. y must not overlap x. */
void exf_max_f32(const float *x, float *y, int32_t outer, int32_t n, int32_t inner);
void exf_max_q(const exf_max_q_params_t *p, const void *x, void *y);

/* y = a where a > b or a is NaN, else b, broadcast to shape (strides as for exf_add_f32); exf_maximum_q
 * on int8 (bytes 1) or int16 (bytes 2) codes. y must not overlap the inputs. */
void exf_maximum_f32(const float *a, const float *b, float *y, const int32_t shape[4], const int32_t sa[4],
                     const int32_t sb[4]);
void exf_maximum_q(const exf_maximum_q_params_t *p, const void *a, const void *b, void *y);

/* Constant padding, any dtype: y (out_shape) is *value (elem_bytes) everywhere but the block at
 * before[0 .. ndim-1], which is x (in_shape); 1 <= ndim <= EXF_PAD_MAX_DIMS,
 * out_shape[k] >= before[k] + in_shape[k]. y must not overlap x. */
#define EXF_PAD_MAX_DIMS 8
void exf_pad(const void *x, const void *value, void *y, int32_t elem_bytes, int32_t ndim,
             const int32_t in_shape[], const int32_t out_shape[], const int32_t before[]);

/* y[i] = 1 where x[i] is NaN, else 0 (ONNX IsNaN; uint8 for a boolean). */
void exf_isnan_f32(const float *x, uint8_t *y, int32_t n);

/* y = 1 where a <cmp> b, else 0 (uint8), broadcast to shape (strides as for exf_add_f32); any comparison
 * with a NaN is 0. exf_compare_q compares integer codes: a of a_bytes (1: int8, 2: int16), b of b_bytes
 * (1, 2 or 4: int32 thresholds). */
enum { EXF_CMP_GT, EXF_CMP_GE, EXF_CMP_LT, EXF_CMP_LE, EXF_CMP_EQ };
void exf_compare_f32(const float *a, const float *b, uint8_t *y, int32_t cmp, const int32_t shape[4],
                     const int32_t sa[4], const int32_t sb[4]);
void exf_compare_q(const exf_compare_q_params_t *p, const void *a, const void *b, uint8_t *y);


/* ---- integer kernels (int8 / int16 quantized) ------------------------------------------------ */
/* Integer arithmetic only (no float), exact, so host, target and the NumPy mirror
 * edgexf/ir/kernels_q.py give the same integers; this section is the contract both follow.
 *
 * real value = scale * (q - zero_point). The code generator folds scales into integer multipliers
 * (mult, shift) and guarantees the ranges stated below (no int32 accumulator or int64 intermediate
 * overflows; overflow would be undefined behaviour in C).
 *
 * requantize(acc, mult, shift) = (acc * mult + (1 << (shift - 1))) >> shift, all in int64: acc is
 * an int32 or int64 value, mult an int32 (may be 0 or negative), shift in [1, 62], |acc * mult| < 2^62.
 * That is round(acc * mult / 2^shift) with ties toward +infinity (-2.5 -> -2, 2.5 -> 3).
 * >> of a negative int64 is an arithmetic (flooring) shift: implementation-defined in C11, and what
 * gcc (host and arm-none-eabi) does; the library assumes it. Left shifts of negative values are
 * written as multiplications (those would be undefined).
 *
 * clamp_s8 / clamp_s16 saturate to [-128, 127] / [-32768, 32767]; "clamp_y" is the one for y's
 * element size. An output zero point is always added in int64 BEFORE clamping:
 * y = clamp(requantize(...) + out_zp). Arguments named *_bytes are element sizes: 1 = int8, 2 = int16.
 * Shapes and layouts are those of the float32 kernel of the same name.
 *
 * Each integer kernel (and each fused float32 kernel below) takes a const parameter struct p
 * (edgexf_params.h): the numbers and constant arrays named in these comments (mult, shift, out_zp,
 * rows, ...) are its fields; the activations and the working memory are the other arguments. */

/* x (rows, k) @ w (m, k)^T -> y (rows, m), int8. bias (m) may be NULL (= 0); mult, shift (m) per
 * output channel. acc = bias[j] + sum_i x[r, i] * w[j, i] (int32; w is symmetric, zero point 0, and
 * the code generator folds x's zero point into bias, so neither is an argument);
 * y[r, j] = clamp_s8(requantize(acc, mult[j], shift[j]) + out_zp). */
void exf_linear_s8(const exf_linear_q_params_t *p, const int8_t *x, int8_t *y);

/* exf_linear_s8 with x and y of either element size (x_bytes, y_bytes: 1 = int8, 2 = int16; an int16 x
 * is symmetric), acc in int64: what keeps a recurrent state in int16. The code generator guarantees
 * |acc| < 2^31. y[r, j] = clamp_y(requantize(acc, mult[j], shift[j]) + out_zp). */
void exf_linear_q(const exf_linear_q_params_t *p, const void *x, void *y);

/* ---- fast integer kernels (quant_*_dsp.c): Cortex-M DSP extension, bit-exact with the above -------
 * Same parameter struct and results as the portable kernel of the same name without _dsp, plus working
 * memory `scratch` (4-byte aligned) of the size given; x may not overlap y. exf_simd.h maps the SIMD
 * operations to ACLE intrinsics on cores with DSP and to plain C elsewhere (the host build). */
#define EXF_DSP_BLOCK_ROWS 6 /* rows of x widened to int16 together; edgexf/ir/kernel_choice.py mirrors it */

/* scratch: R * (k / 4) * 8 bytes (the widened rows), R = min(rows, EXF_DSP_BLOCK_ROWS) */
void exf_linear_s8_dsp(const exf_linear_q_params_t *p, const int8_t *x, int8_t *y, void *scratch);

/* exf_linear_s8 with the weights widened to int16 at code generation (quant_dot_w16.c says how, and
 * edgexf/codegen/wide_weights.py writes them): w16 holds 8 ceil(m / 2) ceil(k / 4) int16, 4-byte
 * aligned; every shift in [33, 53], given as rq: per output 2^(shift - 33) + out_zp 2^(shift - 32) and
 * shift - 32. scratch: 16 ceil(k / 4) + 16 ceil(m / 2) bytes. */
void exf_linear_s8_w16(const exf_linear_q_params_t *p, const int8_t *x, int8_t *y, void *scratch);

/* exf_linear_s8_w16 for rows >= 2 and a bias (not NULL): rows in blocks of three or two, requantized from
 * the blocks' registers (quant_dot_w16.c). Same w16, rq and scratch. */
void exf_linear_s8_w16_rows(const exf_linear_q_params_t *p, const int8_t *x, int8_t *y, void *scratch);

/* exf_linear_q with the weights widened to int16 at code generation, as exf_linear_s8_w16 (same w16
 * and scratch); x and y int8 or int16 (x_bytes, y_bytes 1 or 2). Needs every output's
 * (|bias| + sum |w| 2^15 (2^7 for int8 x)) 2^pre_shift below 2^31: its sums are int32, the portable
 * kernel's int64. The sums are shifted left by pre_shift before requantizing; rq holds the terms of
 * shift + pre_shift, which must be in [33, 53] (quant_dot_w16.c). */
void exf_linear_q_w16(const exf_linear_q_params_t *p, const void *x, void *y, void *scratch);
/* exf_linear_q_w16 for two rows and more with a bias and no pre-shift: row pairs requantized from
 * registers (quant_dot_w16.c); any other case runs exf_linear_q_w16. Same w16, rq and scratch. */
void exf_linear_q_w16_rows(const exf_linear_q_params_t *p, const void *x, void *y, void *scratch);

/* exf_ln_linear_s8, EXF_DSP_BLOCK_ROWS rows at a time; w int8 (rq NULL) or as exf_linear_s8_w16's w16
 * with its rq. scratch: align8(R * k) bytes of normalized rows, R = min(rows, EXF_DSP_BLOCK_ROWS), then
 * the scratch of the linear kernel (exf_linear_s8_dsp for R rows, or exf_linear_s8_w16). */
void exf_ln_linear_s8_dsp(const exf_ln_linear_q_params_t *p, const void *x, int8_t *y, void *scratch);

/* exf_token_mlp_q, EXF_DSP_BLOCK_ROWS rows at a time; w1 and w2 int8 (rq1, rq2 NULL) or as
 * exf_linear_s8_w16's w16 with their rq. scratch: align8(R * (2 d + hidden)) bytes of row buffers,
 * R = min(rows, EXF_DSP_BLOCK_ROWS), then the larger scratch of the two linear kernels. */
void exf_token_mlp_q_dsp(const exf_token_mlp_q_params_t *p, const void *x, void *y, void *scratch);

/* exf_attention_s8 (quant_attention_dsp.c), a head's keys and values widened to int16 once. scratch:
 * 8 (t2 gd + dh2 gt + 2 gd + 2 gt + max(t2, dh2)) bytes, gd = ceil(dh / 4), gt = ceil(t / 4), t2 and
 * dh2 = t and dh rounded up to even (edgexf/ir/kernel_choice.py attention_scratch mirrors it). */
void exf_attention_s8_dsp(const exf_attention_q_params_t *p, const int8_t *qkv, int8_t *y, void *scratch);

/* exf_matmul_s8 with both operands of a batch widened to int16 pairs (quant_matmul_dsp.c). scratch:
 * 8 ceil(k / 4) (m2 + n2) + 8 n2 bytes, m2 and n2 = m and n rounded up to even (kernel_choice.matmul_scratch). */
void exf_matmul_s8_dsp(const exf_matmul_q_params_t *p, const int8_t *a, const int8_t *b, int8_t *y, void *scratch);

/* exf_conv2d_s8 (any geometry) as im2col blocks against widened weight row pairs, or, with one input
 * channel and fewer than EXF_CONV_DIRECT_OG outputs per group (depthwise), directly from a padded copy
 * of each input channel (quant_conv_dsp.c). scratch (edgexf/ir/kernel_choice.py conv_scratch mirrors it):
 * im2col 8 g (B + 3) + 8 B bytes, g = ceil(c / groups kh kw / 4), B = 2 EXF_CONV_BLOCK where
 * g <= EXF_CONV_SMALL_GROUPS, else EXF_CONV_BLOCK; direct align4(hp wp + 4) + 8 kh ceil(kw / 4) bytes,
 * hp = (oh - 1) sh + (kh - 1) dh + 1, wp = (ow - 1) sw + (kw - 1) dw + 1. */
#define EXF_CONV_BLOCK 32 /* output positions per im2col block (even) */
#define EXF_CONV_SMALL_GROUPS 8 /* patches of at most 8 groups of 4 taps: blocks of 2 EXF_CONV_BLOCK */
#define EXF_CONV_DIRECT_OG 4 /* one input channel and fewer outputs per group: the direct path */
void exf_conv2d_s8_dsp(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y, void *scratch);

/* x (n, c, h, wd) conv w (o, c/groups, kh, kw) -> y (n, o, oh, ow), int8, geometry as exf_conv2d_f32.
 * acc = bias[oc] + sum over the taps inside the image of (x - in_zp) * w (int32; padding taps are
 * skipped, i.e. the padding is the real value 0); bias (o) may be NULL (= 0); mult, shift (o);
 * y = clamp_s8(requantize(acc, mult[oc], shift[oc]) + out_zp). */
void exf_conv2d_s8(const exf_conv2d_q_params_t *p, const int8_t *x, int8_t *y);

/* a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n), int8, batch strides as exf_matmul_f32
 * (0 broadcasts). acc = sum_i (a[t, r, i] - a_zp) * (b[t, i, c] - b_zp) (int32);
 * y = clamp_s8(requantize(acc, mult, shift) + out_zp), one (mult, shift) per tensor. */
void exf_matmul_s8(const exf_matmul_q_params_t *p, const int8_t *a, const int8_t *b, int8_t *y);

/* Softmax over the last axis: x (rows, n) int8 -> y (rows, n) int8 with scale 1/256, zero point -128.
 * 1 <= n <= 16384. Per row: mx = max_i x_i; e_i = exp_table[x_i - mx + 255] (256 entries, each in
 * [0, 2^16], exp_table[255] = 2^16 for the maximum: round(exp(scale_x * (i - 255)) * 2^16), filled by
 * the code generator); sum = sum_i e_i (int32, in [2^16, 2^30]);
 * R = floor(2^46 / sum) (one reciprocal per row, no division per element);
 * y_i = clamp_s8(((e_i R + 2^37) >> 38) - 128) in int64: round(256 e_i / sum) - 128, ties up, except
 * that 256 e_i / sum in [k + 1/2, k + 1/2 + 2^-22) may give k instead (e_i R / 2^46 is
 * below e_i / sum by less than e_i / 2^46). y may equal x: the row's max and sum are taken before any
 * y_i is written. */
void exf_softmax_s8(const exf_softmax_q_params_t *p, const int8_t *x, int8_t *y);

/* LayerNorm over the last axis: x (rows, d) of raw integers q (int8, or int16 for _s16) -> y (rows, d)
 * int8. The input zero point cancels (only differences from the mean matter), so it is no argument.
 * Per row, in int64: S = sum q_i, Q = sum q_i^2, V = d*Q - S*S + eps_term (V = d^2 (var + eps) in q
 * units squared; the code generator guarantees 0 <= V < 2^55 and eps_term >= 0).
 * If V == 0, z_i = 0. Otherwise k = (62 - bitlen(V)) / 2 (bitlen(1) = 1), W = V * 2^(2k) (61 or 62 bits),
 * r = floor(sqrt(W)) exactly (2^30 <= r < 2^31), inv = 2^61 / r (floor), s = 45 - k,
 * z_i = ((d*q_i - S) * inv + (1 << (s - 1))) >> s, which is (x_i - mean) / sqrt(var + eps) * 2^16.
 * y_i = clamp_s8(((gamma[i] * z_i + beta[i] * 2^16 + (1 << (gshift + 15))) >> (gshift + 16)) + out_zp),
 * gshift in [0, 40]; gamma, beta (d) are the real gamma and beta over the output scale, times 2^gshift.
 * out_zp in [-128, 127]. y may equal x (_s8). No 64-bit division or libgcc helper: the square root and
 * 2^61 / r use 32-bit divisions, Newton steps and exact corrections (quant_common.h).
 * Without gamma (p->ln.gamma NULL, d <= 2^15: the quantizer folded gamma and beta into the next linear
 * layer), with S, V as above: if V == 0, A = 0. Else e = (32 - bitlen(V)) >> 1 (floor), W = V 4^e (V >>
 * -2e where e < 0; W in [2^30, 2^32)), r0 = RSEED[(W >> 24) - 64] 2^16 (RSEED[j] = round(2^18 /
 * sqrt(64 + j + 0.5))), R = (r0 (3 2^30 - ((W ((r0 r0) >> 32)) >> 30))) >> 31 (~2^46 / sqrt(W): within
 * 2^-15.4 of it), f = 16 for int8 q, 24 for int16 q, n = 46 + mshift - e - f, and with hi = (mult R) >> 32
 * (mult in [2^30, 2^31)): int8: A = 2^22 if n <= 38, else min(2^22, (hi + 2^(n-33)) >> (n-32)) (0 once
 * n >= 64); int16: A = min(2^30, (mult R + 2^(n-1)) >> n) (0 if n >= 63). mean16 = floor(S 2^16 / d),
 * B = out_zp 2^(f-8) + 2^(f-9) - ((A mean16 + 2^23) >> 24), y_i = sat8((A q_i + 2^8 B) >> f): within
 * 0.51 codes of round(out_zp + (x_i - mean) / sqrt(var + eps) / out_scale) while that slope is
 * below 64 (A's ceiling; rows of spread below 1/(64 out_scale) input codes get slope 64). */
void exf_layernorm_s8(const exf_layernorm_q_params_t *p, const int8_t *x, int8_t *y);
void exf_layernorm_s16(const exf_layernorm_q_params_t *p, const int16_t *x, int8_t *y);

/* Mean over the middle axis: x (outer, n, inner) int8 -> y (outer, inner) int8.
 * acc = sum_j (x[o, j, i] - in_zp) (int32); y = clamp_s8(requantize(acc, mult, shift) + out_zp)
 * (mult / 2^shift = in_scale / (n * out_scale)). */
void exf_mean_s8(const exf_mean_q_params_t *p, const int8_t *x, int8_t *y);

/* Table lookup (any int8 -> int8 activation): y[i] = table[x[i] + 128], table of 256. y may equal x. */
void exf_lut_s8(const exf_lut_params_t *p, const int8_t *x, int8_t *y);

/* Broadcasting add/sub, loops and strides as exf_add_f32 (y contiguous, sa/sb 0 on broadcast axes).
 * a, b, y each int8 or int16 per *_bytes. t = (a - a_zp) * ma + (b - b_zp) * mb (int64; ma, mb are
 * int32, mb < 0 for subtraction); y = clamp_y(((t + (1 << (shift - 1))) >> shift) + out_zp),
 * shift in [1, 62], zero points within [-2^16, 2^16]. y may equal a (or b) when that operand has y's shape
 * and element size. */
void exf_add_q(const exf_add_q_params_t *p, const void *a, const void *b, void *y);

/* Broadcasting multiply of int8 a and b, loops and strides as exf_mul_f32; y int8 or int16.
 * p = (a - a_zp) * (b - b_zp) (int32); y = clamp_y(requantize(p, mult, shift) + out_zp).
 * y may equal a (or b) when that operand has y's shape and y is int8. */
void exf_mul_q(const exf_mul_q_params_t *p, const int8_t *a, const int8_t *b, void *y);

/* exf_mul_q with a and b each int8 or int16 (a_bytes, b_bytes 1 or 2): a recurrent state kept in int16
 * times an activation. p = (a - a_zp) * (b - b_zp) in int64 (|p| <= 2^32); y as exf_mul_q. y may equal a
 * (or b) when that operand has y's shape and y's element size is at most its own. */
void exf_mul_qq(const exf_mul_q_params_t *p, const void *a, const void *b, void *y);

/* Requantize n elements (int8 <-> int16, or a new scale): y = clamp_y(requantize(x - in_zp, mult, shift)
 * + out_zp). y may equal x when y_bytes <= x_bytes (each element is read before its bytes are written). */
void exf_requant_q(const exf_requant_q_params_t *p, const void *x, void *y);

/* ---- integrated (fused) kernels: fused.c, quant_fused.c ---------------------------------------
 * Each runs a chain of the kernels above a row (the float32 ln_linear and token_mlp: two rows) at a time
 * and gives exactly the chain's results (float32: the same sums in the same order). `scratch` is working
 * memory in the arena, of the size the code generator reserves (edgexf/ir/ops_fused.py): ln_linear k
 * elements, attention t elements, token_mlp 2 d + hidden elements (floats for _f32, bytes for the
 * integer kernels but int32 for the integer attention), times min(rows, 2) for the float32 ln_linear and
 * token_mlp.
 * Aliasing (token overwriting), used by the memory planner:
 * - ln_linear, token_mlp: rows r (and r + 1) of x are read completely before those rows of y are
 *   written, rows in order, so y may start at x when a y row is no longer than an x row, or x may lie
 *   at the tail of y (x = y + rows * (y row bytes - x row bytes)) when it is longer.
 * - patch_embed: each patch row's tokens are computed in scratch ((wd/p) d elements of y's type) and
 *   written once image rows [r p, (r+1) p) of every channel are read, the class token last, so
 *   y and x may overlap as long as the tokens written after row r (r not the last) stay inside channel
 *   0's first (r+1) p rows: y at x when tokens are narrower than a patch (MCUFormer's int8), else
 *   below it (edgexf/ir/ops_fused.py patch_embed_delta works out how far).
 * - attention: y must not overlap qkv. */
enum { EXF_ACT_GELU = 0, EXF_ACT_GELU_TANH = 1, EXF_ACT_RELU = 2 };

void exf_ln_linear_f32(const exf_ln_linear_f32_params_t *p, const float *x, float *y, float *scratch);
/* qkv (t, 3, heads, dh) -> y (t, heads * dh): per head and query row i, s_j = (q_i . k_j) * scale[0]
 * (no multiply when scale is NULL), p = softmax(s), y_i = sum_j p_j v_j. */
void exf_attention_f32(const exf_attention_f32_params_t *p, const float *qkv, float *y, float *scratch);
/* y[r] = x[r] + fc2(act(fc1(layernorm(x[r])))), act one of EXF_ACT_*. */
void exf_token_mlp_f32(const exf_token_mlp_f32_params_t *p, const float *x, float *y, float *scratch);
/* x (c, h, wd) -> y (t, d): the conv of exf_conv2d_f32 with kernel = stride = p and no padding, its
 * outputs as tokens (patches in raster order), after a class token when cls is not NULL, plus pos
 * (t, d) when not NULL. */
void exf_patch_embed_f32(const exf_patch_embed_f32_params_t *p, const float *x, float *y, float *scratch);

/* Integer forms: layernorm of x (int8 or int16, x_bytes) as exf_layernorm_s8/_s16, then exf_linear_s8. */
void exf_ln_linear_s8(const exf_ln_linear_q_params_t *p, const void *x, int8_t *y, int8_t *scratch);
/* Per head and query row: one requantization of the scores to steps below the row's maximum, their
 * unnormalized weights e_j from exp_table, y_c = sum_j e_j (v_jc - v_zp) requantized with 1 / sum_j e_j
 * folded into the row's multiplier (quant_attention.h states it exactly). scratch: t int32. */
void exf_attention_s8(const exf_attention_q_params_t *p, const int8_t *qkv, int8_t *y, int32_t *scratch);
/* y[r] = add(x[r], exf_linear_s8(exf_lut_s8(exf_linear_s8(layernorm(x[r]))))): add is p->res (exf_add_q's
 * arithmetic), x the first operand; x and y int8 or int16. */
void exf_token_mlp_q(const exf_token_mlp_q_params_t *p, const void *x, void *y, int8_t *scratch);
/* The conv of exf_conv2d_s8 (kernel = stride = p, no padding, in_zp, output zero point conv_zp) as
 * tokens, after the class token cls (int8, in the conv output's parameters) if not NULL; then, if pos is
 * not NULL, add(token, pos) with p->pos_add (exf_add_q's arithmetic); y int8 or int16. */
void exf_patch_embed_s8(const exf_patch_embed_q_params_t *p, const int8_t *x, void *y, void *scratch);

/* exf_patch_embed_s8 with the weights widened to int16 at code generation, for cores with the DSP
 * extension (quant_patch_dsp.c): the same bytes. w16 is the (d, K = c p p) weight matrix as
 * exf_linear_s8_w16's w16 (8 ceil(d / 2) ceil(K / 4) int16, 4-byte aligned); every shift in [33, 53],
 * given as rq: per output 2^(shift - 33) + conv_zp 2^(shift - 32) and shift - 32. y may overlap x as for
 * exf_patch_embed_s8. scratch (4-byte aligned): align8((wd / p) d y_bytes) + 16 ceil(K / 4)
 * + 16 ceil(d / 2) + 4 ceil(K / 4) bytes (edgexf/ir/kernel_choice.py patch_scratch mirrors it). */
void exf_patch_embed_s8_w16(const exf_patch_embed_q_params_t *p, const int8_t *x, void *y, void *scratch);

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

/* Mamba's selective scan, one step (edgexf/ir/ops_scan.py): for each e < p->e, with dtx = dt[e] x[e]:
 * h'[e, n] = exf_expf(dt[e] A[e, n]) h[e, n] + dtx B[n]; y[e] = (0.0f + h'[e, 0] C[0] + ...) + x[e] D[e],
 * products and sums in that order (the chain's rounding). h_next may be h (each element read first). */
void exf_selective_scan_f32(const exf_scan_f32_params_t *p, const float *x, const float *dt, const float *B,
                            const float *C, const float *h, float *h_next, float *y);
/* Its integer form (int8 x, dt, B, C; int16 h and h_next, which may be h; y int8 or int16 by p->y_bytes):
 * index = exf_mul_q's dt * A; w = sat32(requantize((dt - dt_zp)(x - x_zp), w_mult, w_shift)) per row;
 * h' = sat16((table[index + 128] h + w (B - B_zp) + 2^14) >> 15); acc = sum_n h' (C - C_zp);
 * y = exf_add_q's (acc, (x - x_zp)(D - D_zp)) with p->y, all in exact integers (int64 where needed). */
void exf_selective_scan_q(const exf_scan_q_params_t *p, const int8_t *x, const int8_t *dt, const int8_t *B,
                          const int8_t *C, const int16_t *h, int16_t *h_next, void *y);

/* Mamba's causal depthwise conv on its conv state, one step (edgexf/ir/ops_conv_step.py): for each
 * e < p->e, window = (state[e, 0..k-2], x[e]); y[e] = (0.0f + window[0] W[e, 0] + ...) + bias[e], products
 * and sums in that order (the chain's rounding); state_next[e] = window[1..k-1]. state_next may be state. */
void exf_conv_step_f32(const exf_conv_step_f32_params_t *p, const float *x, const float *state,
                       float *state_next, float *y);
/* Its integer form (int16 x, state and state_next, which may be state; int8 y):
 * y[e] = clamp8(requantize(bias[e] + sum_k window[k] (W[e, k] - w_zp), mult, shift) + out_zp), the sum in
 * int32 (the pass checks its bound). */
void exf_conv_step_q(const exf_conv_step_q_params_t *p, const int16_t *x, const int16_t *state,
                     int16_t *state_next, int8_t *y);
/* Mamba's output gate (edgexf/ir/ops_gate.py): zq = exf_requant_q's int16 z -> int8 (z_* terms);
 * y = exf_mul_q's a * table[zq + 128] (mul terms, a int8 or int16 by a_bytes), int8; bit for bit the
 * chain's. */
void exf_gate_q(const exf_gate_q_params_t *p, const void *a, const int16_t *z, int8_t *y);
/* RMSNorm as the quantizer's chain (edgexf/ir/ops_rms_norm.py), per row of d: sq = exf_mul_q's x x;
 * m = exf_mean_s8's mean of sq; r = table[m + 128]; y = exf_mul_q's (exf_mul_q's x r) w; bit for bit. */
void exf_rms_norm_q(const exf_rms_norm_q_params_t *p, const void *x, int8_t *y);

#ifdef __cplusplus
}
#endif

#endif /* EDGEXF_KERNELS_H */
