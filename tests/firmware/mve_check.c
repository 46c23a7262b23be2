/* The int8 batch matmul, conv, table lookup, multiply and add against their portable twins on random
 * shapes, built for mps3-an547 (tests/firmware/test_kernels_mve_mm.py), where exf_matmul_s8_dsp and
 * exf_conv2d_s8_dsp run their Helium forms (quant_matmul_mve.c, quant_conv_mve.c), exf_lut_s8 its VLDRB
 * gather and exf_mul_qq on int8 operands its vector form (quant_elementwise_mve.c), exf_add_q on int8 or
 * int16 quant_add_mve.c; the multiply and add against the contract's int64 arithmetic (edgexf_kernels.h),
 * operands contiguous or broadcast. Built for another core it checks the DSP forms the same way.
 * Random shapes: odd m, n, k of every residue mod 16 (k < 16 too), n past the 32-column chunk,
 * broadcast batches, zero points at the extremes, shifts 24..56 (the vector requantization from 32 up,
 * 32 itself, the int64 one below); every conv geometry (groups, padding, stride, dilation). Each kernel
 * writes only inside the scratch kernel_choice.py sizes for its DSP form (a guard after it). Exits
 * PLAT_EXIT_CHECK_FAILED at the first difference, naming the case; logs the timed cases
 * (the MNIST ViT's shapes) as "time NAME MACS portable_ticks fast_ticks". */
#include <string.h>

#define CHECK_RNG_SEED 0x6A09E667u
#include "check_common.h"
#include "edgexf_kernels.h"

#define MAX_Q 10240 /* int8 elements of an operand or a result */
#define SCRATCH_WORDS 4096
#define GUARD 0x5A5A5A5Au
#define RANDOM_CASES 200

static int8_t qa[MAX_Q], qb[MAX_Q], table[256];
static int8_t y_ref[MAX_Q] __attribute__((aligned(4))), y_new[MAX_Q] __attribute__((aligned(4)));
static int16_t ha[MAX_Q / 2], hb[MAX_Q / 2];
static int32_t bias[256], mult[256], shift[256];
static uint32_t scratch[SCRATCH_WORDS + 16];

static int32_t rng_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rng() % (uint32_t)(hi - lo + 1)); }

static int32_t rng_zp(void) { return rng() % 2 ? (rng() % 2 ? -128 : 127) : rng_in(-128, 127); }

static int32_t rng_mult(void) { return rng_in(1 << 29, 0x7FFFFFFF) * (rng() % 8 == 0 ? -1 : 1); }

static void fill_s8(int8_t *p, int32_t n)
{
    for (int32_t i = 0; i < n; i++) p[i] = (int8_t)rng();
}

/* the guard words right after the scratch bytes the kernel may use */
static void guard(int32_t bytes)
{
    for (int32_t i = 0; i < 16; i++) scratch[(bytes + 3) / 4 + i] = GUARD;
}

static int32_t check(const char *name, int32_t bytes, int32_t outputs, int64_t macs, uint64_t t_ref, uint64_t t_new,
                     int32_t timed)
{
    for (int32_t i = 0; i < 16; i++) {
        if (scratch[(bytes + 3) / 4 + i] != GUARD) {
            plat_log("SCRATCH OVERRUN ");
            plat_log(name);
            plat_log("\n");
            return -1;
        }
    }
#ifdef MVE_CHECK_SELFTEST /* test_kernels_mve_mm.py: a wrong byte must be caught */
    y_new[outputs / 2] ^= 1;
#endif
    if (memcmp(y_ref, y_new, (size_t)outputs) != 0) {
        plat_log("MISMATCH ");
        plat_log(name);
        plat_log(" macs ");
        log_num(macs);
        plat_log("\n");
        return -1;
    }
    if (timed) log_case_time(name, macs, t_ref, t_new);
    return 0;
}

