/* Kernel check: runs each fast kernel (_dsp, and exf_linear_s8_w16 with its weights packed here) and its
 * portable twin (for exf_layernorm_s8's own loop: exf_layernorm_s16 on the same values) on the same random
 * data, over
 * on random shapes (odd sizes and tails included) and over the shapes of the example ViTs; exits
 * PLAT_EXIT_CHECK_FAILED at the first output byte that differs, naming the kernel and the shape.
 * For the fixed shapes it also logs both kernels' ticks, one line each:
 *   time KERNEL rows k m portable_ticks fast_ticks
 * (for exf_attention_s8_dsp: time KERNEL t heads dh portable_ticks fast_ticks scratch_bytes).
 * Build: edgexf/targets/toolchain.py build_kernel_check (host gcc, or a board / QEMU image).
 */
#include "edgexf_kernels.h"
#include "platform.h"
#include "quant_add.h" /* the library's internal add helpers (exfq_add_row, exfq_add8_row) */
#include "quant_common.h" /* the library's internal LayerNorm twin (exfq_layernorm_plain_portable) */
#include "check_common.h" /* rng() */

#define MAX_ROWS 64
#define MAX_K 512
#define MAX_M 384
#define RANDOM_CASES 300
#define RANDOM_ATTENTION_CASES 200
#define RANDOM_PATCH_CASES 300
#define RANDOM_LN_CASES 200
#define RANDOM_ADD_CASES 300

static int8_t x[MAX_ROWS * MAX_K];
#define MAX_W 49152 /* int8 weights of the largest shape (384 x 128); then their int16 pairs (pack_w16) */
static int8_t w[3 * MAX_W] __attribute__((aligned(8)));
static int32_t bias[MAX_M], mult[MAX_M], shift[MAX_M];
static int8_t y_portable[MAX_ROWS * MAX_M] __attribute__((aligned(8))), y_fast[MAX_ROWS * MAX_M] __attribute__((aligned(8)));
static uint32_t scratch[EXF_DSP_BLOCK_ROWS * MAX_K / 4 * 2];

/* attention: t <= MAX_T tokens, dh <= MAX_DH, heads * dh <= MAX_D; qkv lives in w, y in y_portable/y_fast */
#define MAX_T 64
#define MAX_DH 40
#define MAX_D 160
#define GUARD_BYTES 64 /* past the scratch the kernel declares: must stay untouched */
#define MAX_GD ((MAX_DH + 3) / 4) /* groups of 4 along dh, and along t (MAX_T, MAX_DH even) */
#define MAX_GT ((MAX_T + 3) / 4)
#define ATT_SCRATCH_MAX (8 * (MAX_T * MAX_GD + MAX_DH * MAX_GT + 2 * MAX_GD + 2 * MAX_GT + MAX_T))
static uint32_t att_scratch[(ATT_SCRATCH_MAX + GUARD_BYTES) / 4];
static int32_t att_scores[MAX_T];
static int16_t exp_table[512]; /* EXF_ATTENTION_TABLE */


static int32_t rng_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rng() % (uint32_t)(hi - lo + 1)); }

static void log_field(int64_t v) /* the number and a space */
{
    log_num(v);
    plat_log(" ");
}

static void log_shape(const char *what, const char *kernel, int32_t rows, int32_t k, int32_t m)
{
    plat_log(what);
    plat_log(kernel);
    plat_log(" ");
    log_field(rows);
    log_field(k);
    log_field(m);
}

/* Random operands; shifts from lo to hi: random shapes take both below 33 and from 33 up (the fast
 * requantizations' paths), timed ones 33 to 46, as the example ViTs do. */
static void fill(int32_t rows, int32_t k, int32_t m, int32_t lo, int32_t hi)
{
    for (int32_t i = 0; i < rows * k; i++) x[i] = (int8_t)rng();
    for (int32_t i = 0; i < m * k; i++) w[i] = (int8_t)rng();
    for (int32_t j = 0; j < m; j++) {
        bias[j] = rng_in(-100000, 100000);
        mult[j] = rng_in(1 << 29, 0x7FFFFFFF) * (rng() % 8 == 0 ? -1 : 1);
        shift[j] = rng_in(lo, hi);
    }
}

/* The weights w (m x k) as exf_linear_s8_w16's pair-row matrix (edgexf/codegen/wide_weights.py's layout):
 * written after the int8 weights, into the 2 MAX_W bytes kept for it. */
