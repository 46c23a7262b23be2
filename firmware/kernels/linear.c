/* Dot-product kernels: linear, matmul, conv2d. Each output is one float accumulator summed
 * sequentially in the order of edgexf_kernels.h; mirrored by edgexf/ir/kernels_ref.py. */
#include "edgexf_kernels.h"

/* acc + a * b with the product rounded before the sum: the arithmetic of `acc += a * b` under
 * -ffp-contract=off. On a Cortex-M with a single-precision FPU it is one VMLA.F32, which is that
 * (Armv7-M ARM: "the result of the multiply is rounded before the accumulation"; not VFMA, which is
 * fused): one instruction where gcc, keeping the operations apart, emits VMUL and VADD. Elsewhere (the
 * host build) it is the C expression, the same floats. */
#if defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4) && defined(__thumb2__)
#define EXF_VMLA 1
static inline float mla(float acc, float a, float b) {
    __asm__("vmla.f32 %0, %1, %2" : "+t"(acc) : "t"(a), "t"(b));
    return acc;
}
/* acc += x[0..3] * w[0..3] in order, x in s<x>..s<x+3>, w in s8..s11 (loaded by VLDM) */
#define MLA4(acc, x0, x1, x2, x3)                                               \
    "vmla.f32 %[" #acc "], s" #x0 ", s8\n\tvmla.f32 %[" #acc "], s" #x1 ", s9\n\t" \
    "vmla.f32 %[" #acc "], s" #x2 ", s10\n\tvmla.f32 %[" #acc "], s" #x3 ", s11\n\t"
#else
#define EXF_VMLA 0
static inline float mla(float acc, float a, float b) { return acc + a * b; }
#endif

/* Blocks of 2 rows x 4 outputs (and 1 x 4): each x element and each weight is loaded once for all the
 * accumulators that use it, the accumulators are scalars (registers), and every one still sums
 * acc = b; acc += x[i] * w[i] for i in order: the results are the one-output loop's, bit for bit. On
 * the board a group of four inputs is 6 VLDM of four floats and 32 VMLA (2 x 4), or 5 and 16 (1 x 4). */
static void linear_2x4(const float *x0, const float *w0, const float *b, float *y0, int32_t k, int32_t m) {
    const float *x1 = x0 + k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    float a0 = b ? b[0] : 0.0f, a1 = b ? b[1] : 0.0f, a2 = b ? b[2] : 0.0f, a3 = b ? b[3] : 0.0f;
    float c0 = a0, c1 = a1, c2 = a2, c3 = a3;
    int32_t i = 0;
#if EXF_VMLA
    for (; i + 4 <= k; i += 4) {
        __asm__("vldmia %[x0]!, {s0-s3}\n\tvldmia %[x1]!, {s4-s7}\n\t"
                "vldmia %[w0]!, {s8-s11}\n\t" MLA4(a0, 0, 1, 2, 3) MLA4(c0, 4, 5, 6, 7)
                "vldmia %[w1]!, {s8-s11}\n\t" MLA4(a1, 0, 1, 2, 3) MLA4(c1, 4, 5, 6, 7)
                "vldmia %[w2]!, {s8-s11}\n\t" MLA4(a2, 0, 1, 2, 3) MLA4(c2, 4, 5, 6, 7)
                "vldmia %[w3]!, {s8-s11}\n\t" MLA4(a3, 0, 1, 2, 3) MLA4(c3, 4, 5, 6, 7)
                : [a0] "+t"(a0), [a1] "+t"(a1), [a2] "+t"(a2), [a3] "+t"(a3), [c0] "+t"(c0), [c1] "+t"(c1),
                  [c2] "+t"(c2), [c3] "+t"(c3), [x0] "+r"(x0), [x1] "+r"(x1), [w0] "+r"(w0), [w1] "+r"(w1),
                  [w2] "+r"(w2), [w3] "+r"(w3)
                :
                : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "memory");
    }
    x0 -= i, x1 -= i, w0 -= i, w1 -= i, w2 -= i, w3 -= i; /* the tail below indexes from the start */
#endif
    for (; i < k; i++) {
        const float u = x0[i], v = x1[i];
        const float v0 = w0[i], v1 = w1[i], v2 = w2[i], v3 = w3[i];
        a0 = mla(a0, u, v0);
        a1 = mla(a1, u, v1);
        a2 = mla(a2, u, v2);
        a3 = mla(a3, u, v3);
        c0 = mla(c0, v, v0);
        c1 = mla(c1, v, v1);
        c2 = mla(c2, v, v2);
        c3 = mla(c3, v, v3);
    }
    y0[0] = a0, y0[1] = a1, y0[2] = a2, y0[3] = a3;
    y0[m] = c0, y0[m + 1] = c1, y0[m + 2] = c2, y0[m + 3] = c3;
}