/* exf_matmul_s8_dsp against exf_matmul_s8; bcast: 1 = a broadcast over the batch, 2 = b */
static int32_t matmul_case(const char *name, int32_t batch, int32_t m, int32_t k, int32_t n, int32_t bcast,
                           int32_t shift_v, int32_t timed)
{
    const exf_matmul_q_params_t p = {
        .batch = batch, .m = m, .k = k, .n = n, .a_batch_stride = bcast == 1 ? 0 : m * k,
        .b_batch_stride = bcast == 2 ? 0 : k * n, .a_zp = timed ? -3 : rng_zp(), .b_zp = timed ? 7 : rng_zp(),
        .mult = timed ? 1518500250 : rng_mult(), .shift = shift_v, .out_zp = timed ? -5 : rng_zp()};
    const int32_t g = (k + 3) / 4, m2 = m + m % 2, n2 = n + n % 2, bytes = 8 * g * (m2 + n2) + 8 * n2;
    fill_s8(qa, (bcast == 1 ? 1 : batch) * m * k);
    fill_s8(qb, (bcast == 2 ? 1 : batch) * k * n);
    guard(bytes);
    uint64_t t0 = plat_ticks();
    exf_matmul_s8(&p, qa, qb, y_ref);
    uint64_t t1 = plat_ticks();
    exf_matmul_s8_dsp(&p, qa, qb, y_new, scratch);
    uint64_t t2 = plat_ticks();
    return check(name, bytes, batch * m * n, (int64_t)batch * m * k * n, t1 - t0, t2 - t1, timed);
}

/* exf_conv2d_s8_dsp against exf_conv2d_s8 on the geometry g = {c, h, w, o, kh, kw, sh, sw, pt, pl, dh, dw,
 * groups}, pb and pr the bottom and right padding */
static int32_t conv_case(const char *name, const int32_t *g, int32_t pb, int32_t pr, int32_t timed)
{
    const int32_t c = g[0], h = g[1], w = g[2], o = g[3], kh = g[4], kw = g[5], groups = g[12];
    const int32_t oh = (h + g[8] + pb - g[10] * (kh - 1) - 1) / g[6] + 1;
    const int32_t ow = (w + g[9] + pr - g[11] * (kw - 1) - 1) / g[7] + 1;
    const int32_t taps = c / groups * kh * kw, bytes = 8 * ((taps + 3) / 4) * (EXF_CONV_BLOCK + 3) + 8 * EXF_CONV_BLOCK;
    const int32_t has_bias = timed || rng() % 4 != 0;
    for (int32_t j = 0; j < o; j++) {
        bias[j] = rng_in(-100000, 100000);
        mult[j] = timed ? rng_in(1 << 30, 0x7FFFFFFF) : rng_mult();
        shift[j] = timed ? rng_in(36, 42) : rng_in(24, 56);
    }
    const exf_conv2d_q_params_t p = {
        .w = qb, .bias = has_bias ? bias : NULL, .mult = mult, .shift = shift, .n = 1, .c = c, .h = h, .wd = w,
        .o = o, .kh = kh, .kw = kw, .sh = g[6], .sw = g[7], .pt = g[8], .pl = g[9], .dh = g[10], .dw = g[11],
        .groups = groups, .oh = oh, .ow = ow, .in_zp = timed ? -4 : rng_zp(), .out_zp = timed ? 6 : rng_zp()};
    fill_s8(qa, c * h * w);
    fill_s8(qb, o * taps);
    guard(bytes);
    uint64_t t0 = plat_ticks();
    exf_conv2d_s8(&p, qa, y_ref);
    uint64_t t1 = plat_ticks();
    exf_conv2d_s8_dsp(&p, qa, y_new, scratch);
    uint64_t t2 = plat_ticks();
    return check(name, bytes, o * oh * ow, (int64_t)o * oh * ow * taps, t1 - t0, t2 - t1, timed);
}

/* exf_lut_s8 against a plain lookup, in place (y == x) every other case; logs elements as MACs */
static int32_t lut_case(const char *name, int32_t n, int32_t in_place, int32_t timed)
{
    fill_s8(table, 256);
    fill_s8(qa, n);
    const exf_lut_params_t p = {.table = table, .n = n};
    uint64_t t0 = plat_ticks();
    for (int32_t i = 0; i < n; i++) y_ref[i] = table[qa[i] + 128];
    uint64_t t1 = plat_ticks();
    exf_lut_s8(&p, qa, in_place ? qa : y_new);
    uint64_t t2 = plat_ticks();
    if (in_place) memcpy(y_new, qa, (size_t)n);
    guard(0);
    return check(name, 0, n, n, t1 - t0, t2 - t1, timed);
}

