/* The kernel check's patch embedding (kernel_check.h): exf_patch_embed_s8_w16 against exf_patch_embed_s8. */
#include "kernel_check.h"

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
int32_t check_patch(int32_t c, int32_t nh, int32_t nw, int32_t p, int32_t d, int32_t has_cls,
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