static const int16_t *pack_w16(int32_t k, int32_t m)
{
    int16_t *w16 = (int16_t *)(void *)(w + MAX_W);
    const int32_t groups = (k + 3) / 4, pairs = (m + 1) / 2;
    for (int32_t p = 0; p < pairs; p++) {
        for (int32_t g = 0; g < groups; g++) {
            for (int32_t s = 0; s < 2; s++) {
                const int32_t j = 2 * p + s;
                for (int32_t e = 0; e < 4; e++) { /* element e of the group: word e % 2, half e / 2 */
                    const int32_t col = 4 * g + e;
                    const int16_t v = j < m && col < k ? w[j * k + col] : 0;
                    w16[((p * groups + g) * 4 + s * 2 + e % 2) * 2 + e / 2] = v;
                }
            }
        }
    }
    return w16;
}

/* exf_linear_s8_w16's requantization terms (edgexf/codegen/wide_weights.py's), for shifts in [33, 53] */
static int32_t rq[2 * MAX_M];

static const int32_t *rq_terms(int32_t m, int32_t out_zp, int32_t pre_shift)
{
    for (int32_t j = 0; j < m; j++) {
        const int32_t s = shift[j] + pre_shift;
        rq[2 * j] = (int32_t)((1u << (s - 33)) + (uint32_t)out_zp * (1u << (s - 32)));
        rq[2 * j + 1] = s - 32;
    }
    return rq;
}