/* Element i of an int8 (bytes 1) or int16 array, and a store saturated to y's type */
static int32_t at(const void *p, int32_t bytes, int32_t i)
{
    return bytes == 1 ? ((const int8_t *)p)[i] : ((const int16_t *)p)[i];
}

static void put(void *p, int32_t bytes, int32_t i, int64_t v)
{
    const int64_t top = bytes == 1 ? 127 : 32767;
    v = v > top ? top : v < -top - 1 ? -top - 1 : v;
    if (bytes == 1) {
        ((int8_t *)p)[i] = (int8_t)v;
    } else {
        ((int16_t *)p)[i] = (int16_t)v;
    }
}

/* a's strides for rows x n by kind: 0 contiguous, 1 one element per row (broadcast along n), 2 one row
 * for all rows */
static void strides(int32_t kind, int32_t n, int32_t *s)
{
    s[0] = s[1] = 0;
    s[2] = kind == 0 ? n : kind == 1 ? 1 : 0;
    s[3] = kind == 1 ? 0 : 1;
}

/* exf_mul_qq (int8 operands, y int8 or int16) or exf_add_q (all int8 or all int16: bytes) against the
 * contract's int64 arithmetic (edgexf_kernels.h), a and b broadcast by kind_a, kind_b; terms random unless
 * timed (then the sequential-MNIST LMU's) */
static int32_t eltwise_case(const char *name, int32_t add, int32_t rows, int32_t n, int32_t kind_a, int32_t kind_b,
                            int32_t bytes, int32_t y_bytes, int32_t timed)
{
    int32_t sa[4], sb[4];
    strides(kind_a, n, sa);
    strides(kind_b, n, sb);
    const void *a = bytes == 1 ? (const void *)qa : (const void *)ha, *b = bytes == 1 ? (const void *)qb : (const void *)hb;
    for (int32_t i = 0; i < rows * n; i++) {
        qa[i] = (int8_t)rng();
        qb[i] = (int8_t)rng();
        ha[i] = (int16_t)rng();
        hb[i] = (int16_t)rng();
    }
    const int32_t a_zp = timed ? (add ? 0 : -14) : bytes == 2 && rng() % 2 ? 0 : rng_zp();
    const int32_t b_zp = timed ? (add ? 0 : -1) : bytes == 2 && rng() % 2 ? 0 : rng_zp();
    const int32_t out_zp = timed || y_bytes == 2 ? 0 : rng_zp(), shift = timed ? 30 : rng_in(18, 50);
    const int32_t ma = timed ? (add ? 1097824021 : 1941251762) : rng_mult(), mb = timed ? 167108528 : rng_mult();
    uint64_t t0 = plat_ticks();
    for (int32_t r = 0; r < rows; r++) {
        for (int32_t i = 0; i < n; i++) {
            const int64_t u = at(a, bytes, r * sa[2] + i * sa[3]) - a_zp, v = at(b, bytes, r * sb[2] + i * sb[3]) - b_zp;
            const int64_t t = add ? u * ma + v * mb : u * v * ma;
            put(y_ref, y_bytes, r * n + i, ((t + ((int64_t)1 << (shift - 1))) >> shift) + out_zp);
        }
    }
    uint64_t t1 = plat_ticks();
    if (add) {
        const exf_add_q_params_t p = {.shape = {1, 1, rows, n}, .sa = {sa[0], sa[1], sa[2], sa[3]},
                                      .sb = {sb[0], sb[1], sb[2], sb[3]}, .a_bytes = bytes, .b_bytes = bytes,
                                      .y_bytes = y_bytes, .add = {a_zp, b_zp, ma, mb, shift, out_zp}};
        exf_add_q(&p, a, b, y_new);
    } else {
        const exf_mul_q_params_t p = {.shape = {1, 1, rows, n}, .sa = {sa[0], sa[1], sa[2], sa[3]},
                                      .sb = {sb[0], sb[1], sb[2], sb[3]}, .a_bytes = 1, .b_bytes = 1,
                                      .y_bytes = y_bytes, .a_zp = a_zp, .b_zp = b_zp, .mult = ma, .shift = shift,
                                      .out_zp = out_zp};
        exf_mul_qq(&p, a, b, y_new);
    }
    uint64_t t2 = plat_ticks();
    guard(0);
    return check(name, 0, rows * n * y_bytes, rows * n, t1 - t0, t2 - t1, timed);
}