static void linear_1x4(const float *x0, const float *w0, const float *b, float *y0, int32_t k) {
    const float *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    float a0 = b ? b[0] : 0.0f, a1 = b ? b[1] : 0.0f, a2 = b ? b[2] : 0.0f, a3 = b ? b[3] : 0.0f;
    int32_t i = 0;
#if EXF_VMLA
    for (; i + 4 <= k; i += 4) {
        __asm__("vldmia %[x0]!, {s0-s3}\n\t"
                "vldmia %[w0]!, {s8-s11}\n\t" MLA4(a0, 0, 1, 2, 3)
                "vldmia %[w1]!, {s8-s11}\n\t" MLA4(a1, 0, 1, 2, 3)
                "vldmia %[w2]!, {s8-s11}\n\t" MLA4(a2, 0, 1, 2, 3)
                "vldmia %[w3]!, {s8-s11}\n\t" MLA4(a3, 0, 1, 2, 3)
                : [a0] "+t"(a0), [a1] "+t"(a1), [a2] "+t"(a2), [a3] "+t"(a3), [x0] "+r"(x0), [w0] "+r"(w0),
                  [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3)
                :
                : "s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11", "memory");
    }
    x0 -= i, w0 -= i, w1 -= i, w2 -= i, w3 -= i;
#endif
    for (; i < k; i++) {
        const float u = x0[i];
        a0 = mla(a0, u, w0[i]);
        a1 = mla(a1, u, w1[i]);
        a2 = mla(a2, u, w2[i]);
        a3 = mla(a3, u, w3[i]);
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
                a0 = mla(a0, x0[i], wj[i]);
                a1 = mla(a1, x1[i], wj[i]);
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
            for (int32_t i = 0; i < k; i++) acc = mla(acc, xr[i], wj[i]);
            y[r * m + j] = acc;
        }
    }
}

#if EXF_VMLA
/* step i of a group of four of a 2 x 4 matmul block: b's row (4 columns) into s8..s11, then
 * a{r}{j} += a[r][i] * b[i][j]; the rows of a are in s0..s3 and s4..s7 */
#define MM_STEP(i0, i1)                                                                              \
    "vldmia %[pb], {s8-s11}\n\tadd %[pb], %[pb], %[stride]\n\t"                                      \
    "vmla.f32 %[a0], s" #i0 ", s8\n\tvmla.f32 %[a1], s" #i0 ", s9\n\t"                               \
    "vmla.f32 %[a2], s" #i0 ", s10\n\tvmla.f32 %[a3], s" #i0 ", s11\n\t"                             \
    "vmla.f32 %[c0], s" #i1 ", s8\n\tvmla.f32 %[c1], s" #i1 ", s9\n\t"                               \
    "vmla.f32 %[c2], s" #i1 ", s10\n\tvmla.f32 %[c3], s" #i1 ", s11\n\t"
#endif

/* Rows r, r + 1 of a (k) by columns c..c+3 of b (k, n) into y rows (stride n): eight scalar sums, each
 * in order of i. On the board a group of four i is 2 + 4 VLDM, 4 ADD and 32 VMLA. */
static void matmul_2x4(const float *a0p, const float *bc, float *y, int32_t k, int32_t n) {
    const float *a1p = a0p + k;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f;
    int32_t i = 0;
#if EXF_VMLA
    const float *pb = bc;
    const int32_t stride = 4 * n; /* bytes between rows of b */
    for (; i + 4 <= k; i += 4) {
        __asm__("vldmia %[x0]!, {s0-s3}\n\tvldmia %[x1]!, {s4-s7}\n\t" MM_STEP(0, 4) MM_STEP(1, 5) MM_STEP(2, 6)
                    MM_STEP(3, 7)
                : [a0] "+t"(a0), [a1] "+t"(a1), [a2] "+t"(a2), [a3] "+t"(a3), [c0] "+t"(c0), [c1] "+t"(c1),
                  [c2] "+t"(c2), [c3] "+t"(c3), [x0] "+r"(a0p), [x1] "+r"(a1p), [pb] "+r"(pb)
                : [stride] "r"(stride)
                : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "memory");
    }
    a0p -= i, a1p -= i;
#endif
    for (; i < k; i++) {
        const float u = a0p[i], v = a1p[i], *bi = bc + i * n;
        a0 = mla(a0, u, bi[0]);
        a1 = mla(a1, u, bi[1]);
        a2 = mla(a2, u, bi[2]);
        a3 = mla(a3, u, bi[3]);
        c0 = mla(c0, v, bi[0]);
        c1 = mla(c1, v, bi[1]);
        c2 = mla(c2, v, bi[2]);
        c3 = mla(c3, v, bi[3]);
    }
    y[0] = a0, y[1] = a1, y[2] = a2, y[3] = a3;
    y[n] = c0, y[n + 1] = c1, y[n + 2] = c2, y[n + 3] = c3;
}