static int32_t compare(const char *kernel, int32_t rows, int32_t k, int32_t m, const int8_t *fast)
{
    for (int32_t i = 0; i < rows * m; i++) {
        if (y_portable[i] != fast[i]) {
            log_shape("MISMATCH ", kernel, rows, k, m);
            plat_log("at element ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    return 0;
}

static void log_time(const char *kernel, int32_t rows, int32_t k, int32_t m, uint64_t portable, uint64_t fast)
{
    log_shape("time ", kernel, rows, k, m);
    log_field((int64_t)portable);
    log_field((int64_t)fast);
    plat_log("\n");
}

/* exf_linear_q_w16 against exf_linear_q: x and y int8 or int16, rows from 1 (a recurrent step) up; half
 * the random shapes with shifts from 31, which need a pre-shift of the sums by up to 2 (their sums stay
 * below 2^28: k <= 70) */
#define MAX_Q_ROWS 8 /* rows * k and rows * m within 8 rows of the largest: random rows <= 7, the LMU's 32 x 16 */
static int16_t x16[MAX_Q_ROWS * MAX_K];
static int16_t yq_portable[MAX_Q_ROWS * MAX_M], yq_fast[MAX_Q_ROWS * MAX_M];

/* timed: 0 not, 1 exf_linear_q_w16, 2 exf_linear_q_w16_rows (rows >= 2) */
static int32_t check_linear_q(int32_t rows, int32_t k, int32_t m, int32_t x_bytes, int32_t y_bytes, int32_t timed)
{
    fill(rows, k, m, timed || rng() % 2 ? 33 : 31, 51);
    int32_t pre_shift = 0;
    for (int32_t j = 0; j < m; j++) pre_shift = 33 - shift[j] > pre_shift ? 33 - shift[j] : pre_shift;
    for (int32_t i = 0; i < rows * k; i++) x16[i] = (int16_t)rng();
    for (int32_t j = 0; j < m; j++) bias[j] = rng_in(-(1 << 20), 1 << 20);
    const int32_t out_zp = y_bytes == 1 ? rng_in(-128, 127) : 0; /* int16 tensors are symmetric */
    const int32_t *b = timed || rng() % 4 != 0 ? bias : NULL; /* timed: with a bias, as the models' layers */
    const void *xv = x_bytes == 1 ? (const void *)x : (const void *)x16;
    const int16_t *w16 = pack_w16(k, m);
    const int32_t *terms = rq_terms(m, out_zp, pre_shift);
    const exf_linear_q_params_t portable = {.fc = {.w = w, .bias = b, .mult = mult, .shift = shift, .out_zp = out_zp},
                                            .rows = rows, .k = k, .m = m, .x_bytes = x_bytes, .y_bytes = y_bytes};
    const exf_linear_q_params_t fast = {.fc = {.w = w16, .bias = b, .mult = mult, .rq = terms}, .rows = rows, .k = k,
                                        .m = m, .x_bytes = x_bytes, .y_bytes = y_bytes, .pre_shift = pre_shift};
    uint64_t t0 = plat_ticks();
    exf_linear_q(&portable, xv, yq_portable);
    uint64_t t1 = plat_ticks();
    /* two rows and more: half the random shapes (timed: timed == 2) through the rows entry, which takes
     * the other cases (no bias, a pre-shift) to exf_linear_q_w16 */
    const int32_t by_rows = rows >= 2 && (timed ? timed == 2 : (int32_t)(rng() % 2));
    if (by_rows) {
        exf_linear_q_w16_rows(&fast, xv, yq_fast, scratch);
    } else {
        exf_linear_q_w16(&fast, xv, yq_fast, scratch);
    }
    uint64_t t2 = plat_ticks();
#ifdef KERNEL_CHECK_SELFTEST_Q
    ((int8_t *)yq_fast)[(rows * m * y_bytes) / 2] ^= 1;
#endif
    const int8_t *p = (const int8_t *)yq_portable, *f = (const int8_t *)yq_fast;
    for (int32_t i = 0; i < rows * m * y_bytes; i++) {
        if (p[i] != f[i]) {
            log_shape("MISMATCH ", by_rows ? (x_bytes == 2 ? "exf_linear_q_w16_rows/x16" : "exf_linear_q_w16_rows/x8")
                                           : (x_bytes == 2 ? "exf_linear_q_w16/x16" : "exf_linear_q_w16/x8"),
                      rows, k, m);
            plat_log("at byte ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    if (timed) log_time(by_rows ? "exf_linear_q_w16_rows" : "exf_linear_q_w16", rows, k, m, t1 - t0, t2 - t1);
    return 0;
}

/* exf_linear_s8_dsp (on a Helium core: its MVE form, quant_dot_mve.c) and exf_linear_s8_w16 against exf_linear_s8 */
static int32_t check_linear(int32_t rows, int32_t k, int32_t m, int32_t timed)
{
    /* random shapes: half with every shift in [32, 53] (the MVE kernel's vector requantization, 32 included) */
    fill(rows, k, m, timed ? 33 : rng() % 2 ? 32 : 24, 53);
    const int32_t out_zp = rng_in(-128, 127);
    const int32_t *b = timed || rng() % 4 != 0 ? bias : NULL; /* timed: with a bias, as the models' layers */
    const int16_t *w16 = pack_w16(k, m);
    const exf_linear_q_params_t lin = {.fc = {.w = w, .bias = b, .mult = mult, .shift = shift, .out_zp = out_zp},
                                       .rows = rows, .k = k, .m = m, .x_bytes = 1, .y_bytes = 1};
    uint64_t t0 = plat_ticks();
    exf_linear_s8(&lin, x, y_portable);
    uint64_t t1 = plat_ticks();
    exf_linear_s8_dsp(&lin, x, y_fast, scratch);
    uint64_t t2 = plat_ticks();
#ifdef KERNEL_CHECK_SELFTEST /* tests/firmware/test_kernels_dsp.py: a wrong byte must be caught */
    y_fast[(rows * m) / 2] ^= 1;
#endif
    if (compare("exf_linear_s8_dsp", rows, k, m, y_fast) != 0) return -1;
    for (int32_t j = 0; j < m; j++) shift[j] = shift[j] < 33 ? 33 : shift[j]; /* the w16 kernel's range */
    exf_linear_s8(&lin, x, y_portable); /* lin.fc.shift is shift */
    const int32_t *terms = rq_terms(m, out_zp, 0);
    const exf_linear_q_params_t wide = {.fc = {.w = w16, .bias = b, .mult = mult, .rq = terms}, .rows = rows, .k = k,
                                        .m = m, .x_bytes = 1, .y_bytes = 1};
    uint8_t *guard = (uint8_t *)scratch + 16 * ((k + 3) / 4) + 16 * ((m + 1) / 2); /* past its declared scratch */
    for (int32_t i = 0; i < GUARD_BYTES; i++) guard[i] = 0xA5;
    uint64_t t3 = plat_ticks();
    (rows >= 2 && b ? exf_linear_s8_w16_rows : exf_linear_s8_w16)(&wide, x, y_fast, scratch); /* as codegen */
    uint64_t t4 = plat_ticks();
#ifdef KERNEL_CHECK_SELFTEST_W16
    y_fast[(rows * m) / 2] ^= 1;
#endif
    for (int32_t i = 0; i < GUARD_BYTES; i++) {
        if (guard[i] != 0xA5) {
            log_shape("SCRATCH OVERRUN ", "exf_linear_s8_w16", rows, k, m);
            plat_log("\n");
            return -1;
        }
    }
    if (compare("exf_linear_s8_w16", rows, k, m, y_fast) != 0) return -1;
    if (timed) {
        log_time("exf_linear_s8_dsp", rows, k, m, t1 - t0, t2 - t1);
        log_time("exf_linear_s8_w16", rows, k, m, t1 - t0, t4 - t3);
    }
    return 0;
}

/* The scratch exf_attention_s8_dsp declares (edgexf_kernels.h; kernel_choice.attention_scratch). */
static int32_t attention_scratch_bytes(int32_t t, int32_t dh)
{
    const int32_t gd = (dh + 3) / 4, gt = (t + 3) / 4, t2 = (t + 1) / 2 * 2, dh2 = (dh + 1) / 2 * 2;
    return 8 * (t2 * gd + dh2 * gt + 2 * gd + 2 * gt + (t2 > dh2 ? t2 : dh2));
}

/* A zero point: an extreme one (-128, 127) half of the time, else any int8. */
static int32_t rng_zp(void) { return rng() % 2 ? (rng() % 2 ? -128 : 127) : rng_in(-128, 127); }

/* exf_attention_s8_dsp against exf_attention_s8 on random qkv, zero points (extremes often), exp table
 * (int16 in [0, 32767], often with every entry 32767 or 0 after the first: saturated and one-hot
 * weights) and multipliers: exp_shift over its whole range 33..62 (scores from hundreds of table steps
 * apart to all in step 0), av_shift so that the row shift takes both requantization paths and
 * saturates; the timed shapes take the example ViTs' (exp_shift 38, av_shift 28..34). One
 * case in eight has every query equal (all-equal scores in a row). */
static int32_t check_attention(int32_t t, int32_t heads, int32_t dh, int32_t timed)
{
    int8_t *qkv = w;
    const int32_t d = heads * dh, bytes = attention_scratch_bytes(t, dh);
    const int32_t flat = !timed && rng() % 8 == 0;
    for (int32_t i = 0; i < t * 3 * d; i++) qkv[i] = (int8_t)rng();
    if (flat) { /* every key the same: every score of a row equal */
        for (int32_t j = 1; j < t; j++) {
            for (int32_t c = 0; c < d; c++) qkv[j * 3 * d + d + c] = qkv[d + c];
        }
    }
    const int32_t table_kind = timed ? 0 : rng_in(0, 3);
    for (int32_t i = 0; i < 512; i++) {
        exp_table[i] = (int16_t)(table_kind == 1 ? 32767 : table_kind == 2 ? 0 : rng_in(0, 32767));
    }
    exp_table[0] = (int16_t)(table_kind == 3 ? 1 : rng_in(1, 32767)); /* the row max's weight: never 0 */
    const int32_t q_zp = rng_zp(), k_zp = rng_zp(), v_zp = rng_zp(), out_zp = rng_zp();
    const int32_t exp_mult = rng_in(1, 0x7FFFFFFF), exp_shift = timed ? 38 : rng_in(33, 62);
    const int32_t av_mult = rng_in(1 << 29, 0x7FFFFFFF), av_shift = timed ? rng_in(28, 34) : rng_in(1, 42);
    uint8_t *guard = (uint8_t *)att_scratch + bytes;
    for (int32_t i = 0; i < GUARD_BYTES; i++) guard[i] = 0xA5;
    const exf_attention_q_params_t att = {
        .exp_table = exp_table, .t = t, .heads = heads, .dh = dh, .q_zp = q_zp, .k_zp = k_zp, .v_zp = v_zp,
        .exp_mult = exp_mult, .exp_shift = exp_shift, .av_mult = av_mult, .av_shift = av_shift, .out_zp = out_zp};
    uint64_t t0 = plat_ticks();
    exf_attention_s8(&att, qkv, y_portable, att_scores);
    uint64_t t1 = plat_ticks();
    exf_attention_s8_dsp(&att, qkv, y_fast, att_scratch);
    uint64_t t2 = plat_ticks();
#ifdef KERNEL_CHECK_SELFTEST_ATTENTION /* tests/firmware/test_kernels_dsp.py: a wrong byte must be caught */
    y_fast[(t * d) / 2] ^= 1;
#endif
    for (int32_t i = 0; i < GUARD_BYTES; i++) {
        if (guard[i] != 0xA5) {
            log_shape("SCRATCH OVERRUN ", "exf_attention_s8_dsp", t, heads, dh);
            plat_log("\n");
            return -1;
        }
    }
    for (int32_t i = 0; i < t * d; i++) {
        if (y_portable[i] != y_fast[i]) {
            log_shape("MISMATCH ", "exf_attention_s8_dsp", t, heads, dh);
            plat_log("at element ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    if (timed) {
        log_shape("time ", "exf_attention_s8_dsp", t, heads, dh);
        log_field((int64_t)(t1 - t0));
        log_field((int64_t)(t2 - t1));
        log_field(bytes);
        plat_log("\n");
    }
    return 0;
}

/* patch embedding: at most MAX_PATCHES patches of at most MAX_TAPS taps, d <= MAX_PD outputs */
#define MAX_PATCHES 64
#define MAX_TAPS 192
#define MAX_PD 64
#define PE_ROW_MAX (8 * MAX_PD * 2) /* a patch row's tokens: at most 8 patches across, int16 */
static int8_t cls_buf[MAX_PD], pos_buf[(MAX_PATCHES + 1) * MAX_PD];
static int32_t pos_add[6];
static uint32_t pe_scratch[PE_ROW_MAX / 4];

/* The scratch exf_patch_embed_s8_w16 declares (edgexf_kernels.h; kernel_choice.patch_scratch). */
static int32_t patch_scratch_bytes(int32_t k, int32_t nw, int32_t d, int32_t y_bytes)
{
    return (nw * d * y_bytes + 7) / 8 * 8 + 16 * ((k + 3) / 4) + 16 * ((d + 1) / 2) + 4 * ((k + 3) / 4);
}

/* exf_patch_embed_s8_w16 against exf_patch_embed_s8: an image of c x (nh p) x (nw p), d outputs, the
 * class token, position embedding and bias each on or off, int8 or int16 tokens, zero points at the
 * extremes often, every conv shift of the fast path (33..53) and pos-add shifts on both sides of 32.
 * Logs as rows, k, m the patches, c p p and d. */
static int32_t check_patch(int32_t c, int32_t nh, int32_t nw, int32_t p, int32_t d, int32_t has_cls,
                           int32_t has_pos, int32_t has_bias, int32_t y_bytes, int32_t timed)
{
    const int32_t h = nh * p, wd = nw * p, k = c * p * p, patches = nh * nw, tokens = patches + (has_cls ? 1 : 0);
    const int32_t bytes = patch_scratch_bytes(k, nw, d, y_bytes);
    for (int32_t i = 0; i < c * h * wd; i++) x[i] = (int8_t)rng();
    for (int32_t i = 0; i < d * k; i++) w[i] = (int8_t)rng();
    for (int32_t j = 0; j < d; j++) {
        bias[j] = rng_in(-100000, 100000);
        mult[j] = rng_in(1 << 29, 0x7FFFFFFF) * (rng() % 8 == 0 ? -1 : 1);
        shift[j] = timed ? rng_in(36, 42) : rng_in(33, 53);
        cls_buf[j] = (int8_t)rng();
    }
    for (int32_t i = 0; i < tokens * d; i++) pos_buf[i] = (int8_t)rng();
    const int32_t big = rng_in(1 << 30, 0x7FFFFFFF), small = rng_in(0, 0x7FFFFFFE), first = rng() % 2;
    pos_add[0] = rng_zp();
    pos_add[1] = rng_zp();
    pos_add[2] = (first ? big : small) * (rng() % 4 == 0 ? -1 : 1); /* the larger |m| in [2^30, 2^31) */
    pos_add[3] = (first ? small : big) * (rng() % 4 == 0 ? -1 : 1);
    /* the ViTs': 30-32; the first random cases take each edge of the fast add's range (10..60) in turn */
    static const int32_t EDGE_SHIFTS[] = {1, 9, 10, 31, 32, 60, 61, 62};
    static uint32_t edge = 0;
    pos_add[4] = timed                                               ? rng_in(30, 32)
                 : edge < sizeof EDGE_SHIFTS / sizeof EDGE_SHIFTS[0] ? EDGE_SHIFTS[edge++]
                 : rng() % 8 == 0                                    ? rng_in(1, 62)
                                                                     : rng_in(26, 45);
    pos_add[5] = y_bytes == 1 ? rng_in(-128, 127) : rng_in(-2000, 2000);
    const int32_t in_zp = rng_zp(), conv_zp = rng_zp();
    const int8_t *cls = has_cls ? cls_buf : NULL, *pos = has_pos ? pos_buf : NULL;
    const int32_t *b = has_bias ? bias : NULL;
    const int16_t *w16 = pack_w16(k, d);
    const int32_t *terms = rq_terms(d, conv_zp, 0);
    uint8_t *guard = (uint8_t *)scratch + bytes;
    for (int32_t i = 0; i < GUARD_BYTES; i++) guard[i] = 0xA5;
    const exf_add_terms_t add = {.a_zp = pos_add[0], .b_zp = pos_add[1], .ma = pos_add[2], .mb = pos_add[3],
                                 .shift = pos_add[4], .out_zp = pos_add[5]};
    const exf_patch_embed_q_params_t portable = {
        .w = w, .bias = b, .mult = mult, .shift = shift, .in_zp = in_zp, .conv_zp = conv_zp, .cls = cls,
        .pos = pos, .pos_add = add, .y_bytes = y_bytes, .c = c, .h = h, .wd = wd, .d = d, .p = p};
    exf_patch_embed_q_params_t fast = portable;
    fast.w = w16;
    fast.shift = NULL;
    fast.rq = terms;
    uint64_t t0 = plat_ticks();
    exf_patch_embed_s8(&portable, x, y_portable, pe_scratch);
    uint64_t t1 = plat_ticks();
    exf_patch_embed_s8_w16(&fast, x, y_fast, scratch);
    uint64_t t2 = plat_ticks();
#ifdef KERNEL_CHECK_SELFTEST_PATCH /* tests/firmware/test_kernels_dsp.py: a wrong byte must be caught */
    y_fast[(tokens * d * y_bytes) / 2] ^= 1;
#endif
    for (int32_t i = 0; i < GUARD_BYTES; i++) {
        if (guard[i] != 0xA5) {
            log_shape("SCRATCH OVERRUN ", "exf_patch_embed_s8_w16", patches, k, d);
            plat_log("\n");
            return -1;
        }
    }
    for (int32_t i = 0; i < tokens * d * y_bytes; i++) {
        if (y_portable[i] != y_fast[i]) {
            log_shape("MISMATCH ", "exf_patch_embed_s8_w16", patches, k, d);
            plat_log("p ");
            log_field(p);
            plat_log("cls pos bias y_bytes ");
            log_field(has_cls);
            log_field(has_pos);
            log_field(has_bias);
            log_field(y_bytes);
            plat_log("at byte ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    if (timed) log_time("exf_patch_embed_s8_w16", patches, k, d, t1 - t0, t2 - t1);
    return 0;
}

/* exf_layernorm_s8 against exf_layernorm_s16 on the same values (its int16 path is the generic loop, the
 * int8 one a loop of its own per output shift, quant_norm.c): the contract's integers either way. gshift
 * 16..23 crosses the output paths around the int8 loop's (sh 33..38); rows of equal values (V == 0),
 * extreme q and gamma, random beta, eps_term and out_zp. plain: the form without gamma (quant_norm_plain.c,
 * its int8 rows on SMLAWB/SMLAWT sixteen and four at a time, or Helium) against its plain C twin, mult in
 * [2^30, 2^31) and mshift 1..40 (slopes from 0 to the 2^22 ceiling). */
static int32_t check_layernorm(int32_t rows, int32_t d, int32_t gshift, int32_t plain)
{
    const int32_t kind = rng() % 4;
    for (int32_t i = 0; i < rows * d; i++) {
        x[i] = (int8_t)(kind == 0 ? 7 : kind == 1 ? (rng() % 2 ? 127 : -128) : (int32_t)rng());
        x16[i] = x[i];
    }
    for (int32_t i = 0; i < d; i++) {
        bias[i] = rng() % 8 == 0 ? (rng() % 2 ? (1 << 30) : -(1 << 30)) : (int32_t)(rng() >> 1) - (1 << 30);
        mult[i] = (int32_t)rng() >> rng_in(0, 16);
    }
    exf_layernorm_q_params_t p = {
        .ln = {.gamma = bias, .beta = mult, .eps_term = rng() % 2 ? 0 : rng() >> rng_in(0, 31),
               .gshift = gshift, .out_zp = rng_in(-128, 127)},
        .rows = rows,
        .d = d,
    };
    if (plain) {
        p.ln.gamma = p.ln.beta = NULL;
        p.ln.mult = (int32_t)((1u << 30) | (rng() >> 2));
        p.ln.mshift = rng_in(1, 40);
    }
    exf_layernorm_s8(&p, x, y_fast);
    if (plain) {
        exfq_layernorm_plain_portable(x, 1, &p.ln, y_portable, rows, d);
    } else {
        exf_layernorm_s16(&p, x16, y_portable);
    }
    for (int32_t i = 0; i < rows * d; i++) {
        if (y_fast[i] != y_portable[i]) {
            log_shape("MISMATCH ", plain ? "exf_layernorm_s8 (no gamma)" : "exf_layernorm_s8", rows, d, gshift);
            plat_log("at element ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    return 0;
}

/* exfq_add8_row (the token MLP's all-int8 residual add on SMLAD, quant_add.h) against exfq_add_row on the
 * same terms: random zero points, multipliers of either sign up to the int16-halves limit, shifts 16..31,
 * odd n, extreme operands, in place (y == a) every other case. Terms it refuses (ok == 0) are counted
 * and skipped: exfq_add_row handles them. */
static int32_t add8_refused;
static int32_t check_add8(int32_t n, int32_t in_place)
{
    const int32_t big = rng() % 8 == 0;
    const exf_add_terms_t terms = {
        .a_zp = rng_in(-128, 127), .b_zp = rng_in(-128, 127),
        .ma = big ? (rng() % 2 ? 2147450879 : -2147450880) : (int32_t)rng() >> rng_in(0, 12),
        .mb = (int32_t)rng() >> rng_in(0, 12), .shift = rng_in(16, 31), .out_zp = rng_in(-128, 127),
    };
    const exfq_add_t p = exfq_add_prepare(1, 1, &terms);
    const exfq_add8_t q = exfq_add8_prepare(&p);
    if (!q.ok) {
        add8_refused++;
        return 0;
    }
    int8_t *a = x, *b = x + MAX_K;
    for (int32_t i = 0; i < n; i++) {
        const uint32_t r = rng();
        a[i] = (int8_t)(r % 16 == 0 ? -128 : r % 16 == 1 ? 127 : (int32_t)(r >> 8));
        b[i] = (int8_t)(r % 16 == 2 ? -128 : r % 16 == 3 ? 127 : (int32_t)(r >> 16));
    }
    exfq_add_row(&p, a, 1, 1, b, 1, 1, y_portable, 1, n);
    if (in_place) {
        exfq_add8_row(&q, a, b, a, n);
    } else {
        exfq_add8_row(&q, a, b, y_fast, n);
    }
    const int8_t *got = in_place ? a : y_fast;
    for (int32_t i = 0; i < n; i++) {
        if (got[i] != y_portable[i]) {
            log_shape("MISMATCH ", "exfq_add8_row", n, terms.shift, in_place);
            plat_log("at element ");
            log_field(i);
            plat_log("\n");
            return -1;
        }
    }
    return 0;
}

/* (c, nh, nw, p, d, y_bytes) timed with a class token, position embedding and bias: the MNIST ViT's
 * (28 x 28 in 4 x 4 patches, D 64, int8 and int16 tokens), and 28 x 28 in 7 x 7 patches */
static const int32_t TIMED_PATCH[][6] = {{1, 7, 7, 4, 64, 1}, {1, 7, 7, 4, 64, 2}, {1, 4, 4, 7, 64, 1}};

/* (t, heads, dh) of the example ViTs' attention: digits (17 tokens, 4 heads of 12), MNIST (50, 4 x 16),
 * two heads of 32, large (197 tokens capped at MAX_T, 8 x 16) */
static const int32_t TIMED_ATTENTION[][3] = {{17, 4, 12}, {50, 4, 16}, {50, 2, 32}, {64, 8, 16}};

/* (rows, k, m) of the example ViTs' linear layers: digits (17 tokens, D 32), MNIST (50, D 64),
 * large (197, D 128; rows capped at MAX_ROWS); one row of 64 to 10 (a head) and Mamba's dt_proj (2 to 64) */
static const int32_t TIMED[][3] = {
    {17, 32, 96}, {17, 32, 32}, {17, 32, 64}, {17, 64, 32},     {50, 64, 192}, {50, 64, 64},
    {50, 64, 128}, {50, 128, 64}, {64, 128, 384}, {64, 128, 256}, {64, 256, 128}, {1, 64, 10}, {1, 2, 64},
};

/* (rows, k, m) of the recurrent examples' int16-state linear layers, one step (one row) each, and the
 * LMU's memory layer (32 rows of 16 to 16) */
static const int32_t TIMED_Q[][3] = {{1, 64, 192}, {1, 256, 64}, {1, 128, 128}, {1, 384, 64}, {32, 16, 16}};

int main(void)
{
    plat_init();
    for (uint32_t i = 0; i < sizeof TIMED / sizeof TIMED[0]; i++) {
        if (check_linear(TIMED[i][0], TIMED[i][1], TIMED[i][2], 1) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (uint32_t i = 0; i < sizeof TIMED_Q / sizeof TIMED_Q[0]; i++) {
        for (int32_t entry = 1; entry <= (TIMED_Q[i][0] >= 2 ? 2 : 1); entry++) { /* rows: both entries */
            if (check_linear_q(TIMED_Q[i][0], TIMED_Q[i][1], TIMED_Q[i][2], 2, 2, entry) != 0) {
                plat_exit(PLAT_EXIT_CHECK_FAILED);
            }
        }
    }
    for (uint32_t i = 0; i < sizeof TIMED_ATTENTION / sizeof TIMED_ATTENTION[0]; i++) {
        const int32_t *s = TIMED_ATTENTION[i];
        if (check_attention(s[0], s[1], s[2], 1) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_CASES; c++) { /* the first 16: rows 2-7 (blocks of three and two, an odd
                                                      * last row), k 1-16 (1-4 groups: each entry of the w16
                                                      * blocks' four-group loop) */
        const int32_t rows = c < 16 ? 2 + c % 6 : rng_in(1, 13), k = c < 16 ? c + 1 : rng_in(1, 70);
        const int32_t m = rng_in(1, 20);
        if (check_linear(rows, k, m, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_CASES; c++) { /* every x and y type, odd rows, k and m */
        const int32_t rows = rng_in(1, 7), k = rng_in(1, 70), m = rng_in(1, 20);
        if (check_linear_q(rows, k, m, 1 + c % 2, 1 + (c / 2) % 2, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_ATTENTION_CASES; c++) { /* odd t, dh of every residue mod 4 */
        const int32_t t = c < 8 ? c + 1 : rng_in(1, MAX_T), dh = c < 40 ? c % MAX_DH + 1 : rng_in(1, MAX_DH);
        const int32_t heads = rng_in(1, MAX_D / dh < 4 ? MAX_D / dh : 4);
        if (check_attention(t, heads, dh, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (uint32_t i = 0; i < sizeof TIMED_PATCH / sizeof TIMED_PATCH[0]; i++) {
        const int32_t *s = TIMED_PATCH[i];
        if (check_patch(s[0], s[1], s[2], s[3], s[4], 1, 1, 1, s[5], 1) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t n = 0; n < RANDOM_PATCH_CASES; n++) { /* p 1..8, odd and even patch counts and d */
        const int32_t p = n < 8 ? n + 1 : rng_in(1, 8), c = rng_in(1, 3), nw = rng_in(1, 8);
        const int32_t nh = rng_in(1, MAX_PATCHES / nw < 8 ? MAX_PATCHES / nw : 8), d = rng_in(1, 40);
        const int32_t has_pos = n < 8 || rng() % 2; /* the first eight: the edge shifts of the position add */
        if (check_patch(c, nh, nw, p, d, rng() % 2, has_pos, rng() % 4 != 0, rng() % 2 ? 1 : 2, 0) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_LN_CASES; c++) { /* d 1..MAX_M: odd, tails of four */
        const int32_t d = c < 16 ? c / 2 + 1 : rng_in(1, MAX_M);
        if (check_layernorm(rng_in(1, MAX_Q_ROWS), d, 16 + c % 8, c % 2) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    for (int32_t c = 0; c < RANDOM_ADD_CASES; c++) {
        if (check_add8(c < 8 ? c + 1 : rng_in(1, MAX_K), c % 2) != 0) {
            plat_exit(PLAT_EXIT_CHECK_FAILED);
        }
    }
    if (add8_refused > RANDOM_ADD_CASES / 4) { /* the check must check: most random terms are taken */
        log_shape("TOO FEW ", "exfq_add8_row", add8_refused, RANDOM_ADD_CASES, 0);
        plat_exit(PLAT_EXIT_CHECK_FAILED);
    }
    plat_log("kernel check: all outputs equal\n");
    plat_exit(PLAT_EXIT_OK);
}
