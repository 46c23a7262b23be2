/* The DSP-path int8 batch matmul and conv (exf_matmul_s8_dsp, exf_conv2d_s8_dsp) against the portable
 * kernels, and the VMLA float32 linear, matmul and conv (exf_linear_f32, exf_matmul_f32, exf_conv2d_f32) against plain
 * `acc += a * b` loops kept here (the arithmetic of the float mirror), in QEMU
 * (tests/firmware/test_kernels_mm_speed.py): the same bytes, on the example ViT's shapes and on odd
 * ones; exits PLAT_EXIT_CHECK_FAILED at the first case that differs, or writes past its scratch.
 * Logs one line per case:  time CASE macs reference_ticks kernel_ticks */
#include <string.h>

#include "check_common.h"
#include "edgexf_kernels.h"

#define MAX_Q 10000 /* int8 elements of an operand or a result (4 heads of 50 x 50) */
#define MAX_F 4096  /* float elements */
#define SCRATCH_WORDS 2048
#define GUARD 0x5A5A5A5Au

static int8_t qa[MAX_Q], qb[MAX_Q], qy_ref[MAX_Q], qy_new[MAX_Q];
static float fa[MAX_F], fb[MAX_F], fy_ref[MAX_F], fy_new[MAX_F], fbias[256];
static int32_t bias[256], mult[256], shift[256];
static uint32_t scratch[SCRATCH_WORDS + 16];


static void fill_s8(int8_t *p, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        p[i] = (int8_t)rng();
    }
}

static void fill_f32(float *p, int32_t n) /* in [-1, 1), with an exponent spread */
{
    for (int32_t i = 0; i < n; i++) {
        p[i] = ((float)(int32_t)(rng() >> 8) - 8388608.0f) / (float)(1u << (23 + rng() % 4));
    }
}

static int32_t report(const char *name, const void *ref, const void *got, int32_t bytes, int64_t macs, uint64_t t_ref,
                      uint64_t t_new)
{
    for (int32_t i = 16; i > 0; i--) {
        if (scratch[SCRATCH_WORDS + i - 1] != GUARD) {
            plat_log("SCRATCH OVERRUN ");
            plat_log(name);
            plat_log("\n");
            return -1;
        }
    }
    if (memcmp(ref, got, (size_t)bytes) != 0) {
        plat_log("MISMATCH ");
        plat_log(name);
        plat_log("\n");
        return -1;
    }
    log_case_time(name, macs, t_ref, t_new);
    return 0;
}

static void guard(void)
{
    for (int32_t i = 0; i < 16; i++) {
        scratch[SCRATCH_WORDS + i] = GUARD;
    }
}

static int32_t matmul_q(const char *name, int32_t batch, int32_t m, int32_t k, int32_t n, int32_t shift_v)
{
    const exf_matmul_q_params_t p = {.batch = batch, .m = m, .k = k, .n = n, .a_batch_stride = m * k,
                                     .b_batch_stride = k * n, .a_zp = -3, .b_zp = 7, .mult = 1518500250,
                                     .shift = shift_v, .out_zp = -5};
    fill_s8(qa, batch * m * k);
    fill_s8(qb, batch * k * n);
    guard();
    uint64_t t0 = plat_ticks();
    exf_matmul_s8(&p, qa, qb, qy_ref);
    uint64_t t1 = plat_ticks();
    exf_matmul_s8_dsp(&p, qa, qb, qy_new, scratch);
    uint64_t t2 = plat_ticks();
    return report(name, qy_ref, qy_new, batch * m * n, (int64_t)batch * m * k * n, t1 - t0, t2 - t1);
}

