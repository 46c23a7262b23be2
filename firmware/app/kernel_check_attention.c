/* The kernel check's attention family (kernel_check.h): exf_attention_s8_dsp against exf_attention_s8. */
#include "kernel_check.h"

#define MAX_GD ((MAX_DH + 3) / 4) /* groups of 4 along dh, and along t (MAX_T, MAX_DH even) */
#define MAX_GT ((MAX_T + 3) / 4)
#define ATT_SCRATCH_MAX (8 * (MAX_T * MAX_GD + MAX_DH * MAX_GT + 2 * MAX_GD + 2 * MAX_GT + MAX_T))
static uint32_t att_scratch[(ATT_SCRATCH_MAX + GUARD_BYTES) / 4];
static int32_t att_scores[MAX_T];
static int16_t exp_table[512]; /* EXF_ATTENTION_TABLE */

/* The scratch exf_attention_s8_dsp declares (edgexf_kernels.h; kernel_choice.attention_scratch). */
static int32_t attention_scratch_bytes(int32_t t, int32_t dh)
{
    const int32_t gd = (dh + 3) / 4, gt = (t + 3) / 4, t2 = (t + 1) / 2 * 2, dh2 = (dh + 1) / 2 * 2;
    return 8 * (t2 * gd + dh2 * gt + 2 * gd + 2 * gt + (t2 > dh2 ? t2 : dh2));
}

/* exf_attention_s8_dsp against exf_attention_s8 on random qkv, zero points (extremes often), exp table
 * (int16 in [0, 32767], often with every entry 32767 or 0 after the first: saturated and one-hot
 * weights) and multipliers: exp_shift over its whole range 33..62 (scores from hundreds of table steps
 * apart to all in step 0), av_shift so that the row shift takes both requantization paths and
 * saturates; the timed shapes take the example ViTs' (exp_shift 38, av_shift 28..34). One
 * case in eight has every query equal (all-equal scores in a row). */
int32_t check_attention(int32_t t, int32_t heads, int32_t dh, int32_t timed)
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