int main(void)
{
    plat_init();
    int32_t bad = 0;
    bad |= matmul_case("matmul_s8_qk", 4, 50, 16, 50, 0, 38, 1); /* the MNIST ViT's scores, per head */
    bad |= matmul_case("matmul_s8_av", 4, 50, 50, 16, 0, 40, 1); /* its probabilities @ values */
    static const int32_t PATCH[13] = {1, 28, 28, 64, 4, 4, 4, 4, 0, 0, 1, 1, 1};
    bad |= conv_case("conv_s8_patch", PATCH, 0, 0, 1); /* the MNIST ViT's patch embedding (--no-fusion) */
    static const int32_t CONV3[13] = {8, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    bad |= conv_case("conv_s8_3x3", CONV3, 1, 1, 1); /* a 3 x 3 conv with padding */
    bad |= lut_case("lut_s8_gelu", 6400, 1, 1);      /* the MNIST ViT's GELU table (50 tokens x 128) */
    for (int32_t i = 0; i < RANDOM_CASES && !bad; i++) {
        const int32_t k = i < 34 ? i + 1 : rng_in(1, 70), shift_v = i % 7 == 0 ? 32 : rng_in(24, 56);
        bad |= matmul_case("matmul_random", rng_in(1, 3), rng_in(1, 13), k, rng_in(1, 40), rng_in(0, 2), shift_v, 0);
    }
    for (int32_t i = 0; i < RANDOM_CASES && !bad; i++) {
        const int32_t cg = rng_in(1, 3), groups = rng_in(1, 3), og = rng_in(1, 5), dil = rng_in(1, 2);
        int32_t g[13] = {cg * groups, rng_in(1, 11), rng_in(1, 11), og * groups, rng_in(1, 4), rng_in(1, 8),
                         rng_in(1, 3), rng_in(1, 4), rng_in(0, 2), rng_in(0, 2), dil, dil, groups};
        const int32_t pb = rng_in(0, 2), pr = rng_in(0, 2);
        if (g[1] + g[8] + pb < dil * (g[4] - 1) + 1 || g[2] + g[9] + pr < dil * (g[5] - 1) + 1) continue; /* none */
        if (i % 5 == 0) { /* a patch embedding: kernel = stride, taps of every residue mod 16 */
            g[4] = g[6] = rng_in(1, 5);
            g[5] = g[7] = rng_in(1, 9);
            g[1] = g[4] * rng_in(1, 4);
            g[2] = g[5] * rng_in(1, 4);
            g[8] = g[9] = 0;
            g[10] = g[11] = 1;
            bad |= conv_case("conv_random_patch", g, 0, 0, 0);
        } else {
            bad |= conv_case("conv_random", g, pb, pr, 0);
        }
    }
    for (int32_t i = 0; i < RANDOM_CASES && !bad; i++) bad |= lut_case("lut_random", rng_in(1, 300), i % 2, 0);
    /* the LMU's: its memory update's outer product (int8 x int8 -> int16) and its int16 state add */
    bad |= eltwise_case("mul_s8_outer", 0, 32, 16, 1, 2, 1, 2, 1);
    bad |= eltwise_case("add_s16_lmu", 1, 1, 512, 0, 0, 2, 2, 1);
    for (int32_t i = 0; i < RANDOM_CASES && !bad; i++) { /* every broadcast, int8 or int16 y, odd n */
        const int32_t add = i % 2, bytes = add ? 1 + (i / 2) % 2 : 1, y_bytes = add ? bytes : 1 + (i / 2) % 2;
        bad |= eltwise_case(add ? "add_random" : "mul_random", add, rng_in(1, 5), rng_in(1, 40), rng_in(0, 2),
                            rng_in(0, 2), bytes, y_bytes, 0);
    }
    if (bad) plat_exit(PLAT_EXIT_CHECK_FAILED);
    plat_log("mve check: all outputs equal\n");
    plat_exit(PLAT_EXIT_OK);
}