static int32_t conv_q(const char *name, int32_t c, int32_t hw, int32_t o, int32_t kk, int32_t s, int32_t pad,
                      int32_t groups)
{
    const int32_t oh = (hw + 2 * pad - kk) / s + 1, taps = c / groups * kk * kk;
    const exf_conv2d_q_params_t p = {.w = qb, .bias = bias, .mult = mult, .shift = shift, .n = 1, .c = c, .h = hw,
                                     .wd = hw, .o = o, .kh = kk, .kw = kk, .sh = s, .sw = s, .pt = pad, .pl = pad,
                                     .dh = 1, .dw = 1, .groups = groups, .oh = oh, .ow = oh, .in_zp = -4,
                                     .out_zp = 6};
    fill_s8(qa, c * hw * hw);
    fill_s8(qb, o * taps);
    for (int32_t j = 0; j < o; j++) {
        bias[j] = (int32_t)(rng() % 4001) - 2000;
        mult[j] = 1073741824 + (int32_t)(rng() % 1073741823);
        shift[j] = j % 3 == 2 ? 31 : 36 + j % 4; /* both requantization paths */
    }
    guard();
    uint64_t t0 = plat_ticks();
    exf_conv2d_s8(&p, qa, qy_ref);
    uint64_t t1 = plat_ticks();
    exf_conv2d_s8_dsp(&p, qa, qy_new, scratch);
    uint64_t t2 = plat_ticks();
    return report(name, qy_ref, qy_new, o * oh * oh, (int64_t)o * oh * oh * taps, t1 - t0, t2 - t1);
}

/* exf_conv2d_s8_dsp's scratch (edgexf_kernels.h; kernel_choice.conv_scratch is the same formula) */
static int32_t conv_scratch_bytes(const exf_conv2d_q_params_t *p)
{
    const int32_t og = p->o / p->groups, cg = p->c / p->groups;
    if (cg == 1 && og < EXF_CONV_DIRECT_OG) {
        const int32_t hp = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
        const int32_t wp = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;
        return (hp * wp + 4 + 3) / 4 * 4 + 8 * p->kh * ((p->kw + 3) / 4);
    }
    const int32_t g = (cg * p->kh * p->kw + 3) / 4, block = g <= EXF_CONV_SMALL_GROUPS ? 2 * EXF_CONV_BLOCK : EXF_CONV_BLOCK;
    return 8 * g * (block + 3) + 8 * block;
}

static int32_t rng_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rng() % (uint32_t)(hi - lo + 1)); }

/* A random geometry (groups with 1-3 input and 1-5 output channels each, so the direct path and im2col,
 * odd sizes, strides, asymmetric padding, dilation, zero points at the extremes, both requantization
 * paths): exf_conv2d_s8_dsp against exf_conv2d_s8, with guard words right past the scratch it declares. */
static int32_t conv_random(void)
{
    const int32_t cg = rng_in(1, 3), groups = rng_in(1, 4), og = rng_in(1, 5), kh = rng_in(1, 4), kw = rng_in(1, 8);
    const int32_t h = rng_in(1, 12), wd = rng_in(1, 12), sh = rng_in(1, 3), sw = rng_in(1, 3), dh = rng_in(1, 2);
    const int32_t dw = rng_in(1, 2), pt = rng_in(0, 2), pl = rng_in(0, 2), pb = rng_in(0, 2), pr = rng_in(0, 2);
    const int32_t oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (wd + pl + pr - dw * (kw - 1) - 1) / sw + 1;
    if (h + pt + pb < dh * (kh - 1) + 1 || wd + pl + pr < dw * (kw - 1) + 1) return 0; /* no output */
    const int32_t c = cg * groups, o = og * groups, taps = cg * kh * kw;
    const exf_conv2d_q_params_t p = {.w = qb, .bias = rng() % 4 ? bias : 0, .mult = mult, .shift = shift, .n = 1,
                                     .c = c, .h = h, .wd = wd, .o = o, .kh = kh, .kw = kw, .sh = sh, .sw = sw,
                                     .pt = pt, .pl = pl, .dh = dh, .dw = dw, .groups = groups, .oh = oh, .ow = ow,
                                     .in_zp = rng() % 2 ? (rng() % 2 ? -128 : 127) : rng_in(-128, 127),
                                     .out_zp = rng_in(-128, 127)};
    fill_s8(qa, c * h * wd);
    fill_s8(qb, o * taps);
    for (int32_t j = 0; j < o; j++) {
        bias[j] = rng_in(-5000, 5000);
        mult[j] = 1073741824 + (int32_t)(rng() % 1073741823);
        shift[j] = rng() % 4 ? rng_in(33, 44) : rng_in(20, 32); /* mostly the SMMLA path, some not */
    }
    const int32_t words = (conv_scratch_bytes(&p) + 3) / 4;
    for (int32_t i = 0; i < 16; i++) scratch[words + i] = GUARD;
    exf_conv2d_s8(&p, qa, qy_ref);
    exf_conv2d_s8_dsp(&p, qa, qy_new, scratch);
    for (int32_t i = 0; i < 16; i++) {
        if (scratch[words + i] != GUARD) {
            plat_log("SCRATCH OVERRUN conv_random\n");
            return -1;
        }
    }
    if (memcmp(qy_ref, qy_new, (size_t)(o * oh * ow)) != 0) {
        plat_log("MISMATCH conv_random\n");
        return -1;
    }
    return 0;
}