void exf_matmul_f32(const float *a, const float *b, float *y, int32_t batch, int32_t m, int32_t k, int32_t n,
                    int32_t a_batch_stride, int32_t b_batch_stride) {
    // a (batch, m, k) @ b (batch, k, n) -> y (batch, m, n)
    for (int32_t t = 0; t < batch; t++) {
        const float *at = a + t * a_batch_stride;
        const float *bt = b + t * b_batch_stride;
        float *yt = y + t * m * n;
        int32_t r = 0;
        for (; r + 2 <= m; r += 2) {
            int32_t c = 0;
            for (; c + 4 <= n; c += 4) matmul_2x4(at + r * k, bt + c, yt + r * n + c, k, n);
            for (; c < n; c++) { /* the last columns, two rows at once */
                float a0 = 0.0f, a1 = 0.0f;
                for (int32_t i = 0; i < k; i++) {
                    a0 = mla(a0, at[r * k + i], bt[i * n + c]);
                    a1 = mla(a1, at[(r + 1) * k + i], bt[i * n + c]);
                }
                yt[r * n + c] = a0;
                yt[(r + 1) * n + c] = a1;
            }
        }
        for (; r < m; r++) { /* an odd last row */
            for (int32_t c = 0; c < n; c++) {
                float acc = 0.0f;
                for (int32_t i = 0; i < k; i++) acc = mla(acc, at[r * k + i], bt[i * n + c]);
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

/* Output channels oc..oc+nc-1 (nc = 4, or 1; one group) at every position: each tap of x is loaded once
 * for the nc weights that use it, and each channel's sum runs over the taps in exf_conv2d_f32's order
 * (ic, ky, kx), so the floats are the one-channel loop's. nc is a constant where this is inlined. */
static inline __attribute__((always_inline)) void conv_channels(const int32_t nc, const float *xg, const float *wo,
                                                                const float *b, float *yo, int32_t cg, int32_t h,
                                                                int32_t wd, int32_t kh, int32_t kw, int32_t sh,
                                                                int32_t sw, int32_t pt, int32_t pl, int32_t dh,
                                                                int32_t dw, int32_t oh, int32_t ow) {
    const int32_t taps = cg * kh * kw, plane = oh * ow;
    for (int32_t oy = 0; oy < oh; oy++) {
        const int32_t iy0 = oy * sh - pt; /* image row of tap ky = 0 */
        int32_t ky_lo, ky_hi;
        tap_range(iy0, dh, kh, h, &ky_lo, &ky_hi);
        for (int32_t ox = 0; ox < ow; ox++) {
            const int32_t ix0 = ox * sw - pl;
            int32_t kx_lo, kx_hi;
            tap_range(ix0, dw, kw, wd, &kx_lo, &kx_hi);
            float acc[4];
#pragma GCC unroll 4
            for (int32_t j = 0; j < nc; j++) acc[j] = b ? b[j] : 0.0f;
            for (int32_t ic = 0; ic < cg; ic++) {
                const float *xc = xg + ic * h * wd, *wc = wo + ic * kh * kw;
                for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                    const float *xr = xc + (iy0 + ky * dh) * wd + ix0, *wr = wc + ky * kw;
                    for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
                        const float u = xr[kx * dw];
#pragma GCC unroll 4
                        for (int32_t j = 0; j < nc; j++) acc[j] = mla(acc[j], u, wr[j * taps + kx]);
                    }
                }
            }
#pragma GCC unroll 4
            for (int32_t j = 0; j < nc; j++) yo[j * plane + oy * ow + ox] = acc[j];
        }
    }
}

void exf_conv2d_f32(const float *x, const float *w, const float *b, float *y, int32_t n, int32_t c, int32_t h,
                    int32_t wd, int32_t o, int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t pt,
                    int32_t pl, int32_t dh, int32_t dw, int32_t groups, int32_t oh, int32_t ow) {
    // x (n, c, h, wd) conv W (o, c/groups, kh, kw) + b (o,) -> y (n, o, oh, ow)
    const int32_t cg = c / groups, og = o / groups, taps = cg * kh * kw;
    for (int32_t bi = 0; bi < n; bi++) {
        for (int32_t gi = 0; gi < groups; gi++) {
            const float *xg = x + (bi * c + gi * cg) * h * wd; /* the group's first channel */
            int32_t oc = gi * og;
            for (; oc + 4 <= (gi + 1) * og; oc += 4) {
                conv_channels(4, xg, w + oc * taps, b ? b + oc : 0, y + (bi * o + oc) * oh * ow, cg, h, wd, kh, kw,
                              sh, sw, pt, pl, dh, dw, oh, ow);
            }
            for (; oc < (gi + 1) * og; oc++) {
                conv_channels(1, xg, w + oc * taps, b ? b + oc : 0, y + (bi * o + oc) * oh * ow, cg, h, wd, kh, kw,
                              sh, sw, pt, pl, dh, dw, oh, ow);
            }
        }
    }
}
