/* The kernel check's linear family (kernel_check.h): exf_linear_s8_dsp / _w16 and exf_linear_q_w16 against
 * their portable twins, and the w16 kernels' packed weights and requantization terms. */
#include "kernel_check.h"

/* The weights w (m x k) as exf_linear_s8_w16's pair-row matrix (edgexf/codegen/wide_weights.py's layout):
 * written after the int8 weights, into the 2 MAX_W bytes kept for it. */
const int16_t *pack_w16(int32_t k, int32_t m)
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

const int32_t *rq_terms(int32_t m, int32_t out_zp, int32_t pre_shift)
{
    for (int32_t j = 0; j < m; j++) {
        const int32_t s = shift[j] + pre_shift;
        rq[2 * j] = (int32_t)((1u << (s - 33)) + (uint32_t)out_zp * (1u << (s - 32)));
        rq[2 * j + 1] = s - 32;
    }
    return rq;
}

/* exf_linear_q_w16 against exf_linear_q: x and y int8 or int16, rows from 1 (a recurrent step) up; half
 * the random shapes with shifts from 31, which need a pre-shift of the sums by up to 2 (their sums stay
 * below 2^28: k <= 70) */
static int16_t yq_portable[MAX_Q_ROWS * MAX_M], yq_fast[MAX_Q_ROWS * MAX_M];

/* timed: 0 not, 1 exf_linear_q_w16, 2 exf_linear_q_w16_rows (rows >= 2) */
int32_t check_linear_q(int32_t rows, int32_t k, int32_t m, int32_t x_bytes, int32_t y_bytes, int32_t timed)
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
int32_t check_linear(int32_t rows, int32_t k, int32_t m, int32_t timed)
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