/* the float mirror's linear: acc = b; acc += x[i] * w[i] in order (VMUL, VADD: -ffp-contract=off) */
static void __attribute__((noinline)) linear_ref(const float *x, const float *w, const float *b, float *y,
                                                 int32_t rows, int32_t k, int32_t m)
{
    for (int32_t r = 0; r < rows; r++) {
        for (int32_t j = 0; j < m; j++) {
            float acc = b[j];
            for (int32_t i = 0; i < k; i++) acc += x[r * k + i] * w[j * k + i];
            y[r * m + j] = acc;
        }
    }
}

static void __attribute__((noinline)) matmul_ref(const float *a, const float *b, float *y, int32_t m, int32_t k,
                                                 int32_t n)
{
    for (int32_t r = 0; r < m; r++) {
        for (int32_t c = 0; c < n; c++) {
            float acc = 0.0f;
            for (int32_t i = 0; i < k; i++) acc += a[r * k + i] * b[i * n + c];
            y[r * n + c] = acc;
        }
    }
}

/* the float mirror's conv2d: per output channel and position, acc = b; acc += x * w over the taps inside
 * the image in order (ic, ky, kx); one group, square, dilation 1 */
static void __attribute__((noinline)) conv_ref(const float *x, const float *w, const float *b, float *y, int32_t c,
                                               int32_t hw, int32_t o, int32_t kk, int32_t s, int32_t pad, int32_t oh)
{
    for (int32_t oc = 0; oc < o; oc++) {
        for (int32_t oy = 0; oy < oh; oy++) {
            for (int32_t ox = 0; ox < oh; ox++) {
                float acc = b[oc];
                for (int32_t ic = 0; ic < c; ic++) {
                    for (int32_t ky = 0; ky < kk; ky++) {
                        for (int32_t kx = 0; kx < kk; kx++) {
                            const int32_t iy = oy * s - pad + ky, ix = ox * s - pad + kx;
                            if (iy < 0 || iy >= hw || ix < 0 || ix >= hw) continue;
                            acc += x[(ic * hw + iy) * hw + ix] * w[((oc * c + ic) * kk + ky) * kk + kx];
                        }
                    }
                }
                y[(oc * oh + oy) * oh + ox] = acc;
            }
        }
    }
}

static int32_t conv_f(const char *name, int32_t c, int32_t hw, int32_t o, int32_t kk, int32_t s, int32_t pad)
{
    const int32_t oh = (hw + 2 * pad - kk) / s + 1;
    fill_f32(fa, c * hw * hw);
    fill_f32(fb, o * c * kk * kk);
    fill_f32(fbias, o);
    uint64_t t0 = plat_ticks();
    conv_ref(fa, fb, fbias, fy_ref, c, hw, o, kk, s, pad, oh);
    uint64_t t1 = plat_ticks();
    exf_conv2d_f32(fa, fb, fbias, fy_new, 1, c, hw, hw, o, kk, kk, s, s, pad, pad, 1, 1, 1, oh, oh);
    uint64_t t2 = plat_ticks();
    guard();
    return report(name, fy_ref, fy_new, 4 * o * oh * oh, (int64_t)o * oh * oh * c * kk * kk, t1 - t0, t2 - t1);
}

static int32_t linear_f(const char *name, int32_t rows, int32_t k, int32_t m)
{
    fill_f32(fa, rows * k);
    fill_f32(fb, m * k);
    fill_f32(fbias, m);
    uint64_t t0 = plat_ticks();
    linear_ref(fa, fb, fbias, fy_ref, rows, k, m);
    uint64_t t1 = plat_ticks();
    exf_linear_f32(fa, fb, fbias, fy_new, rows, k, m);
    uint64_t t2 = plat_ticks();
    guard();
    return report(name, fy_ref, fy_new, 4 * rows * m, (int64_t)rows * k * m, t1 - t0, t2 - t1);
}

static int32_t matmul_f(const char *name, int32_t m, int32_t k, int32_t n)
{
    fill_f32(fa, m * k);
    fill_f32(fb, k * n);
    uint64_t t0 = plat_ticks();
    matmul_ref(fa, fb, fy_ref, m, k, n);
    uint64_t t1 = plat_ticks();
    exf_matmul_f32(fa, fb, fy_new, 1, m, k, n, 0, 0);
    uint64_t t2 = plat_ticks();
    guard();
    return report(name, fy_ref, fy_new, 4 * m * n, (int64_t)m * k * n, t1 - t0, t2 - t1);
}

int main(void)
{
    plat_init();
    int32_t bad = 0;
    bad |= matmul_q("matmul_s8_qk", 4, 50, 16, 50, 38); /* the MNIST ViT's scores, per head */
    bad |= matmul_q("matmul_s8_av", 4, 50, 50, 16, 40); /* and its probabilities @ values */
    bad |= matmul_q("matmul_s8_odd", 3, 7, 13, 9, 31);  /* odd m, n; k = 13; the shift < 33 path */
    bad |= conv_q("conv_s8_patch", 1, 28, 64, 4, 4, 0, 1); /* the MNIST ViT's patch embedding */
    bad |= conv_q("conv_s8_3x3", 3, 11, 5, 3, 1, 1, 1);   /* padding, odd o */
    bad |= conv_q("conv_s8_dw", 8, 12, 8, 3, 1, 1, 8);    /* depthwise: the direct path */
    bad |= conv_q("conv_s8_mult2", 4, 12, 8, 3, 1, 1, 4); /* channel multiplier 2 */
    for (int32_t i = 0; i < 60 && !bad; i++) bad |= conv_random();
    bad |= linear_f("linear_f32_vit", 50, 64, 64);        /* the MNIST ViT's attention projections */
    bad |= linear_f("linear_f32_odd", 7, 37, 13);         /* odd rows, tails of k and m */
    bad |= matmul_f("matmul_f32_qk", 50, 16, 50);
    bad |= matmul_f("matmul_f32_odd", 9, 19, 11);
    bad |= conv_f("conv_f32_patch", 1, 28, 64, 4, 4, 0); /* the MNIST ViT's patch embedding */
    bad |= conv_f("conv_f32_3x3", 3, 9, 6, 3, 1, 1);    /* padding; 4 + 2 channels */
    if (bad) plat_exit(PLAT_EXIT_CHECK_FAILED);
    plat_log("mm speed: all outputs equal\n");
    plat_exit(PLAT_EXIT_OK);
}
